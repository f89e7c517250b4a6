"""Real concurrency: threads with their own database connections (PostgreSQL in CI's second
run, SQLite in the first)."""

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from charges import services
from charges.models import Charge, ChargeEvent, PaymentNotification, Refund
from pagtracker.errors import DomainError
from pagtracker.ledger.models import LedgerEntry
from pagtracker.ledger.services import balance_cents, ledger_mismatches
from pagtracker.pix.ids import new_end_to_end_id
from tests.conftest import run_concurrently


def paid_charge(merchant, amount_cents: int) -> Charge:
    charge = services.charge_create(merchant=merchant.merchant, amount_cents=amount_cents)
    services.charge_payment_confirm(
        txid=charge.txid,
        end_to_end_id=new_end_to_end_id(),
        amount_cents=amount_cents,
        source="test",
    )
    charge.refresh_from_db()
    return charge


@pytest.mark.django_db(transaction=True)
def test_simultaneous_confirmations_apply_once(merchant):
    charge = services.charge_create(merchant=merchant.merchant, amount_cents=10_000)
    e2e_ids = [new_end_to_end_id() for _ in range(10)]
    results = run_concurrently(
        10,
        lambda i: services.charge_payment_confirm(
            txid=charge.txid, end_to_end_id=e2e_ids[i], amount_cents=10_000, source="race"
        ),
    )
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(1 for r in results if r.applied) == 1
    assert PaymentNotification.objects.filter(outcome="applied").count() == 1
    assert PaymentNotification.objects.filter(outcome="not_payable").count() == 9
    assert LedgerEntry.objects.filter(kind="payment_in").count() == 1
    assert balance_cents(merchant_id=merchant.merchant_id) == 10_000
    assert ledger_mismatches() == []


@pytest.mark.django_db(transaction=True)
def test_the_same_notification_delivered_concurrently_is_one(merchant):
    charge = services.charge_create(merchant=merchant.merchant, amount_cents=500)
    e2e = new_end_to_end_id()
    results = run_concurrently(
        8,
        lambda i: services.charge_payment_confirm(
            txid=charge.txid, end_to_end_id=e2e, amount_cents=500, source="replay"
        ),
    )
    assert not [r for r in results if isinstance(r, Exception)], results
    assert PaymentNotification.objects.count() == 1
    assert sum(1 for r in results if not r.duplicate) == 1
    assert balance_cents(merchant_id=merchant.merchant_id) == 500


def race_out_of_pending(merchant, charge: Charge) -> tuple:
    """Confirm, cancel and expire ``charge`` (due) at once, from three threads."""
    due = charge.expires_at + timedelta(seconds=1)
    attempts = [
        lambda: services.charge_payment_confirm(
            txid=charge.txid,
            end_to_end_id=new_end_to_end_id(),
            amount_cents=charge.amount_cents,
            source="race",
        ),
        lambda: services.charge_cancel(merchant_id=merchant.merchant_id, charge_id=charge.pk),
        lambda: services.charges_expire_due(now=due),
    ]
    return tuple(run_concurrently(3, lambda i: attempts[i]()))


@pytest.mark.django_db(transaction=True)
def test_confirm_cancel_and_expiry_of_one_charge_apply_exactly_one(merchant):
    """The three ways out of ``pendente`` race on one due charge, round after round: one
    applies, the others change nothing (no second event, no ledger entry for a lost payment)."""
    for round_ in range(8):
        charge = services.charge_create(merchant=merchant.merchant, amount_cents=1_000 + round_)
        paid, cancelled, expired = race_out_of_pending(merchant, charge)
        assert not isinstance(paid, Exception) and not isinstance(expired, Exception)
        applied = {
            "pago": paid.applied,
            "cancelado": isinstance(cancelled, Charge),
            "expirado": expired == 1,
        }
        assert sum(applied.values()) == 1, (paid, cancelled, expired)
        if not applied["cancelado"]:
            assert isinstance(cancelled, DomainError) and cancelled.code == "invalid_state"
        charge.refresh_from_db()
        assert applied[charge.status], (charge.status, applied)
        changes = ChargeEvent.objects.filter(charge=charge).exclude(
            type__in=["created", "payment_rejected"]
        )
        assert changes.count() == 1
        credits = LedgerEntry.objects.filter(charge=charge).count()
        assert credits == (1 if charge.status == "pago" else 0)
    assert balance_cents(merchant_id=merchant.merchant_id) == sum(
        c.amount_cents for c in Charge.objects.filter(status="pago")
    )
    assert ledger_mismatches() == []


@pytest.mark.django_db(transaction=True)
def test_simultaneous_refunds_never_exceed_the_paid_amount(merchant):
    charge = paid_charge(merchant, 5_000)
    results = run_concurrently(
        10,
        lambda i: services.charge_refund(
            merchant_id=merchant.merchant_id, charge_id=charge.pk, amount_cents=1_000
        ),
    )
    succeeded = [r for r in results if isinstance(r, Refund)]
    refused = [r for r in results if isinstance(r, DomainError)]
    assert len(succeeded) == 5 and len(refused) == 5, results
    charge.refresh_from_db()
    assert charge.refunded_cents == 5_000 and charge.status == "reembolsado"
    assert balance_cents(merchant_id=merchant.merchant_id) == 0
    assert ledger_mismatches() == []


@pytest.mark.django_db(transaction=True)
def test_simultaneous_payments_of_one_merchant_all_reach_its_balance(merchant):
    """Many charges of one merchant paid at once: each credit lands on a balance slot in its
    own transaction, and the slots add up to the entries (no lost update on a shared row)."""
    charges = [
        services.charge_create(merchant=merchant.merchant, amount_cents=100 + i) for i in range(24)
    ]
    results = run_concurrently(
        24,
        lambda i: services.charge_payment_confirm(
            txid=charges[i].txid,
            end_to_end_id=new_end_to_end_id(),
            amount_cents=100 + i,
            source="race",
        ),
    )
    assert not [r for r in results if isinstance(r, Exception)], results
    assert all(r.applied for r in results)
    assert balance_cents(merchant_id=merchant.merchant_id) == sum(100 + i for i in range(24))
    assert ledger_mismatches() == []


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    paid=st.integers(min_value=1, max_value=1_000_000),
    attempts=st.lists(
        st.one_of(st.none(), st.integers(min_value=-5, max_value=1_200_000)), min_size=1, max_size=8
    ),
)
@pytest.mark.django_db
def test_property_refunds_never_exceed_what_was_paid(make_merchant, paid, attempts):
    user = make_merchant()
    charge = paid_charge(user, paid)
    refunded = 0
    for amount in attempts:
        try:
            refund = services.charge_refund(
                merchant_id=user.merchant_id, charge_id=charge.pk, amount_cents=amount
            )
            refunded += refund.amount_cents
        except DomainError:
            pass
        assert refunded <= paid
    charge.refresh_from_db()
    assert charge.refunded_cents == refunded
    assert charge.status == ("reembolsado" if refunded == paid else "pago")
    assert balance_cents(merchant_id=user.merchant_id) == paid - refunded
