"""The per-process room registry: which local sockets are in which room, and the one place
frames fan out from.

A frame for a room is serialized once and handed to each local member's socket directly; no
per-member channel-layer message, no per-member task when the socket can take it at once.
Across processes (Redis configured) each process has ONE channel-layer channel (``bridge``),
subscribed to the groups of the rooms it has members in; a frame published in one process is
delivered to its own members at once and sent once to the group, and every other process with
members fans it out locally. Presence (connections and rooms per merchant) lives here in-process and
is mirrored to Redis (see ``presence``) so the counts are true across processes.

Everything here runs on the server's event loop. Code on other threads (sync views, the task
worker's thread in the embedded server) calls ``publish_from_sync``.
"""

import asyncio
import logging
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from . import conf
from .bridge import (
    LayerBridge,
    Publisher,
    cross_process_layer,
    layer_message,
)

logger = logging.getLogger("pagtracker.realtime")

PROCESS_STARTED_AT = time.time()


class Member(Protocol):
    client_id: str
    merchant_key: str | None

    def push(self, message: dict[str, Any]) -> None: ...

    def close_now(self, code: int) -> None: ...


@dataclass(frozen=True, slots=True)
class Limits:
    max_frame_bytes: int
    rate: float
    burst: float
    flood_close_after: int
    max_pending_sends: int

    @classmethod
    def from_conf(cls) -> "Limits":
        return cls(
            max_frame_bytes=conf.get("REALTIME_MAX_FRAME_BYTES"),
            rate=conf.get("REALTIME_MESSAGES_PER_SECOND"),
            burst=float(conf.get("REALTIME_MESSAGE_BURST")),
            flood_close_after=conf.get("REALTIME_FLOOD_CLOSE_AFTER"),
            max_pending_sends=conf.get("REALTIME_MAX_PENDING_SENDS"),
        )


