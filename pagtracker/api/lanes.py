"""Django's ASGI handler with a fixed pool of long-lived sync threads ("lanes").

Stock Django runs each HTTP request's sync code in a ``ThreadSensitiveContext`` of its own: a
new thread per request, hence a new database connection and a new cache (Redis) client per
request, and unbounded concurrent SQLite writers inside one process. Measured on the charge
endpoints that cost 40% of the throughput and multiplied p99 by 5-10 (bench/README.md).

Here each request borrows one of ``ASGI_SYNC_LANES`` reusable contexts; every lane keeps its
thread, so connections persist (``CONN_MAX_AGE``) and a process has at most that many requests
in its sync code at once. Requests wait for a free lane in arrival order. A slow request (a
webhook test send) occupies one lane, which is the whole process where there is only one
(SQLite behind several processes: settings.py)."""

import asyncio
from typing import Any

from asgiref.sync import SyncToAsync, ThreadSensitiveContext
from django.core.handlers.asgi import ASGIHandler


class LaneASGIHandler(ASGIHandler):
    def __init__(self, *, lanes: int) -> None:
        super().__init__()
        self._lanes = [ThreadSensitiveContext() for _ in range(max(lanes, 1))]
        self._free: asyncio.Queue[ThreadSensitiveContext] | None = None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        if self._free is None:
            self._free = asyncio.Queue()
            for lane in self._lanes:
                self._free.put_nowait(lane)
        lane = await self._free.get()
        # The lane context is never exited, so asgiref keeps its one-thread executor alive.
        token = SyncToAsync.thread_sensitive_context.set(lane)
        try:
            await self.handle(scope, receive, send)
        finally:
            SyncToAsync.thread_sensitive_context.reset(token)
            self._free.put_nowait(lane)


def lane_asgi_application() -> LaneASGIHandler:
    import django
    from django.conf import settings

    django.setup(set_prefix=False)
    return LaneASGIHandler(lanes=settings.ASGI_SYNC_LANES)
