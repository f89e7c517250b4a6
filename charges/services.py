"""Charge services: the only code that changes a charge.

Every transition locks the charge row, checks ``CHARGE_TRANSITIONS``, writes the row, appends
a ``ChargeEvent`` and emits the domain event (``pagtracker.events``) in the same transaction.
Lock order, everywhere: merchant (ledger debits), then charge, then wallet, then one of the
merchant's balance slots (booking a ledger entry: the last lock a transaction takes).
"""

import copy
import math
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.db import IntegrityError, transaction
from django.utils import timezone

from pagtracker import rows
from pagtracker.accounts.models import Merchant
from pagtracker.errors import InsufficientFunds, InvalidInput, InvalidState, NotFound
from pagtracker.events import domain_event_emit, domain_events_emit
from pagtracker.ledger.models import EntryKind
from pagtracker.ledger.services import (
    ledger_book,
    ledger_book_statements,
    ledger_credit_entry,
    ledger_debit,
    merchant_lock,
)
from pagtracker.pix.ids import new_end_to_end_id
from pagtracker.pix.qrimage import render_data_uri
from pagtracker.providers import provider_for
from pagtracker.sweeps import sweeps_ensure_running

from .models import (
    Charge,
    ChargeEvent,
    ChargeEventType,
    ChargeStatus,
    PaymentNotification,
    PaymentOutcome,
    Refund,
    RefundStatus,
    SandboxWallet,
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
    from .tasks import charge_expire_task

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


def charge_create(
    *,
    merchant: Merchant,
    amount_cents: int,
    descricao: str = "",
    expires_in: int = DEFAULT_EXPIRATION_SECONDS,
    cliente: dict[str, Any] | None = None,
    metadata: dict[str, Any] | None = None,
    split_id: uuid.UUID | None = None,
    split_snapshot: dict[str, Any] | None = None,
) -> Charge:
    """Create a pending charge with its BR Code and QR image, and schedule its expiry.

    The provider call, the PNG and the rows' SQL (``pagtracker.rows``) are prepared before
    the transaction, so the write lock is held only for the inserts. Emits
    ``payment.created``."""
    now = timezone.now()
    expires_at = now + timedelta(seconds=expires_in)
    provider = provider_for(merchant)
    issued = provider.charge_create(
        merchant=merchant, amount_cents=amount_cents, expires_at=expires_at, descricao=descricao
    )
    charge = Charge(
        merchant=merchant,
        provider=provider.name,
        txid=issued.txid,
        public_code=secrets.token_urlsafe(16),
        amount_cents=amount_cents,
        descricao=descricao,
        cliente=cliente,
        metadata=metadata or {},
        split_id=split_id,
        split_snapshot=split_snapshot,
        qr_code=issued.qr_code,
        qr_code_image=render_data_uri(issued.qr_code),
        created_at=now,
        expires_at=expires_at,
    )
    inserts = [
        rows.insert(charge),
        rows.insert(
            ChargeEvent(
                charge=charge,
                type=ChargeEventType.CREATED,
                data={"valor": amount_cents / 100},
                created_at=now,
            )
        ),
    ]
    data = charge_event_data(charge)
    with transaction.atomic():
        for statement in inserts:
            rows.run(statement)
        domain_event_emit(name="payment.created", merchant_id=merchant.pk, data=data)
        _schedule_expiry(charge)
    charge._state.adding = False  # saved (by rows.run): a later save() updates it
    charge._state.db = "default"
    return charge


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


def charge_cancel(*, merchant_id: Any, charge_id: Any) -> Charge:
    """Cancel a pending charge (``DELETE /api/charges/{id}``); emits ``payment.canceled``."""
    with transaction.atomic():
        charge = _locked(merchant_id=merchant_id, charge_id=charge_id)
        if charge.status != ChargeStatus.PENDENTE:
            raise InvalidState(
                f"Only pending charges can be cancelled; this one is {charge.status}.",
                details={"status": [charge.status]},
            )
        provider_for(charge.merchant).charge_cancel(merchant=charge.merchant, txid=charge.txid)
        charge.cancelled_at = timezone.now()
        _transition(
            charge,
            ChargeStatus.CANCELADO,
            event_type=ChargeEventType.CANCELED,
            event_name="payment.canceled",
        )
    return charge


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


def sandbox_wallet_create(
    *,
    merchant: Merchant,
    holder_name: str,
    card_number: str,
    pin: str,
    balance_cents: int,
    pin_limit_cents: int = -1,
) -> SandboxWallet:
    digits = "".join(ch for ch in card_number if ch.isdigit())
    if not 12 <= len(digits) <= 19:
        raise InvalidInput(
            "A card number has 12 to 19 digits.", details={"card_number": ["12 to 19 digits"]}
        )
    if not (pin.isdigit() and 4 <= len(pin) <= 6):
        raise InvalidInput("The PIN has 4 to 6 digits.", details={"pin": ["4 to 6 digits"]})
    return SandboxWallet.objects.create(
        merchant=merchant,
        holder_name=holder_name,
        card_number=digits,
        pin=make_password(pin),
        balance_cents=balance_cents,
        pin_limit_cents=pin_limit_cents,
    )


def sandbox_wallet_pay(*, public_code: str, card_number: str, pin: str = "") -> PaymentResult:
    """The payer pays a charge with a sandbox card (hosted page). The wallet is debited and
    the charge confirmed through ``charge_payment_confirm`` in one transaction."""
    digits = "".join(ch for ch in card_number if ch.isdigit())
    with transaction.atomic():
        charge = (
            Charge.objects.select_for_update()
            .select_related("merchant")
            .filter(public_code=public_code)
            .first()
        )
        if charge is None:
            raise NotFound("Charge not found.")
        if charge.status != ChargeStatus.PENDENTE or charge.expires_at <= timezone.now():
            raise InvalidState(
                "This charge can no longer be paid.", details={"status": [charge.status]}
            )
        wallet = (
            SandboxWallet.objects.select_for_update()
            .filter(merchant_id=charge.merchant_id, card_number=digits)
            .first()
        )
        if wallet is None:
            raise InvalidInput("Cartão não encontrado.", details={"card_number": ["unknown card"]})
        if wallet.pin_required_for(charge.amount_cents) and not check_password(pin, wallet.pin):
            raise InvalidInput("PIN incorreto.", details={"pin": ["wrong or missing PIN"]})
        if wallet.balance_cents < charge.amount_cents:
            raise InsufficientFunds("Saldo insuficiente no cartão.")
        wallet.balance_cents -= charge.amount_cents
        wallet.save(update_fields=["balance_cents"])
        return charge_payment_confirm(
            txid=charge.txid,
            end_to_end_id=new_end_to_end_id(ispb="00000000"),
            amount_cents=charge.amount_cents,
            source="sandbox_wallet",
            payload={"wallet": str(wallet.id)},
        )
