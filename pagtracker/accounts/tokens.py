"""JWT issue and rotation. Refresh tokens rotate on every use; a refresh token that was
already used is refused, and presenting one revokes every refresh token of that user (a
reused token means it leaked)."""

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken, UntypedToken

from pagtracker.errors import DomainError

from .models import User


class InvalidCredentials(DomainError):
    code = "invalid_credentials"
    status = 401
    default_message = "Invalid credentials."


def token_pair_issue(*, user: User) -> dict[str, object]:
    refresh = RefreshToken.for_user(user)
    return {
        "access_token": str(refresh.access_token),
        "refresh_token": str(refresh),
        "expires_in": settings.ACCESS_TOKEN_LIFETIME_SECONDS,
        "token_type": "bearer",
    }


def token_pair_refresh(*, refresh_token: str) -> dict[str, object]:
    """Exchange a refresh token for a new pair, exactly once per refresh token."""
    try:
        # Signature and expiry only: reuse of a blacklisted token is detected below, where it
        # also revokes the user's other refresh tokens.
        payload = UntypedToken(refresh_token).payload  # type: ignore[arg-type]
    except TokenError as exc:
        raise InvalidCredentials("The refresh token is invalid or expired.") from exc
    if payload.get("token_type") != "refresh":
        raise InvalidCredentials("That is not a refresh token.")
    jti = payload.get("jti")
    user_id = payload.get("user_id")
    outstanding = OutstandingToken.objects.filter(jti=jti).first()
    user = User.objects.filter(pk=user_id, is_active=True).first()  # type: ignore[misc]
    if outstanding is None or user is None:
        raise InvalidCredentials("The refresh token is invalid or expired.")
    try:
        with transaction.atomic():
            # The unique token_id makes concurrent uses of one refresh token race on this insert:
            # exactly one wins, the others are reuse.
            BlacklistedToken.objects.create(token=outstanding)
    except IntegrityError:
        refresh_tokens_revoke_all(user=user)
        raise InvalidCredentials(
            "This refresh token was already used; all sessions were revoked. Log in again."
        ) from None
    return token_pair_issue(user=user)


def refresh_tokens_revoke_all(*, user: User) -> int:
    pending = OutstandingToken.objects.filter(
        user=user, expires_at__gt=timezone.now(), blacklistedtoken__isnull=True
    )
    BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token=token) for token in pending], ignore_conflicts=True
    )
    return len(pending)
