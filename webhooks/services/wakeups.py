"""Waking the senders: a few wake-up slots, so commits enqueue a handful of tasks rather than
one per delivery; plain enqueues (retries, redeliveries, the recovery sweep); redelivery.

The sending itself (claim, send, record, retry) is ``deliveries``.
"""

import uuid
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from pagtracker.errors import InvalidState, NotFound

from ..models import DeliveryStatus, WebhookDelivery, WebhookWakeup

# How long a sending task drains due deliveries before it ends (``WEBHOOK_DRAIN_SECONDS``).
DRAIN_SECONDS = 5.0
ENQUEUE_CHUNK = 100
WAKEUP_STALE_SECONDS = 300


def drain_seconds_setting() -> float:
    return float(getattr(settings, "WEBHOOK_DRAIN_SECONDS", DRAIN_SECONDS))


def webhook_deliveries_wake(*, delivery_ids: list[str]) -> bool:
    """Make sure a task will send what is due: enqueue one if a wake-up slot is free, else
    rely on the tasks holding the slots, which will look at the deliveries again after this
    commit (a task frees its slot only before its last look). Returns whether a task was
    enqueued. A slot whose task never started (lost) is free again after 5 minutes; the
    recovery sweep covers the deliveries meanwhile."""
    from ..tasks import webhook_deliveries_send_task

    if drain_seconds_setting() <= 0:
        # Tasks that send only their own deliveries can't stand in for each other.
        if delivery_ids:
            webhook_deliveries_enqueue(delivery_ids=delivery_ids)
        return bool(delivery_ids)
    count = int(getattr(settings, "WEBHOOK_WAKEUP_SLOTS", 4))
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
    from ..tasks import webhook_deliveries_send_task

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
