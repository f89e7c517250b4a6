"""``Idempotency-Key`` for money-moving POSTs (CONTRACT §2).

Same key + same body within 24 h replays the first response (``Idempotent-Replayed: true``);
same key + another body or path is ``idempotency_conflict``. Keys are per merchant.

The key is claimed in its own short transaction (a unique (merchant, key) record, "in
progress"), the operation runs outside it, then the response is stored. So no transaction is
held while the operation calls a provider or builds a QR image; a concurrent request with the
same key finds the claim and is told to retry (409); an operation that raises or fails with a
5xx releases the claim, and the key can be used again."""

import functools
import hashlib
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.request import Request
from rest_framework.response import Response

from pagtracker.errors import IdempotencyConflict, InvalidInput

from .models import IdempotencyRecord

HEADER = "HTTP_IDEMPOTENCY_KEY"
MAX_KEY_LENGTH = 255


def _request_hash(request: Request) -> str:
    try:
        body = json.dumps(request.data, sort_keys=True, separators=(",", ":"), default=str)
    except (TypeError, ValueError):
        body = repr(request.data)
    return hashlib.sha256(f"{request.method}\n{request.path}\n{body}".encode()).hexdigest()


def _replay(record: IdempotencyRecord, request_hash: str) -> Response:
    if record.request_hash != request_hash:
        raise IdempotencyConflict(
            "This Idempotency-Key was used with a different request; use a new key.",
            details={"idempotency_key": [record.key]},
        )
    if record.response_status is None:
        raise IdempotencyConflict(
            "A request with this Idempotency-Key is still in progress; retry.",
            status=409,
            details={"idempotency_key": [record.key]},
        )
    return Response(
        record.response_body, status=record.response_status, headers={"Idempotent-Replayed": "true"}
    )


def _claim(request: Request, merchant_id: Any, key: str, request_hash: str) -> Any:
    """The new in-progress record of ``key``, or the response to give instead (a replay)."""
    existing = IdempotencyRecord.objects.filter(merchant_id=merchant_id, key=key).first()
    cutoff = timezone.now() - timedelta(hours=settings.IDEMPOTENCY_TTL_HOURS)
    if existing is not None and existing.created_at >= cutoff:
        return _replay(existing, request_hash)
    try:
        with transaction.atomic():
            if existing is not None:  # expired: the key is free again
                IdempotencyRecord.objects.filter(pk=existing.pk).delete()
            return IdempotencyRecord.objects.create(
                merchant_id=merchant_id,
                key=key,
                method=request.method,
                path=request.path,
                request_hash=request_hash,
            )
    except IntegrityError:
        # A concurrent request claimed the key first.
        existing = IdempotencyRecord.objects.filter(merchant_id=merchant_id, key=key).first()
        if existing is None:  # and has released it already
            raise IdempotencyConflict(
                "A request with this Idempotency-Key is still in progress; retry.",
                status=409,
                details={"idempotency_key": [key]},
            ) from None
        return _replay(existing, request_hash)


def idempotent(handler: Callable[..., Response]) -> Callable[..., Response]:
    """Decorate an APIView ``post``: optional ``Idempotency-Key`` handling."""

    @functools.wraps(handler)
    def wrapper(view: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
        key = request.META.get(HEADER, "").strip()
        if not key:
            return handler(view, request, *args, **kwargs)
        if len(key) > MAX_KEY_LENGTH:
            raise InvalidInput(
                "Idempotency-Key is too long (255 characters at most).",
                details={"idempotency_key": ["too long"]},
            )
        claimed = _claim(request, request.user.merchant_id, key, _request_hash(request))
        if isinstance(claimed, Response):
            return claimed
        claim = IdempotencyRecord.objects.filter(pk=claimed.pk)
        try:
            response = handler(view, request, *args, **kwargs)
        except BaseException:
            claim.delete()
            raise
        if response.status_code >= 500:
            claim.delete()
        else:
            claim.update(response_status=response.status_code, response_body=response.data)
        return response

    return wrapper
