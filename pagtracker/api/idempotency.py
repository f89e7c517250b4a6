"""``Idempotency-Key`` for money-moving POSTs (CONTRACT §2).

Same key + same body within 24 h replays the first response (``Idempotent-Replayed: true``);
same key + another body or path is ``idempotency_conflict``. Keys are per merchant. The record
is written in the transaction of the operation itself: if the operation raises, nothing is
kept and the key can be used again; a concurrent request with the same key waits on the
unique index and then replays."""

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
    return Response(
        record.response_body, status=record.response_status, headers={"Idempotent-Replayed": "true"}
    )


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
        merchant_id = request.user.merchant_id
        request_hash = _request_hash(request)
        cutoff = timezone.now() - timedelta(hours=settings.IDEMPOTENCY_TTL_HOURS)
        IdempotencyRecord.objects.filter(
            merchant_id=merchant_id, key=key, created_at__lt=cutoff
        ).delete()
        existing = IdempotencyRecord.objects.filter(merchant_id=merchant_id, key=key).first()
        if existing is not None and existing.response_status is not None:
            return _replay(existing, request_hash)
        with transaction.atomic():
            try:
                with transaction.atomic():
                    record = IdempotencyRecord.objects.create(
                        merchant_id=merchant_id,
                        key=key,
                        method=request.method,
                        path=request.path,
                        request_hash=request_hash,
                    )
            except IntegrityError:
                # Another request with this key committed first (we waited on its row lock).
                existing = IdempotencyRecord.objects.filter(
                    merchant_id=merchant_id, key=key
                ).first()
                if existing is None or existing.response_status is None:
                    raise IdempotencyConflict(
                        "A request with this Idempotency-Key is still in progress; retry.",
                        status=409,
                    ) from None
                return _replay(existing, request_hash)
            response = handler(view, request, *args, **kwargs)
            if response.status_code >= 500:
                transaction.set_rollback(True)
                return response
            record.response_status = response.status_code
            record.response_body = response.data
            record.save(update_fields=["response_status", "response_body"])
            return response

    return wrapper
