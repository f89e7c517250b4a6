"""The process's Redis client (redis-py), for code that talks to Redis directly.

One ``redis.Redis`` per process, built on first use from ``REDIS_URL``: it is thread-safe and
keeps its own connection pool, which redis-py rebuilds in a forked child."""

import threading
from typing import Any

import redis
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

_client: redis.Redis | None = None
_client_lock = threading.Lock()


def redis_client() -> redis.Redis:
    """The shared client of ``settings.REDIS_URL`` (which must be set)."""
    global _client
    client = _client
    if client is None:
        with _client_lock:
            if _client is None:
                if not settings.REDIS_URL:
                    raise RuntimeError("REDIS_URL is not set")
                _client = redis.Redis.from_url(
                    settings.REDIS_URL, socket_timeout=5, socket_connect_timeout=5
                )
            client = _client
    return client


@receiver(setting_changed)
def redis_client_reset(*, setting: str, **_: Any) -> None:
    global _client
    if setting == "REDIS_URL":
        with _client_lock:
            _client = None
