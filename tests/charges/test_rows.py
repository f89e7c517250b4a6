"""pagtracker/rows.py: prepared statements write and read what the ORM would, and fail as the
ORM fails, whether or not queries are being recorded (the SQLite fast path, straight on the
driver, is taken only when they are not)."""

import contextlib
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from charges.models import Charge
from pagtracker import rows
from pagtracker.ledger.models import EntryKind, LedgerEntry

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("recorded", [False, True])
def test_insert_update_get_and_integrity_errors(recorded, merchant, create_charge, monkeypatch):
    charge = Charge.objects.get(pk=create_charge()["id"])
    duplicate = Charge.objects.get(pk=charge.pk)
    entry = LedgerEntry(
        merchant=merchant.merchant,
        kind=EntryKind.PAYMENT_IN,
        amount_cents=123,
        reference_id=charge.pk,
        charge=charge,
        description="x",
    )
    fast = connection.vendor == "sqlite" and not recorded

    def no_cursor(*args: Any) -> Any:
        raise AssertionError("rows used Django's cursor")

    @contextlib.contextmanager
    def rows_only() -> Any:
        """On the fast path, Django's cursor is never asked for by rows."""
        with monkeypatch.context() as patch:
            if fast:
                patch.setattr(connection, "cursor", no_cursor)
            yield

    context: Any = CaptureQueriesContext(connection) if recorded else contextlib.nullcontext()
    with context as captured:
        with rows_only():
            rows.run(rows.insert(entry))
            charge.descricao = "changed"
            assert rows.run(rows.update(charge, ["descricao"], where={"status": "pendente"})) == 1
            assert rows.run(rows.update(charge, ["descricao"], where={"status": "pago"})) == 0
            got = rows.get(Charge, where={"id": charge.pk})
        with pytest.raises(IntegrityError), transaction.atomic():  # (a savepoint: the ORM's)
            with rows_only():
                rows.run(rows.insert(duplicate))  # the same primary key
    if recorded:  # Django's cursor was used, so the statements were seen
        assert any("INSERT INTO" in q["sql"] for q in captured.captured_queries)
    assert LedgerEntry.objects.get().amount_cents == 123
    assert got.descricao == "changed" and got.created_at == charge.created_at
    assert got.metadata == charge.metadata and got.merchant_id == merchant.merchant_id
