"""The one way a charge's status changes, ``charges_transition``, and what every change of a
charge shares: its event row and domain event (``_changes_record``), and the locked read."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.utils import timezone

from pagtracker.errors import InvalidState, NotFound
from pagtracker.events import domain_events_emit

from ..models import (
    CHARGE_TRANSITIONS,
    Charge,
    ChargeEvent,
    ChargeEventType,
    ChargeStatus,
)

DEFAULT_EXPIRATION_SECONDS = 3600


def charge_event_data(charge: Charge) -> dict[str, Any]:
    """The data of ``payment.*`` domain events: ``{"charge": <a copy of the charge>}``, its
    money in centavos as stored; a refund adds ``refund``: ``{refund_id, amount_cents,
    motivo}``. A copy, so after-commit subscribers see the charge as this change left it.
    Each subscriber renders it its own way: webhooks as the API shows a charge, realtime as
    seed 003's frames."""
    import copy

    return {"charge": copy.copy(charge)}


# The event row each status records, and the domain event each kind of row emits (a refused
# payment changes nothing, so it emits none).
_STATUS_EVENTS = {
    ChargeStatus.PAGO: ChargeEventType.CONFIRMED,
    ChargeStatus.EXPIRADO: ChargeEventType.EXPIRED,
    ChargeStatus.CANCELADO: ChargeEventType.CANCELED,
    ChargeStatus.REEMBOLSADO: ChargeEventType.REFUNDED,
}
_DOMAIN_EVENTS = {
    ChargeEventType.CREATED: "payment.created",
    ChargeEventType.CONFIRMED: "payment.confirmed",
    ChargeEventType.EXPIRED: "payment.expired",
    ChargeEventType.CANCELED: "payment.canceled",
    ChargeEventType.REFUNDED: "payment.refunded",
}


def charges_transition(
    charges: Sequence[Charge],
    to: str,
    *,
    now: datetime | None = None,
    data: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
    **changes: Any,
) -> list[Charge]:
    """Move ``charges``, all read in one status, to status ``to``, writing ``changes`` (plain
    values) with it. The only code that writes a charge's status. Runs in the caller's
    transaction; returns the charges that changed, updated in memory.

    Refuses what ``CHARGE_TRANSITIONS`` does not allow (``InvalidState``). The UPDATE matches
    only charges still in the status they were read in, so a concurrent change is never
    applied twice: a single charge that changed meanwhile comes back as ``[]``; several charges
    must be row-locked by the caller, so none can change in between. Each change appends a
    ``ChargeEvent`` (``data``: integers, centavos) and emits its domain event (the charge,
    plus ``extra``)."""
    if not charges:
        return []
    status = charges[0].status
    if to not in CHARGE_TRANSITIONS[status]:
        raise InvalidState(
            f"A charge that is {status} cannot become {to}.", details={"status": [status]}
        )
    if any(charge.status != status for charge in charges):
        raise ValueError("charges moved together are read in one status")
    now = now or timezone.now()
    ids = [charge.pk for charge in charges]
    updated = Charge.objects.filter(pk__in=ids, status=status).update(
        status=to, updated_at=now, **changes
    )
    if updated == 0:
        return []
    if updated != len(charges):
        raise RuntimeError("charges moved together changed meanwhile: lock them first")
    for charge in charges:
        charge.status = to
        charge.updated_at = now
        for field, value in changes.items():
            setattr(charge, field, value)
    _changes_record(charges, _STATUS_EVENTS[to], now=now, data=data, extra=extra)
    return list(charges)


def _changes_record(
    charges: Sequence[Charge],
    event_type: str,
    *,
    now: datetime,
    data: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
) -> None:
    """Append one ``ChargeEvent`` per charge and emit the matching domain events, in the
    caller's transaction: the audit row and the event commit (or roll back) with the change."""
    ChargeEvent.objects.bulk_create(
        [
            ChargeEvent(charge_id=charge.pk, type=event_type, data=data or {}, created_at=now)
            for charge in charges
        ]
    )
    name = _DOMAIN_EVENTS.get(event_type)
    if name is not None:
        domain_events_emit(
            events=[
                (name, charge.merchant_id, {**charge_event_data(charge), **(extra or {})})
                for charge in charges
            ]
        )


def _locked(*, merchant_id: Any, charge_id: Any) -> Charge:
    # The charge row only (the merchant's is ``merchant_lock``'s, taken first), and without
    # blocking the foreign-key checks of rows that reference the charge.
    charge = (
        Charge.objects.select_for_update(of=("self",), no_key=True)
        .select_related("merchant")
        .filter(merchant_id=merchant_id, pk=charge_id)
        .first()
    )
    if charge is None:
        raise NotFound("Charge not found.")
    return charge
