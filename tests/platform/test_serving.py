"""``manage.py serve``: real server processes, real sockets, real signals. Requests run on a
bounded pool of threads: a request waiting on the network holds one thread, not the process."""

import json
import signal
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

pytestmark = [pytest.mark.server, pytest.mark.django_db(transaction=True)]


def call(server: Any, method: str, path: str, key: str, body: Any = None) -> tuple[int, Any]:
    request = urllib.request.Request(
        f"{server.url}{path}",
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        method=method,
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


class HeldReceiver:
    """A webhook receiver that holds every request until released: the server's thread that
    sends to it stays busy (as one waiting on a slow PSP) for as long as the test wants."""

    def __init__(self) -> None:
        self.arrived = threading.Semaphore(0)
        self.count = 0
        self.release = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                receiver.count += 1
                receiver.arrived.release()
                receiver.release.wait(30)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}/hook"
        threading.Thread(target=self.http.serve_forever, daemon=True).start()

    def wait_for(self, count: int, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        for _ in range(count):
            assert self.arrived.acquire(timeout=max(deadline - time.monotonic(), 0)), (
                f"only {self.count} requests reached the receiver"
            )

    def close(self) -> None:
        self.release.set()
        self.http.shutdown()
        self.http.server_close()


@pytest.fixture
def receiver() -> Iterator[HeldReceiver]:
    held = HeldReceiver()
    yield held
    held.close()


def held_test_sends(server: Any, key: str, receiver: HeldReceiver, count: int) -> list[Any]:
    status, reply = call(
        server, "POST", "/api/webhooks", key, {"url": receiver.url, "eventos": ["payment.created"]}
    )
    assert status == 201, reply
    webhook = reply["data"]["id"]
    pool = ThreadPoolExecutor(count)
    body = {"evento": "payment.created"}
    return [
        pool.submit(call, server, "POST", f"/api/webhooks/{webhook}/test", key, body)
        for _ in range(count)
    ]


def test_requests_held_by_a_slow_peer_do_not_stall_the_others(
    make_merchant, api_key_for, start_server, receiver
):
    server = start_server()
    key = api_key_for(make_merchant())
    status, reply = call(server, "POST", "/api/charges", key, {"valor": 10})
    assert status == 201, reply
    charge = reply["data"]["id"]

    held = held_test_sends(server, key, receiver, 8)
    receiver.wait_for(8)  # eight requests in their views at once, each waiting on the peer
    for _ in range(5):
        status, reply = call(server, "GET", f"/api/charges/{charge}", key)
        assert status == 200 and reply["data"]["id"] == charge
    assert not any(future.done() for future in held)
    receiver.release.set()
    assert [future.result()[0] for future in held] == [200] * 8


def test_a_process_runs_at_most_server_threads_requests_at_once(
    make_merchant, api_key_for, start_server, receiver
):
    server = start_server(extra_env={"SERVER_THREADS": "2"})
    key = api_key_for(make_merchant())
    held = held_test_sends(server, key, receiver, 3)
    receiver.wait_for(2)
    time.sleep(1.0)  # room for a third thread to reach the receiver, if there were one
    assert receiver.count == 2
    receiver.release.set()
    receiver.wait_for(1)  # a thread came free: the third request runs now
    assert [future.result()[0] for future in held] == [200] * 3


def test_sigterm_stops_the_server_and_its_worker_thread(start_server):
    server = start_server(worker=True)
    with urllib.request.urlopen(f"{server.url}/health", timeout=10) as response:
        assert response.status == 200
    server.process.send_signal(signal.SIGTERM)
    assert server.process.wait(timeout=30) == 0
    log = server.log.read_text()
    assert "Finished server process" in log
