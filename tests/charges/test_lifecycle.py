"""Expiry on the task queue, domain events after commit, and the admin."""

import json
import os
import subprocess
import sys
from datetime import timedelta

import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from charges import services
from charges.models import Charge, ChargeEvent
from pagtracker import events
from tests.conftest import ROOT, database_url_for_subprocesses


@pytest.mark.django_db(transaction=True)
def test_charges_expire_by_themselves_on_the_task_queue(make_merchant, client_of):
    client = client_of(make_merchant())
    charge = client.post("/api/charges", {"valor": 5, "expiracao": 60}, format="json").json()[
        "data"
    ]
    task = DBTaskResult.objects.get()
    assert task.task_path == "charges.tasks.charge_expire_task"
    assert (
        abs((task.run_after - Charge.objects.get(pk=charge["id"]).expires_at).total_seconds()) < 1
    )
    # Time passes (moved in the database, the one clock the worker reads), and the real
    # worker process, started as `make run` starts it, does the rest.
    past = timezone.now() - timedelta(seconds=1)
    Charge.objects.filter(pk=charge["id"]).update(expires_at=past)
    DBTaskResult.objects.update(run_after=past)
    env = dict(
        os.environ,
        DATABASE_URL=database_url_for_subprocesses(),
        DJANGO_SETTINGS_MODULE="pagtracker.settings_test",
    )
    subprocess.run(
        [sys.executable, "manage.py", "db_worker", "--batch", "--no-startup-delay", "--no-reload"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=60,
    )
    assert client.get(f"/api/charges/{charge['id']}").json()["data"]["status"] == "expirado"
    assert ChargeEvent.objects.filter(charge_id=charge["id"], type="expired").count() == 1
    assert DBTaskResult.objects.get().status == "SUCCESSFUL"


@pytest.mark.django_db(transaction=True)
def test_one_expiry_task_per_slot_and_none_from_a_rolled_back_charge(make_merchant, settings):
    settings.CHARGE_EXPIRY_SLOT_SECONDS = 3600  # every charge below falls in one slot
    merchant = make_merchant().merchant
    with pytest.raises(RuntimeError), transaction.atomic():
        services.charge_create(merchant=merchant, amount_cents=100, expires_in=60)
        raise RuntimeError("rolled back")
    assert DBTaskResult.objects.count() == 0
    charges = [
        services.charge_create(merchant=merchant, amount_cents=100, expires_in=60 + i)
        for i in range(5)
    ]
    task = DBTaskResult.objects.get()
    # Due at the end of the slot: after every charge's expiry, and within one slot of it.
    for charge in charges:
        assert charge.expires_at <= task.run_after
        assert (task.run_after - charge.expires_at).total_seconds() < 3600
    # The task sweeps every due charge, not only the one it names.
    from charges.tasks import charge_expire_task

    after = task.run_after + timedelta(seconds=1)
    assert services.charges_expire_due(now=after) == 5
    assert charge_expire_task.call(str(charges[0].id)) == 0  # nothing left to do


@pytest.mark.django_db(transaction=True)
def test_a_charge_whose_expiry_task_was_lost_expires_on_the_recovery_chain(make_merchant):
    from webhooks.services import recovery, webhook_recovery_run

    merchant = make_merchant().merchant
    recovery._chain_checked_at = 0.0  # this process has not looked at the chain yet
    charge = services.charge_create(merchant=merchant, amount_cents=100, expires_in=60)
    # Creating a charge started the chain that runs the sweeps, beside the slot's task.
    assert sorted(DBTaskResult.objects.values_list("task_path", flat=True)) == [
        "charges.tasks.charge_expire_task",
        "webhooks.tasks.webhook_deliveries_recover_task",
    ]
    # The expiry task is lost (its worker was killed mid-run and left it RUNNING, or it
    # failed), and the charge's time has come.
    DBTaskResult.objects.all().delete()
    Charge.objects.filter(pk=charge.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    result = webhook_recovery_run(scheduled_for=None)
    assert result is not None and result["sweeps"] == {"charges_expired": 1}
    assert Charge.objects.get(pk=charge.pk).status == "expirado"
    assert ChargeEvent.objects.filter(charge_id=charge.pk, type="expired").count() == 1
    # The next link finds nothing left, and a failing sweep is reported, not raised.
    from pagtracker import sweeps

    def broken() -> int:
        raise RuntimeError("boom")

    sweeps.sweep_register("broken", broken)
    try:
        again = webhook_recovery_run(scheduled_for=None)
    finally:
        sweeps._sweeps.pop("broken")
    assert again is not None
    assert again["sweeps"] == {"charges_expired": 0, "broken": "failed"}


def test_expiry_sweep_is_idempotent_and_spares_paid_charges(api, create_charge, pay):
    due = [create_charge(valor=1)["id"] for _ in range(3)]
    paid = create_charge(valor=1)["id"]
    pay(paid)
    later = timezone.now() + timedelta(hours=2)
    assert services.charges_expire_due(now=later, batch_size=2) == 3
    assert services.charges_expire_due(now=later) == 0
    assert set(Charge.objects.filter(status="expirado").values_list("id", flat=True)) == {
        *map(__import__("uuid").UUID, due)
    }
    assert Charge.objects.get(pk=paid).status == "pago"


def test_an_expired_charge_cannot_be_paid(api, create_charge, pay):
    charge = create_charge()
    services.charges_expire_due(now=timezone.now() + timedelta(hours=2))
    assert pay(charge["id"]).status_code == 409
    assert api.get("/api/balance").json()["data"]["saldo"] == 0


@pytest.fixture
def captured_events():
    seen: list[events.DomainEvent] = []
    events.subscribe(after_commit=seen.append)
    yield seen
    events._after_commit.remove(seen.append)


@pytest.mark.django_db(transaction=True)
def test_every_transition_publishes_after_commit(make_merchant, client_of, captured_events):
    client = client_of(make_merchant())
    first = client.post("/api/charges", {"valor": 10}, format="json").json()["data"]
    client.post(f"/api/sandbox/charges/{first['id']}/pay", {}, format="json")
    client.post(f"/api/charges/{first['id']}/refund", {"valor": 4}, format="json")
    second = client.post("/api/charges", {"valor": 10}, format="json").json()["data"]
    client.delete(f"/api/charges/{second['id']}")
    third = client.post("/api/charges", {"valor": 10}, format="json").json()["data"]
    services.charges_expire_due(now=timezone.now() + timedelta(hours=2))
    names = [(e.name, e.data["id"]) for e in captured_events]
    assert names == [
        ("payment.created", first["id"]),
        ("payment.confirmed", first["id"]),
        ("payment.refunded", first["id"]),
        ("payment.created", second["id"]),
        ("payment.canceled", second["id"]),
        ("payment.created", third["id"]),
        ("payment.expired", third["id"]),
    ]
    confirmed = captured_events[1].data
    assert confirmed["status"] == "pago" and confirmed["roomId"] and confirmed["paid_at"]


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_transition_publishes_nothing(make_merchant, client_of, captured_events):
    client = client_of(make_merchant())
    charge = client.post("/api/charges", {"valor": 10}, format="json").json()["data"]
    captured_events.clear()
    with pytest.raises(RuntimeError), transaction.atomic():
        services.charge_cancel(
            merchant_id=Charge.objects.get(pk=charge["id"]).merchant_id, charge_id=charge["id"]
        )
        raise RuntimeError("crash after the change, before commit")
    assert captured_events == []
    assert Charge.objects.get(pk=charge["id"]).status == "pendente"


def test_admin_charges_are_scoped_searchable_and_actions_use_services(
    make_merchant, client_of, create_charge, pay
):
    owner = make_merchant()
    other = make_merchant()
    mine = create_charge(client=client_of(owner), valor=10)
    theirs = create_charge(client=client_of(other), valor=20)
    admin = Client()
    admin.force_login(owner)
    listing = admin.get("/admin/charges/charge/").content.decode()
    assert mine["txid"] in listing and theirs["txid"] not in listing
    found = admin.get(f"/admin/charges/charge/?q={mine['txid']}").content.decode()
    assert mine["txid"] in found
    assert admin.get(f"/admin/charges/charge/{theirs['id']}/change/").status_code in (302, 404)
    detail = admin.get(f"/admin/charges/charge/{mine['id']}/change/")
    assert detail.status_code == 200
    admin.post(
        "/admin/charges/charge/",
        {"action": "cancel_charges", "_selected_action": [mine["id"], theirs["id"]]},
    )
    assert Charge.objects.get(pk=mine["id"]).status == "cancelado"
    assert Charge.objects.get(pk=theirs["id"]).status == "pendente"
    assert ChargeEvent.objects.filter(charge_id=mine["id"], type="canceled").exists()


def test_merchant_staff_create_sandbox_wallets_in_the_admin(make_merchant):
    from django.contrib.auth.hashers import check_password

    from charges.models import SandboxWallet

    owner, other = make_merchant(), make_merchant()
    admin = Client()
    admin.force_login(owner)
    response = admin.post(
        "/admin/charges/sandboxwallet/add/",
        {
            "merchant": str(other.merchant_id),  # ignored: staff only ever write to their merchant
            "holder_name": "Cliente Teste",
            "card_number": "4111111111111111",
            "balance_cents": "50000",
            "pin_limit_cents": "-1",
            "new_pin": "4321",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    wallet = SandboxWallet.objects.get()
    assert wallet.merchant_id == owner.merchant_id
    assert check_password("4321", wallet.pin) and wallet.pin != "4321"
    other_admin = Client()
    other_admin.force_login(other)
    assert "Cliente Teste" not in other_admin.get("/admin/charges/sandboxwallet/").content.decode()


def test_batch_expiry_records_one_webhook_event_and_delivery_per_charge(api, create_charge):
    from webhooks.models import WebhookDelivery, WebhookEvent

    endpoint = api.post(
        "/api/webhooks",
        {"url": "http://127.0.0.1:9/hook", "eventos": ["payment.expired"]},
        format="json",
    )
    assert endpoint.status_code == 201, endpoint.content
    ids = {create_charge(valor=1)["id"] for _ in range(5)}
    assert services.charges_expire_due(now=timezone.now() + timedelta(hours=2), batch_size=2) == 5
    expired = WebhookEvent.objects.filter(name="payment.expired")
    assert {json.loads(event.payload)["data"]["id"] for event in expired} == ids
    assert WebhookDelivery.objects.filter(event__name="payment.expired").count() == 5
    # Only the subscribed event: payment.created made events but no deliveries.
    assert WebhookDelivery.objects.filter(event__name="payment.created").count() == 0
