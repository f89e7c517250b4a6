"""pagtracker/rows.py: prepared statements write and read what the ORM would, and fail as the
ORM fails, whether or not queries are being recorded (the SQLite fast path is taken only
when they are not)."""

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from charges.models import Charge
from pagtracker import rows
from pagtracker.ledger.models import EntryKind, LedgerEntry

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("recorded", [False, True])
def test_insert_update_get_and_integrity_errors(recorded, merchant, create_charge):
    merchant = merchant.merchant
    charge = Charge.objects.get(pk=create_charge()["id"])
    entry = LedgerEntry(
        merchant=merchant,
        kind=EntryKind.PAYMENT_IN,
        amount_cents=123,
        reference_id=charge.pk,
        charge=charge,
        description="x",
    )
    with CaptureQueriesContext(connection) if recorded else transaction.atomic() as captured:
        rows.run(rows.insert(entry))
        charge.descricao = "changed"
        assert rows.run(rows.update(charge, ["descricao"], where={"status": "pendente"})) == 1
        assert rows.run(rows.update(charge, ["descricao"], where={"status": "pago"})) == 0
        got = rows.get(Charge, where={"id": charge.pk})
        with pytest.raises(IntegrityError), transaction.atomic():
            rows.run(rows.insert(Charge.objects.get(pk=charge.pk)))  # same primary key
    if recorded:  # Django's cursor was used, so the statements were seen
        assert any("INSERT INTO" in q["sql"] for q in captured.captured_queries)
    assert LedgerEntry.objects.get().amount_cents == 123
    assert got.descricao == "changed" and got.created_at == charge.created_at
    assert got.metadata == charge.metadata and got.merchant_id == merchant.pk
