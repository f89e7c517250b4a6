"""The transition table, expiry in bulk, domain events after commit, and the admin."""

import json
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from charges import services
from charges.models import Charge, ChargeEvent
from pagtracker import events
from pagtracker.errors import InvalidState


def test_the_transition_table_refuses_what_it_does_not_list(api, create_charge, pay):
    charge = Charge.objects.get(pk=create_charge()["id"])
    with pytest.raises(InvalidState):
        services.charges_transition([charge], "reembolsado")  # pendente -> reembolsado
    pay(str(charge.pk))
    charge.refresh_from_db()
    for target in ("expirado", "cancelado", "pendente"):
        with pytest.raises(InvalidState):
            services.charges_transition([charge], target)
    charge.refresh_from_db()
    assert charge.status == "pago"
    assert not ChargeEvent.objects.filter(charge=charge, type__in=["expired", "canceled"]).exists()


def test_a_transition_skips_a_charge_that_changed_since_it_was_read(api, create_charge, pay):
    stale = Charge.objects.get(pk=create_charge()["id"])
    pay(str(stale.pk))  # paid meanwhile: the copy in hand still says pendente
    assert services.charges_transition([stale], "cancelado") == []
    assert stale.status == "pendente"  # nothing applied, in memory either
    assert Charge.objects.get(pk=stale.pk).status == "pago"
    assert not ChargeEvent.objects.filter(charge=stale, type="canceled").exists()


@pytest.mark.django_db(transaction=True)
def test_many_due_charges_expire_in_bulk(merchant, captured_events):
    now = timezone.now()
    due = [
        Charge(
            merchant=merchant.merchant,
            txid=f"bulk{i:030d}",
            public_code=f"bulk-{i}",
            amount_cents=100,
            qr_code="-",
            qr_code_image="-",
            expires_at=now - timedelta(seconds=1),
        )
        for i in range(1_200)
    ]
    Charge.objects.bulk_create(due)
    with CaptureQueriesContext(connection) as queries:
        assert services.charges_expire_due(now=now, batch_size=500) == 1_200
    assert Charge.objects.filter(status="expirado", expired_at=now).count() == 1_200
    assert ChargeEvent.objects.filter(type="expired").count() == 1_200
    assert set(ChargeEvent.objects.filter(type="expired").values_list("charge", flat=True)) == {
        c.pk for c in due
    }
    assert [e.name for e in captured_events] == ["payment.expired"] * 1_200
    # A handful of statements per batch of 500, never one per charge.
    assert len(queries.captured_queries) < 60
    assert services.charges_expire_due(now=now) == 0


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
    names = [(e.name, str(e.data["charge"].id)) for e in captured_events]
    assert names == [
        ("payment.created", first["id"]),
        ("payment.confirmed", first["id"]),
        ("payment.refunded", first["id"]),
        ("payment.created", second["id"]),
        ("payment.canceled", second["id"]),
        ("payment.created", third["id"]),
        ("payment.expired", third["id"]),
    ]
    # The charge as each change left it, money in centavos as stored.
    confirmed = captured_events[1].data["charge"]
    assert confirmed.status == "pago" and confirmed.paid_at and confirmed.amount_cents == 1000
    refunded = captured_events[2].data
    assert refunded["charge"].refunded_cents == 400 and refunded["refund"]["amount_cents"] == 400


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


def test_charge_events_store_money_as_integer_centavos(api, create_charge, pay):
    charge = create_charge(valor=100.1)
    assert pay(charge["id"], valor=99.99).status_code == 422  # recorded, not applied
    pay(charge["id"])
    api.post(f"/api/charges/{charge['id']}/refund", {"valor": 0.1}, format="json")
    data = {e.type: e.data for e in ChargeEvent.objects.filter(charge_id=charge["id"])}
    assert data["created"] == {"amount_cents": 10010}
    assert data["payment_rejected"]["amount_cents"] == 9999
    assert data["refunded"]["amount_cents"] == 10
    money = [v for d in data.values() for v in d.values() if isinstance(v, int | float)]
    assert all(type(v) is int for v in money), data


def test_older_charge_events_in_reais_move_to_centavos(api, create_charge):
    import importlib

    from django.apps import apps

    charge = create_charge(valor=100.1)
    ChargeEvent.objects.filter(charge_id=charge["id"]).update(data={"valor": 100.1})
    migration = importlib.import_module("charges.migrations.0004_event_data_in_centavos")
    migration.reais_to_centavos(apps, None)
    assert ChargeEvent.objects.get(charge_id=charge["id"]).data == {"amount_cents": 10010}
