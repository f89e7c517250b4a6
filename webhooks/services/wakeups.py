"""The sending task and what wakes it: the only webhook code that touches the task queue.

- the task prefers the deliveries it was created for, then keeps draining whatever else is
  due, and lingers a moment for more, for up to a few seconds: a backlog goes out in batches
  (``deliveries`` sends each in parallel threads), a steady flow is picked up as it comes, and
  the queue's per-task cost is paid per batch, not per delivery;
- commits only enqueue a task when one of a few wake-up slots is free
  (``webhook_deliveries_wake``), so the queue holds a handful of wake-ups, not one task per
  delivery;
- a failed attempt's retry is a task due at its time; redelivery and the recovery sweep
  enqueue plainly.
"""

import time
import uuid
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.tasks import task
from django.utils import timezone

from pagtracker.errors import InvalidState, NotFound

from ..models import DeliveryStatus, WebhookDelivery, WebhookWakeup
from .deliveries import webhook_deliveries_due, webhook_deliveries_send_batch

ENQUEUE_CHUNK = 100
WAKEUP_STALE_SECONDS = 300
LINGER_POLL_SECONDS = 0.02


@task
def webhook_deliveries_send_task(delivery_ids: list[str], wakeup: list[Any] | None = None) -> int:
    """Send these deliveries if still due, then drain whatever else is due for a moment."""
    slot = (int(wakeup[0]), str(wakeup[1])) if wakeup else None
    return webhook_deliveries_send(delivery_ids=delivery_ids, wakeup=slot)


def webhook_deliveries_send(
    *,
    delivery_ids: list[str] | None = None,
    drain_seconds: float | None = None,
    wakeup: tuple[int, str] | None = None,
) -> int:
    """Send the given deliveries if they are due, then whatever else is due, in batches of
    up to 32 sent in parallel; stay a moment (``WEBHOOK_LINGER_SECONDS``) for more and go on
    while they keep coming, for at most ``drain_seconds`` (``WEBHOOK_DRAIN_SECONDS``). With 0:
    only the given ones. Returns how many attempts were made.

    Safe to call any number of times, from any number of workers: only due, unclaimed
    deliveries are sent, each attempt by exactly one caller, and a ``succeeded`` delivery
    never again.

    ``wakeup`` is the slot of the task that called (``webhook_deliveries_wake``). It is held
    while this runs (commits that find every slot busy rely on us to look again) and freed
    at the end, before one last look: a delivery committed before the release is seen by
    that look, one committed after it finds the slot free and wakes a task itself."""
    if drain_seconds is None:
        drain_seconds = settings.WEBHOOK_DRAIN_SECONDS
    prefer = [str(i) for i in delivery_ids] if delivery_ids else None
    if drain_seconds <= 0 and delivery_ids is not None:
        return _batch(prefer=prefer, only=True)
    linger = settings.WEBHOOK_LINGER_SECONDS
    started = time.monotonic()
    idle_since: float | None = None
    sent = 0
    while time.monotonic() - started < drain_seconds:
        count = _batch(prefer=prefer)
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
    if webhook_deliveries_due(timezone.now()).exists():
        # Out of time with work left (this task must let the worker run others too), or
        # it came right before the release: make sure a task will go on with it.
        webhook_deliveries_wake(delivery_ids=[])
    return sent


def _batch(*, prefer: list[str] | None, only: bool = False) -> int:
    outcome = webhook_deliveries_send_batch(prefer=prefer, only=only)
    if outcome.retries:
        _retries_enqueue(outcome.retries)
    return outcome.sent


def _retries_enqueue(retries: list[tuple[str, datetime]]) -> None:
    # A retry lost here (the process died) is due and unclaimed: the recovery sweep finds it.
    for delivery_id, when in retries:
        webhook_deliveries_send_task.using(run_after=when).enqueue(delivery_ids=[delivery_id])


