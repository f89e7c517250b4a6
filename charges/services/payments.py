"""Confirming a payment the bank reported: the one way a charge becomes ``pago``."""

import copy
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from pagtracker import rows
from pagtracker.events import domain_event_emit
from pagtracker.ledger.models import EntryKind
from pagtracker.ledger.services import (
    ledger_book,
    ledger_book_statements,
    ledger_credit_entry,
)

from ..models import (
    Charge,
    ChargeEvent,
    ChargeEventType,
    ChargeStatus,
    PaymentNotification,
    PaymentOutcome,
)
from .transitions import (
    _PAID_FIELDS,
    _transition,
    charge_event_data,
)


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

    The common case (a pending charge, the right amount) takes ``_payment_apply``: its writes
    are prepared before the transaction and the charge changes only if it is still pending
    when the transaction updates it. Everything else, and a charge that changed meanwhile,
    takes ``_payment_record``, which locks the charge and classifies the payment. ``charge``:
    the charge of ``txid`` if the caller has just read it (unlocked), to save a read."""
    # No read-before-write of the notification: the unique end_to_end_id turns a replay into
    # an IntegrityError.
    paid_at = paid_at or timezone.now()
    try:
        if charge is None or charge.txid != txid:
            charge = Charge.objects.filter(txid=txid).order_by().first()
        if (
            charge is not None
            and charge.status == ChargeStatus.PENDENTE
            and amount_cents == charge.amount_cents
        ):
            result = _payment_apply(
                charge,
                end_to_end_id=end_to_end_id,
                source=source,
                paid_at=paid_at,
                payload=payload,
            )
            if result is not None:
                return result
        return _payment_record(
            txid=txid,
            end_to_end_id=end_to_end_id,
            amount_cents=amount_cents,
            source=source,
            paid_at=paid_at,
            payload=payload,
        )
    except IntegrityError:
        # A replay, or a concurrent delivery of the same end-to-end id that committed first.
        existing = PaymentNotification.objects.filter(end_to_end_id=end_to_end_id).first()
        if existing is None:
            raise
        return PaymentResult(existing, existing.charge, duplicate=True)


def _payment_credit(charge: Charge, amount_cents: int, end_to_end_id: str) -> Any:
    """The ledger credit of an applied payment (unbooked: the caller books it in the
    payment's transaction)."""
    return ledger_credit_entry(
        merchant_id=charge.merchant_id,
        kind=EntryKind.PAYMENT_IN,
        amount_cents=amount_cents,
        reference_id=charge.id,
        charge_id=charge.id,
        description=f"Pix {end_to_end_id}",
    )


def _payment_apply(
    charge: Charge,
    *,
    end_to_end_id: str,
    source: str,
    paid_at: datetime,
    payload: dict[str, Any] | None,
) -> PaymentResult | None:
    """Pay a charge read as pending, with the right amount. The transaction runs prepared
    statements (``pagtracker.rows``): an UPDATE that only matches a still-pending charge, then
    the notification, the ledger credit and the charge event. None when the charge stopped
    being pending since it was read (nothing written)."""
    if not charge.can_become(ChargeStatus.PAGO):
        return None
    notification = PaymentNotification(
        charge=charge,
        txid=charge.txid,
        end_to_end_id=end_to_end_id,
        amount_cents=charge.amount_cents,
        outcome=PaymentOutcome.APPLIED,
        source=source,
        payload=payload or {},
        paid_at=paid_at,
    )
    paid = copy.copy(charge)
    paid.status = ChargeStatus.PAGO
    paid.paid_at = paid_at
    paid.paid_amount_cents = charge.amount_cents
    paid.end_to_end_id = end_to_end_id
    charge_update = rows.update(paid, _PAID_FIELDS, where={"status": ChargeStatus.PENDENTE})
    writes = [
        rows.insert(notification),
        rows.insert(
            ChargeEvent(
                charge=paid,
                type=ChargeEventType.CONFIRMED,
                data={"end_to_end_id": end_to_end_id, "source": source},
            )
        ),
        # Last, so the balance slot's row lock is held for as short a time as possible.
        *ledger_book_statements(_payment_credit(charge, charge.amount_cents, end_to_end_id)),
    ]
    data = charge_event_data(paid)
    with transaction.atomic():
        if rows.run(charge_update) != 1:
            return None
        for statement in writes:
            rows.run(statement)
        domain_event_emit(name="payment.confirmed", merchant_id=paid.merchant_id, data=data)
    return PaymentResult(notification, paid, duplicate=False)


def _payment_record(
    *,
    txid: str,
    end_to_end_id: str,
    amount_cents: int,
    source: str,
    paid_at: datetime,
    payload: dict[str, Any] | None,
) -> PaymentResult:
    """Lock the charge, classify the payment, record it; apply it if it is payable."""
    with transaction.atomic():
        charge = Charge.objects.select_for_update().filter(txid=txid).first()
        if charge is None:
            outcome = PaymentOutcome.UNKNOWN_TXID
        elif charge.status != ChargeStatus.PENDENTE:
            outcome = PaymentOutcome.NOT_PAYABLE
        elif amount_cents != charge.amount_cents:
            outcome = PaymentOutcome.AMOUNT_MISMATCH
        else:
            outcome = PaymentOutcome.APPLIED
        notification = PaymentNotification.objects.create(
            charge=charge,
            txid=txid,
            end_to_end_id=end_to_end_id,
            amount_cents=amount_cents,
            outcome=outcome,
            source=source,
            payload=payload or {},
            paid_at=paid_at,
        )
        if charge is None:
            return PaymentResult(notification, None, duplicate=False)
        if outcome != PaymentOutcome.APPLIED:
            ChargeEvent.objects.create(
                charge=charge,
                type=ChargeEventType.PAYMENT_REJECTED,
                data={
                    "reason": outcome,
                    "end_to_end_id": end_to_end_id,
                    "valor": amount_cents / 100,
                },
            )
            return PaymentResult(notification, charge, duplicate=False)
        charge.paid_at = paid_at
        charge.paid_amount_cents = amount_cents
        charge.end_to_end_id = end_to_end_id
        ledger_book(_payment_credit(charge, amount_cents, end_to_end_id))
        _transition(
            charge,
            ChargeStatus.PAGO,
            event_type=ChargeEventType.CONFIRMED,
            event_name="payment.confirmed",
            data={"end_to_end_id": end_to_end_id, "source": source},
        )
        return PaymentResult(notification, charge, duplicate=False)
