"""Expiry: the platform's scheduler runs ``charges_expire_due`` every
``CHARGE_EXPIRY_INTERVAL_SECONDS``; it expires every due pending charge in bulk."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from ..models import Charge, ChargeStatus
from .transitions import charges_transition


def charges_expire_due(*, now: datetime | None = None, batch_size: int = 500) -> int:
    """Expire every pending charge whose time has come, in batches, through
    ``charges_transition``; emits ``payment.expired`` for each. Returns how many expired.

    Each batch is row-locked with ``skip_locked``: concurrent sweeps and a confirmation or
    cancel of the same charge never wait on each other, and exactly one of them applies."""
    now = now or timezone.now()
    pending_due = Charge.objects.filter(status=ChargeStatus.PENDENTE, expires_at__lte=now)
    expired = 0
    while True:
        # A read first: most runs find nothing, and then take no write lock (SQLite's
        # transactions take it as they begin).
        if not pending_due.exists():
            return expired
        with transaction.atomic():
            due = list(
                pending_due.select_for_update(skip_locked=True).order_by("expires_at")[:batch_size]
            )
            changed = charges_transition(due, ChargeStatus.EXPIRADO, now=now, expired_at=now)
        if not due:
            return expired
        expired += len(changed)
