"""The recovery sweep: what makes "nothing is lost" true when processes die.

- an attempt left unfinished by a worker whose lease has expired is marked interrupted;
- a delivery due for longer than a grace period with no live lease (its task was lost: the
  worker died, or the web process died between commit and enqueue) gets a new task;
- the platform's scheduler runs it every ``WEBHOOK_RECOVERY_INTERVAL_SECONDS``
  (``pagtracker/schedule.py``), and ``manage.py webhooks_recover`` runs it by hand.
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from ..models import DeliveryStatus, WebhookAttempt, WebhookDelivery
from .deliveries import webhook_deliveries_stop, webhook_delivery_due
from .wakeups import webhook_deliveries_enqueue

logger = logging.getLogger("pagtracker.webhooks")

INTERRUPTED = "interrupted: the worker stopped before the outcome was recorded"


def webhook_deliveries_recover(
    *, now: datetime | None = None, grace_seconds: float | None = None
) -> dict[str, int]:
    """The recovery sweep. Idempotent; safe to run anywhere, any time, concurrently.

    - attempts left unfinished by a worker whose lease has expired are marked interrupted;
    - test deliveries whose web request died are closed as ``failed``, and so are pending
      deliveries of endpoints disabled meanwhile (one was in flight when it was disabled);
    - every delivery due for more than ``grace_seconds`` with no live lease (its task was
      lost: the worker died, or the web process died before enqueueing) gets a new task.
    """
    now = now or timezone.now()
    grace = settings.WEBHOOK_RECOVERY_GRACE_SECONDS if grace_seconds is None else grace_seconds
    with transaction.atomic():
        interrupted = (
            WebhookAttempt.objects.filter(finished_at__isnull=True)
            .filter(
                Q(delivery__locked_until__isnull=True)
                | Q(delivery__locked_until__lte=now)
                | ~Q(delivery__claimed_by=F("claimed_by"))
            )
            .update(finished_at=now, error=INTERRUPTED)
        )
        stopped = 0
        for endpoint_id in (
            WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING)
            .filter(Q(endpoint__active=False) | Q(endpoint__deleted_at__isnull=False))
            .values_list("endpoint_id", flat=True)
            .distinct()
        ):
            stopped += webhook_deliveries_stop(
                endpoint_id=endpoint_id, reason="endpoint disabled or deleted"
            )
        abandoned_tests = WebhookDelivery.objects.filter(
            event__is_test=True,
            status=DeliveryStatus.PENDING,
            locked_until__lte=now,
        ).update(
            status=DeliveryStatus.FAILED,
            locked_until=None,
            claimed_by="",
            last_error=INTERRUPTED,
            updated_at=now,
        )
    overdue = [
        str(pk)
        for pk in WebhookDelivery.objects.filter(
            webhook_delivery_due(now), next_attempt_at__lte=now - timedelta(seconds=grace)
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:10_000]
    ]
    if overdue:
        webhook_deliveries_enqueue(delivery_ids=overdue)
        logger.warning("webhook recovery: re-enqueued %d overdue deliveries", len(overdue))
    return {
        "interrupted_attempts": interrupted,
        "abandoned_tests": abandoned_tests,
        "stopped": stopped,
        "reenqueued": len(overdue),
    }
