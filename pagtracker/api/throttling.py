"""Per-plan rate limits (CONTRACT §2): a fixed one-minute window counted in the cache.

Under Redis the counter is a key shared by every process, incremented atomically, so the
limit holds across web processes; the embedded default counts in process memory.

Limits of ``RATE_LIMIT_LEASE_FROM`` (default 1000) per window and more are counted in leases:
a process reserves a block of the window's hits with one ``INCRBY`` (at most 64, and at most
1/32 of what is left, so near the limit every hit is one ``INCR`` again) and hands them out
from memory. Hits beyond the limit are refused whatever process holds them, so a merchant
never gets more than the limit; a block left unused in an idle process can make it refuse a
few hits early (at most 64 per process, and at most 1/32 of the window's remainder). Smaller
limits are exact: one ``INCR`` per hit. ``X-RateLimit-Remaining`` is then an estimate from
the process's own view."""

import functools
import threading
import time
from dataclasses import dataclass
from typing import Any, cast

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from django.core.signals import setting_changed
from django.dispatch import receiver
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from .ratecounter import RespCounter


@dataclass(slots=True)
class RateLimitState:
    limit: int
    remaining: int
    reset_at: int  # epoch seconds when the window ends

    @property
    def exceeded(self) -> bool:
        return self.remaining < 0


