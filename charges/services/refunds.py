"""Refunds (devoluções): partial or total, never more than was paid, debited from the ledger.

A refund runs in three steps so that no transaction is open while the PSP is called: reserve
(debit the ledger, record the refund as ``SOLICITADO``), ask the PSP, then settle (count it on
the charge, or give the money back if the PSP refused)."""

import uuid
from typing import Any

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from pagtracker.errors import InvalidInput, InvalidState
from pagtracker.ledger.models import EntryKind
from pagtracker.ledger.services import ledger_credit, ledger_debit, merchant_lock
from pagtracker.providers import provider_for

from ..models import ChargeEventType, ChargeStatus, Refund, RefundStatus
from .transitions import _changes_record, _locked, charges_transition


def charge_refund(
    *, merchant_id: Any, charge_id: Any, amount_cents: int | None = None, motivo: str = ""
) -> Refund:
    """Return money of a paid charge (total when ``amount_cents`` is None).

    The reservation holds the merchant lock (the ledger debit) and the charge lock and counts
    refunds still awaiting the PSP, so the refunds of a charge never add up to more than was
    paid, whatever the concurrency; it refuses with ``insufficient_funds`` when the balance
    does not cover it. Emits ``payment.refunded`` once the PSP accepts; the last refund moves
    the charge to ``reembolsado``. A refund the PSP refuses is returned ``NAO_REALIZADO`` and
    its amount credited back."""
    refund = _refund_reserve(
        merchant_id=merchant_id, charge_id=charge_id, amount_cents=amount_cents, motivo=motivo
    )
    charge = refund.charge
    try:
        result = provider_for(charge.merchant).refund_create(
            merchant=charge.merchant,
            end_to_end_id=charge.end_to_end_id or "",
            return_id=refund.return_id,
            amount_cents=refund.amount_cents,
            motivo=motivo,
        )
    except Exception:
        _refund_settle(refund, status=RefundStatus.NAO_REALIZADO, rtr_id="")
        raise
    _refund_settle(refund, status=result.status, rtr_id=result.rtr_id)
    return refund


def _refund_reserve(
    *, merchant_id: Any, charge_id: Any, amount_cents: int | None, motivo: str
) -> Refund:
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
        awaiting = Refund.objects.filter(charge=charge, status=RefundStatus.SOLICITADO).aggregate(
            total=Sum("amount_cents")
        )["total"]
        refundable = charge.paid_amount_cents - charge.refunded_cents - (awaiting or 0)
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
    return refund


def _refund_settle(refund: Refund, *, status: str, rtr_id: str) -> None:
    """Record the PSP's answer: an accepted refund counts on the charge (and the one that
    completes it moves the charge to ``reembolsado``); a refused one is credited back."""
    with transaction.atomic():
        charge = _locked(merchant_id=refund.charge.merchant_id, charge_id=refund.charge_id)
        Refund.objects.filter(pk=refund.pk).update(
            status=status, rtr_id=rtr_id, updated_at=timezone.now()
        )
        refund.status, refund.rtr_id = status, rtr_id
        if status == RefundStatus.NAO_REALIZADO:
            ledger_credit(
                merchant_id=charge.merchant_id,
                kind=EntryKind.REFUND_REVERSAL,
                amount_cents=refund.amount_cents,
                reference_id=refund.id,
                charge_id=charge.id,
                description=f"Devolução {refund.return_id} não realizada",
            )
            return
        refunded = charge.refunded_cents + refund.amount_cents
        data = {
            "refund_id": str(refund.id),
            "amount_cents": refund.amount_cents,
            "motivo": refund.motivo,
        }
        # Domain data keeps centavos; each subscriber renders reais its own way.
        extra = {"refund": data}
        if refunded == charge.paid_amount_cents:
            # Reservations never exceed what was paid: no other refund is awaiting the PSP.
            charges_transition(
                [charge], ChargeStatus.REEMBOLSADO, data=data, extra=extra, refunded_cents=refunded
            )
        else:
            now = timezone.now()
            charge.refunded_cents, charge.updated_at = refunded, now
            charge.save(update_fields=["refunded_cents", "updated_at"])
            _changes_record([charge], ChargeEventType.REFUNDED, now=now, data=data, extra=extra)
    refund.charge = charge