class Hub:
    def __init__(self) -> None:
        self._reset(None)

    def _reset(self, loop: asyncio.AbstractEventLoop | None) -> None:
        self.loop = loop
        self.groups: dict[str, set[Member]] = {}
        self.group_merchant: dict[str, str] = {}
        self.sockets: set[Member] = set()
        self.merchant_sockets: dict[str, int] = {}
        self.closing = False
        self.process_id = uuid.uuid4().hex
        self._limits = Limits.from_conf() if loop is not None else None
        self.bridge: Any = None
        self.presence: Any = None
        self._background: set[asyncio.Task[Any]] = set()

    @property
    def limits(self) -> Limits:
        if self._limits is None:
            self._limits = Limits.from_conf()
        return self._limits

    # -- binding to the running loop ------------------------------------------------------

    def loop_alive(self) -> bool:
        loop = self.loop
        if loop is not None and loop.is_closed():
            # The server (or a test's loop) is gone, and its sockets with it.
            self._reset(None)
            return False
        return loop is not None and loop.is_running()

    async def ensure_started(self) -> None:
        """Bind to the running loop (once per server; again when tests start a new loop)."""
        loop = asyncio.get_running_loop()
        if self.loop is loop:
            return
        if self.loop_alive():
            logger.warning("realtime hub moved to another running event loop")
        self._reset(loop)
        layer = cross_process_layer()
        if layer is not None and conf.redis_url():
            from .presence import RedisPresence

            self.bridge = LayerBridge(self, layer)
            self.presence = RedisPresence(self, conf.redis_url(), layer.prefix)
            await self.bridge.start()
            self.presence.start()

    async def stop(self) -> None:
        """Leave nothing behind: presence entries and group subscriptions of this process."""
        if self.loop is not asyncio.get_running_loop():
            return
        for task in list(self._background):
            task.cancel()
        if self.presence is not None:
            await self.presence.stop()
        if self.bridge is not None:
            await self.bridge.stop()

    def spawn(self, coro: Any) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return task

    # -- membership ------------------------------------------------------------------------

    def _count(self, merchant: str | None, delta: int) -> None:
        if merchant is None:
            return
        n = self.merchant_sockets.get(merchant, 0) + delta
        if n > 0:
            self.merchant_sockets[merchant] = n
        else:
            self.merchant_sockets.pop(merchant, None)
        if self.presence is not None:
            self.presence.mark_connections(merchant)

    def connect(self, member: Member) -> None:
        self.sockets.add(member)
        self._count(member.merchant_key, +1)

    def attribute(self, member: Member, merchant: str | None) -> None:
        """A socket now counts for ``merchant`` (an anonymous payer who joined a charge)."""
        if member.merchant_key == merchant:
            return
        if member in self.sockets:
            self._count(member.merchant_key, -1)
            self._count(merchant, +1)
        member.merchant_key = merchant

    def disconnect(self, member: Member, group: str | None) -> None:
        if group is not None:
            self.leave(member, group)
        if member in self.sockets:
            self.sockets.discard(member)
            self._count(member.merchant_key, -1)

    def join(self, member: Member, group: str, merchant: str) -> None:
        members = self.groups.get(group)
        if members is None:
            members = self.groups[group] = set()
            self.group_merchant[group] = merchant
        members.add(member)
        if self.presence is not None and is_room(group):
            self.presence.mark_room(merchant, group)

    def leave(self, member: Member, group: str) -> None:
        members = self.groups.get(group)
        if members is None:
            return
        members.discard(member)
        if members:
            if self.presence is not None and is_room(group):
                self.presence.mark_room(self.group_merchant[group], group)
            return
        # Empty rooms leave nothing behind: not here, not in Redis, not in the channel layer.
        del self.groups[group]
        merchant = self.group_merchant.pop(group)
        if self.presence is not None and is_room(group):
            self.presence.mark_room(merchant, group)
        if self.bridge is not None:
            self.bridge.reconcile(group)

    async def subscribed(self, group: str) -> None:
        """Return once frames sent to ``group`` from any process reach this one, and the
        presence mirror shows this process's current members."""
        if self.bridge is not None:
            await self.bridge.subscribe(group)
        if self.presence is not None:
            await self.presence.synced()

    # -- fan-out ---------------------------------------------------------------------------

    def deliver_local(self, group: str, text: str, exclude: Member | None = None) -> int:
        members = self.groups.get(group)
        if not members:
            return 0
        message = {"type": "websocket.send", "text": text}
        sent = 0
        for member in tuple(members):
            if member is not exclude:
                member.push(message)
                sent += 1
        return sent

    async def publish(self, group: str, text: str, exclude: Member | None = None) -> int:
        """Deliver to this process's members now, then once to the group for the others."""
        sent = self.deliver_local(group, text, exclude)
        if self.bridge is not None:
            await self.bridge.send(group, text)
        return sent

    async def publish_many(self, items: Iterable[tuple[str, str]]) -> None:
        for group, text in items:
            await self.publish(group, text)

    def publish_from_sync(self, items: list[tuple[str, str]]) -> None:
        """Publish from a thread that is not the loop's (fire and forget).

        The server's process: hand over to its loop. A process without a running hub (the
        task worker on its own, under Redis): send straight to the channel layer. The
        embedded default without a loop in this process has no one to tell."""
        if self.loop_alive():
            assert self.loop is not None
            if self.bridge is None and not any(group in self.groups for group, _ in items):
                return  # nobody here to tell, and no other process to tell
            try:
                running = asyncio.get_running_loop()
            except RuntimeError:
                running = None
            if running is self.loop:
                self.spawn(self.publish_many(items))
            else:
                asyncio.run_coroutine_threadsafe(self.publish_many(items), self.loop)
            return
        layer = cross_process_layer()
        if layer is None:
            return

        async def send_all() -> None:
            for group, text in items:
                try:
                    await layer.group_send(group, layer_message(group, text, origin=""))
                except Exception:
                    logger.exception("could not publish to group %s", group)

        _publisher.submit(send_all())

    def call_soon_wait(self, func: Any, *args: Any, timeout: float = 5.0) -> Any:
        """Run ``func(*args)`` on the loop and return its result (from another thread), or
        directly when there is no live loop (nothing is registered then)."""
        if not self.loop_alive():
            return func(*args)
        assert self.loop is not None
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self.loop:
            return func(*args)

        async def run() -> Any:
            return func(*args)

        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(timeout)

    # -- presence (this process) -----------------------------------------------------------

    def local_counts(self, merchant: str) -> tuple[int, int]:
        connections = self.merchant_sockets.get(merchant, 0)
        rooms = sum(1 for g, m in self.group_merchant.items() if m == merchant and is_room(g))
        return connections, rooms

    def local_members(self, group: str) -> int:
        return len(self.groups.get(group, ()))

    # -- shutdown --------------------------------------------------------------------------

    async def shutdown(self, code: int = 1001) -> None:
        """Refuse new sockets and close every open one with ``code`` (1001, going away)."""
        self.closing = True
        for member in list(self.sockets):
            member.close_now(code)


def is_room(group: str) -> bool:
    """Merchant channels (``/ws/merchant/``) are groups but not rooms: not counted, not
    reachable by the broadcast API."""
    return not group.startswith("rt.mc.")


_publisher = Publisher()
HUB = Hub()
