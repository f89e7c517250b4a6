"""The running balance: slots booked with every entry, the migration's backfill, and
``manage.py ledger_check``."""

import importlib
import uuid

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from charges import services
from pagtracker.ledger.models import BALANCE_SLOTS, BalanceSlot, EntryKind, LedgerEntry
from pagtracker.ledger.services import balance_cents, ledger_mismatches
from pagtracker.pix.ids import new_end_to_end_id


def pay(merchant, amount_cents: int):
    charge = services.charge_create(merchant=merchant.merchant, amount_cents=amount_cents)
    services.charge_payment_confirm(
        txid=charge.txid, end_to_end_id=new_end_to_end_id(), amount_cents=amount_cents, source="t"
    )
    return charge


def test_payments_and_refunds_move_the_balance_slots_with_the_entries(merchant):
    charges = [pay(merchant, 1_000) for _ in range(40)]
    services.charge_refund(
        merchant_id=merchant.merchant_id, charge_id=charges[0].pk, amount_cents=250
    )
    assert balance_cents(merchant_id=merchant.merchant_id) == 40 * 1_000 - 250
    slots = BalanceSlot.objects.filter(merchant=merchant.merchant)
    assert 1 < slots.count() <= BALANCE_SLOTS  # spread, and bounded however many entries
    assert sum(slot.balance_cents for slot in slots) == 39_750
    assert ledger_mismatches() == []


def test_a_balance_read_is_one_query_on_at_most_the_slot_rows(merchant, api):
    for _ in range(30):
        pay(merchant, 500)
    with CaptureQueriesContext(connection) as ctx:
        response = api.get("/api/balance")
    assert response.status_code == 200
    assert response.json()["data"]["saldo"] == 150.0
    ledger_queries = [q["sql"] for q in ctx.captured_queries if "ledger_" in q["sql"]]
    assert len(ledger_queries) == 1 and "ledger_balanceslot" in ledger_queries[0]


def test_a_wrong_amount_or_a_rejected_payment_books_nothing(merchant):
    charge = services.charge_create(merchant=merchant.merchant, amount_cents=700)
    services.charge_payment_confirm(
        txid=charge.txid, end_to_end_id=new_end_to_end_id(), amount_cents=699, source="t"
    )
    assert balance_cents(merchant_id=merchant.merchant_id) == 0
    assert not BalanceSlot.objects.exists()


def test_ledger_check_passes_and_catches_a_balance_that_drifted(merchant, capsys):
    pay(merchant, 1_234)
    call_command("ledger_check")
    assert "ledger ok" in capsys.readouterr().out
    BalanceSlot.objects.filter(merchant=merchant.merchant).update(balance_cents=1)
    with pytest.raises(CommandError, match="1 merchant"):
        call_command("ledger_check")
    assert "R$ 12.34" in capsys.readouterr().err


def test_the_migration_backfills_each_balance_from_existing_entries(merchant, make_merchant):
    other = make_merchant()
    for user, amounts in ((merchant, [1_000, 2_500, -300]), (other, [40])):
        for amount in amounts:
            LedgerEntry.objects.create(
                merchant=user.merchant,
                kind=EntryKind.PAYMENT_IN if amount > 0 else EntryKind.REFUND_OUT,
                amount_cents=amount,
                reference_id=uuid.uuid4(),
            )
    assert BalanceSlot.objects.count() == 0  # written around the services, as before slots
    migration = importlib.import_module("pagtracker.ledger.migrations.0002_balance_slots")
    migration.backfill(apps, None)
    assert balance_cents(merchant_id=merchant.merchant_id) == 3_200
    assert balance_cents(merchant_id=other.merchant_id) == 40
    assert ledger_mismatches() == []


def test_a_bulk_booking_adds_each_merchants_total_once(merchant, make_merchant):
    from pagtracker.ledger.services import ledger_book_bulk

    other = make_merchant()
    entries = [
        LedgerEntry(
            merchant=user.merchant,
            kind=EntryKind.PAYMENT_IN,
            amount_cents=amount,
            reference_id=uuid.uuid4(),
        )
        for user, amount in ((merchant, 100), (merchant, 250), (other, 7))
    ]
    ledger_book_bulk(entries)
    assert balance_cents(merchant_id=merchant.merchant_id) == 350
    assert balance_cents(merchant_id=other.merchant_id) == 7
    # One addition per merchant: a merchant's first booking creates its slots, at zero.
    assert BalanceSlot.objects.exclude(balance_cents=0).count() == 2
    assert BalanceSlot.objects.count() == 2 * BALANCE_SLOTS
    assert ledger_mismatches() == []
