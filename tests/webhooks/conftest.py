"""A real HTTP receiver on loopback, and helpers to create endpoints and verify signatures."""

import hashlib
import hmac
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook

from tests.conftest import ROOT, database_url_for_subprocesses


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


Reply = tuple[int, dict[str, str], bytes]


@dataclass
class Receiver:
    """Records every request; answers with ``replies`` in order (then ``default``). With
    ``block`` set, a request waits for ``release`` before it is answered."""

    default: Reply = (200, {}, b'{"ok":true}')
    replies: list[Reply] = field(default_factory=list)
    requests: list[Received] = field(default_factory=list)
    block: bool = False
    release: threading.Event = field(default_factory=threading.Event)
    url: str = ""
    _cond: threading.Condition = field(default_factory=threading.Condition)
    _server: ThreadingHTTPServer | None = None

    def answer(self, record: Received) -> Reply:
        with self._cond:
            self.requests.append(record)
            self._cond.notify_all()
            reply = self.replies.pop(0) if self.replies else self.default
        if self.block:
            self.release.wait(timeout=60)
        return reply

    def wait_for(self, count: int, timeout: float = 60) -> list[Received]:
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.requests) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"receiver got {len(self.requests)} of {count} requests")
                self._cond.wait(left)
            return list(self.requests)

    def stop(self) -> None:
        self.release.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


def _start(receiver: Receiver) -> Receiver:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # else the client's delayed ACK adds ~40 ms

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            record = Received(
                path=self.path, headers={k.lower(): v for k, v in self.headers.items()}, body=body
            )
            status, headers, reply = receiver.answer(record)
            try:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)
            except OSError:
                pass  # the client went away (a killed worker, a timeout)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver._server = server
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    return receiver


@pytest.fixture
def make_receiver() -> Iterator[Callable[..., Receiver]]:
    started: list[Receiver] = []

    def make(**options: Any) -> Receiver:
        receiver = _start(Receiver(**options))
        started.append(receiver)
        return receiver

    yield make
    for receiver in started:
        receiver.stop()


@pytest.fixture
def receiver(make_receiver: Callable[..., Receiver]) -> Receiver:
    return make_receiver()


@pytest.fixture(autouse=True)
def _no_lingering_in_process(settings: Any) -> None:
    # A sending task stays a quarter second for more work; calls made by the tests
    # themselves needn't (worker subprocesses keep the default).
    settings.WEBHOOK_LINGER_SECONDS = 0


def verify_signatures(secret: str, request: Received) -> Any:
    """Check both signatures as a merchant would; returns the parsed body."""
    expected = hmac.new(secret.encode(), request.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(request.headers["x-pagtracker-signature"], expected)
    key = secret if secret.startswith("whsec_") else secret.encode()
    return Webhook(key).verify(request.body, request.headers)


@pytest.fixture
def create_webhook(api: Any) -> Callable[..., dict[str, Any]]:
    def create(client: Any = None, **body: Any) -> dict[str, Any]:
        body.setdefault("eventos", ["payment.created", "payment.confirmed"])
        response = (client or api).post("/api/webhooks", body, format="json")
        assert response.status_code == 201, response.content
        return response.json()["data"]

    return create


def worker_env(**extra: str) -> dict[str, str]:
    return dict(
        os.environ,
        DATABASE_URL=database_url_for_subprocesses(),
        DJANGO_SETTINGS_MODULE="pagtracker.settings_test",
        PYTHONUNBUFFERED="1",
        **extra,
    )


BATCH_WORKER = [sys.executable, "manage.py", "db_worker", "--no-startup-delay", "--no-reload"]
WORKER = [sys.executable, "manage.py", "worker"]


def run_worker_batch(**env: str) -> subprocess.CompletedProcess[bytes]:
    """The real task worker, until no task is ready (no recurring jobs)."""
    return subprocess.run(
        [*BATCH_WORKER, "--batch"],
        cwd=ROOT,
        env=worker_env(**env),
        check=True,
        capture_output=True,
        timeout=120,
    )


def start_worker(log: Any, **env: str) -> subprocess.Popen[bytes]:
    """The production worker (``manage.py worker``): tasks and the recurring jobs."""
    return subprocess.Popen(
        WORKER,
        cwd=ROOT,
        env=worker_env(**env),
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )


def wait_until(check: Callable[[], Any], *, timeout: float = 60, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what or check}")
