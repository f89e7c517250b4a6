"""DRF authentication: API keys (``Bearer pt_live_…``/``pt_test_…`` or ``X-API-Key``) and
JWT access tokens. Both resolve to a user with its merchant in one query."""

import time
from typing import Any

from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError

from .authcache import auth_cache_get, auth_cache_set
from .models import ApiKey, User
from .services import LIVE_PREFIX, TEST_PREFIX, api_key_touch, hash_api_key


def bearer_token(request: Request) -> str | None:
    # META, not DRF's get_authorization_header: that builds request.headers from the whole
    # environ on every request.
    parts = request.META.get("HTTP_AUTHORIZATION", "").split()
    if len(parts) == 2 and parts[0].lower() == "bearer":
        return str(parts[1])
    return None


def api_key_resolve(raw_key: str) -> ApiKey | None:
    """The usable key for ``raw_key`` with its merchant and user, or None."""
    key_hash = hash_api_key(raw_key)
    key: ApiKey | None = auth_cache_get(f"key:{key_hash}")
    if key is None:
        rows = (
            ApiKey.objects.select_related("merchant", "created_by")
            .filter(key_hash=key_hash)
            .order_by()[:1]
        )
        key = next(iter(rows), None)
        if key is not None:
            # The request acts for the key's merchant; linked once, before the instances are
            # shared (authcache: read-only from here on).
            key.created_by.merchant = key.merchant
            auth_cache_set(f"key:{key_hash}", key)
    if key is None or not key.is_usable(timezone.now()) or not key.created_by.is_active:
        return None
    return key


class ApiKeyAuthentication(BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[User, ApiKey] | None:
        raw = request.META.get("HTTP_X_API_KEY") or bearer_token(request)
        if not raw or not raw.startswith((LIVE_PREFIX, TEST_PREFIX)):
            return None
        key = api_key_resolve(raw)
        if key is None:
            raise exceptions.AuthenticationFailed("The API key is invalid, expired or revoked.")
        api_key_touch(api_key=key)
        return key.created_by, key

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


_verified_tokens: dict[str, Any] = {}


class AccessTokenAuthentication(JWTAuthentication):
    # DRF builds the authenticators anew for every request; simplejwt's __init__ looks the
    # user model up each time, for ``get_user``, which this class does not use.
    user_model = User

    def __init__(self) -> None:
        pass

    def authenticate(self, request: Request) -> tuple[User, Any] | None:  # type: ignore[override]
        raw = bearer_token(request)
        if raw is None:
            return None
        validated = _verified_tokens.get(raw)
        if validated is None or validated["exp"] <= time.time():
            try:
                validated = self.get_validated_token(raw.encode())
            except (InvalidToken, TokenError) as exc:
                raise exceptions.AuthenticationFailed(
                    "The access token is invalid or expired."
                ) from exc
            # A verified access token stays valid until it expires (access tokens are not
            # revocable), so its signature is checked once per process, not per request.
            if len(_verified_tokens) >= 10_000:
                _verified_tokens.clear()
            _verified_tokens[raw] = validated
        user_id = validated.get("user_id")
        user = auth_cache_get(f"user:{user_id}")
        if user is None:
            rows = User.objects.select_related("merchant").filter(pk=user_id, is_active=True)
            user = next(iter(rows.order_by()[:1]), None)
            if user is not None:
                auth_cache_set(f"user:{user_id}", user)
        if user is None:
            raise exceptions.AuthenticationFailed("The access token's user no longer exists.")
        return user, validated
