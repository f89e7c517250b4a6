"""Sending deliveries: claim with a lease, send outside any transaction, record, reschedule.

State lives in our rows, never in the task queue:

- a delivery is **due** when it is ``pending``, its ``next_attempt_at`` has passed and it has
  no live lease (``locked_until`` empty or past);
- a worker **claims** due deliveries in one short transaction (``select_for_update
  (skip_locked=True)`` on PostgreSQL, the database write lock on SQLite, and an UPDATE that
  re-checks dueness), which also reserves the attempt number and writes the attempt row;
  two workers can never claim the same attempt;
- it **sends** with no transaction open and **records** the outcome: a 2xx makes the
  delivery ``succeeded`` (never sent again), anything else schedules the next attempt
  (``WEBHOOK_RETRY_SCHEDULE`` with ±10 % jitter) or, past the last one, ``failed``;
- this module sends one batch at a time and never touches the task queue: the sending task,
  its drain loop and everything that enqueues it are ``wakeups``, which builds on this.

Nothing is lost: a worker that dies mid-request leaves a lease that expires, after which the
delivery is due again; a process that dies between commit and enqueue leaves a due delivery
no task will wake up. The recovery sweep (``recovery``) finds both.
"""

import logging
import math
import os
import random
import socket
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone

from pagtracker.crypto import decrypt_text

from ..models import DeliveryStatus, WebhookAttempt, WebhookDelivery
from ..sender import TIMEOUT_SECONDS, SendResult, webhook_http_post
from ..signing import webhook_headers

logger = logging.getLogger("pagtracker.webhooks")

CLAIM_BATCH = 32
SEND_THREADS = 8
LEASE_MARGIN_SECONDS = 30.0
JITTER = 0.10


def retry_schedule() -> list[float]:
    """Seconds to wait after the 1st, 2nd, … failed attempt (``WEBHOOK_RETRY_SCHEDULE``)."""
    raw = settings.WEBHOOK_RETRY_SCHEDULE
    items = raw.split(",") if isinstance(raw, str) else list(raw)
    return [float(item) for item in items if str(item).strip()]


def _jittered(seconds: float) -> timedelta:
    return timedelta(seconds=seconds * random.uniform(1 - JITTER, 1 + JITTER))


def webhook_lease_for(count: int) -> timedelta:
    """How long a worker holds ``count`` claimed deliveries: long enough for every request of
    the batch to time out, thread by thread."""
    rounds = math.ceil(count / SEND_THREADS)
    return timedelta(seconds=LEASE_MARGIN_SECONDS + rounds * TIMEOUT_SECONDS)


