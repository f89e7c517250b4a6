"""Presence: how many sockets and rooms a merchant has, and who is in a room.

Embedded default (in-memory channel layer): one process serves every socket, so the hub's
own registry is the truth.

Redis: each process mirrors its part into Redis and the readers add the parts up.

- ``<prefix>:rt:procs`` ZSET: process id → time its entries stop being trusted (now + TTL,
  pushed forward by a heartbeat every few seconds);
- ``<prefix>:rt:p:<process>:conns`` HASH: merchant → sockets of that merchant in the process;
- ``<prefix>:rt:p:<process>:rooms:<merchant>`` HASH: room group → members in the process.

Every key expires TTL seconds after the last heartbeat, so a process that dies leaves nothing
behind; one that exits cleanly deletes its keys. Rooms that empty are deleted at once (HDEL;
Redis drops an empty hash). Changes are written right away, coalesced into one pipeline per
loop turn, and a socket's CONNECTION_ESTABLISHED waits for the write that includes it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from functools import cache
from typing import TYPE_CHECKING, Any

from channels.layers import get_channel_layer

from . import conf
from .bridge import cross_process_layer

if TYPE_CHECKING:
    from .hub import Hub

logger = logging.getLogger("pagtracker.realtime")


def _base(prefix: str) -> str:
    return f"{prefix}:rt"


def _procs_key(base: str) -> str:
    return f"{base}:procs"


def _conns_key(base: str, process: str) -> str:
    return f"{base}:p:{process}:conns"


def _rooms_key(base: str, process: str, merchant: str) -> str:
    return f"{base}:p:{process}:rooms:{merchant}"


class RedisPresence:
    def __init__(self, hub: Hub, url: str, prefix: str) -> None:
        import redis.asyncio

        self.hub = hub
        self.client = redis.asyncio.Redis.from_url(url)
        self.base = _base(prefix)
        self.process = hub.process_id
        self.ttl = int(conf.get("REALTIME_PRESENCE_TTL_SECONDS"))
        self.heartbeat = float(conf.get("REALTIME_PRESENCE_HEARTBEAT_SECONDS"))
        self.dirty_connections: set[str] = set()
        self.dirty_rooms: set[tuple[str, str]] = set()
        self.flushing = False
        self.again = False
        self.waiters: list[asyncio.Future[None]] = []

    def start(self) -> None:
        self.mark_connections("*")
        self.hub.spawn(self._heartbeat_loop())

    async def stop(self) -> None:
        merchants = set(self.hub.group_merchant.values()) | set(self.hub.merchant_sockets)
        try:
            pipe = self.client.pipeline(transaction=False)
            pipe.zrem(_procs_key(self.base), self.process)
            pipe.delete(_conns_key(self.base, self.process))
            for merchant in merchants:
                pipe.delete(_rooms_key(self.base, self.process, merchant))
            await pipe.execute()
            await self.client.aclose()
        except Exception:  # their TTL removes them anyway
            logger.warning("could not remove this process's presence entries")

    def mark_connections(self, merchant: str) -> None:
        self.dirty_connections.add(merchant)
        self._schedule()

    def mark_room(self, merchant: str, group: str) -> None:
        self.dirty_rooms.add((merchant, group))
        self._schedule()

    def _schedule(self) -> None:
        if self.flushing:
            self.again = True
        else:
            self.flushing = True
            self.hub.spawn(self._flush_loop())

    async def synced(self) -> None:
        """Wait until Redis shows every change made before this call."""
        if not self.flushing and not self.dirty_connections and not self.dirty_rooms:
            return
        waiter = asyncio.get_running_loop().create_future()
        self.waiters.append(waiter)
        self._schedule()
        await waiter

    async def _flush_loop(self) -> None:
        try:
            while True:
                self.again = False
                waiters, self.waiters = self.waiters, []
                try:
                    await self._flush_once()
                except Exception:
                    logger.exception("presence write to Redis failed")
                for waiter in waiters:
                    if not waiter.done():
                        waiter.set_result(None)
                if not (self.again or self.dirty_connections or self.dirty_rooms or self.waiters):
                    return
        finally:
            self.flushing = False

    async def _flush_once(self) -> None:
        connections, self.dirty_connections = self.dirty_connections, set()
        rooms, self.dirty_rooms = self.dirty_rooms, set()
        pipe = self.client.pipeline(transaction=False)
        pipe.zadd(_procs_key(self.base), {self.process: time.time() + self.ttl})
        conns_key = _conns_key(self.base, self.process)
        for merchant in connections:
            count = (
                len(self.hub.sockets)
                if merchant == "*"
                else (self.hub.merchant_sockets.get(merchant, 0))
            )
            if count:
                pipe.hset(conns_key, merchant, count)
            else:
                pipe.hdel(conns_key, merchant)
        pipe.hset(conns_key, "*", len(self.hub.sockets))
        pipe.expire(conns_key, self.ttl)
        touched = set()
        for merchant, group in rooms:
            key = _rooms_key(self.base, self.process, merchant)
            members = self.hub.local_members(group)
            if members:
                pipe.hset(key, group, members)
                touched.add(key)
            else:
                pipe.hdel(key, group)
        for key in touched:
            pipe.expire(key, self.ttl)
        await pipe.execute()

    async def _heartbeat_loop(self) -> None:
        beats = 0
        while True:
            await asyncio.sleep(self.heartbeat)
            beats += 1
            if beats % 12 == 0:
                # Rewrite everything now and then, in case Redis lost it (restart, eviction).
                self.dirty_connections.update(self.hub.merchant_sockets)
                self.dirty_rooms.update((m, g) for g, m in self.hub.group_merchant.items())
            try:
                now = time.time()
                pipe = self.client.pipeline(transaction=False)
                pipe.zadd(_procs_key(self.base), {self.process: now + self.ttl})
                pipe.zremrangebyscore(_procs_key(self.base), "-inf", now)
                pipe.expire(_conns_key(self.base, self.process), self.ttl)
                for merchant in set(self.hub.group_merchant.values()):
                    pipe.expire(_rooms_key(self.base, self.process, merchant), self.ttl)
                await pipe.execute()
            except Exception:
                logger.exception("presence heartbeat failed")
            if self.dirty_connections or self.dirty_rooms:
                self._schedule()


# -- readers (sync: the HTTP views) ---------------------------------------------------------


@cache
def _sync_client(url: str) -> Any:
    import redis

    return redis.Redis.from_url(url)


def _redis_base() -> tuple[Any, str] | None:
    layer = cross_process_layer()
    url = conf.redis_url()
    if layer is None or not url:
        return None
    return _sync_client(url), _base(getattr(get_channel_layer(), "prefix", "asgi"))


def _live_processes(client: Any, base: str) -> list[str]:
    return [p.decode() for p in client.zrangebyscore(_procs_key(base), time.time(), "+inf")]


def merchant_counts(merchant: str) -> tuple[int, int] | None:
    """(open sockets, rooms with members) of a merchant, across every live process; None
    without Redis (the local hub then knows them all)."""
    redis_side = _redis_base()
    if redis_side is None:
        return None
    client, base = redis_side
    processes = _live_processes(client, base)
    if not processes:
        return 0, 0
    pipe = client.pipeline(transaction=False)
    for process in processes:
        pipe.hget(_conns_key(base, process), merchant)
        pipe.hkeys(_rooms_key(base, process, merchant))
    replies = pipe.execute()
    connections = sum(int(c or 0) for c in replies[0::2])
    rooms: set[bytes] = set()
    for keys in replies[1::2]:
        rooms.update(keys)
    return connections, len(rooms)


def room_members(*, group: str, merchant: str) -> int | None:
    """How many sockets are in a room, across every live process; None without Redis."""
    redis_side = _redis_base()
    if redis_side is None:
        return None
    client, base = redis_side
    processes = _live_processes(client, base)
    if not processes:
        return 0
    pipe = client.pipeline(transaction=False)
    for process in processes:
        pipe.hget(_rooms_key(base, process, merchant), group)
    return sum(int(n or 0) for n in pipe.execute())
