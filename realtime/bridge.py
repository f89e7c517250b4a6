"""How a process's hub reaches the others: its one channel-layer channel and the groups it
is subscribed to (``LayerBridge``), and an event loop for processes that publish without
serving (``Publisher``)."""

import asyncio
import logging
import threading
from typing import TYPE_CHECKING, Any

from channels.layers import InMemoryChannelLayer, get_channel_layer

if TYPE_CHECKING:
    from .hub import Hub

logger = logging.getLogger("pagtracker.realtime")

LAYER_MESSAGE_TYPE = "rt.frame"


def layer_message(group: str, text: str, *, origin: str) -> dict[str, Any]:
    return {"type": LAYER_MESSAGE_TYPE, "g": group, "t": text, "o": origin}


def cross_process_layer() -> Any:
    """The channel layer when it reaches other processes (Redis), else None."""
    layer = get_channel_layer()
    if layer is None or isinstance(layer, InMemoryChannelLayer):
        return None
    return layer


class LayerBridge:
    """This process's single channel-layer channel and its group subscriptions.

    Subscriptions follow membership: a group is added when its first local member arrives
    and discarded when its last leaves. One task applies the changes in order, so a quick
    leave-then-join never ends unsubscribed; it also re-adds every group well before the
    layer's ``group_expiry`` drops it."""

    def __init__(self, hub: "Hub", layer: Any) -> None:
        self.hub = hub
        self.layer = layer
        self.channel = ""
        self.subscribed: set[str] = set()
        self.waiters: dict[str, asyncio.Future[None]] = {}
        self.queue: asyncio.Queue[str] = asyncio.Queue()
        self.queued: set[str] = set()

    async def start(self) -> None:
        self.channel = await self.layer.new_channel(prefix="rt")
        self.hub.spawn(self._receive_loop())
        self.hub.spawn(self._reconcile_loop())
        self.hub.spawn(self._refresh_loop())

    async def stop(self) -> None:
        for group in list(self.subscribed):
            try:
                await self.layer.group_discard(group, self.channel)
            except Exception:  # shutting down: the layer's expiry cleans up what we can't
                logger.warning("could not leave group %s on shutdown", group)
        self.subscribed.clear()

    def reconcile(self, group: str) -> None:
        if group not in self.queued:
            self.queued.add(group)
            self.queue.put_nowait(group)

    async def subscribe(self, group: str) -> None:
        if group in self.subscribed:
            return
        waiter = self.waiters.get(group)
        if waiter is None:
            waiter = self.waiters[group] = asyncio.get_running_loop().create_future()
        self.reconcile(group)
        await asyncio.shield(waiter)

    async def send(self, group: str, text: str) -> None:
        try:
            await self.layer.group_send(
                group, layer_message(group, text, origin=self.hub.process_id)
            )
        except Exception:
            logger.exception("could not publish to group %s through the channel layer", group)

    async def _reconcile_loop(self) -> None:
        while True:
            group = await self.queue.get()
            self.queued.discard(group)
            wanted = group in self.hub.groups
            try:
                if wanted and group not in self.subscribed:
                    await self.layer.group_add(group, self.channel)
                    self.subscribed.add(group)
                elif not wanted and group in self.subscribed:
                    self.subscribed.discard(group)
                    await self.layer.group_discard(group, self.channel)
            except Exception:
                logger.exception("channel layer subscription of %s failed", group)
            waiter = self.waiters.pop(group, None)
            if waiter is not None and not waiter.done():
                waiter.set_result(None)

    async def _refresh_loop(self) -> None:
        period = min(max(float(getattr(self.layer, "group_expiry", 86400)) / 3, 5.0), 3600.0)
        while True:
            await asyncio.sleep(period)
            for group in list(self.subscribed):
                try:
                    await self.layer.group_add(group, self.channel)
                except Exception:
                    logger.exception("could not refresh group %s", group)

    async def _receive_loop(self) -> None:
        while True:
            try:
                message = await self.layer.receive(self.channel)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("channel layer receive failed; retrying")
                await asyncio.sleep(1)
                continue
            if message.get("type") != LAYER_MESSAGE_TYPE or message.get("o") == self.hub.process_id:
                continue
            self.hub.deliver_local(message["g"], message["t"])


class Publisher:
    """An event loop on a thread of its own, for processes that publish without serving (the
    task worker under Redis): the channel layer keeps its connections on it, and the worker
    hands frames over without waiting for Redis."""

    def __init__(self) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None
        self.lock = threading.Lock()

    def submit(self, coro: Any) -> None:
        with self.lock:
            if self.loop is None or self.loop.is_closed():
                loop = asyncio.new_event_loop()
                threading.Thread(
                    target=loop.run_forever, name="realtime-publisher", daemon=True
                ).start()
                self.loop = loop
        asyncio.run_coroutine_threadsafe(coro, self.loop)
