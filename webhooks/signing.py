"""Webhook secrets and signatures (CONTRACT §4).

Two signatures on every request, both HMAC-SHA256:

- ``X-PagTracker-Signature``: hex digest of the raw body, keyed with the ``segredo`` string's
  UTF-8 bytes as the merchant gave it (seed 004);
- Standard Webhooks (``webhook-id``, ``webhook-timestamp``, ``webhook-signature``):
  ``v1,<base64 digest>`` of ``"{id}.{timestamp}.{body}"``, keyed with the bytes after
  ``whsec_`` base64-decoded when the ``segredo`` has that form (the form we generate), else
  with its UTF-8 bytes.
"""

import base64
import binascii
import hashlib
import hmac
import secrets

SECRET_PREFIX = "whsec_"
GENERATED_SECRET_BYTES = 32
USER_AGENT = "PagTracker-Webhooks/1.0"


def webhook_secret_generate() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(GENERATED_SECRET_BYTES)).decode()


def _whsec_key(secret: str) -> bytes | None:
    """The decoded key of a ``whsec_<base64>`` secret, or None when it has another form."""
    if not secret.startswith(SECRET_PREFIX):
        return None
    encoded = secret[len(SECRET_PREFIX) :]
    try:
        # Accept unpadded base64 as the Standard Webhooks libraries do.
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None
    return key or None


def secret_has_valid_form(secret: str) -> bool:
    """A ``whsec_`` secret must be base64 after the prefix: receivers' Standard Webhooks
    libraries decode it, and would fail on anything else."""
    return not secret.startswith(SECRET_PREFIX) or _whsec_key(secret) is not None


def standard_webhooks_key(secret: str) -> bytes:
    return _whsec_key(secret) or secret.encode()


def pagtracker_signature(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def standard_webhooks_signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(standard_webhooks_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def webhook_headers(*, secret: str, msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """Every header of a webhook request but Host and Content-Length."""
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-PagTracker-Signature": pagtracker_signature(secret, body),
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": standard_webhooks_signature(secret, msg_id, timestamp, body),
    }
