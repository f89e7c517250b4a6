import json
import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client

from realtime.routing import websocket_application
from realtime.services import ticket_issue

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


class Socket:
    """A WebsocketCommunicator on the realtime routes, with the frame helpers the tests use."""

    def __init__(self, path: str, headers: list[tuple[bytes, bytes]], subprotocols: list[str]):
        self.comm = WebsocketCommunicator(
            websocket_application, path, headers=headers, subprotocols=subprotocols
        )
        self.subprotocol: str | None = None

    async def open(self) -> "Socket":
        connected, subprotocol = await self.comm.connect(timeout=5)
        assert connected, f"handshake refused before accept: {subprotocol}"
        self.subprotocol = subprotocol
        return self

    async def frame(self, timeout: float = 3) -> dict[str, Any]:
        return json.loads(await self.comm.receive_from(timeout=timeout))

    async def text(self, timeout: float = 3) -> str:
        return await self.comm.receive_from(timeout=timeout)

    async def frames_until(self, kind: str, timeout: float = 3) -> list[dict[str, Any]]:
        seen = []
        while True:
            seen.append(await self.frame(timeout))
            if seen[-1]["type"] == kind:
                return seen

    async def send(self, data: Any) -> None:
        await self.comm.send_to(text_data=data if isinstance(data, str) else json.dumps(data))

    async def closed_with(self, timeout: float = 3) -> int:
        while True:
            output = await self.comm.receive_output(timeout)
            if output["type"] == "websocket.close":
                return int(output.get("code", 1000))

    async def silent(self, timeout: float = 0.1) -> bool:
        return await self.comm.receive_nothing(timeout=timeout)

    async def close(self) -> None:
        await self.comm.disconnect()


async def open_socket(
    path: str,
    *,
    headers: list[tuple[bytes, bytes]] | None = None,
    subprotocols: list[str] | None = None,
) -> Socket:
    return await Socket(path, headers or [], subprotocols or []).open()


async def refused(path: str, **kwargs: Any) -> int:
    """The close code of a socket the server refuses (accepted, then closed at once)."""
    sock = await open_socket(path, **kwargs)
    code = await sock.closed_with()
    await sock.close()
    return code


@pytest.fixture
def ticket_for() -> Callable[..., str]:
    def issue(user: Any, room: str = "") -> str:
        return ticket_issue(merchant_id=user.merchant_id, user_id=user.pk, room=room).ticket

    return issue


@pytest.fixture
def charge_of(client_of: Callable[[Any], Any]) -> Callable[..., dict[str, Any]]:
    def create(user: Any, **body: Any) -> dict[str, Any]:
        body.setdefault("valor", 25.50)
        response = client_of(user).post("/api/charges", body, format="json")
        assert response.status_code == 201, response.content
        return response.json()["data"]

    return create


def code_of(charge: dict[str, Any]) -> str:
    return charge["link_pagamento"].rsplit("/", 1)[1]


@pytest.fixture
def session_cookie() -> Callable[..., bytes]:
    """The admin session cookie of a new staff user (of ``merchant`` or back-office)."""

    def login(*, merchant: Any = None, staff: bool = True, superuser: bool = False) -> bytes:
        User = get_user_model()
        email = f"staff-{uuid.uuid4().hex[:8]}@example.com"
        User.objects.create_user(
            email,
            "staff password 123",
            merchant=merchant,
            is_staff=staff,
            is_superuser=superuser,
        )
        client = Client()
        assert client.login(email=email, password="staff password 123")
        name = settings.SESSION_COOKIE_NAME
        return f"{name}={client.cookies[name].value}".encode()

    return login


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """REDIS_URL when set (CI), else our own redis-server on a free loopback port."""
    if os.environ.get("REDIS_URL"):
        yield os.environ["REDIS_URL"]
        return
    if not os.path.exists(REDIS_SERVER):
        pytest.skip("needs redis-server (apt install redis-server) or REDIS_URL")
    port = _free_port()
    process = subprocess.Popen(
        [
            REDIS_SERVER,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.05)
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)
