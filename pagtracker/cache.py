"""Django's Redis cache with one client (and so one connection pool) per process.

Django keeps cache backends per async context, so under ASGI every request builds a new
``RedisCache`` and, with it, a new connection pool and TCP connection to Redis: that doubled the
cost of a rate-limited API request (bench/README.md). The client is thread-safe; share it."""

import threading
from typing import Any

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from django.utils.functional import cached_property

_clients: dict[tuple[Any, ...], RedisCacheClient] = {}
_lock = threading.Lock()


class SharedRedisCache(RedisCache):
    @cached_property
    def _cache(self) -> RedisCacheClient:
        servers: list[str] = self._servers  # type: ignore[attr-defined]
        options: dict[str, Any] = self._options  # type: ignore[attr-defined]
        key = (tuple(servers), tuple(sorted(options.items())))
        client = _clients.get(key)
        if client is None:
            with _lock:
                client = _clients.setdefault(key, RedisCacheClient(servers, **options))
        return client