def rate_limit_hit(*, bucket: str, limit: int, window_seconds: int = 60) -> RateLimitState:
    """Count one hit in ``bucket``'s current window and say what is left."""
    window_start = int(time.time() // window_seconds) * window_seconds
    reset_at = window_start + window_seconds
    key = f"rl:{bucket}:{window_start}"
    kind = _cache_kind()
    if kind is LocMemCache:
        count = _local_count(key, expires_at=reset_at)
    elif kind is RedisCache:
        # The backend itself: ``django.core.cache.cache`` is a proxy.
        cache = cast(RedisCache, caches["default"])
        count = _redis_count(cache, key, limit=limit, ttl=window_seconds + 5, reset_at=reset_at)
    else:
        count = _cache_count(key, ttl=window_seconds + 5)
    return RateLimitState(limit=limit, remaining=limit - count, reset_at=reset_at)


@functools.cache
def _cache_kind() -> type:
    """How windows are counted, from the default cache's backend class (looked up once per
    process: ``caches[...]`` goes through a context-local lookup on every call)."""
    backend = type(caches["default"])
    for kind in (RedisCache, LocMemCache):
        if issubclass(backend, kind):
            return kind
    return BaseCache


@receiver(setting_changed)
def _cache_kind_reset(*, setting: str, **_: Any) -> None:
    if setting == "CACHES":
        _cache_kind.cache_clear()


def _cache_count(key: str, *, ttl: int) -> int:
    """Any other cache backend (memcached, the database): ``incr``, or an atomic ``add`` for
    the window's first hit."""
    cache = caches["default"]
    try:
        return int(cache.incr(key))
    except ValueError:
        # First hit of the window. ``add`` is atomic: if another process created the key
        # between our incr and add, fall back to incr on theirs.
        if cache.add(key, 1, timeout=ttl):
            return 1
        return int(cache.incr(key))


_local_counts: dict[str, tuple[int, int]] = {}  # key -> (hits, window end)
_local_lock = threading.Lock()


def _local_count(key: str, *, expires_at: int) -> int:
    """The window's hit count under the embedded default (a ``LocMemCache``, which is per
    process anyway): a dict under a lock, without the cache's key validation and pickling
    (a third of the rate limiter's cost per request)."""
    with _local_lock:
        hits, _ = _local_counts.get(key, (0, expires_at))
        if hits == 0 and len(_local_counts) >= 10_000:
            now = time.time()
            for stale in [k for k, (_, end) in _local_counts.items() if end <= now]:
                del _local_counts[stale]
        _local_counts[key] = (hits + 1, expires_at)
        return hits + 1


def rate_limits_reset() -> None:
    """Forget every window counted in this process (tests; the cache is cleared with it)."""
    with _local_lock:
        _local_counts.clear()
    with _leases_lock:
        _leases.clear()


@dataclass
class _Lease:
    next: int  # the next reserved hit number to hand out
    last: int  # the last one reserved (when next > last: spent; last is the newest count seen)
    reset_at: int


_leases: dict[str, _Lease] = {}
_leases_lock = threading.Lock()
_LEASE_MAX = 64
_LEASE_SHARE = 32


def _lease_size(limit: int, seen: int) -> int:
    if limit < settings.RATE_LIMIT_LEASE_FROM:
        return 1
    return max(1, min(_LEASE_MAX, (limit - seen) // _LEASE_SHARE))


def _redis_count(cache: RedisCache, key: str, *, limit: int, ttl: int, reset_at: int) -> int:
    """This hit's number in the window, from the process's lease or from Redis."""
    if limit < settings.RATE_LIMIT_LEASE_FROM:
        return _redis_incr(cache, key, ttl=ttl)
    with _leases_lock:
        lease = _leases.get(key)
        if lease is not None and lease.next <= lease.last:
            lease.next += 1
            return lease.next - 1
        size = _lease_size(limit, lease.last if lease is not None else 0)
        if size > 1:
            # Refills are one round trip per block: holding the lock meanwhile keeps two
            # threads from reserving a block each.
            last = _redis_incr(cache, key, ttl=ttl, amount=size)
            _lease_store(key, _Lease(next=last - size + 2, last=last, reset_at=reset_at))
            return last - size + 1
    count = _redis_incr(cache, key, ttl=ttl)
    with _leases_lock:
        lease = _leases.get(key)
        if lease is None or lease.last < count:
            _lease_store(key, _Lease(next=count + 1, last=count, reset_at=reset_at))
    return count


def _lease_store(key: str, lease: _Lease) -> None:
    if len(_leases) >= 10_000:
        now = time.time()
        for stale in [k for k, v in _leases.items() if v.reset_at <= now]:
            del _leases[stale]
    _leases[key] = lease


_counter: RespCounter | None = None
_redis_client: Any = None


def _redis_incr(cache: RedisCache, key: str, *, ttl: int, amount: int = 1) -> int:
    """One INCRBY; the window's first hit also sets the expiry. (If a process died
    between the two commands the key would outlive its window; window keys are never reused,
    so that costs a few bytes, not a limit.)

    Django's own ``cache.incr`` would cost two round trips (EXISTS, then INCRBY) and is not
    atomic on a window's first hit; redis-py's client costs several times the CPU of
    ``RespCounter``, which is used unless the URL needs TLS or a unix socket."""
    global _counter, _redis_client
    full_key = cache.make_and_validate_key(key)
    if _counter is None and _redis_client is None:
        url = cache._servers[0]  # type: ignore[attr-defined]
        if RespCounter.supports(url):
            _counter = RespCounter(url)
        else:
            # Django builds a new redis.Redis object per get_client() call; one per process
            # (thread-safe, over the shared pool of pagtracker.cache) is enough.
            _redis_client = cache._cache.get_client(full_key, write=True)  # type: ignore[attr-defined]
    if _counter is not None:
        return _counter.incr(full_key, ttl=ttl, amount=amount)
    count = int(_redis_client.incr(full_key, amount))
    if count == amount:
        _redis_client.expire(full_key, ttl)
    return count


def client_ip(request: Request) -> str:
    return str(request.META.get("REMOTE_ADDR", "unknown"))


class PlanRateThrottle(BaseThrottle):
    def allow_request(self, request: Request, view: Any) -> bool:
        user = request.user
        merchant = getattr(user, "merchant", None) if user is not None else None
        if merchant is not None:
            limit = settings.RATE_LIMITS_PER_MINUTE.get(merchant.plano, 60)
            bucket = f"m:{merchant.pk}"
        else:
            limit = settings.ANONYMOUS_RATE_LIMIT_PER_MINUTE
            bucket = f"ip:{client_ip(request)}"
        state = rate_limit_hit(bucket=bucket, limit=limit)
        self.state = state
        request._request.rate_limit = state  # type: ignore[attr-defined]
        return not state.exceeded

    def wait(self) -> float:
        return max(self.state.reset_at - time.time(), 1)


def login_attempt_allowed(*, request: Request, email: str) -> RateLimitState:
    """Password guessing guard: attempts per e-mail and per client address."""
    limit = settings.LOGIN_ATTEMPTS_PER_WINDOW
    window = settings.LOGIN_WINDOW_SECONDS
    by_email = rate_limit_hit(bucket=f"login:e:{email.lower()}", limit=limit, window_seconds=window)
    by_ip = rate_limit_hit(
        bucket=f"login:ip:{client_ip(request)}", limit=limit * 5, window_seconds=window
    )
    return by_email if by_email.remaining <= by_ip.remaining else by_ip
