"""POST /api/realtime/tickets, GET /api/server/status, POST /api/message/room/<room>/broadcast."""

import asyncio
import threading

import pytest
from asgiref.sync import sync_to_async
from rest_framework.test import APIClient

from realtime.models import SocketTicket
from realtime.services import ticket_consume, ticket_hash

from .conftest import code_of, open_socket
from .test_consumers import run_async

pytestmark = pytest.mark.django_db


def test_ticket_issue_shape_and_auth(api, merchant):
    response = api.post("/api/realtime/tickets", {}, format="json")
    assert response.status_code == 201
    data = response.json()["data"]
    assert data["expires_in"] == 60 and data["room"] is None
    assert data["ticket"].startswith("rtk_") and len(data["ticket"]) >= 30
    stored = SocketTicket.objects.get()
    assert stored.token_hash == ticket_hash(data["ticket"])  # only the hash is kept
    assert stored.merchant_id == merchant.merchant_id
    assert APIClient().post("/api/realtime/tickets").status_code == 401
    # An empty body (no JSON at all) is fine too.
    assert api.post("/api/realtime/tickets").status_code == 201


def test_ticket_for_a_room_is_checked(api, make_merchant, client_of):
    assert api.post("/api/realtime/tickets", {"room": "caixa:1"}, format="json").status_code == 201
    bad = api.post("/api/realtime/tickets", {"room": "no spaces"}, format="json")
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_input"
    other = make_merchant()
    theirs = client_of(other).post("/api/charges", {"valor": 5}, format="json").json()["data"]
    for room in (theirs["id"], code_of(theirs), "6e0d4a3c-8a3f-4c49-9a7d-0b1f9b8f7c11"):
        response = api.post("/api/realtime/tickets", {"room": room}, format="json")
        assert response.status_code == 404, room
        assert response.json()["error"]["code"] == "resource_not_found"


@pytest.mark.django_db(transaction=True)
def test_a_ticket_is_spent_once_under_concurrency(api):
    raw = api.post("/api/realtime/tickets", {}, format="json").json()["data"]["ticket"]
    barrier = threading.Barrier(8)
    winners = []

    def spend() -> None:
        from django.db import connection

        barrier.wait()
        try:
            if ticket_consume(raw=raw) is not None:
                winners.append(1)
        finally:
            connection.close()

    threads = [threading.Thread(target=spend) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert winners == [1]


@run_async
async def test_server_status_counts_the_callers_merchant(
    make_merchant, client_of, ticket_for, charge_of
):
    alice, bob = await sync_to_async(make_merchant)(), await sync_to_async(make_merchant)()
    alice_api, bob_api = await sync_to_async(client_of)(alice), await sync_to_async(client_of)(bob)
    charge = await sync_to_async(charge_of)(alice)
    ticket = sync_to_async(ticket_for)
    socks = [
        await open_socket(f"/ws/payments/{code_of(charge)}/"),  # the payer counts for alice
        await open_socket(f"/ws/payments/{code_of(charge)}/"),
        await open_socket(f"/ws/payments/caixa/?ticket={await ticket(alice)}"),
        await open_socket(f"/ws/merchant/?ticket={await ticket(alice)}"),  # a socket, no room
        await open_socket(f"/ws/payments/caixa/?ticket={await ticket(bob)}"),
        await open_socket("/ws/payments/"),  # nobody's yet
    ]
    for sock in socks:
        await sock.frame()
    response = await sync_to_async(alice_api.get)("/api/server/status")
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["status"] == "running" and data["version"]
    assert data["totalConnections"] == 4 and data["totalRooms"] == 2
    assert isinstance(data["uptime"], int) and data["timestamp"].endswith("Z")
    bobs = (await sync_to_async(bob_api.get)("/api/server/status")).json()["data"]
    assert (bobs["totalConnections"], bobs["totalRooms"]) == (1, 1)
    for sock in socks:
        await sock.close()
    # The server handles a close after the client's side returns: allow it a moment.
    for _ in range(50):
        after = (await sync_to_async(alice_api.get)("/api/server/status")).json()["data"]
        if (after["totalConnections"], after["totalRooms"]) == (0, 0):
            break
        await asyncio.sleep(0.1)
    assert (after["totalConnections"], after["totalRooms"]) == (0, 0)
    assert (await sync_to_async(APIClient().get)("/api/server/status")).status_code == 401


@run_async
async def test_broadcast_reaches_the_room_of_the_caller_only(
    make_merchant, client_of, ticket_for, charge_of
):
    alice, bob = await sync_to_async(make_merchant)(), await sync_to_async(make_merchant)()
    alice_api, bob_api = await sync_to_async(client_of)(alice), await sync_to_async(client_of)(bob)
    body = {"eventType": "PAYMENT_UPDATE", "message": "Pagamento processado!", "idSeguro": "seg_1"}
    post = sync_to_async(
        lambda client, room, data: client.post(
            f"/api/message/room/{room}/broadcast", data, format="json"
        )
    )
    nobody = await post(alice_api, "payment_123", body)
    assert nobody.status_code == 404 and nobody.json()["error"]["code"] == "resource_not_found"

    a1 = await open_socket(
        f"/ws/payments/payment_123/?ticket={await sync_to_async(ticket_for)(alice)}"
    )
    a2 = await open_socket(
        f"/ws/payments/payment_123/?ticket={await sync_to_async(ticket_for)(alice)}"
    )
    b1 = await open_socket(
        f"/ws/payments/payment_123/?ticket={await sync_to_async(ticket_for)(bob)}"
    )
    for sock in (a1, a2, b1):
        await sock.frame()
    response = await post(alice_api, "payment_123", body)
    assert response.status_code == 200, response.content
    data = response.json()["data"]
    assert data["roomId"] == "payment_123" and data["sentToClients"] == 2
    assert (data["eventType"], data["message"], data["idSeguro"]) == (
        "PAYMENT_UPDATE",
        "Pagamento processado!",
        "seg_1",
    )
    for sock in (a1, a2):
        frame = await sock.frame()
        assert frame["type"] == "PAYMENT_UPDATE"
        assert frame["payload"]["message"] == "Pagamento processado!"
        assert frame["payload"]["idSeguro"] == "seg_1"
        assert frame["payload"]["source"] == "api"
        assert frame["payload"]["timestamp"] == data["timestamp"]
    assert await b1.silent()

    # A charge's room, by id or public code; another merchant's charge is not found.
    charge = await sync_to_async(charge_of)(alice)
    payer = await open_socket(f"/ws/payments/{code_of(charge)}/")
    await payer.frames_until("PAYMENT_STATUS")
    by_id = await post(alice_api, charge["id"], body)
    assert by_id.status_code == 200 and by_id.json()["data"]["sentToClients"] == 1
    assert (await payer.frame())["type"] == "PAYMENT_UPDATE"
    assert (await post(bob_api, charge["id"], body)).status_code == 404
    assert (await post(bob_api, code_of(charge), body)).status_code == 404

    # The server's own event types are refused; fields are checked.
    reserved = await post(alice_api, "payment_123", {**body, "eventType": "PAYMENT_CONFIRMED"})
    assert reserved.status_code == 422
    assert "eventType" in reserved.json()["error"]["details"]
    missing = await post(alice_api, "payment_123", {"eventType": "X"})
    assert missing.status_code == 422 and "message" in missing.json()["error"]["details"]
    for sock in (a1, a2, b1, payer):
        await sock.close()
