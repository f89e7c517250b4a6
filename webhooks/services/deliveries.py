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
- tasks only wake workers up. A task prefers the deliveries it was created for, then keeps
  draining whatever else is due, and lingers a moment for more, for up to a few seconds: a
  backlog goes out in batches (sent in parallel threads), a steady flow is picked up as it
  comes, and the queue's per-task cost is paid per batch, not per delivery. Commits only
  enqueue a task when one of a few wake-up slots is free (``webhook_deliveries_wake``), so
  the queue holds a handful of wake-ups, not one task per delivery (``wakeups``).

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

from ..models import (
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookWakeup,
)
from ..sender import TIMEOUT_SECONDS, SendResult, webhook_http_post
from ..signing import webhook_headers
from .endpoints import webhook_endpoint_secret
from .wakeups import drain_seconds_setting, webhook_deliveries_wake

logger = logging.getLogger("pagtracker.webhooks")

CLAIM_BATCH = 32
SEND_THREADS = 8
# After the last due delivery, a sending task keeps looking (cheap reads) this long before it
# ends: under a steady flow it stays on and picks each new delivery up within a poll, with
# none of the task queue's per-task cost.
LINGER_SECONDS = 0.25
LINGER_POLL_SECONDS = 0.02
LEASE_MARGIN_SECONDS = 30.0
JITTER = 0.10


def retry_schedule() -> list[float]:
    """Seconds to wait after the 1st, 2nd, … failed attempt (``WEBHOOK_RETRY_SCHEDULE``)."""
    raw = getattr(settings, "WEBHOOK_RETRY_SCHEDULE", "300,900,1800,3600,10800,21600")
    items = raw.split(",") if isinstance(raw, str) else list(raw)
    return [float(item) for item in items if str(item).strip()]


def _jittered(seconds: float) -> timedelta:
    return timedelta(seconds=seconds * random.uniform(1 - JITTER, 1 + JITTER))


def _lease_for(count: int) -> timedelta:
    # Long enough for every request of the batch to time out, thread by thread.
    rounds = math.ceil(count / SEND_THREADS)
    return timedelta(seconds=LEASE_MARGIN_SECONDS + rounds * TIMEOUT_SECONDS)


def _claim_token() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:16]}"


def _due(now: datetime) -> Q:
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
    due = _due_deliveries(now)
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
        WebhookDelivery.objects.filter(_due(now), pk__in=ids).update(
            claimed_by=token,
            locked_until=now + _lease_for(len(ids)),
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
            secrets[row.endpoint.pk] = webhook_endpoint_secret(row.endpoint)
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


def _attempt_finish(attempt_id: Any, result: SendResult, now: datetime) -> None:
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
        if retries:
            transaction.on_commit(lambda: _retries_enqueue(retries), robust=True)
    return retries


def _retries_enqueue(retries: list[tuple[str, datetime]]) -> None:
    from ..tasks import webhook_deliveries_send_task

    for delivery_id, when in retries:
        webhook_deliveries_send_task.using(run_after=when).enqueue(delivery_ids=[delivery_id])


def webhook_deliveries_send(
    *,
    delivery_ids: list[str] | None = None,
    drain_seconds: float | None = None,
    wakeup: tuple[int, str] | None = None,
) -> int:
    """Send the given deliveries if they are due, then whatever else is due, in batches of
    up to 32 sent in parallel; stay a moment (``LINGER_SECONDS``) for more and go on while
    they keep coming, for at most ``drain_seconds`` (setting ``WEBHOOK_DRAIN_SECONDS``,
    default 5). With 0: only the given ones. Returns how many attempts were made.

    Safe to call any number of times, from any number of workers: only due, unclaimed
    deliveries are sent, each attempt by exactly one caller, and a ``succeeded`` delivery
    never again.

    ``wakeup`` is the slot of the task that called (``webhook_deliveries_wake``). It is held
    while this runs (commits that find every slot busy rely on us to look again) and freed
    at the end, before one last look: a delivery committed before the release is seen by
    that look, one committed after it finds the slot free and wakes a task itself."""
    if drain_seconds is None:
        drain_seconds = drain_seconds_setting()
    prefer = [str(i) for i in delivery_ids] if delivery_ids else None
    if drain_seconds <= 0 and delivery_ids is not None:
        return _send_batch(prefer=prefer, only=True)
    linger = float(getattr(settings, "WEBHOOK_LINGER_SECONDS", LINGER_SECONDS))
    started = time.monotonic()
    idle_since: float | None = None
    sent = 0
    while time.monotonic() - started < drain_seconds:
        count = _send_batch(prefer=prefer)
        prefer = None
        if count:
            sent += count
            idle_since = None
            continue
        idle_since = idle_since or time.monotonic()
        if time.monotonic() - idle_since >= linger:
            break
        time.sleep(LINGER_POLL_SECONDS)
    if wakeup is not None:
        WebhookWakeup.objects.filter(pk=wakeup[0], token=wakeup[1]).update(
            busy_until=None, token=""
        )
    if _due_deliveries(timezone.now()).exists():
        # Out of time with work left (this task must let the worker run others too), or
        # it came right before the release: make sure a task will go on with it.
        webhook_deliveries_wake(delivery_ids=[])
    return sent


def _due_deliveries(now: datetime) -> Any:
    return WebhookDelivery.objects.filter(
        _due(now), endpoint__active=True, endpoint__deleted_at__isnull=True
    )


def _send_batch(*, prefer: list[str] | None, only: bool = False) -> int:
    token = _claim_token()
    claimed = _claim(prefer=prefer, only=only, limit=CLAIM_BATCH, token=token)
    if claimed:
        _record(claimed, _send_all(claimed), token)
    return len(claimed)
