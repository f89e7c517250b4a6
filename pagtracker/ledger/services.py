"""Ledger services. Callers hold the merchant's row lock (``merchant_lock``) when they debit,
so two debits of one merchant cannot both pass the balance check.

Every entry is booked with ``ledger_book`` (or the statements of ``ledger_book_statements``,
run in the caller's transaction), which also adds its amount to one of the merchant's
balance slots, so reading a balance costs the same with ten entries or a million."""

import random
from typing import Any
from uuid import UUID

from django.db import connection, transaction
from django.db.models import Sum

from pagtracker import rows
from pagtracker.accounts.models import Merchant
from pagtracker.errors import InsufficientFunds

from .models import BALANCE_SLOTS, BalanceSlot, EntryKind, LedgerEntry


def merchant_lock(*, merchant_id: Any) -> Merchant:
    """Lock the merchant row: the order is always merchant, then the charge or payout."""
    return Merchant.objects.select_for_update().get(pk=merchant_id)


def balance_cents(*, merchant_id: Any) -> int:
    """The merchant's balance: the sum of its balance slots (at most ``BALANCE_SLOTS`` rows).
    Inside a debit, under ``merchant_lock``, it counts every committed credit and none that
    is still in flight, so the check can only err on the side of refusing."""
    total = BalanceSlot.objects.filter(merchant_id=merchant_id).aggregate(
        total=Sum("balance_cents")
    )["total"]
    return int(total or 0)


def ledger_book_statements(entry: LedgerEntry, *, slot: int | None = None) -> list[rows.Statement]:
    """The INSERT of ``entry`` and the addition of its amount to a balance slot of its
    merchant (a random one unless ``slot`` is given), for the caller to run in the
    transaction of the money movement (``rows.run``)."""
    return [rows.insert(entry), _slot_add(entry.merchant_id, entry.amount_cents, slot)]


def ledger_book(entry: LedgerEntry) -> LedgerEntry:
    """Write ``entry`` and its balance slot now (the caller's transaction holds both)."""
    for statement in ledger_book_statements(entry):
        rows.run(statement)
    entry._state.adding = False
    entry._state.db = "default"
    return entry


def ledger_book_bulk(entries: list[LedgerEntry]) -> None:
    """Write many entries at once (a settlement batch, an import) with one balance-slot
    addition per merchant, in one transaction."""
    totals: dict[Any, int] = {}
    for entry in entries:
        totals[entry.merchant_id] = totals.get(entry.merchant_id, 0) + entry.amount_cents
    with transaction.atomic():
        LedgerEntry.objects.bulk_create(entries, batch_size=500)
        for merchant_id, total in totals.items():
            rows.run(_slot_add(merchant_id, total, None))


_slot_sql: dict[str, str] = {}


def _slot_add(merchant_id: Any, amount_cents: int, slot: int | None) -> rows.Statement:
    """An upsert: the slot row is created by the first entry that lands on it."""
    sql = _slot_sql.get(connection.vendor)
    if sql is None:
        qn = connection.ops.quote_name
        table = qn(BalanceSlot._meta.db_table)
        balance = qn("balance_cents")
        sql = _slot_sql[connection.vendor] = (
            f"INSERT INTO {table} ({qn('merchant_id')}, {qn('slot')}, {balance}) "
            f"VALUES (%s, %s, %s) ON CONFLICT ({qn('merchant_id')}, {qn('slot')}) "
            f"DO UPDATE SET {balance} = {table}.{balance} + excluded.{balance}"
        )
    field: Any = BalanceSlot._meta.get_field("merchant")
    if slot is None:
        slot = random.randrange(BALANCE_SLOTS)
    return rows.Statement(
        sql, [field.get_db_prep_value(merchant_id, connection), slot, amount_cents]
    )


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


def ledger_credit_entry(
    *,
    merchant_id: Any,
    kind: EntryKind,
    amount_cents: int,
    reference_id: UUID,
    charge_id: Any = None,
    description: str = "",
) -> LedgerEntry:
    """A credit, not yet booked: the caller books it (``ledger_book`` or
    ``ledger_book_statements``) in the transaction of the money movement."""
    if amount_cents <= 0:
        raise ValueError("a credit is positive")
    return LedgerEntry(
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
    return ledger_book(
        LedgerEntry(
            merchant_id=merchant_id,
            kind=kind,
            amount_cents=-amount_cents,
            reference_id=reference_id,
            charge_id=charge_id,
            description=description,
        )
    )
