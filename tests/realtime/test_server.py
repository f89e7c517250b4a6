"""End to end: real server processes (``manage.py serve``) and a real ``websockets`` client."""

import asyncio
import json
import os
import signal
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from charges.models import Charge
from realtime.services import ticket_issue

pytestmark = [pytest.mark.server, pytest.mark.django_db(transaction=True)]


def http(server: Any, method: str, path: str, key: str, body: Any = None) -> tuple[int, Any]:
    request = urllib.request.Request(
        f"{server.url}{path}",
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        method=method,
    )
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def ws_url(server: Any, path: str) -> str:
    return f"ws://127.0.0.1:{server.port}{path}"


async def next_frame(ws: ClientConnection, timeout: float = 15) -> dict[str, Any]:
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


async def until(ws: ClientConnection, kind: str) -> dict[str, Any]:
    while True:
        frame = await next_frame(ws)
        if frame["type"] == kind:
            return frame


def in_thread(func: Callable[..., Any], *args: Any) -> Any:
    """ORM work from inside the client's event loop: on a thread with its own connection."""

    def run() -> Any:
        try:
            return func(*args)
        finally:
            connection.close()

    return asyncio.to_thread(run)


def new_charge(server: Any, key: str, **body: Any) -> dict[str, Any]:
    status, reply = http(server, "POST", "/api/charges", key, {"valor": 19.9, **body})
    assert status == 201, reply
    return reply["data"]


def code_of(charge: dict[str, Any]) -> str:
    return charge["link_pagamento"].rsplit("/", 1)[1]


def test_the_payers_socket_hears_the_confirmation(make_merchant, api_key_for, start_server):
    server = start_server()
    key = api_key_for(make_merchant())
    charge = new_charge(server, key)

    async def scenario() -> dict[str, Any]:
        async with connect(ws_url(server, f"/ws/payments/{code_of(charge)}/")) as ws:
            assert (await next_frame(ws))["type"] == "CONNECTION_ESTABLISHED"
            assert (await next_frame(ws))["payload"]["status"] == "pendente"
            status, _ = await asyncio.to_thread(
                http, server, "POST", f"/api/sandbox/charges/{charge['id']}/pay", key, {}
            )
            assert status == 200
            return await next_frame(ws)

    pushed = asyncio.run(scenario())
    assert pushed["type"] == "PAYMENT_CONFIRMED"
    assert pushed["payload"]["chargeId"] == charge["id"]
    assert pushed["payload"]["status"] == "pago" and pushed["payload"]["paid_at"]


def make_due(charge: dict[str, Any]) -> None:
    """The charge's time is up: the worker's next expiry sweep expires it."""
    past = timezone.now() - timedelta(seconds=1)
    assert Charge.objects.filter(pk=charge["id"]).update(expires_at=past) == 1


def test_an_expiry_run_by_the_worker_reaches_the_socket(make_merchant, api_key_for, start_server):
    """Embedded default: in-memory channel layer, and the worker (whose sweep expires charges)
    runs as a thread of the server process, so its events reach the sockets."""
    server = start_server(worker=True)
    key = api_key_for(make_merchant())
    charge = new_charge(server, key, expiracao=60)

    async def scenario() -> dict[str, Any]:
        async with connect(ws_url(server, f"/ws/payments/{code_of(charge)}/")) as ws:
            await until(ws, "PAYMENT_STATUS")
            await in_thread(make_due, charge)
            return await next_frame(ws)

    pushed = asyncio.run(scenario())
    assert pushed["type"] == "PAYMENT_EXPIRED"
    assert pushed["payload"]["status"] == "expirado"
    assert Charge.objects.get(pk=charge["id"]).status == "expirado"


