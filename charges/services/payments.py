"""Confirming a payment the bank reported: the one way a charge becomes ``pago``."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from pagtracker.ledger.models import EntryKind
from pagtracker.ledger.services import ledger_credit

from ..models import (
    Charge,
    ChargeEventType,
    ChargeStatus,
    PaymentNotification,
    PaymentOutcome,
)
from .transitions import _changes_record, charges_transition


@dataclass(frozen=True)
class PaymentResult:
    notification: PaymentNotification
    charge: Charge | None
    duplicate: bool

    @property
    def applied(self) -> bool:
        return self.notification.outcome == PaymentOutcome.APPLIED


def charge_payment_confirm(
    *,
    txid: str,
    end_to_end_id: str,
    amount_cents: int,
    source: str,
    paid_at: datetime | None = None,
    payload: dict[str, Any] | None = None,
    charge: Charge | None = None,
) -> PaymentResult:
    """Apply a payment the bank reported. The one way a charge becomes ``pago``.

    Idempotent on ``end_to_end_id``: a replay returns the first outcome and changes nothing.
    A payment with another amount than the charge's, or for a charge that is no longer
    pending, is recorded with its outcome and not applied. When applied: the charge is paid,
    the ledger is credited and ``payment.confirmed`` is emitted, in one transaction.

    The common case (a pending charge, the right amount) takes no lock: the conditional
    update of ``charges_transition`` pays the charge only if it is still pending. Anything
    else, and a charge that changed meanwhile, is classified on the locked charge.
    ``charge``: the charge of ``txid`` if the caller has just read it, to save a read."""
    paid_at = paid_at or timezone.now()
    fields = {
        "end_to_end_id": end_to_end_id,
        "amount_cents": amount_cents,
        "source": source,
        "paid_at": paid_at,
        "payload": payload or {},
    }
    try:
        if charge is None or charge.txid != txid:
            charge = Charge.objects.filter(txid=txid).order_by().first()
        if (
            charge is not None
            and charge.status == ChargeStatus.PENDENTE
            and amount_cents == charge.amount_cents
        ):
            with transaction.atomic():
                notification = _payment_apply(charge, fields)
            if notification is not None:
                return PaymentResult(notification, charge, duplicate=False)
        return _payment_record(txid, fields)
    except IntegrityError:
        # A replay (the end-to-end id is unique), or a concurrent delivery of it that
        # committed first: the transaction rolled back, the first outcome stands.
        existing = PaymentNotification.objects.filter(end_to_end_id=end_to_end_id).first()
        if existing is None:
            raise
        return PaymentResult(existing, existing.charge, duplicate=True)


def _payment_apply(charge: Charge, fields: dict[str, Any]) -> PaymentNotification | None:
    """Pay the charge if it is still pending: the charge, its notification, the ledger
    credit (last: the balance slot is the last lock the transaction takes). None, with
    nothing written, if it stopped being pending."""
    paid = charges_transition(
        [charge],
        ChargeStatus.PAGO,
        data={"end_to_end_id": fields["end_to_end_id"], "source": fields["source"]},
        paid_at=fields["paid_at"],
        paid_amount_cents=charge.amount_cents,
        end_to_end_id=fields["end_to_end_id"],
    )
    if not paid:
        return None
    notification = PaymentNotification.objects.create(
        charge=charge, txid=charge.txid, outcome=PaymentOutcome.APPLIED, **fields
    )
    ledger_credit(
        merchant_id=charge.merchant_id,
        kind=EntryKind.PAYMENT_IN,
        amount_cents=charge.amount_cents,
        reference_id=charge.id,
        charge_id=charge.id,
        description=f"Pix {fields['end_to_end_id']}",
    )
    return notification


def _payment_record(txid: str, fields: dict[str, Any]) -> PaymentResult:
    """Lock the charge, classify the payment, record it; apply it if it is payable."""
    with transaction.atomic():
        charge = Charge.objects.select_for_update(no_key=True).filter(txid=txid).first()
        if charge is None:
            outcome = PaymentOutcome.UNKNOWN_TXID
        elif charge.status != ChargeStatus.PENDENTE:
            outcome = PaymentOutcome.NOT_PAYABLE
        elif fields["amount_cents"] != charge.amount_cents:
            outcome = PaymentOutcome.AMOUNT_MISMATCH
        else:
            notification = _payment_apply(charge, fields)
            assert notification is not None  # the charge is locked and pending
            return PaymentResult(notification, charge, duplicate=False)
        notification = PaymentNotification.objects.create(
            charge=charge, txid=txid, outcome=outcome, **fields
        )
        if charge is not None:
            _changes_record(
                [charge],
                ChargeEventType.PAYMENT_REJECTED,
                now=timezone.now(),
                data={
                    "reason": outcome,
                    "end_to_end_id": fields["end_to_end_id"],
                    "amount_cents": fields["amount_cents"],
                },
            )
        return PaymentResult(notification, charge, duplicate=False)
