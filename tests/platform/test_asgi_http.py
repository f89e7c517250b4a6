"""HTTP in the ASGI application (pagtracker/asgi.py): Django's WSGI handler on a bounded pool of
long-lived threads. A request runs whole on one pool thread, threads and their database
connections are reused, and a blocked request holds one thread, not the others."""

import asyncio
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from django.core import signals
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.urls import path

from pagtracker.asgi import http_application

pytestmark = pytest.mark.urls("tests.platform.test_asgi_http")

log: list[tuple[str, Any]] = []
gate = {"release": threading.Event(), "entered": threading.Semaphore(0)}
running = {"now": 0, "most": 0}
lock = threading.Lock()


def plain(request: HttpRequest) -> HttpResponse:
    log.append(("view", threading.get_ident()))
    return JsonResponse({"ok": True})


def with_database(request: HttpRequest) -> HttpResponse:
    connection.ensure_connection()
    return JsonResponse({"thread": threading.get_ident(), "connection": id(connection.connection)})


def held(request: HttpRequest) -> HttpResponse:
    with lock:
        running["now"] += 1
        running["most"] = max(running["most"], running["now"])
    gate["entered"].release()
    gate["release"].wait(10)
    with lock:
        running["now"] -= 1
    return JsonResponse({"ok": True})


def streamed(request: HttpRequest) -> HttpResponse:
    def chunks() -> Any:
        for i in range(3):
            log.append(("chunk", i))
            yield f"part{i};".encode()

    return StreamingHttpResponse(chunks())


urlpatterns = [
    path("plain", plain),
    path("db", with_database),
    path("held", held),
    path("streamed", streamed),
]


@pytest.fixture(autouse=True)
def signal_log() -> Iterator[None]:
    log.clear()
    running.update(now=0, most=0)
    gate["release"] = threading.Event()
    gate["entered"] = threading.Semaphore(0)

    def started(**kwargs: Any) -> None:
        log.append(("started", threading.get_ident()))

    def finished(**kwargs: Any) -> None:
        log.append(("finished", threading.get_ident()))

    signals.request_started.connect(started)
    signals.request_finished.connect(finished)
    yield
    signals.request_started.disconnect(started)
    signals.request_finished.disconnect(finished)


async def call(app: Any, url: str) -> list[dict[str, Any]]:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": url,
        "raw_path": url.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
    }
    pending = [{"type": "http.request", "body": b"", "more_body": False}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if pending:
            return pending.pop()
        await asyncio.Event().wait()  # the client never disconnects
        raise AssertionError

    async def send(message: dict[str, Any]) -> None:
        log.append(("sent", message["type"]))
        sent.append(message)

    await app(scope, receive, send)
    return sent


def body_of(sent: list[dict[str, Any]]) -> bytes:
    return b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")


def status_of(sent: list[dict[str, Any]]) -> int:
    return int(sent[0]["status"])


def test_a_request_runs_whole_on_one_pool_thread_and_the_thread_is_reused() -> None:
    app = http_application(threads=1)

    async def twice() -> tuple[list[dict[str, Any]], list[dict[str, Any]], int]:
        first = await call(app, "/plain")
        second = await call(app, "/plain")
        return first, second, threading.get_ident()

    first, second, loop_thread = asyncio.run(twice())
    for sent in (first, second):
        assert status_of(sent) == 200
        assert body_of(sent) == b'{"ok": true}'
    threads = {ident for kind, ident in log if kind in ("started", "view", "finished")}
    assert len(threads) == 1 and loop_thread not in threads
    kinds = [kind for kind, _ in log if kind != "sent"]
    assert kinds == ["started", "view", "finished"] * 2


@pytest.mark.django_db(transaction=True)
def test_a_pool_thread_keeps_its_database_connection_across_requests(settings) -> None:
    if settings.DATABASES["default"].get("CONN_MAX_AGE") == 0:
        pytest.skip("connections are kept by the database's pool here, not by the thread")
    app = http_application(threads=1)

    async def several() -> list[list[dict[str, Any]]]:
        return [await call(app, "/db") for _ in range(4)]

    try:
        replies = [json.loads(body_of(sent)) for sent in asyncio.run(several())]
        assert len({reply["thread"] for reply in replies}) == 1
        assert len({reply["connection"] for reply in replies}) == 1
    finally:
        app.executor.submit(lambda: connection.close()).result()
        app.executor.shutdown()


@pytest.mark.filterwarnings("ignore:StreamingHttpResponse must consume synchronous iterators")
def test_a_streamed_response_is_closed_after_its_last_chunk() -> None:
    sent = asyncio.run(call(http_application(threads=1), "/streamed"))
    assert status_of(sent) == 200
    assert body_of(sent) == b"part0;part1;part2;"
    kinds = [kind for kind, _ in log]
    assert kinds.count("chunk") == 3 and kinds.count("finished") == 1
    assert kinds.index("finished") > max(i for i, kind in enumerate(kinds) if kind == "chunk")


def test_a_held_request_does_not_stall_the_others_and_the_pool_is_bounded() -> None:
    app = http_application(threads=2)

    async def scenario() -> tuple[list[int], int]:
        held = [asyncio.ensure_future(call(app, "/held")) for _ in range(3)]
        for _ in range(2):  # two requests in their views, blocked
            assert await asyncio.to_thread(gate["entered"].acquire, True, 10)
        # The third held request waits for a thread: a thread is what bounds the process.
        assert not await asyncio.to_thread(gate["entered"].acquire, True, 0.5)
        gate["release"].set()
        statuses = [status_of(sent) for sent in await asyncio.gather(*held)]
        fast = status_of(await call(app, "/plain"))
        return statuses, fast

    statuses, fast = asyncio.run(scenario())
    assert statuses == [200, 200, 200] and fast == 200
    assert running["most"] == 2


def test_with_free_threads_a_fast_request_passes_a_held_one() -> None:
    app = http_application(threads=2)

    async def scenario() -> tuple[bool, int]:
        held = asyncio.ensure_future(call(app, "/held"))
        assert await asyncio.to_thread(gate["entered"].acquire, True, 10)
        fast = status_of(await call(app, "/plain"))
        still_held = not held.done()
        gate["release"].set()
        await held
        return still_held, fast

    still_held, fast = asyncio.run(scenario())
    assert still_held and fast == 200
