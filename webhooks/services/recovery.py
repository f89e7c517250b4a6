"""The recovery sweep: what makes "nothing is lost" true when processes die.

- an attempt left unfinished by a worker whose lease has expired is marked interrupted;
- a delivery due for longer than a grace period with no live lease (its task was lost: the
  worker died, or the web process died between commit and enqueue) gets a new task;
- it runs by itself as a chain of tasks, each enqueueing the next (``WebhookSweep`` keeps the
  chain single), and by hand as ``manage.py webhooks_recover``;
- each link also runs the other apps' periodic sweeps (``pagtracker/sweeps.py``: charges
  whose expiry task was lost).
"""

import logging
import time
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from pagtracker.sweeps import sweeps_run

from ..models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookSweep
from .deliveries import _due, webhook_deliveries_stop
from .wakeups import webhook_deliveries_enqueue

logger = logging.getLogger("pagtracker.webhooks")

INTERRUPTED = "interrupted: the worker stopped before the outcome was recorded"


def _recovery_grace() -> float:
    return float(getattr(settings, "WEBHOOK_RECOVERY_GRACE_SECONDS", 30))


def _recovery_interval() -> float:
    return float(getattr(settings, "WEBHOOK_RECOVERY_INTERVAL_SECONDS", 60))


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
    grace = _recovery_grace() if grace_seconds is None else grace_seconds
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
            _due(now), next_attempt_at__lte=now - timedelta(seconds=grace)
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


def _sweep_row() -> WebhookSweep:
    try:
        with transaction.atomic():
            sweep, _ = WebhookSweep.objects.select_for_update().get_or_create(pk=1)
    except IntegrityError:  # created concurrently
        sweep = WebhookSweep.objects.select_for_update().get(pk=1)
    return sweep


def webhook_recovery_run(*, scheduled_for: str | None) -> dict[str, Any] | None:
    """One link of the recovery chain. Runs the sweep and schedules the next link, unless it
    is not the link the ``WebhookSweep`` row expects (a duplicate, or one superseded by a
    restarted chain), which then ends quietly: at most one chain lives.

    The next link is enqueued in the same transaction that advances the row, so with the
    database task backend a crash can't leave the row pointing at a link that was never
    enqueued; and before the sweep runs, so a crash during the sweep doesn't end the chain."""
    from ..tasks import webhook_deliveries_recover_task

    now = timezone.now()
    with transaction.atomic():
        sweep = _sweep_row()
        expected = sweep.next_run_at.isoformat() if sweep.next_run_at else None
        if scheduled_for is not None and scheduled_for != expected:
            return None
        sweep.next_run_at = now + timedelta(seconds=_recovery_interval())
        sweep.last_run_at = now
        sweep.save(update_fields=["next_run_at", "last_run_at"])
        webhook_deliveries_recover_task.using(run_after=sweep.next_run_at).enqueue(
            scheduled_for=sweep.next_run_at.isoformat()
        )
    result: dict[str, Any] = dict(webhook_deliveries_recover(now=now))
    # The other apps' safety nets ride on this chain (pagtracker/sweeps.py).
    result["sweeps"] = sweeps_run()
    WebhookSweep.objects.filter(pk=1).update(last_result=result)
    return result


_chain_checked_at = 0.0
_CHAIN_CHECK_EVERY = 30.0


def webhook_recovery_ensure_scheduled(*, force: bool = False) -> bool:
    """Start the recovery chain if it is not running (never started, or its next link is
    more than an interval late: its task was lost). Cheap: a process looks at most every
    30 s, unless ``force``. Returns whether a link was enqueued."""
    global _chain_checked_at
    from ..tasks import webhook_deliveries_recover_task

    clock = time.monotonic()
    if not force and clock - _chain_checked_at < _CHAIN_CHECK_EVERY:
        return False
    _chain_checked_at = clock
    interval = timedelta(seconds=_recovery_interval())

    def alive(sweep: WebhookSweep | None, now: datetime) -> bool:
        return bool(sweep and sweep.next_run_at and sweep.next_run_at > now - interval)

    if alive(WebhookSweep.objects.filter(pk=1).first(), timezone.now()):
        return False
    with transaction.atomic():
        sweep = _sweep_row()
        now = timezone.now()
        if alive(sweep, now):
            return False
        sweep.next_run_at = now
        sweep.save(update_fields=["next_run_at"])
        webhook_deliveries_recover_task.using(run_after=now).enqueue(scheduled_for=now.isoformat())
    return True
