"""Encryption of secrets at rest (PSP credentials, webhook signing secrets).

``FIELD_ENCRYPTION_KEYS`` holds Fernet keys, newest first: the first encrypts, all decrypt,
so rotating means prepending a new key; ``reencrypt_text`` moves a stored value to it.
Without the setting a key is
derived from ``SECRET_KEY`` so the embedded default works out of the box.
"""

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


def _fernet() -> MultiFernet:
    keys = list(settings.FIELD_ENCRYPTION_KEYS)
    if not keys:
        derived = hashlib.sha256(("pagtracker-fields:" + settings.SECRET_KEY).encode()).digest()
        keys = [base64.urlsafe_b64encode(derived).decode()]
    return MultiFernet([Fernet(key.encode()) for key in keys])


def encrypt_text(plain: str) -> str:
    return _fernet().encrypt(plain.encode()).decode()


def decrypt_text(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ValueError("secret cannot be decrypted with the configured keys") from exc


def reencrypt_text(token: str) -> str:
    """Re-encrypt under the newest key (used when rotating)."""
    return _fernet().rotate(token.encode()).decode()
