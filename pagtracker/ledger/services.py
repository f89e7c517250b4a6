"""Ledger services. Every entry is booked in the transaction of the money movement it records,
and adds its amount to one of the merchant's balance slots there too, so reading a balance
costs the same with ten entries or a million. Callers hold the merchant's row lock
(``merchant_lock``) when they debit, so two debits of one merchant cannot both pass the
balance check."""

import random
from typing import Any
from uuid import UUID

from django.db import transaction
from django.db.models import F, Sum

from pagtracker.accounts.models import Merchant
from pagtracker.errors import InsufficientFunds

from .models import BALANCE_SLOTS, BalanceSlot, EntryKind, LedgerEntry


def merchant_lock(*, merchant_id: Any) -> Merchant:
    """Lock the merchant row: the order is always merchant, then the charge or payout.

    ``FOR NO KEY UPDATE``: it serialises debits, yet does not block the foreign-key checks
    of rows that merely reference the merchant (other transactions' entries and events)."""
    return Merchant.objects.select_for_update(no_key=True).get(pk=merchant_id)


def balance_cents(*, merchant_id: Any) -> int:
    """The merchant's balance: the sum of its balance slots (at most ``BALANCE_SLOTS`` rows).
    Inside a debit, under ``merchant_lock``, it counts every committed credit and none that
    is still in flight, so the check can only err on the side of refusing."""
    total = BalanceSlot.objects.filter(merchant_id=merchant_id).aggregate(
        total=Sum("balance_cents")
    )["total"]
    return int(total or 0)


def _slot_add(merchant_id: Any, amount_cents: int) -> None:
    """Add to a random slot of the merchant: concurrent entries of one merchant rarely wait on
    the same row. A merchant's first entry creates all its slots, at zero."""
    slot = BalanceSlot.objects.filter(merchant_id=merchant_id, slot=random.randrange(BALANCE_SLOTS))
    if slot.update(balance_cents=F("balance_cents") + amount_cents):
        return
    BalanceSlot.objects.bulk_create(
        [BalanceSlot(merchant_id=merchant_id, slot=n) for n in range(BALANCE_SLOTS)],
        ignore_conflicts=True,  # a concurrent first entry created them
    )
    slot.update(balance_cents=F("balance_cents") + amount_cents)


def ledger_book_bulk(entries: list[LedgerEntry]) -> None:
    """Write many entries at once (a settlement batch, an import) with one balance-slot
    addition per merchant, in one transaction."""
    totals: dict[Any, int] = {}
    for entry in entries:
        totals[entry.merchant_id] = totals.get(entry.merchant_id, 0) + entry.amount_cents
    with transaction.atomic():
        LedgerEntry.objects.bulk_create(entries, batch_size=500)
        for merchant_id, total in totals.items():
            _slot_add(merchant_id, total)


def ledger_mismatches() -> list[tuple[Any, int, int]]:
    """Merchants whose balance slots do not add up to their entries: ``(merchant_id, slots,
    entries)``. Empty when the ledger is consistent (``manage.py ledger_check``)."""
    entries = dict(
        LedgerEntry.objects.order_by()
        .values("merchant_id")
        .annotate(total=Sum("amount_cents"))
        .values_list("merchant_id", "total")
    )
    slots = dict(
        BalanceSlot.objects.order_by()
        .values("merchant_id")
        .annotate(total=Sum("balance_cents"))
        .values_list("merchant_id", "total")
    )
    return [
        (merchant_id, int(slots.get(merchant_id) or 0), int(entries.get(merchant_id) or 0))
        for merchant_id in sorted(entries.keys() | slots.keys(), key=str)
        if int(slots.get(merchant_id) or 0) != int(entries.get(merchant_id) or 0)
    ]


def _book(**fields: Any) -> LedgerEntry:
    # The balance slot last: its row lock is the last one the transaction takes.
    entry = LedgerEntry.objects.create(**fields)
    _slot_add(entry.merchant_id, entry.amount_cents)
    return entry


def ledger_credit(
    *,
    merchant_id: Any,
    kind: EntryKind,
    amount_cents: int,
    reference_id: UUID,
    charge_id: Any = None,
    description: str = "",
) -> LedgerEntry:
    """Book a credit in the caller's transaction (the one that moved the money)."""
    if amount_cents <= 0:
        raise ValueError("a credit is positive")
    return _book(
        merchant_id=merchant_id,
        kind=kind,
        amount_cents=amount_cents,
        reference_id=reference_id,
        charge_id=charge_id,
        description=description,
    )


def ledger_debit(
    *,
    merchant_id: Any,
    kind: EntryKind,
    amount_cents: int,
    reference_id: UUID,
    charge_id: Any = None,
    description: str = "",
) -> LedgerEntry:
    """Book a debit if the balance covers it; the caller must hold ``merchant_lock``."""
    if amount_cents <= 0:
        raise ValueError("a debit amount is positive")
    available = balance_cents(merchant_id=merchant_id)
    if amount_cents > available:
        raise InsufficientFunds(
            f"Balance R$ {available / 100:.2f} does not cover R$ {amount_cents / 100:.2f}.",
            details={"saldo": available / 100, "valor": amount_cents / 100},
        )
    return _book(
        merchant_id=merchant_id,
        kind=kind,
        amount_cents=-amount_cents,
        reference_id=reference_id,
        charge_id=charge_id,
        description=description,
    )
