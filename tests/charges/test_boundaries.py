"""No transaction is open while a provider is called or a QR image is drawn, and what that
asks of Idempotency-Key and refunds: a request in flight holds no lock, so the database keeps
serving, and a second request with its key is told it is in progress. Real threads and the
real database; only the PSP (the sandbox provider) is held at a gate."""

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.db import connection, connections
from rest_framework.test import APIClient

from charges.models import Charge, Refund
from charges.services import creation
from pagtracker.api.models import IdempotencyRecord
from pagtracker.ledger.services import ledger_mismatches
from pagtracker.providers.base import ProviderRefund
from pagtracker.providers.sandbox import SandboxProvider


class Gate:
    """Holds the provider calls ``matches`` picks until ``open()``."""

    def __init__(self, matches: Callable[[dict[str, Any]], bool]) -> None:
        self.matches = matches
        self.entered = threading.Event()
        self.released = threading.Event()

    def wait_at(self, arguments: dict[str, Any]) -> None:
        if self.matches(arguments):
            self.entered.set()
            assert self.released.wait(30), "the gate was never opened"

    def open(self) -> None:
        self.released.set()


@pytest.fixture
def gate_provider(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Gate]]:
    gates: list[Gate] = []

    def install(method: str, matches: Callable[[dict[str, Any]], bool]) -> Gate:
        gate = Gate(matches)
        original = getattr(SandboxProvider, method)

        def gated(self: SandboxProvider, **arguments: Any) -> Any:
            gate.wait_at(arguments)
            return original(self, **arguments)

        monkeypatch.setattr(SandboxProvider, method, gated)
        gates.append(gate)
        return gate

    yield install
    for gate in gates:
        gate.open()  # never leave a thread waiting


def in_thread(work: Callable[[], Any]) -> tuple[threading.Thread, list[Any]]:
    out: list[Any] = []

    def run() -> None:
        try:
            out.append(work())
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, out