def webhook_claim_token() -> str:
    """A token naming one claim by this process."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:16]}"


def webhook_delivery_due(now: datetime) -> Q:
    """Due: ``pending``, its time has come, and no live lease."""
    return Q(status=DeliveryStatus.PENDING, next_attempt_at__lte=now) & (
        Q(locked_until__isnull=True) | Q(locked_until__lte=now)
    )


@dataclass
class _Claimed:
    delivery_id: uuid.UUID
    attempt_id: uuid.UUID
    cycle_attempts: int
    msg_id: str
    url: str
    secret: str
    body: bytes


def _claim(
    *, prefer: list[str] | None, limit: int, token: str, only: bool = False
) -> list[_Claimed]:
    """Claim up to ``limit`` due deliveries of live endpoints (``prefer``'s first; with
    ``only``, none but those), reserve their next attempt number and write their attempt
    rows, in one short transaction."""
    now = timezone.now()
    due = webhook_deliveries_due(now)
    if only:
        due = due.filter(pk__in=prefer or [])
    # A cheap look first, outside any transaction: on SQLite a transaction takes the
    # database's write lock, and most calls of an idle queue find nothing.
    if not due.exists():
        return []
    order: list[Any] = ["next_attempt_at"]
    if prefer:
        order.insert(0, Case(When(pk__in=prefer, then=Value(0)), default=Value(1)))
    with transaction.atomic():
        ids = list(
            due.select_for_update(skip_locked=True, of=("self",))
            .order_by(*order)
            .values_list("pk", flat=True)[:limit]
        )
        if not ids:
            return []
        now = timezone.now()  # the rows are ours to claim from here (lock waits excluded)
        WebhookDelivery.objects.filter(webhook_delivery_due(now), pk__in=ids).update(
            claimed_by=token,
            locked_until=now + webhook_lease_for(len(ids)),
            attempts=F("attempts") + 1,
            cycle_attempts=F("cycle_attempts") + 1,
            last_attempt_at=now,
            updated_at=now,
        )
        rows = list(
            WebhookDelivery.objects.filter(claimed_by=token)
            .select_related("event", "endpoint")
            .only(
                "pk",
                "attempts",
                "cycle_attempts",
                "event__id",
                "event__payload",
                "endpoint__url",
                "endpoint__secret_encrypted",
            )
        )
        if not rows:
            return []
        attempts = WebhookAttempt.objects.bulk_create(
            [
                WebhookAttempt(
                    delivery_id=row.pk, number=row.attempts, started_at=now, claimed_by=token
                )
                for row in rows
            ]
        )
    secrets: dict[Any, str] = {}
    claimed = []
    for row, attempt in zip(rows, attempts, strict=True):
        if row.endpoint.pk not in secrets:
            # Read here, not through ``endpoints``, which builds on this module.
            secrets[row.endpoint.pk] = decrypt_text(row.endpoint.secret_encrypted)
        claimed.append(
            _Claimed(
                delivery_id=row.pk,
                attempt_id=attempt.pk,
                cycle_attempts=row.cycle_attempts,
                msg_id=str(row.event.id),
                url=row.endpoint.url,
                secret=secrets[row.endpoint.pk],
                body=row.event.payload.encode(),
            )
        )
    return claimed


def webhook_deliveries_stop(*, endpoint_id: Any, reason: str) -> int:
    """Close the pending deliveries of an endpoint that was disabled or deleted as ``failed``
    ("not sent: …"; redeliverable once it is enabled). One in flight finishes its attempt
    and is closed by the recovery sweep if it was to be retried."""
    now = timezone.now()
    return (
        WebhookDelivery.objects.filter(endpoint_id=endpoint_id, status=DeliveryStatus.PENDING)
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lte=now))
        .exclude(event__is_test=True)
        .update(
            status=DeliveryStatus.FAILED,
            next_attempt_at=None,
            locked_until=None,
            claimed_by="",
            last_error=f"not sent: {reason}",
            updated_at=now,
        )
    )


def webhook_send(*, url: str, secret: str, msg_id: str, body: bytes) -> SendResult:
    """One signed POST through the hardened client; ``webhook-timestamp`` is now."""
    headers = webhook_headers(secret=secret, msg_id=msg_id, timestamp=int(time.time()), body=body)
    return webhook_http_post(url=url, body=body, headers=headers)


_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


def _send_all(claimed: list[_Claimed]) -> list[SendResult]:
    # Threads only do network I/O; every database write stays on the calling thread.
    global _executor
    if len(claimed) == 1:
        only = claimed[0]
        return [webhook_send(url=only.url, secret=only.secret, msg_id=only.msg_id, body=only.body)]
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(SEND_THREADS, thread_name_prefix="webhook-send")
    futures = [
        _executor.submit(webhook_send, url=c.url, secret=c.secret, msg_id=c.msg_id, body=c.body)
        for c in claimed
    ]
    return [future.result() for future in futures]


def webhook_attempt_finish(attempt_id: Any, result: SendResult, now: datetime) -> None:
    """Record the outcome of one attempt."""
    WebhookAttempt.objects.filter(pk=attempt_id).update(**_attempt_outcome(result, now))


def _attempt_outcome(result: SendResult, now: datetime) -> dict[str, Any]:
    return {
        "finished_at": now,
        "success": result.success,
        "status_code": result.status_code,
        "latency_ms": result.latency_ms,
        "error": result.error[:2000],
        "response_body": result.response_body,
    }


def _record(claimed: list[_Claimed], results: list[SendResult], token: str) -> list[Any]:
    """Write every outcome in one transaction; returns (delivery id, next time) of retries."""
    schedule = retry_schedule()
    now = timezone.now()
    retries = []
    attempts = [
        WebhookAttempt(pk=item.attempt_id, **_attempt_outcome(result, now))
        for item, result in zip(claimed, results, strict=True)
    ]
    succeeded: dict[int | None, list[Any]] = {}
    for item, result in zip(claimed, results, strict=True):
        if result.success:
            succeeded.setdefault(result.status_code, []).append(item.delivery_id)
    with transaction.atomic():
        WebhookAttempt.objects.bulk_update(attempts, list(_attempt_outcome(results[0], now)))
        for status_code, ids in succeeded.items():
            # Delivered is delivered, even if our lease ran out and another worker holds the
            # delivery now: its own outcome will then find it no longer pending. One UPDATE
            # per status code (usually one per batch).
            WebhookDelivery.objects.filter(pk__in=ids, status=DeliveryStatus.PENDING).update(
                status=DeliveryStatus.SUCCEEDED,
                delivered_at=now,
                next_attempt_at=None,
                last_status_code=status_code,
                last_error="",
                locked_until=None,
                claimed_by="",
                updated_at=now,
            )
        for item, result in zip(claimed, results, strict=True):
            if result.success:
                continue
            if item.cycle_attempts <= len(schedule):
                next_at: datetime | None = now + _jittered(schedule[item.cycle_attempts - 1])
                status = DeliveryStatus.PENDING
            else:
                next_at, status = None, DeliveryStatus.FAILED
            changed = WebhookDelivery.objects.filter(
                pk=item.delivery_id, status=DeliveryStatus.PENDING, claimed_by=token
            ).update(
                status=status,
                next_attempt_at=next_at,
                last_status_code=result.status_code,
                last_error=result.error[:2000],
                locked_until=None,
                claimed_by="",
                updated_at=now,
            )
            if changed and next_at is not None:
                retries.append((str(item.delivery_id), next_at))
    return retries


def webhook_deliveries_due(now: datetime) -> Any:
    """The due deliveries of live endpoints."""
    return WebhookDelivery.objects.filter(
        webhook_delivery_due(now), endpoint__active=True, endpoint__deleted_at__isnull=True
    )


@dataclass(frozen=True)
class BatchOutcome:
    sent: int
    # (delivery id, when) of each failed delivery that will be tried again.
    retries: list[tuple[str, datetime]]


def webhook_deliveries_send_batch(*, prefer: list[str] | None, only: bool = False) -> BatchOutcome:
    """Claim up to 32 due deliveries (``prefer``'s first; with ``only``, none but those), send
    them in parallel with no transaction open, and record every outcome. Safe to call from any
    number of workers at once: each attempt is made by exactly one caller, and a ``succeeded``
    delivery is never sent again. Scheduling the retries is the caller's (``wakeups``)."""
    token = webhook_claim_token()
    claimed = _claim(prefer=prefer, only=only, limit=CLAIM_BATCH, token=token)
    if not claimed:
        return BatchOutcome(sent=0, retries=[])
    return BatchOutcome(sent=len(claimed), retries=_record(claimed, _send_all(claimed), token))
