"""What every charge transition shares: the event data, the fields a transition writes,
``_transition`` itself and the locked read."""

from typing import Any

from pagtracker.errors import InvalidState, NotFound
from pagtracker.events import domain_event_emit

from ..models import (
    Charge,
    ChargeEvent,
)

DEFAULT_EXPIRATION_SECONDS = 3600


def charge_event_data(charge: Charge) -> dict[str, Any]:
    """The payload of ``payment.*`` domain events (webhooks and socket pushes)."""
    from pagtracker.api.fields import iso_utc

    return {
        "id": str(charge.id),
        "chargeId": str(charge.id),
        "roomId": charge.public_code,
        "txid": charge.txid,
        "status": charge.status,
        "valor": charge.amount_cents / 100,
        "valor_reembolsado": charge.refunded_cents / 100,
        "end_to_end_id": charge.end_to_end_id,
        "created_at": iso_utc(charge.created_at),
        "paid_at": iso_utc(charge.paid_at),
        "expires_at": iso_utc(charge.expires_at),
        "cancelled_at": iso_utc(charge.cancelled_at),
        "metadata": charge.metadata,
    }


# What transitions write: never the BR Code or its image, which do not change.
_MUTABLE_FIELDS = [
    "status",
    "paid_amount_cents",
    "refunded_cents",
    "end_to_end_id",
    "paid_at",
    "cancelled_at",
    "expired_at",
    "updated_at",
]


# What a payment changes (the fast path writes only these).
_PAID_FIELDS = ["status", "paid_amount_cents", "end_to_end_id", "paid_at", "updated_at"]


def _transition(
    charge: Charge,
    status: str,
    *,
    event_type: str,
    event_name: str,
    data: dict[str, Any] | None = None,
) -> None:
    if not charge.can_become(status):
        raise InvalidState(
            f"A charge that is {charge.status} cannot become {status}.",
            details={"status": [charge.status]},
        )
    charge.status = status
    charge.save(update_fields=_MUTABLE_FIELDS)
    ChargeEvent.objects.create(charge=charge, type=event_type, data=data or {})
    domain_event_emit(
        name=event_name, merchant_id=charge.merchant_id, data=charge_event_data(charge)
    )


def _locked(*, merchant_id: Any, charge_id: Any) -> Charge:
    charge = (
        Charge.objects.select_for_update()
        .select_related("merchant")
        .filter(merchant_id=merchant_id, pk=charge_id)
        .first()
    )
    if charge is None:
        raise NotFound("Charge not found.")
    return charge