@pytest.mark.django_db(transaction=True)
def test_no_transaction_is_open_while_a_provider_is_called_or_a_qr_is_drawn(
    make_merchant, client_of, monkeypatch
):
    seen: list[tuple[str, bool]] = []

    def spy(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def spied(*args: Any, **kwargs: Any) -> Any:
            seen.append((name, connection.in_atomic_block))
            return function(*args, **kwargs)

        return spied

    for method in ("charge_create", "charge_cancel", "refund_create"):
        monkeypatch.setattr(SandboxProvider, method, spy(method, getattr(SandboxProvider, method)))
    monkeypatch.setattr(creation, "render_data_uri", spy("qr_image", creation.render_data_uri))
    client = client_of(make_merchant())
    paid = client.post(
        "/api/charges", {"valor": 10}, format="json", HTTP_IDEMPOTENCY_KEY="create-1"
    ).json()["data"]
    paying = client.post(f"/api/sandbox/charges/{paid['id']}/pay", {}, format="json")
    assert paying.status_code == 200
    refund = client.post(
        f"/api/charges/{paid['id']}/refund",
        {"valor": 4},
        format="json",
        HTTP_IDEMPOTENCY_KEY="refund-1",
    )
    assert refund.status_code == 201, refund.content
    other = client.post("/api/charges", {"valor": 3}, format="json").json()["data"]
    assert client.delete(f"/api/charges/{other['id']}").status_code == 200
    assert sorted(name for name, _ in seen) == [
        "charge_cancel",
        "charge_create",
        "charge_create",
        "qr_image",
        "qr_image",
        "refund_create",
    ]
    assert [name for name, inside in seen if inside] == []


@pytest.mark.django_db(transaction=True)
def test_a_key_in_flight_is_in_progress_and_holds_no_lock(
    make_merchant, api_key_for, gate_provider
):
    gate = gate_provider("charge_create", lambda a: a["descricao"] == "slow psp")
    raw = api_key_for(make_merchant())

    def client() -> APIClient:
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        return api

    body = {"valor": 12.5, "descricao": "slow psp"}
    first, result = in_thread(
        lambda: client().post("/api/charges", body, format="json", HTTP_IDEMPOTENCY_KEY="k")
    )
    assert gate.entered.wait(30)
    # The first request is at the PSP. The same key now: in progress, not a second charge.
    again = client().post("/api/charges", body, format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert again.status_code == 409, again.content
    assert again.json()["error"]["code"] == "idempotency_conflict"
    assert "in progress" in again.json()["error"]["message"]
    other_body = client().post(
        "/api/charges", {"valor": 1}, format="json", HTTP_IDEMPOTENCY_KEY="k"
    )
    assert other_body.status_code == 422
    assert other_body.json()["error"]["code"] == "idempotency_conflict"
    # Meanwhile the database is free: other requests write and commit (on SQLite, a
    # transaction held by the first request would make these wait for it).
    meanwhile = client().post("/api/charges", {"valor": 2}, format="json")
    assert meanwhile.status_code == 201
    paid = client().post(
        f"/api/sandbox/charges/{meanwhile.json()['data']['id']}/pay", {}, format="json"
    )
    assert paid.status_code == 200
    assert first.is_alive()  # still at the PSP
    gate.open()
    first.join(30)
    assert result[0].status_code == 201, result[0].content
    replay = client().post("/api/charges", body, format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert replay.status_code == 201 and replay["Idempotent-Replayed"] == "true"
    assert replay.json() == result[0].json()
    assert Charge.objects.filter(descricao="slow psp").count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_key_whose_request_failed_can_be_used_again(api, monkeypatch):
    def psp_down(self: SandboxProvider, **arguments: Any) -> Any:
        raise ConnectionError("the PSP is unreachable")

    monkeypatch.setattr(SandboxProvider, "charge_create", psp_down)
    failed = api.post("/api/charges", {"valor": 5}, format="json", HTTP_IDEMPOTENCY_KEY="retry-me")
    assert failed.status_code == 500 and failed.json()["error"]["code"] == "internal_error"
    assert not IdempotencyRecord.objects.filter(key="retry-me").exists()
    monkeypatch.undo()
    retried = api.post("/api/charges", {"valor": 5}, format="json", HTTP_IDEMPOTENCY_KEY="retry-me")
    assert retried.status_code == 201 and "Idempotent-Replayed" not in retried


@pytest.mark.django_db(transaction=True)
def test_a_refund_at_the_psp_counts_against_what_is_left(api, create_charge, pay, gate_provider):
    gate = gate_provider("refund_create", lambda a: a["amount_cents"] == 6_000)
    charge = create_charge(valor=100)
    pay(charge["id"])
    url = f"/api/charges/{charge['id']}/refund"
    first, result = in_thread(lambda: api.post(url, {"valor": 60}, format="json"))
    assert gate.entered.wait(30)
    too_much = api.post(url, {"valor": 40.01}, format="json")
    assert too_much.status_code == 422, too_much.content
    rest = api.post(url, {"valor": 40}, format="json")
    assert rest.status_code == 201, rest.content
    state = api.get(f"/api/charges/{charge['id']}").json()["data"]
    assert state["status"] == "pago" and state["valor_reembolsado"] == 40
    gate.open()
    first.join(30)
    assert result[0].status_code == 201, result[0].content
    state = api.get(f"/api/charges/{charge['id']}").json()["data"]
    assert state["status"] == "reembolsado" and state["valor_reembolsado"] == 100
    assert api.get("/api/balance").json()["data"]["saldo"] == 0
    assert ledger_mismatches() == []


def test_a_refund_the_psp_refuses_gives_the_money_back(api, create_charge, pay, monkeypatch):
    def refuse(self: SandboxProvider, **arguments: Any) -> ProviderRefund:
        return ProviderRefund(status="NAO_REALIZADO", reason="conta encerrada")

    charge = create_charge(valor=50)
    pay(charge["id"])
    monkeypatch.setattr(SandboxProvider, "refund_create", refuse)
    refused = api.post(f"/api/charges/{charge['id']}/refund", {}, format="json")
    assert refused.status_code == 201 and refused.json()["data"]["status"] == "NAO_REALIZADO"
    assert Refund.objects.get().status == "NAO_REALIZADO"
    state = api.get(f"/api/charges/{charge['id']}").json()["data"]
    assert state["status"] == "pago" and state["valor_reembolsado"] == 0
    assert api.get("/api/balance").json()["data"]["saldo"] == 50
    assert ledger_mismatches() == []
    monkeypatch.undo()
    done = api.post(f"/api/charges/{charge['id']}/refund", {}, format="json")
    assert done.status_code == 201 and done.json()["data"]["status"] == "DEVOLVIDO"
    assert api.get("/api/balance").json()["data"]["saldo"] == 0
