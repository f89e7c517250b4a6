"""The ASGI handler (pagtracker/api/lanes.py): one hop to a lane's long-lived thread runs the
whole request, lanes are reused, and at most one request is in a lane at a time."""

import asyncio
import threading
import time
from typing import Any

import pytest
from django.core import signals
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.urls import path

from pagtracker.api.lanes import LaneASGIHandler

pytestmark = pytest.mark.urls("tests.platform.test_asgi_lanes")

log: list[tuple[str, Any]] = []
running = {"now": 0, "most": 0}


def plain(request: HttpRequest) -> HttpResponse:
    log.append(("view", threading.get_ident()))
    return JsonResponse({"ok": True})


def slow(request: HttpRequest) -> HttpResponse:
    running["now"] += 1
    running["most"] = max(running["most"], running["now"])
    time.sleep(0.02)
    running["now"] -= 1
    return JsonResponse({"ok": True})


def streamed(request: HttpRequest) -> HttpResponse:
    def chunks() -> Any:
        for i in range(3):
            log.append(("chunk", i))
            yield f"part{i};".encode()

    return StreamingHttpResponse(chunks())


urlpatterns = [path("plain", plain), path("slow", slow), path("streamed", streamed)]


@pytest.fixture(autouse=True)
def signal_log() -> Any:
    log.clear()
    running.update(now=0, most=0)

    def started(**kwargs: Any) -> None:
        log.append(("started", threading.get_ident()))

    def finished(**kwargs: Any) -> None:
        log.append(("finished", threading.get_ident()))

    signals.request_started.connect(started)
    signals.request_finished.connect(finished)
    yield
    signals.request_started.disconnect(started)
    signals.request_finished.disconnect(finished)


async def call(app: LaneASGIHandler, url: str) -> list[dict[str, Any]]:
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


def test_the_whole_request_runs_in_one_lane_thread_and_the_lane_is_reused() -> None:
    app = LaneASGIHandler(lanes=1)

    async def twice() -> tuple[list[dict[str, Any]], list[dict[str, Any]], int]:
        first = await call(app, "/plain")
        second = await call(app, "/plain")
        return first, second, threading.get_ident()

    first, second, loop_thread = asyncio.run(twice())
    for sent in (first, second):
        assert sent[0]["status"] == 200
        assert body_of(sent) == b'{"ok": true}'
    threads = {ident for kind, ident in log if kind in ("started", "view", "finished")}
    assert len(threads) == 1 and loop_thread not in threads
    kinds = [kind for kind, _ in log]
    # request_started, the view and request_finished (close) run before anything is sent.
    assert kinds == ["started", "view", "finished", "sent", "sent"] * 2


@pytest.mark.filterwarnings("ignore:StreamingHttpResponse must consume synchronous iterators")
def test_a_streamed_response_is_closed_after_its_last_chunk() -> None:
    sent = asyncio.run(call(LaneASGIHandler(lanes=1), "/streamed"))
    assert sent[0]["status"] == 200
    assert body_of(sent) == b"part0;part1;part2;"
    kinds = [kind for kind, _ in log]
    assert kinds.count("chunk") == 3 and kinds.count("finished") == 1
    assert kinds[-1] == "finished"  # after the last chunk was sent


def test_one_lane_runs_one_request_at_a_time_and_two_lanes_two() -> None:
    for lanes in (1, 2):
        running.update(now=0, most=0)
        app = LaneASGIHandler(lanes=lanes)

        async def many(app: LaneASGIHandler) -> list[list[dict[str, Any]]]:
            return await asyncio.gather(*(call(app, "/slow") for _ in range(6)))

        results = asyncio.run(many(app))
        assert [sent[0]["status"] for sent in results] == [200] * 6
        assert running["most"] == lanes


def test_a_freed_lane_goes_to_the_longest_waiter_not_to_a_newcomer() -> None:
    """Strict arrival order: the lane handed back goes to the first waiter even when another
    request asks for one before that waiter has run (asyncio.Queue would give it to the
    newcomer and send the waiter to the back of the line)."""
    app = LaneASGIHandler(lanes=1)

    async def scenario() -> list[str]:
        served: list[str] = []
        held = await app._lane_take()

        async def request(name: str) -> None:
            lane = await app._lane_take()
            served.append(name)
            await asyncio.sleep(0)
            app._lane_give(lane)

        first = asyncio.create_task(request("first"))
        second = asyncio.create_task(request("second"))
        await asyncio.sleep(0)  # both wait now
        app._lane_give(held)
        late = asyncio.create_task(request("late"))  # asks before "first" has run
        await asyncio.gather(first, second, late)
        return served

    assert asyncio.run(scenario()) == ["first", "second", "late"]


def test_a_cancelled_waiter_gives_up_its_place_and_loses_no_lane() -> None:
    app = LaneASGIHandler(lanes=1)

    async def scenario() -> int:
        held = await app._lane_take()
        gone = asyncio.create_task(app._lane_take())
        stays = asyncio.create_task(app._lane_take())
        await asyncio.sleep(0)
        gone.cancel()
        app._lane_give(held)
        lane = await stays
        app._lane_give(lane)
        with pytest.raises(asyncio.CancelledError):
            await gone
        return len(app._idle)

    assert asyncio.run(scenario()) == 1
