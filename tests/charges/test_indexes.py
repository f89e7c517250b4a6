"""The hot tables carry only the indexes their reads use (each one is a page more in every
write), and those reads still find one."""

from typing import Any

import pytest
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from charges.models import Charge, ChargeStatus
from pagtracker.ledger.models import LedgerEntry
from webhooks.models import WebhookEvent


def plan_of(queryset: QuerySet[Any]) -> str:
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # Tables this small are cheaper to scan: ask which index the planner would take.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL enable_seqscan = off")
        return queryset.explain()


@pytest.mark.django_db
def test_the_expiry_sweep_reads_the_partial_index_of_pending_charges(merchant) -> None:
    due = Charge.objects.filter(
        status=ChargeStatus.PENDENTE, expires_at__lte=timezone.now()
    ).order_by("expires_at")
    assert "charge_pending_expiry" in plan_of(due)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("model", "indexes"),
    [
        (Charge, {"charge_merchant_created", "charge_merchant_status"}),
        (LedgerEntry, {"ledger_ledg_merchan_36e37b_idx"}),
        (WebhookEvent, {"webhook_event_merchant"}),
    ],
)
def test_lookups_by_merchant_use_a_composite_index(merchant, model, indexes) -> None:
    """The foreign key has no index of its own: a composite one starting with it serves."""
    plan = plan_of(model.objects.filter(merchant_id=merchant.merchant.pk).order_by())
    assert any(index in plan for index in indexes), plan
    indexed_alone = [
        name
        for name, info in connection.introspection.get_constraints(
            connection.cursor(), model._meta.db_table
        ).items()
        if info["index"] and info["columns"] == ["merchant_id"]
    ]
    assert indexed_alone == []