def webhook_deliveries_wake(*, delivery_ids: list[str]) -> bool:
    """Make sure a task will send what is due: enqueue one if a wake-up slot is free, else
    rely on the tasks holding the slots, which will look at the deliveries again after this
    commit (a task frees its slot only before its last look). Returns whether a task was
    enqueued. A slot whose task never started (lost) is free again after 5 minutes; the
    recovery sweep covers the deliveries meanwhile."""
    if settings.WEBHOOK_DRAIN_SECONDS <= 0:
        # Tasks that send only their own deliveries can't stand in for each other.
        if delivery_ids:
            webhook_deliveries_enqueue(delivery_ids=delivery_ids)
        return bool(delivery_ids)
    count = settings.WEBHOOK_WAKEUP_SLOTS
    now = timezone.now()
    free = Q(busy_until__isnull=True) | Q(busy_until__lte=now)
    slots = dict(WebhookWakeup.objects.filter(pk__lte=count).values_list("pk", "busy_until"))
    if len(slots) < count:
        WebhookWakeup.objects.bulk_create(
            [WebhookWakeup(pk=pk) for pk in range(1, count + 1) if pk not in slots],
            ignore_conflicts=True,
        )
        slots = dict(WebhookWakeup.objects.filter(pk__lte=count).values_list("pk", "busy_until"))
    for pk, busy_until in sorted(slots.items()):
        if busy_until is not None and busy_until > now:
            continue
        token = uuid.uuid4().hex
        taken = WebhookWakeup.objects.filter(free, pk=pk).update(
            busy_until=now + timedelta(seconds=WAKEUP_STALE_SECONDS), token=token
        )
        if not taken:
            continue  # another process took it first
        try:
            webhook_deliveries_send_task.enqueue(delivery_ids=delivery_ids, wakeup=[pk, token])
        except Exception:
            WebhookWakeup.objects.filter(pk=pk, token=token).update(busy_until=None, token="")
            raise
        return True
    return False


def webhook_deliveries_enqueue(*, delivery_ids: list[str]) -> None:
    """One plain sending task per 100 deliveries."""
    for start in range(0, len(delivery_ids), ENQUEUE_CHUNK):
        webhook_deliveries_send_task.enqueue(
            delivery_ids=delivery_ids[start : start + ENQUEUE_CHUNK]
        )


def webhook_delivery_redeliver(*, delivery_id: Any, merchant_id: Any = None) -> WebhookDelivery:
    """Send a delivery again (the admin's "redeliver"): the same row goes back to ``pending``,
    due now, with a fresh retry schedule; its attempt history stays and numbering continues.
    It keeps its ``webhook-id`` (the event id), so a receiver that already processed it can
    recognise the repeat. Works on ``failed`` and ``succeeded`` deliveries and on pending ones
    waiting for a retry (which then go at once); refused while an attempt is in flight, for
    test deliveries, and when the endpoint is disabled or deleted."""
    now = timezone.now()
    with transaction.atomic():
        query = WebhookDelivery.objects.select_for_update().filter(pk=delivery_id)
        if merchant_id is not None:
            query = query.filter(merchant_id=merchant_id)
        delivery = query.select_related("event", "endpoint").first()
        if delivery is None:
            raise NotFound("Delivery not found.")
        if delivery.event.is_test:
            raise InvalidState("Test deliveries are not redelivered; run the test again.")
        if not delivery.endpoint.active or delivery.endpoint.deleted_at:
            raise InvalidState("The endpoint is disabled or deleted; enable it first.")
        if delivery.locked_until and delivery.locked_until > now:
            raise InvalidState("This delivery is being sent right now.")
        delivery.status = DeliveryStatus.PENDING
        delivery.cycle_attempts = 0
        delivery.next_attempt_at = now
        delivery.locked_until = None
        delivery.claimed_by = ""
        delivery.save()
        ids = [str(delivery.pk)]
        transaction.on_commit(lambda: webhook_deliveries_enqueue(delivery_ids=ids), robust=True)
    return delivery