def test_sigterm_closes_sockets_with_1001_and_exits(make_merchant, start_server):
    server = start_server()

    async def scenario() -> int | None:
        async with connect(ws_url(server, "/ws/payments/")) as ws:
            await next_frame(ws)
            server.process.send_signal(signal.SIGTERM)
            with pytest.raises(ConnectionClosed):
                await asyncio.wait_for(ws.recv(), 15)
            return ws.close_code

    assert asyncio.run(scenario()) == 1001
    assert server.process.wait(timeout=15) == 0


def test_two_processes_share_rooms_pushes_and_counts_through_redis(
    make_merchant, api_key_for, start_server, redis_url
):
    import redis

    prefix = f"rt-test-{uuid.uuid4().hex[:8]}"
    env = {
        "REDIS_URL": redis_url,
        "CHANNEL_PREFIX": prefix,
        "REALTIME_PRESENCE_TTL_SECONDS": "2",
        "REALTIME_PRESENCE_HEARTBEAT_SECONDS": "0.5",
    }
    one, two = start_server(extra_env=env), start_server(extra_env=env)
    user = make_merchant()
    key = api_key_for(user)
    charge = new_charge(one, key)
    tickets = [ticket_issue(merchant_id=user.merchant_id).ticket for _ in range(2)]
    store = redis.Redis.from_url(redis_url)

    def counts(server: Any) -> tuple[int, int]:
        status, reply = http(server, "GET", "/api/server/status", key)
        assert status == 200, reply
        return reply["data"]["totalConnections"], reply["data"]["totalRooms"]

    def process_keys() -> list[bytes]:
        return sorted(store.scan_iter(f"{prefix}:rt:p:*"))

    async def wait_for_counts(server: Any, expected: tuple[int, int]) -> None:
        for _ in range(100):  # bounded: the dead process's entries expire after their TTL
            if await asyncio.to_thread(counts, server) == expected:
                return
            await asyncio.sleep(0.1)
        assert await asyncio.to_thread(counts, server) == expected

    async def scenario() -> None:
        payer = await connect(ws_url(one, f"/ws/payments/{code_of(charge)}/"))
        await until(payer, "PAYMENT_STATUS")
        pos_one = await connect(ws_url(one, f"/ws/payments/caixa/?ticket={tickets[0]}"))
        pos_two = await connect(ws_url(two, "/ws/payments/caixa/"), subprotocols=[tickets[1]])
        await next_frame(pos_one)
        await next_frame(pos_two)

        # Counts are the sum over both processes, seen from either.
        assert await asyncio.to_thread(counts, one) == (3, 2)
        assert await asyncio.to_thread(counts, two) == (3, 2)

        # A device event on one process reaches the room's member on the other.
        await pos_two.send(json.dumps({"type": "CLICKED_PAY", "payload": {"roomId": "caixa"}}))
        assert (await next_frame(pos_one))["type"] == "CLICKED_PAY"

        # A payment confirmed through process two is pushed to the payer on process one.
        status, _ = await asyncio.to_thread(
            http, two, "POST", f"/api/sandbox/charges/{charge['id']}/pay", key, {}
        )
        assert status == 200
        pushed = await next_frame(payer)
        assert pushed["type"] == "PAYMENT_CONFIRMED" and pushed["payload"]["status"] == "pago"

        # The broadcast API counts and reaches members on both processes.
        status, reply = await asyncio.to_thread(
            http,
            one,
            "POST",
            "/api/message/room/caixa/broadcast",
            key,
            {"eventType": "AVISO", "message": "oi", "idSeguro": "s1"},
        )
        assert status == 200 and reply["data"]["sentToClients"] == 2
        for ws in (pos_one, pos_two):
            assert (await next_frame(ws))["payload"]["source"] == "api"

        # A process that dies leaves nothing behind once its entries' TTL has passed.
        two.process.send_signal(signal.SIGKILL)
        two.process.wait(timeout=10)
        await wait_for_counts(one, (2, 2))
        assert len([k for k in process_keys() if k.endswith(b":conns")]) == 1

        # Empty rooms leave nothing behind either.
        for ws in (payer, pos_one):
            await ws.close()
        await wait_for_counts(one, (0, 0))
        assert [k for k in process_keys() if b":rooms:" in k] == []
        await pos_two.close()

    asyncio.run(scenario())
    # A clean exit removes the process's entries at once.
    one.process.send_signal(signal.SIGTERM)
    assert one.process.wait(timeout=15) == 0
    assert process_keys() == []


