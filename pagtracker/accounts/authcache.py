"""A short-lived, per-process cache of resolved credentials (API key → key, user, merchant;
JWT user id → user, merchant), so authenticating a request costs no query on a hit.

Bounded staleness is the price: a revocation, deactivation or profile change clears the cache
of the process that made it at once (``auth_cache_clear``, also wired to model saves) and
reaches other processes within ``AUTH_CACHE_SECONDS`` (default 5). Expiry of a key is still
checked on every request. Set ``AUTH_CACHE_SECONDS=0`` to disable.

The cached instances are shared by every request of the process, so ``request.user``, its
merchant and ``request.auth`` are read-only: a service that changes one re-reads its row
(under a lock) and saves that (``services.user_update_profile``). Handing each request its own
copy cost a tenth of ``GET /api/users/me``."""

import threading
import time
from typing import Any

from django.conf import settings

_entries: dict[str, tuple[float, Any]] = {}
_lock = threading.Lock()
_MAX_ENTRIES = 10_000


def auth_cache_get(key: str) -> Any | None:
    entry = _entries.get(key)
    if entry is None:
        return None
    expires, value = entry
    if expires < time.monotonic():
        _entries.pop(key, None)
        return None
    return value


def auth_cache_set(key: str, value: Any) -> None:
    ttl = settings.AUTH_CACHE_SECONDS
    if ttl <= 0:
        return
    with _lock:
        if len(_entries) >= _MAX_ENTRIES:
            _entries.clear()
        _entries[key] = (time.monotonic() + ttl, value)


def auth_cache_clear(**_: Any) -> None:
    with _lock:
        _entries.clear()
