"""Webhook endpoints: registration, changes and deletion, with the URL policy."""

from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from django.db import transaction
from django.utils import timezone

from pagtracker.crypto import decrypt_text, encrypt_text, reencrypt_text
from pagtracker.errors import InvalidInput, NotFound
from pagtracker.events import EVENT_NAMES

from ..models import WebhookEndpoint
from ..network import (
    BlockedAddressError,
    UnresolvableHostError,
    check_host,
    private_networks_allowed,
)
from ..signing import secret_has_valid_form, webhook_secret_generate


def webhook_deliveries_stop(*, endpoint_id: Any, reason: str) -> int:
    from .deliveries import webhook_deliveries_stop as stop

    return stop(endpoint_id=endpoint_id, reason=reason)


MAX_URL_LENGTH = 2048
SECRET_MIN_LENGTH = 16
SECRET_MAX_LENGTH = 256


def _invalid(field: str, message: str) -> InvalidInput:
    return InvalidInput(message, details={field: [message]})


def webhook_url_validate(url: str) -> str:
    """Check a receiver URL: http(s), a host, no credentials, and, unless private networks are
    allowed, a host that resolves only to public addresses. Returns the URL as it will be
    called. The same address check runs again on every connection (``network``)."""
    url = (url or "").strip()
    if not url:
        raise _invalid("url", "Give the URL that receives the webhooks.")
    if len(url) > MAX_URL_LENGTH:
        raise _invalid("url", f"At most {MAX_URL_LENGTH} characters.")
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        raise _invalid("url", "The URL must not contain spaces or control characters.")
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        raise _invalid("url", "Use an https:// (or http://) URL.")
    if "@" in parts.netloc:
        raise _invalid(
            "url", "The URL must not carry credentials (user:password@); sign with segredo."
        )
    if not parts.hostname:
        raise _invalid("url", "The URL needs a host name.")
    try:
        port = parts.port
    except ValueError:
        raise _invalid("url", "The URL's port is not valid.")
    if port == 0:
        raise _invalid("url", "The URL's port is not valid.")
    if not url.isascii():
        url = _ascii_url(url)
        parts = urlsplit(url)
    host = parts.hostname or ""
    if not private_networks_allowed():
        default_port = 443 if parts.scheme.lower() == "https" else 80
        try:
            check_host(host, port or default_port)
        except UnresolvableHostError:
            raise _invalid("url", f"The host {host} could not be resolved.")
        except BlockedAddressError as exc:
            raise _invalid("url", str(exc))
    return url