def test_a_peer_that_stops_answering_pings_is_dropped(make_merchant, api_key_for, start_server):
    """The server pings at the WebSocket level; a peer that never pongs is dropped and leaves
    its room. (A raw TCP client: real clients answer pings by themselves.)"""
    import base64
    import socket as sockets

    server = start_server(
        extra_env={"REALTIME_WS_PING_INTERVAL": "0.3", "REALTIME_WS_PING_TIMEOUT": "0.3"}
    )
    user = make_merchant()
    key = api_key_for(user)
    ticket = ticket_issue(merchant_id=user.merchant_id).ticket
    raw = sockets.create_connection(("127.0.0.1", server.port), timeout=10)
    handshake = (
        f"GET /ws/payments/caixa/?ticket={ticket} HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{server.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n"
    )
    raw.sendall(handshake.encode())
    received = b""
    while b"CONNECTION_ESTABLISHED" not in received:
        received += raw.recv(65536)
    assert received.startswith(b"HTTP/1.1 101")
    _, reply = http(server, "GET", "/api/server/status", key)
    assert reply["data"]["totalConnections"] == 1
    # Read (pings arrive) but never answer; the server gives up and closes.
    while chunk := raw.recv(65536):
        received += chunk
    raw.close()
    assert b"\x89" in received  # it was pinged (opcode 0x9)
    for _ in range(50):  # bounded wait for the server's own bookkeeping
        _, reply = http(server, "GET", "/api/server/status", key)
        if reply["data"]["totalConnections"] == 0:
            break
        time.sleep(0.1)
    assert (reply["data"]["totalConnections"], reply["data"]["totalRooms"]) == (0, 0)


def test_under_redis_the_worker_process_pushes_through_the_layer(
    make_merchant, api_key_for, start_server, redis_url
):
    """With Redis, ``serve`` runs the worker as its own process; its events travel through
    the Redis channel layer to the server's sockets."""
    env = {"REDIS_URL": redis_url, "CHANNEL_PREFIX": f"rt-test-{uuid.uuid4().hex[:8]}"}
    server = start_server(extra_env=env, worker=True)
    key = api_key_for(make_merchant())
    charge = new_charge(server, key, expiracao=60)

    async def scenario() -> dict[str, Any]:
        async with connect(ws_url(server, f"/ws/payments/{code_of(charge)}/")) as ws:
            await until(ws, "PAYMENT_STATUS")
            await in_thread(make_due, charge)
            return await next_frame(ws)

    pushed = asyncio.run(scenario())
    assert pushed["type"] == "PAYMENT_EXPIRED" and pushed["payload"]["chargeId"] == charge["id"]


def test_under_redis_the_server_stops_when_its_worker_process_dies(start_server, redis_url):
    env = {"REDIS_URL": redis_url, "CHANNEL_PREFIX": f"rt-test-{uuid.uuid4().hex[:8]}"}
    server = start_server(extra_env=env, worker=True)
    children: list[int] = []
    for _ in range(100):  # bounded: the worker is started before the server listens
        children = [
            int(pid)
            for task in Path(f"/proc/{server.process.pid}/task").iterdir()
            for pid in (task / "children").read_text().split()
        ]
        if children:
            break
        time.sleep(0.1)
    assert len(children) == 1, children
    os.kill(children[0], signal.SIGKILL)
    assert server.process.wait(timeout=30) == 1
    assert "the worker stopped by itself" in server.log.read_text()
