"""Refunds (devoluções): partial or total, never more than was paid, debited from the ledger."""

import uuid
from typing import Any

from django.db import transaction

from pagtracker.errors import InvalidInput, InvalidState
from pagtracker.events import domain_event_emit
from pagtracker.ledger.models import EntryKind
from pagtracker.ledger.services import (
    ledger_debit,
    merchant_lock,
)
from pagtracker.providers import provider_for

from ..models import (
    ChargeEvent,
    ChargeEventType,
    ChargeStatus,
    Refund,
    RefundStatus,
)
from .transitions import (
    _locked,
    _transition,
    charge_event_data,
)


def charge_refund(
    *, merchant_id: Any, charge_id: Any, amount_cents: int | None = None, motivo: str = ""
) -> Refund:
    """Return money of a paid charge (total when ``amount_cents`` is None).

    Holds the merchant lock (the ledger debit) and the charge lock, so the refunds of a charge
    never add up to more than was paid, whatever the concurrency; refuses with
    ``insufficient_funds`` when the balance does not cover it. Emits ``payment.refunded``."""
    with transaction.atomic():
        merchant_lock(merchant_id=merchant_id)
        charge = _locked(merchant_id=merchant_id, charge_id=charge_id)
        if charge.status == ChargeStatus.REEMBOLSADO:
            raise InvalidState(
                "This charge was already refunded in full.", details={"status": [charge.status]}
            )
        if charge.status != ChargeStatus.PAGO:
            raise InvalidState(
                f"Only paid charges can be refunded; this one is {charge.status}.",
                details={"status": [charge.status]},
            )
        refundable = charge.paid_amount_cents - charge.refunded_cents
        amount = refundable if amount_cents is None else amount_cents
        if amount <= 0 or amount > refundable:
            raise InvalidInput(
                f"At most R$ {refundable / 100:.2f} can still be refunded.",
                details={"valor": [f"must be between 0.01 and {refundable / 100:.2f}"]},
            )
        refund = Refund.objects.create(
            charge=charge, return_id=uuid.uuid4().hex, amount_cents=amount, motivo=motivo
        )
        ledger_debit(
            merchant_id=merchant_id,
            kind=EntryKind.REFUND_OUT,
            amount_cents=amount,
            reference_id=refund.id,
            charge_id=charge.id,
            description=f"Devolução {refund.return_id}",
        )
        result = provider_for(charge.merchant).refund_create(
            merchant=charge.merchant,
            end_to_end_id=charge.end_to_end_id or "",
            return_id=refund.return_id,
            amount_cents=amount,
            motivo=motivo,
        )
        if result.status == RefundStatus.NAO_REALIZADO:
            # Nothing left the account: roll the debit and refund back, report the refusal.
            transaction.set_rollback(True)
            return Refund(
                id=refund.id,
                charge=charge,
                return_id=refund.return_id,
                amount_cents=amount,
                motivo=motivo,
                status=RefundStatus.NAO_REALIZADO,
            )
        refund.status = result.status
        refund.rtr_id = result.rtr_id
        refund.save(update_fields=["status", "rtr_id", "updated_at"])
        charge.refunded_cents += amount
        event_data = {"refund_id": str(refund.id), "valor": amount / 100, "motivo": motivo}
        if charge.refunded_cents == charge.paid_amount_cents:
            _transition(
                charge,
                ChargeStatus.REEMBOLSADO,
                event_type=ChargeEventType.REFUNDED,
                event_name="payment.refunded",
                data=event_data,
            )
        else:
            charge.save(update_fields=["refunded_cents", "updated_at"])
            ChargeEvent.objects.create(
                charge=charge, type=ChargeEventType.REFUNDED, data=event_data
            )
            domain_event_emit(
                name="payment.refunded",
                merchant_id=charge.merchant_id,
                data={**charge_event_data(charge), "refund": event_data},
            )
    return refund
