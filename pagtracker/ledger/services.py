"""Ledger services. Callers hold the merchant's row lock (``merchant_lock``) when they debit,
so two debits of one merchant cannot both pass the balance check."""

from typing import Any
from uuid import UUID

from django.db.models import Sum

from pagtracker.accounts.models import Merchant
from pagtracker.errors import InsufficientFunds

from .models import EntryKind, LedgerEntry


def merchant_lock(*, merchant_id: Any) -> Merchant:
    """Lock the merchant row: the order is always merchant, then the charge or payout."""
    return Merchant.objects.select_for_update().get(pk=merchant_id)


def balance_cents(*, merchant_id: Any) -> int:
    total = LedgerEntry.objects.filter(merchant_id=merchant_id).aggregate(
        total=Sum("amount_cents")
    )["total"]
    return int(total or 0)


def ledger_credit_entry(
    *,
    merchant_id: Any,
    kind: EntryKind,
    amount_cents: int,
    reference_id: UUID,
    charge_id: Any = None,
    description: str = "",
) -> LedgerEntry:
    """A credit, not yet saved: the caller writes it (``save`` or ``pagtracker.rows``) in the
    transaction of the money movement."""
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
    return LedgerEntry.objects.create(
        merchant_id=merchant_id,
        kind=kind,
        amount_cents=-amount_cents,
        reference_id=reference_id,
        charge_id=charge_id,
        description=description,
    )