def _ascii_url(url: str) -> str:
    """IDNA for the host, percent-encoding for the rest: what goes on the wire."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        raise _invalid("url", "The URL's host name is not valid.")
    netloc = f"[{ascii_host}]" if ":" in ascii_host else ascii_host
    if parts.port:
        netloc += f":{parts.port}"
    safe = "/%:@!$&'()*+,;=-._~?"
    return urlunsplit(
        (parts.scheme, netloc, quote(parts.path, safe=safe), quote(parts.query, safe=safe), "")
    )


def webhook_events_validate(events: Any) -> list[str]:
    if not isinstance(events, (list, tuple)) or not events:
        raise _invalid("eventos", "Subscribe to at least one event.")
    unknown = [str(name) for name in events if name not in EVENT_NAMES]
    if unknown:
        raise _invalid(
            "eventos",
            f"Unknown event(s): {', '.join(unknown)}. Known events: {', '.join(EVENT_NAMES)}.",
        )
    return list(dict.fromkeys(events))


def webhook_secret_validate(secret: str) -> str:
    if not SECRET_MIN_LENGTH <= len(secret) <= SECRET_MAX_LENGTH:
        raise _invalid(
            "segredo",
            f"The secret has {SECRET_MIN_LENGTH} to {SECRET_MAX_LENGTH} characters "
            "(omit it and one is generated).",
        )
    if not secret_has_valid_form(secret):
        raise _invalid(
            "segredo", "A secret starting with whsec_ must be whsec_ followed by base64."
        )
    return secret


def webhook_endpoint_secret(endpoint: WebhookEndpoint) -> str:
    return decrypt_text(endpoint.secret_encrypted)


def webhook_endpoint_create(
    *,
    merchant_id: Any,
    url: str,
    events: list[str],
    secret: str | None = None,
    active: bool = True,
    descricao: str = "",
) -> WebhookEndpoint:
    """Register an endpoint. Without ``secret`` one is generated (``whsec_`` + base64 of 32
    random bytes). The secret is stored encrypted; the plain value is on the returned object
    as ``plain_secret``, the only time it is ever available."""
    url = webhook_url_validate(url)
    events = webhook_events_validate(events)
    secret = webhook_secret_validate(secret) if secret else webhook_secret_generate()
    endpoint = WebhookEndpoint.objects.create(
        merchant_id=merchant_id,
        url=url,
        events=events,
        secret_encrypted=encrypt_text(secret),
        active=active,
        descricao=descricao,
    )
    endpoint.plain_secret = secret  # type: ignore[attr-defined]
    return endpoint


def _locked(*, merchant_id: Any, webhook_id: Any) -> WebhookEndpoint:
    endpoint = (
        WebhookEndpoint.objects.select_for_update()
        .filter(merchant_id=merchant_id, pk=webhook_id, deleted_at__isnull=True)
        .first()
    )
    if endpoint is None:
        raise NotFound("Webhook not found.")
    return endpoint


def webhook_endpoint_update(
    *,
    merchant_id: Any,
    webhook_id: Any,
    url: str | None = None,
    events: list[str] | None = None,
    secret: str | None = None,
    active: bool | None = None,
    descricao: str | None = None,
) -> WebhookEndpoint:
    """Change what is given (None keeps the current value). A new ``secret`` applies to every
    attempt from now on, retries of older events included. Deliveries already created keep
    going to the endpoint; disabling it closes its pending deliveries as ``failed`` ("not
    sent: endpoint disabled"; redeliverable once it is enabled again)."""
    if url is not None:
        url = webhook_url_validate(url)
    if events is not None:
        events = webhook_events_validate(events)
    if secret is not None:
        secret = webhook_secret_validate(secret)
    with transaction.atomic():
        endpoint = _locked(merchant_id=merchant_id, webhook_id=webhook_id)
        if url is not None:
            endpoint.url = url
        if events is not None:
            endpoint.events = events
        if secret is not None:
            endpoint.secret_encrypted = encrypt_text(secret)
        if active is not None:
            endpoint.active = active
        if descricao is not None:
            endpoint.descricao = descricao
        endpoint.save()
        if not endpoint.active:
            webhook_deliveries_stop(endpoint_id=endpoint.pk, reason="endpoint disabled")
    return endpoint


def webhook_endpoint_delete(*, merchant_id: Any, webhook_id: Any) -> WebhookEndpoint:
    """Delete an endpoint for the merchant: it disappears from the API and gets nothing more
    (pending deliveries are closed as ``failed``); the row stays, disabled, so its delivery
    history remains in the admin."""
    with transaction.atomic():
        endpoint = _locked(merchant_id=merchant_id, webhook_id=webhook_id)
        endpoint.deleted_at = timezone.now()
        endpoint.active = False
        endpoint.save(update_fields=["deleted_at", "active", "updated_at"])
        webhook_deliveries_stop(endpoint_id=endpoint.pk, reason="endpoint deleted")
    return endpoint


def webhook_endpoint_secrets_reencrypt() -> int:
    """After a key rotation (a new key put first in ``FIELD_ENCRYPTION_KEYS``), re-encrypt
    every stored secret under the new key so the old one can be retired. Returns the count."""
    changed = 0
    for pk, token in WebhookEndpoint.objects.values_list("pk", "secret_encrypted").iterator():
        WebhookEndpoint.objects.filter(pk=pk, secret_encrypted=token).update(
            secret_encrypted=reencrypt_text(token)
        )
        changed += 1
    return changed
