"""The socket protocol through Channels' WebsocketCommunicator: every frame, every error,
every refusal, and the pushes of charge events."""

import functools
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.utils import timezone

from charges import services as charge_services
from charges.models import Charge
from realtime import frames
from realtime.hub import HUB
from realtime.models import SocketTicket
from realtime.rooms import merchant_room_group

from .conftest import code_of, open_socket, refused

SEVEN = [
    "ENTERED_SUMMARY",
    "CLICKED_PROCEED",
    "PAYMENT_METHOD_CHANGED",
    "DATA_FILLED",
    "CLICKED_PAY",
    "PAYMENT_SUCCESS",
    "PAYMENT_ERROR",
]

pytestmark = pytest.mark.django_db


def run_async(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Run an async test body on its own loop; DB calls of the consumers come back to the
    test's thread (and so see its transaction)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return async_to_sync(fn)(*args, **kwargs)

    return wrapper


@pytest.fixture
def committed(django_capture_on_commit_callbacks: Any) -> Callable[..., Any]:
    """Call a sync function (an API call) in the test's thread and run its on-commit hooks,
    as a real commit would, from inside an async test."""

    def call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        def inner() -> Any:
            with django_capture_on_commit_callbacks(execute=True):
                return fn(*args, **kwargs)

        return sync_to_async(inner)()

    return call


# -- connecting ---------------------------------------------------------------------------


@run_async
async def test_payer_gets_established_then_the_charge_status(merchant, charge_of):
    charge = await sync_to_async(charge_of)(merchant, metadata={"pedido": "42"})
    sock = await open_socket(f"/ws/payments/{code_of(charge)}/")
    hello = await sock.frame()
    assert hello["type"] == "CONNECTION_ESTABLISHED"
    assert set(hello["payload"]) >= {"clientId", "message", "timestamp", "supportedEvents"}
    assert hello["payload"]["supportedEvents"] == ["JOIN_ROOM", *SEVEN]
    assert hello["payload"]["clientId"].startswith("client_")
    status = await sock.frame()
    assert status["type"] == "PAYMENT_STATUS"
    payload = status["payload"]
    assert payload["roomId"] == code_of(charge)
    assert payload["chargeId"] == charge["id"]
    assert payload["status"] == "pendente" and payload["valor"] == 25.5
    assert payload["paid_at"] is None
    assert "metadata" not in payload  # the merchant's metadata stays off the public room
    assert await sock.silent()
    await sock.close()


@run_async
async def test_root_endpoint_join_room_by_public_code(merchant, charge_of):
    charge = await sync_to_async(charge_of)(merchant)
    sock = await open_socket("/ws/payments/")
    assert (await sock.frame())["type"] == "CONNECTION_ESTABLISHED"
    await sock.send({"type": "JOIN_ROOM", "payload": {"roomId": code_of(charge), "deviceId": "d1"}})
    joined = await sock.frame()
    assert joined["type"] == "ROOM_JOINED"
    assert joined["payload"]["roomId"] == code_of(charge)
    assert joined["payload"]["deviceId"] == "d1"
    assert joined["payload"]["clientId"]
    assert (await sock.frame())["type"] == "PAYMENT_STATUS"
    # Joining the same room again (by its id this time is not allowed for the payer, the code is).
    await sock.send({"type": "JOIN_ROOM", "payload": {"roomId": code_of(charge), "deviceId": "d1"}})
    assert (await sock.frame())["type"] == "ROOM_JOINED"
    await sock.close()


@run_async
async def test_ticket_in_query_or_subprotocol(merchant, ticket_for):
    by_query = await open_socket(
        f"/ws/payments/loja-1/?ticket={await sync_to_async(ticket_for)(merchant)}"
    )
    assert (await by_query.frame())["type"] == "CONNECTION_ESTABLISHED"
    ticket = await sync_to_async(ticket_for)(merchant)
    by_protocol = await open_socket("/ws/payments/loja-1/", subprotocols=["other", ticket])
    assert by_protocol.subprotocol == ticket  # echoed, as browsers require
    assert (await by_protocol.frame())["type"] == "CONNECTION_ESTABLISHED"
    await by_protocol.send({"type": "CLICKED_PAY", "payload": {"roomId": "loja-1"}})
    assert (await by_query.frame())["type"] == "CLICKED_PAY"
    await by_query.close()
    await by_protocol.close()


@run_async
async def test_tickets_are_single_use_and_expire(merchant, ticket_for):
    ticket = await sync_to_async(ticket_for)(merchant)
    first = await open_socket(f"/ws/payments/room/?ticket={ticket}")
    assert (await first.frame())["type"] == "CONNECTION_ESTABLISHED"
    assert await refused(f"/ws/payments/room/?ticket={ticket}") == 4401
    assert await refused("/ws/payments/room/", subprotocols=[ticket]) == 4401
    assert await refused("/ws/payments/room/?ticket=rtk_made-up") == 4401
    stale = await sync_to_async(ticket_for)(merchant)
    await sync_to_async(SocketTicket.objects.update)(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert await refused(f"/ws/payments/room/?ticket={stale}") == 4401
    await first.close()


@run_async
async def test_refusal_codes(make_merchant, charge_of, ticket_for):
    alice, bob = await sync_to_async(make_merchant)(), await sync_to_async(make_merchant)()
    charge = await sync_to_async(charge_of)(alice)
    ticket = sync_to_async(ticket_for)
    # No credentials for a merchant room, or for the merchant channel: 4401.
    assert await refused("/ws/payments/payment_123/") == 4401
    assert await refused("/ws/merchant/") == 4401
    # A charge id is not a credential (the public code is).
    assert await refused(f"/ws/payments/{charge['id']}/") == 4401
    # Another merchant's charge, by id or by public code: 4403.
    assert await refused(f"/ws/payments/{charge['id']}/?ticket={await ticket(bob)}") == 4403
    assert await refused(f"/ws/payments/{code_of(charge)}/?ticket={await ticket(bob)}") == 4403
    # An unknown charge id, or a name that is no room name: 4404.
    unknown = "3f0c6a55-8c43-4c1b-9a55-7d7e0f3f2b11"
    assert await refused(f"/ws/payments/{unknown}/?ticket={await ticket(alice)}") == 4404
    assert await refused(f"/ws/payments/{'x' * 129}/?ticket={await ticket(alice)}") == 4404
    assert await refused("/ws/payments/no%20spaces/") == 4404
    # A ticket issued for one room opens that room only, and not the merchant channel.
    bound = await ticket(alice, "caixa-1")
    assert await refused(f"/ws/payments/caixa-2/?ticket={bound}") == 4403
    assert await refused(f"/ws/merchant/?ticket={await ticket(alice, 'caixa-1')}") == 4403
    ok = await open_socket(f"/ws/payments/caixa-1/?ticket={await ticket(alice, 'caixa-1')}")
    assert (await ok.frame())["type"] == "CONNECTION_ESTABLISHED"
    await ok.close()
    # The owner reaches its charge by id as well as by code.
    by_id = await open_socket(f"/ws/payments/{charge['id']}/?ticket={await ticket(alice)}")
    assert [f["type"] for f in [await by_id.frame(), await by_id.frame()]] == [
        "CONNECTION_ESTABLISHED",
        "PAYMENT_STATUS",
    ]
    await by_id.close()


@run_async
async def test_origin_must_be_the_sites_own(merchant, charge_of):
    charge = await sync_to_async(charge_of)(merchant)
    path = f"/ws/payments/{code_of(charge)}/"
    evil = [(b"origin", b"https://evil.example"), (b"host", b"pay.example.com")]
    assert await refused(path, headers=evil) == 4403
    assert await refused(path, headers=[(b"origin", b"null")]) == 4403
    for headers in (
        [(b"origin", b"https://pay.example.com"), (b"host", b"pay.example.com")],  # its Host
        [(b"origin", b"http://localhost:8000")],  # in ALLOWED_HOSTS
        [],  # no Origin: a POS or a server; the credential decides
    ):
        sock = await open_socket(path, headers=headers)
        assert (await sock.frame())["type"] == "CONNECTION_ESTABLISHED"
        await sock.close()


# -- relaying -----------------------------------------------------------------------------


@run_async
async def test_the_seven_device_events_reach_the_others_unchanged_not_the_sender(
    merchant, ticket_for
):
    tickets = [await sync_to_async(ticket_for)(merchant) for _ in range(3)]
    a, b, c = [await open_socket(f"/ws/payments/payment_123/?ticket={t}") for t in tickets]
    for sock in (a, b, c):
        await sock.frame()
    for kind in SEVEN:
        text = json.dumps(
            {
                "type": kind,
                "payload": {"roomId": "payment_123", "deviceId": "d2", "extra": [1, "é"]},
            },
            ensure_ascii=False,
        )
        await b.send(text)
        assert await a.text() == text
        assert await c.text() == text
    assert await b.silent()
    for sock in (a, b, c):
        await sock.close()


@run_async
async def test_a_device_joins_with_its_first_event_like_seed_003(merchant, charge_of):
    charge = await sync_to_async(charge_of)(merchant)
    pos = await open_socket(f"/ws/payments/{code_of(charge)}/")
    await pos.frames_until("PAYMENT_STATUS")
    phone = await open_socket("/ws/payments/")
    await phone.frame()
    event = {"type": "ENTERED_SUMMARY", "payload": {"roomId": code_of(charge), "deviceId": "d2"}}
    await phone.send(event)
    assert (await phone.frame())["type"] == "PAYMENT_STATUS"
    assert await pos.frame() == event
    await pos.close()
    await phone.close()


@run_async
async def test_charge_id_and_public_code_are_one_room(merchant, charge_of, ticket_for):
    charge = await sync_to_async(charge_of)(merchant)
    pos = await open_socket(
        f"/ws/payments/{charge['id']}/?ticket={await sync_to_async(ticket_for)(merchant)}"
    )
    await pos.frames_until("PAYMENT_STATUS")
    payer = await open_socket(f"/ws/payments/{code_of(charge)}/")
    await payer.frames_until("PAYMENT_STATUS")
    await payer.send({"type": "CLICKED_PAY", "payload": {"roomId": code_of(charge)}})
    assert (await pos.frame())["type"] == "CLICKED_PAY"
    await pos.send({"type": "DATA_FILLED", "payload": {"roomId": charge["id"]}})
    assert (await payer.frame())["type"] == "DATA_FILLED"
    await pos.close()
    await payer.close()


@run_async
async def test_room_names_belong_to_their_merchant(make_merchant, ticket_for):
    alice, bob = await sync_to_async(make_merchant)(), await sync_to_async(make_merchant)()
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
    await a1.send({"type": "CLICKED_PAY", "payload": {"roomId": "payment_123"}})
    assert (await a2.frame())["type"] == "CLICKED_PAY"
    assert await b1.silent()
    for sock in (a1, a2, b1):
        await sock.close()


@run_async
async def test_client_payment_success_is_only_relayed(merchant, charge_of):
    charge = await sync_to_async(charge_of)(merchant)
    a = await open_socket(f"/ws/payments/{code_of(charge)}/")
    b = await open_socket(f"/ws/payments/{code_of(charge)}/")
    await a.frames_until("PAYMENT_STATUS")
    await b.frames_until("PAYMENT_STATUS")
    await a.send({"type": "PAYMENT_SUCCESS", "payload": {"transactionId": "tx", "amount": 25.5}})
    assert (await b.frame())["type"] == "PAYMENT_SUCCESS"
    stored = await sync_to_async(Charge.objects.get)(pk=charge["id"])
    assert stored.status == "pendente" and stored.paid_at is None
    await a.close()
    await b.close()


# -- errors -------------------------------------------------------------------------------


@run_async
async def test_bad_frames_get_an_error_and_the_socket_stays_open(merchant, charge_of):
    charge = await sync_to_async(charge_of)(merchant)
    sock = await open_socket("/ws/payments/")
    await sock.frame()

    async def error_for(data: Any = None, *, raw: bytes | None = None) -> dict[str, Any]:
        if raw is not None:
            await sock.comm.send_to(bytes_data=raw)
        else:
            await sock.send(data)
        reply = await sock.frame()
        assert reply["type"] == "ERROR"
        assert set(reply["payload"]) >= {"message", "code"}
        return reply["payload"]

    assert (await error_for("{not json"))["code"] == "invalid_json"
    assert (await error_for("[1, 2]"))["code"] == "invalid_event"
    assert (await error_for({"type": "JOIN_ROOM"}))["code"] == "invalid_event"
    assert (await error_for({"type": 7, "payload": {}}))["code"] == "invalid_event"
    assert (await error_for({"type": "JOIN_ROOM", "payload": "x"}))["code"] == "invalid_event"
    assert (await error_for({"type": "JOIN_ROOM", "payload": {}}))["code"] == "invalid_event"
    assert (await error_for({"type": "HACK", "payload": {}}))["code"] == "unknown_event"
    big = {"type": "CLICKED_PAY", "payload": {"pad": "x" * (16 * 1024)}}
    assert (await error_for(big))["code"] == "frame_too_large"
    assert (await error_for(raw=b"\x00\x01"))["code"] == "binary_not_supported"
    assert (await error_for({"type": "CLICKED_PAY", "payload": {}}))["code"] == "not_in_room"
    anonymous_named = {"type": "JOIN_ROOM", "payload": {"roomId": "payment_123"}}
    assert (await error_for(anonymous_named))["code"] == "authentication_required"
    # Still open and working.
    await sock.send({"type": "JOIN_ROOM", "payload": {"roomId": code_of(charge), "deviceId": "d"}})
    assert (await sock.frame())["type"] == "ROOM_JOINED"
    await sock.frame()
    mismatch = {"type": "CLICKED_PAY", "payload": {"roomId": "elsewhere"}}
    assert (await error_for(mismatch))["code"] == "room_mismatch"
    other_room = {"type": "JOIN_ROOM", "payload": {"roomId": "elsewhere"}}
    assert (await error_for(other_room))["code"] == "permission_denied"
    await sock.close()


@run_async
async def test_rate_limit_errors_then_a_flood_closes_with_1008(merchant, ticket_for, settings):
    settings.REALTIME_MESSAGES_PER_SECOND = 1
    settings.REALTIME_MESSAGE_BURST = 5
    settings.REALTIME_FLOOD_CLOSE_AFTER = 10
    sock = await open_socket(
        f"/ws/payments/alone/?ticket={await sync_to_async(ticket_for)(merchant)}"
    )
    await sock.frame()
    event = {"type": "CLICKED_PAY", "payload": {}}
    for _ in range(6):  # the burst, then one over it
        await sock.send(event)
    limited = await sock.frame()
    assert limited["type"] == "ERROR" and limited["payload"]["code"] == "rate_limit_exceeded"
    assert await sock.silent()  # one ERROR, and the socket is still open
    for _ in range(9):  # ten refused in a row: a flood
        await sock.send(event)
    assert await sock.closed_with() == 1008
    assert not HUB.sockets
    await sock.close()


# -- pushes -------------------------------------------------------------------------------


@run_async
async def test_confirming_through_the_api_pushes_to_room_and_merchant_channel(
    make_merchant, charge_of, client_of, ticket_for, committed
):
    alice, bob = await sync_to_async(make_merchant)(), await sync_to_async(make_merchant)()
    charge = await sync_to_async(charge_of)(alice, metadata={"pedido": "42"})
    payer = await open_socket(f"/ws/payments/{code_of(charge)}/")
    await payer.frames_until("PAYMENT_STATUS")
    dashboard = await open_socket(f"/ws/merchant/?ticket={await sync_to_async(ticket_for)(alice)}")
    assert (await dashboard.frame())["type"] == "CONNECTION_ESTABLISHED"
    other = await open_socket(f"/ws/merchant/?ticket={await sync_to_async(ticket_for)(bob)}")
    await other.frame()

    api = await sync_to_async(client_of)(alice)
    response = await committed(
        api.post, f"/api/sandbox/charges/{charge['id']}/pay", {}, format="json"
    )
    assert response.status_code == 200
    pushed = await payer.frame()
    assert pushed["type"] == "PAYMENT_CONFIRMED"
    payload = pushed["payload"]
    assert payload["roomId"] == code_of(charge) and payload["chargeId"] == charge["id"]
    assert payload["status"] == "pago" and payload["valor"] == 25.5 and payload["paid_at"]
    assert "metadata" not in payload
    to_dashboard = await dashboard.frame()
    assert to_dashboard["type"] == "PAYMENT_CONFIRMED"
    assert to_dashboard["payload"]["metadata"] == {"pedido": "42"}
    assert await other.silent()

    # A reconnect misses nothing: the state comes first.
    again = await open_socket(f"/ws/payments/{code_of(charge)}/")
    status = (await again.frames_until("PAYMENT_STATUS"))[-1]
    assert status["payload"]["status"] == "pago"

    refund = await committed(api.post, f"/api/charges/{charge['id']}/refund", {}, format="json")
    assert refund.status_code == 201, refund.content
    for sock in (payer, again, dashboard):
        refunded = await sock.frame()
        assert refunded["type"] == "PAYMENT_REFUNDED"
        assert refunded["payload"]["status"] == "reembolsado"
    for sock in (payer, again, dashboard, other):
        await sock.close()


# Seed 003's push payload, as the room sees it; the merchant channel adds id and metadata.
ROOM_PUSH_FIELDS = {
    "roomId",
    "chargeId",
    "status",
    "valor",
    "valor_reembolsado",
    "txid",
    "end_to_end_id",
    "created_at",
    "paid_at",
    "expires_at",
    "cancelled_at",
    "timestamp",
}


@run_async
async def test_pushes_keep_seed_003_fields_with_the_apis_values(
    merchant, charge_of, client_of, ticket_for, committed
):
    charge = await sync_to_async(charge_of)(merchant, valor=100.5, metadata={"pedido": "7"})
    payer = await open_socket(f"/ws/payments/{code_of(charge)}/")
    status = (await payer.frames_until("PAYMENT_STATUS"))[-1]["payload"]
    assert set(status) == ROOM_PUSH_FIELDS
    dashboard = await open_socket(
        f"/ws/merchant/?ticket={await sync_to_async(ticket_for)(merchant)}"
    )
    await dashboard.frame()
    api = await sync_to_async(client_of)(merchant)
    await committed(api.post, f"/api/sandbox/charges/{charge['id']}/pay", {}, format="json")
    room_frame, merchant_frame = (
        (await payer.frame())["payload"],
        (await dashboard.frame())["payload"],
    )
    assert set(room_frame) == ROOM_PUSH_FIELDS
    assert set(merchant_frame) == ROOM_PUSH_FIELDS | {"id", "metadata"}
    assert merchant_frame["id"] == charge["id"] and merchant_frame["metadata"] == {"pedido": "7"}
    shown = (await sync_to_async(api.get)(f"/api/charges/{charge['id']}")).json()["data"]
    assert room_frame["roomId"] == code_of(charge) and room_frame["chargeId"] == shown["id"]
    same = ROOM_PUSH_FIELDS - {"roomId", "chargeId", "timestamp"}
    assert {key: room_frame[key] for key in same} == {key: shown[key] for key in same}
    assert room_frame["valor"] == 100.5

    refund = await committed(
        api.post,
        f"/api/charges/{charge['id']}/refund",
        {"valor": 40.25, "motivo": "troca"},
        format="json",
    )
    assert refund.status_code == 201, refund.content
    for sock in (payer, dashboard):
        refunded = await sock.frame()
        assert refunded["type"] == "PAYMENT_REFUNDED"
        payload = refunded["payload"]
        # A partial refund keeps the charge paid and says how much went back.
        assert payload["status"] == "pago" and payload["valor_reembolsado"] == 40.25
        assert payload["refund"] == {
            "refund_id": refund.json()["data"]["id"],
            "valor": 40.25,
            "motivo": "troca",
        }
    await payer.close()
    await dashboard.close()


@run_async
async def test_cancel_and_expiry_are_pushed(merchant, charge_of, client_of, committed):
    cancelled, expiring = (
        await sync_to_async(charge_of)(merchant),
        await sync_to_async(charge_of)(merchant),
    )
    a = await open_socket(f"/ws/payments/{code_of(cancelled)}/")
    b = await open_socket(f"/ws/payments/{code_of(expiring)}/")
    await a.frames_until("PAYMENT_STATUS")
    await b.frames_until("PAYMENT_STATUS")
    api = await sync_to_async(client_of)(merchant)
    response = await committed(api.delete, f"/api/charges/{cancelled['id']}")
    assert response.status_code == 200
    pushed = await a.frame()
    assert pushed["type"] == "PAYMENT_CANCELED" and pushed["payload"]["status"] == "cancelado"

    def expire() -> None:
        Charge.objects.filter(pk=expiring["id"]).update(expires_at=timezone.now())
        charge_services.charges_expire_due()

    await committed(expire)
    pushed = await b.frame()
    assert pushed["type"] == "PAYMENT_EXPIRED" and pushed["payload"]["status"] == "expirado"
    assert await a.silent()
    await a.close()
    await b.close()


@run_async
async def test_admin_sessions_on_the_merchant_channel(
    make_merchant, charge_of, client_of, session_cookie, committed
):
    alice, bob = await sync_to_async(make_merchant)(), await sync_to_async(make_merchant)()
    staff = await sync_to_async(session_cookie)(merchant=alice.merchant)
    back_office = await sync_to_async(session_cookie)(merchant=None)
    not_staff = await sync_to_async(session_cookie)(merchant=alice.merchant, staff=False)
    assert await refused("/ws/merchant/", headers=[(b"cookie", not_staff)]) == 4401
    mine = await open_socket("/ws/merchant/", headers=[(b"cookie", staff)])
    everyone = await open_socket("/ws/merchant/", headers=[(b"cookie", back_office)])
    await mine.frame()
    await everyone.frame()
    bobs = await sync_to_async(charge_of)(bob)
    bob_api = await sync_to_async(client_of)(bob)
    await committed(bob_api.post, f"/api/sandbox/charges/{bobs['id']}/pay", {}, format="json")
    assert (await everyone.frame())["payload"]["chargeId"] == bobs["id"]
    assert await mine.silent()
    alices = await sync_to_async(charge_of)(alice)
    alice_api = await sync_to_async(client_of)(alice)
    await committed(alice_api.post, f"/api/sandbox/charges/{alices['id']}/pay", {}, format="json")
    assert (await mine.frame())["payload"]["chargeId"] == alices["id"]
    assert (await everyone.frame())["payload"]["chargeId"] == alices["id"]
    # Staff sessions open their charge rooms; back-office opens any charge room.
    room = await open_socket(f"/ws/payments/{bobs['id']}/", headers=[(b"cookie", back_office)])
    assert (await room.frames_until("PAYMENT_STATUS"))[-1]["payload"]["status"] == "pago"
    assert await refused(f"/ws/payments/{bobs['id']}/", headers=[(b"cookie", staff)]) == 4403
    assert await refused("/ws/payments/caixa/", headers=[(b"cookie", back_office)]) == 4403
    # The merchant channel takes no events.
    await mine.send({"type": "CLICKED_PAY", "payload": {}})
    assert (await mine.frame())["payload"]["code"] == "unknown_event"
    for sock in (mine, everyone, room):
        await sock.close()


# -- the registry ---------------------------------------------------------------------------


@run_async
async def test_empty_rooms_leave_nothing_behind(merchant, ticket_for, charge_of):
    charge = await sync_to_async(charge_of)(merchant)
    socks = [
        await open_socket(f"/ws/payments/sala/?ticket={await sync_to_async(ticket_for)(merchant)}"),
        await open_socket(f"/ws/payments/{code_of(charge)}/"),
        await open_socket(f"/ws/merchant/?ticket={await sync_to_async(ticket_for)(merchant)}"),
    ]
    for sock in socks:
        await sock.frame()
    assert len(HUB.groups) == 3 and len(HUB.sockets) == 3
    for sock in socks:
        await sock.close()
    assert HUB.groups == {} and HUB.group_merchant == {}
    assert HUB.sockets == set() and HUB.merchant_sockets == {}


def test_group_names_fit_channels_rules():
    import re
    import uuid

    merchant = uuid.uuid4()
    valid = re.compile(r"^[A-Za-z0-9_.-]{1,99}$")
    for room in ("payment_123", "a:b", "x" * 128, "a.b-c_d", "Ç" * 3):
        name = merchant_room_group(merchant_id=merchant, room=room)
        assert valid.match(name), name
    assert merchant_room_group(merchant_id=merchant, room="a:b") != merchant_room_group(
        merchant_id=merchant, room="a_b"
    )
    assert merchant_room_group(merchant_id=merchant, room="x") != merchant_room_group(
        merchant_id=uuid.uuid4(), room="x"
    )


def test_frames_are_compact_json():
    text = frames.error("invalid_json", "não")
    assert json.loads(text)["payload"]["message"] == "não"
    assert " " not in text.replace("não", "")
