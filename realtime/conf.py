"""Realtime knobs. Each is a Django setting of the same name, else an environment variable of
the same name, else the default; read when used, never at import time."""

import os
from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    # Largest text frame a client may send; larger ones get ERROR frame_too_large.
    "REALTIME_MAX_FRAME_BYTES": 16 * 1024,
    # Per-socket token bucket: sustained messages per second and the burst above it.
    "REALTIME_MESSAGES_PER_SECOND": 20.0,
    "REALTIME_MESSAGE_BURST": 40,
    # Messages refused by the bucket, in a row, before the socket is closed with 1008.
    "REALTIME_FLOOD_CLOSE_AFTER": 20,
    # Sends queued to one socket that does not read; past this it is dropped (1008).
    "REALTIME_MAX_PENDING_SENDS": 256,
    # Lifetime of a ticket from POST /api/realtime/tickets.
    "REALTIME_TICKET_TTL_SECONDS": 60,
    # Presence under Redis: each process refreshes its entries every HEARTBEAT seconds; they
    # expire TTL seconds after the last refresh, so a dead process vanishes from the counts.
    "REALTIME_PRESENCE_HEARTBEAT_SECONDS": 5.0,
    "REALTIME_PRESENCE_TTL_SECONDS": 15,
    # WebSocket-level keepalive (manage.py serve): a ping every INTERVAL seconds; a peer that
    # has not answered within TIMEOUT more is dropped.
    "REALTIME_WS_PING_INTERVAL": 20.0,
    "REALTIME_WS_PING_TIMEOUT": 20.0,
    # On SIGTERM: how long open sockets get to finish the 1001 closing handshake.
    "REALTIME_SHUTDOWN_GRACE_SECONDS": 2.0,
}


def get(name: str) -> Any:
    default = DEFAULTS[name]
    value = getattr(settings, name, None)
    if value is None:
        value = os.environ.get(name)
    if value is None:
        return default
    return type(default)(value)


def redis_url() -> str:
    return str(getattr(settings, "REDIS_URL", "") or "")
