"""Account services: the only code that creates or changes merchants, users and API keys."""

import base64
import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from cryptography import x509
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from pagtracker.crypto import encrypt_text
from pagtracker.errors import AlreadyExists, InvalidInput, NotFound
from pagtracker.pix.errors import PixError
from pagtracker.pix.keys import canonicalize_pix_key

from .authcache import auth_cache_clear
from .models import ApiKey, Merchant, Plan, ProviderName, PspCredential, User

LIVE_PREFIX = "pt_live_"
TEST_PREFIX = "pt_test_"


def hash_api_key(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


def pix_key_canonical(raw: str, *, field: str = "chave_pix") -> str:
    try:
        _, canonical = canonicalize_pix_key(raw)
    except PixError as exc:
        raise InvalidInput(str(exc), details={field: [str(exc)]}) from exc
    return canonical


@transaction.atomic
def merchant_create(
    *,
    email: str,
    password: str,
    nome: str = "",
    empresa: str = "",
    plano: str = Plan.BASICO,
    chave_pix: str = "",
    cidade: str = "",
    is_staff: bool = True,
) -> User:
    """Create a merchant and its owner user (who may log into the scoped admin).

    Refuses a taken e-mail with ``resource_already_exists``; validates and canonicalises the
    Pix key."""
    email = email.strip().lower()
    if User.objects.filter(email=email).exists():
        raise AlreadyExists(
            f"A user with e-mail {email} already exists.", details={"email": ["already registered"]}
        )
    if plano not in Plan.values:
        raise InvalidInput(f"Unknown plan {plano!r}.", details={"plano": [f"one of {Plan.values}"]})
    merchant = Merchant.objects.create(
        nome=nome,
        empresa=empresa,
        plano=plano,
        chave_pix=pix_key_canonical(chave_pix) if chave_pix else "",
        cidade=cidade,
    )
    return User.objects.create_user(
        email=email, password=password, nome=nome, merchant=merchant, is_staff=is_staff
    )


@transaction.atomic
def user_update_profile(*, user: User, **fields: str) -> User:
    """Update the profile fields of ``/api/users/me``: ``nome`` on the user, the rest on its
    merchant. The Pix key is validated and canonicalised; the rows are locked while written.
    ``user`` is not changed: it may be the authentication cache's shared instance."""
    merchant = Merchant.objects.select_for_update().get(pk=user.merchant_id)  # type: ignore[misc]
    user = User.objects.select_for_update().get(pk=user.pk)
    if "nome" in fields:
        user.nome = fields["nome"]
        user.save(update_fields=["nome", "updated_at"])
        merchant.nome = fields["nome"]
    for name in ("empresa", "cidade"):
        if name in fields:
            setattr(merchant, name, fields[name])
    if "chave_pix" in fields:
        merchant.chave_pix = pix_key_canonical(fields["chave_pix"]) if fields["chave_pix"] else ""
    if "plano" in fields:
        merchant.plano = fields["plano"]
    merchant.save()
    user.merchant = merchant
    return user


@dataclass(frozen=True)
class IssuedApiKey:
    api_key: ApiKey
    raw_key: str


def api_key_create(
    *, user: User, descricao: str = "", expiracao_dias: int | None = None, livemode: bool = False
) -> IssuedApiKey:
    """Issue a key for the user's merchant. The raw key exists only in the return value."""
    if user.merchant_id is None:
        raise InvalidInput("Only a merchant's users can create API keys.")
    raw = (LIVE_PREFIX if livemode else TEST_PREFIX) + secrets.token_urlsafe(32)
    now = timezone.now()
    key = ApiKey.objects.create(
        merchant_id=user.merchant_id,
        created_by=user,
        descricao=descricao,
        prefix=raw[:12],
        key_hash=hash_api_key(raw),
        livemode=livemode,
        created_at=now,
        expires_at=now + timedelta(days=expiracao_dias) if expiracao_dias else None,
    )
    return IssuedApiKey(api_key=key, raw_key=raw)


def api_key_revoke(*, merchant_id: Any, api_key_id: Any) -> ApiKey:
    """Revoke a key; revoking twice keeps the first revocation time."""
    key = ApiKey.objects.filter(merchant_id=merchant_id, pk=api_key_id).first()
    if key is None:
        raise NotFound("API key not found.")
    ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    auth_cache_clear()
    key.refresh_from_db()
    return key


_last_touch: dict[Any, float] = {}


def api_key_touch(*, api_key: ApiKey) -> None:
    """Record use at most once a minute per key and process, so authentication does not
    write on every request (the common case is one dict lookup)."""
    last = _last_touch.get(api_key.pk)
    if last is not None and time.monotonic() - last < 60:
        return
    now = timezone.now()
    if api_key.last_used_at and now - api_key.last_used_at < timedelta(seconds=60):
        # Another process recorded it: look again a minute after that.
        age = (now - api_key.last_used_at).total_seconds()
        _last_touch[api_key.pk] = time.monotonic() - age
        return
    _last_touch[api_key.pk] = time.monotonic()
    ApiKey.objects.filter(pk=api_key.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - timedelta(seconds=60))
    ).update(last_used_at=now)


def _certificate_validate(certificate_b64: str) -> None:
    """Accept a base64 PKCS#12 (Efí's .p12, empty password) or a PEM certificate."""
    from cryptography.hazmat.primitives.serialization import pkcs12

    text = certificate_b64.strip()
    if "-----BEGIN CERTIFICATE-----" in text:
        x509.load_pem_x509_certificate(text.encode())
        return
    raw = base64.b64decode(text, validate=True)
    if raw.startswith(b"-----BEGIN"):
        x509.load_pem_x509_certificate(raw)
        return
    _, cert, _ = pkcs12.load_key_and_certificates(raw, None)
    if cert is None:
        raise ValueError("the PKCS#12 holds no certificate")


def psp_credentials_set(
    *,
    user: User,
    client_id: str,
    client_secret: str,
    pix_key: str,
    certificate: str | None = None,
    sandbox: bool = True,
) -> PspCredential:
    """Store Efí credentials encrypted at rest after validating the Pix key and certificate."""
    canonical_key = pix_key_canonical(pix_key, field="pix_key")
    if certificate:
        try:
            _certificate_validate(certificate)
        except Exception as exc:  # cryptography raises several unrelated types
            raise InvalidInput(
                "The certificate could not be read: send the .p12 (or PEM) as base64.",
                details={"certificate": ["not a valid base64 PKCS#12 or PEM certificate"]},
            ) from exc
    credential, _ = PspCredential.objects.update_or_create(
        merchant_id=user.merchant_id,  # type: ignore[misc]
        defaults={
            "provider": ProviderName.EFI,
            "client_id_encrypted": encrypt_text(client_id),
            "client_secret_encrypted": encrypt_text(client_secret),
            "certificate_encrypted": encrypt_text(certificate) if certificate else "",
            "pix_key": canonical_key,
            "sandbox": sandbox,
        },
    )
    return credential
