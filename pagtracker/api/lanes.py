"""Django's ASGI handler with a fixed pool of long-lived sync threads ("lanes"), and one thread
hop per request.

Stock Django runs each HTTP request's sync code in a ``ThreadSensitiveContext`` of its own: a
new thread per request, hence a new database connection and a new cache (Redis) client per
request, and unbounded concurrent SQLite writers inside one process. Measured on the charge
endpoints that cost 40% of the throughput and multiplied p99 by 5-10 (bench/README.md).

Here each request borrows one of ``ASGI_SYNC_LANES`` reusable contexts; every lane keeps its
thread, so connections persist (``CONN_MAX_AGE``) and a process has at most that many requests
in its sync code at once. Requests wait for a free lane in arrival order, strictly: a lane that
comes free is handed to the longest waiter, never taken by a request that arrives meanwhile.
(``asyncio.Queue`` lets a newcomer take it while the woken waiter is still scheduled, and the
waiter goes back to the end of the line, so one request could lose its turn again and again.)
A slow request (a
webhook test send) occupies one lane, which is the whole process where there is only one
(SQLite behind several processes: settings.py).

Stock Django also crosses between the event loop and the sync thread four or five times per
request: ``request_started``, the sync middleware, back to the loop for the async core of the
chain, the sync view, ``response.close()``. Our views and middleware are all sync, so here the
middleware chain is loaded in sync mode (as under WSGI) and one call on the lane runs
``request_started``, the request, the whole chain and, for a response that is not streamed,
``close()``. The event loop only reads the body and writes the response."""

import asyncio
from collections import deque
from contextlib import closing
from typing import Any

from asgiref.sync import SyncToAsync, ThreadSensitiveContext, sync_to_async
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers import base
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.http import FileResponse, HttpResponseBase
from django.urls import set_script_prefix


class LaneASGIHandler(ASGIHandler):
    def __init__(self, *, lanes: int) -> None:
        base.BaseHandler.__init__(self)
        self.load_middleware(is_async=False)
        self._idle = [ThreadSensitiveContext() for _ in range(max(lanes, 1))]
        self._waiting: deque[asyncio.Future[ThreadSensitiveContext]] = deque()
        self._serve_on_lane = sync_to_async(self._serve, thread_sensitive=True)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        lane = await self._lane_take()
        # The lane context is never exited, so asgiref keeps its one-thread executor alive.
        token = SyncToAsync.thread_sensitive_context.set(lane)
        try:
            await self.handle(scope, receive, send)
        finally:
            SyncToAsync.thread_sensitive_context.reset(token)
            self._lane_give(lane)

    async def _lane_take(self) -> ThreadSensitiveContext:
        if self._idle:
            return self._idle.pop()
        waiter: asyncio.Future[ThreadSensitiveContext] = asyncio.get_running_loop().create_future()
        self._waiting.append(waiter)
        try:
            return await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._lane_give(waiter.result())  # handed a lane, then cancelled: pass it on
            elif waiter in self._waiting:
                self._waiting.remove(waiter)
            raise

    def _lane_give(self, lane: ThreadSensitiveContext) -> None:
        while self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_result(lane)
                return
        self._idle.append(lane)

    async def handle(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        with closing(body_file):
            response = await self._serve_on_lane(scope, body_file)
            await self.send_response(response, send)
            if response.streaming:
                await sync_to_async(response.close, thread_sensitive=True)()

    def _serve(self, scope: dict[str, Any], body_file: Any) -> HttpResponseBase:
        """On the lane: the whole sync request, as Django's WSGI handler runs it."""
        set_script_prefix(get_script_prefix(scope))
        signals.request_started.send(sender=self.__class__, scope=scope)
        request, response = self.create_request(scope, body_file)
        if request is not None:
            response = self.get_response(request)
            response._handler_class = self.__class__  # type: ignore[attr-defined]
            if isinstance(response, FileResponse):
                response.block_size = self.chunk_size
        assert response is not None
        if not response.streaming:
            # The content is in memory: close now (request_finished, the request's files)
            # rather than hop back to this thread after sending.
            response.close()
        return response


def lane_asgi_application() -> LaneASGIHandler:
    import django
    from django.conf import settings

    django.setup(set_prefix=False)
    return LaneASGIHandler(lanes=settings.ASGI_SYNC_LANES)
