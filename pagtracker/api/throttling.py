"""Per-plan rate limits (CONTRACT §2): a fixed one-minute window counted in the cache.

Under Redis the counter is one atomic ``INCR`` on a key shared by every process, so the
limit holds across web processes; the embedded default counts in process memory."""

import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from .ratecounter import RespCounter


@dataclass(frozen=True)
class RateLimitState:
    limit: int
    remaining: int
    reset_at: int  # epoch seconds when the window ends

    @property
    def exceeded(self) -> bool:
        return self.remaining < 0


def rate_limit_hit(*, bucket: str, limit: int, window_seconds: int = 60) -> RateLimitState:
    """Count one hit in ``bucket``'s current window and say what is left."""
    now = time.time()
    window_start = int(now // window_seconds) * window_seconds
    key = f"rl:{bucket}:{window_start}"
    cache = caches["default"]  # the backend itself: ``django.core.cache.cache`` is a proxy
    if isinstance(cache, RedisCache):
        count = _redis_incr(cache, key, ttl=window_seconds + 5)
        return RateLimitState(
            limit=limit, remaining=limit - count, reset_at=window_start + window_seconds
        )
    try:
        count = cache.incr(key)
    except ValueError:
        # First hit of the window. ``add`` is atomic: if another process created the key
        # between our incr and add, fall back to incr on theirs.
        if cache.add(key, 1, timeout=window_seconds + 5):
            count = 1
        else:
            count = cache.incr(key)
    return RateLimitState(
        limit=limit, remaining=limit - count, reset_at=window_start + window_seconds
    )


_counter: RespCounter | None = None
_redis_client: Any = None


def _redis_incr(cache: RedisCache, key: str, *, ttl: int) -> int:
    """One INCR per request; the window's first hit also sets the expiry. (If a process died
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
        return _counter.incr(full_key, ttl=ttl)
    count = int(_redis_client.incr(full_key))
    if count == 1:
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
        request._request.rate_limit = RateLimitState(  # type: ignore[attr-defined]
            limit=state.limit, remaining=max(state.remaining, 0), reset_at=state.reset_at
        )
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
