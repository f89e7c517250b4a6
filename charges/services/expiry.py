"""Charges expire on time by themselves: one expiry task per process and slot of expiry time,
and the sweep that every such task (and the periodic safety net) runs."""

import math
import time
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from pagtracker.events import domain_events_emit
from pagtracker.sweeps import sweeps_ensure_running

from ..models import (
    Charge,
    ChargeEvent,
    ChargeEventType,
    ChargeStatus,
)
from .transitions import (
    _transition,
    charge_event_data,
)

# Expiry slots this process has a committed expiry task for (``_schedule_expiry``).
_expiry_slots: set[int] = set()


def _schedule_expiry(charge: Charge) -> None:
    """One expiry task per process and slot of ``CHARGE_EXPIRY_SLOT_SECONDS`` (1 s) of expiry
    time, due at the end of the charge's slot. Every task sweeps all due charges, so a charge
    expires at most one slot after its time and never before it, and a burst of creations
    costs one task row per slot instead of one per charge.

    Enqueued inside the charge's own transaction: on the database queue the task row commits
    (or rolls back) with the charge, and no second write transaction is needed. The slot
    counts as covered only once that commits, so a rolled-back charge leaves the next one to
    enqueue. On a queue outside the database a rolled-back charge leaves a task that finds
    nothing to do."""
    from ..tasks import charge_expire_task

    step = settings.CHARGE_EXPIRY_SLOT_SECONDS
    slot = math.ceil(charge.expires_at.timestamp() / step)
    if slot in _expiry_slots:
        return
    run_after = datetime.fromtimestamp(slot * step, tz=UTC)
    charge_expire_task.using(run_after=run_after).enqueue(str(charge.id))
    transaction.on_commit(lambda: _expiry_slot_covered(slot, step))


def _expiry_slot_covered(slot: int, step: float) -> None:
    if len(_expiry_slots) >= 100_000:  # forget slots whose tasks are due already
        now = math.floor(time.time() / step)
        _expiry_slots.difference_update([s for s in _expiry_slots if s <= now])
    _expiry_slots.add(slot)
    # The periodic sweep is the safety net of this slot's task (pagtracker/sweeps.py).
    sweeps_ensure_running()


def charge_expire(*, charge_id: Any, now: datetime | None = None) -> bool:
    """Expire one charge if it is pending and due. Idempotent: returns whether it changed."""
    now = now or timezone.now()
    with transaction.atomic():
        charge = Charge.objects.select_for_update().filter(pk=charge_id).first()
        if charge is None or charge.status != ChargeStatus.PENDENTE or charge.expires_at > now:
            return False
        charge.expired_at = now
        _transition(
            charge,
            ChargeStatus.EXPIRADO,
            event_type=ChargeEventType.EXPIRED,
            event_name="payment.expired",
        )
    return True


def charges_expire_due(*, now: datetime | None = None, batch_size: int = 500) -> int:
    """Expire every pending charge whose time has come, in batches of row-locked charges
    (``skip_locked``, so concurrent sweepers and confirmations don't wait on each other).
    Returns how many expired; emits ``payment.expired`` for each."""
    now = now or timezone.now()
    expired = 0
    while True:
        with transaction.atomic():
            batch = list(
                Charge.objects.select_for_update(skip_locked=True)
                .filter(status=ChargeStatus.PENDENTE, expires_at__lte=now)
                .order_by("expires_at")[:batch_size]
            )
            if not batch:
                return expired
            ids = [charge.pk for charge in batch]
            Charge.objects.filter(pk__in=ids).update(
                status=ChargeStatus.EXPIRADO, expired_at=now, updated_at=now
            )
            ChargeEvent.objects.bulk_create(
                [
                    ChargeEvent(charge_id=pk, type=ChargeEventType.EXPIRED, created_at=now)
                    for pk in ids
                ]
            )
            for charge in batch:
                charge.status = ChargeStatus.EXPIRADO
                charge.expired_at = now
            domain_events_emit(
                events=[
                    ("payment.expired", charge.merchant_id, charge_event_data(charge))
                    for charge in batch
                ]
            )
        expired += len(batch)
