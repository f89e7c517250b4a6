"""Per-plan rate limits (CONTRACT §2): a fixed one-minute window of hits per bucket.

With ``REDIS_URL`` a window is one Redis key shared by every process, incremented (and given
its expiry) in one atomic round trip, so the limit holds across web processes. The embedded
default counts in process memory.

Under Redis, limits of ``RATE_LIMIT_LEASE_FROM`` (default 1000) per window and more are
counted in leases: a process reserves a block of the window's hits in that one round trip (at
most 64, and at most 1/32 of what is left, so near the limit every hit is its own round trip
again) and hands them out from memory. Hits beyond the limit are refused whatever process
holds them, so a merchant never gets more than the limit; a block left unused in an idle
process can make another refuse a few hits early (at most 64 per process, and at most 1/32 of
the window's remainder), and ``X-RateLimit-Remaining`` is then the serving process's
estimate. Smaller limits are exact: one round trip per hit."""

import os
import threading
import time
from dataclasses import dataclass
from typing import Any

import redis
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from pagtracker.cache import redis_client


@dataclass(slots=True)
class RateLimitState:
    limit: int
    remaining: int
    reset_at: int  # epoch seconds when the window ends

    @property
    def exceeded(self) -> bool:
        return self.remaining < 0


class LocalWindowCounter:
    """Hits per window in this process's memory (the embedded default)."""

    def __init__(self) -> None:
        self.counts: dict[str, tuple[int, int]] = {}  # key -> (hits, window end)
        self.lock = threading.Lock()

    def hit(self, key: str, *, limit: int, ttl: int, reset_at: int) -> int:
        with self.lock:
            hits, _ = self.counts.get(key, (0, reset_at))
            if hits == 0 and len(self.counts) >= 10_000:
                now = time.time()
                for stale in [k for k, (_, end) in self.counts.items() if end <= now]:
                    del self.counts[stale]
            self.counts[key] = (hits + 1, reset_at)
            return hits + 1


# INCRBY, and the expiry when this increment created the key: atomic, so a window's key never
# outlives it even if the caller dies between the two.
WINDOW_HIT_SCRIPT = """
local count = redis.call('INCRBY', KEYS[1], ARGV[1])
if count == tonumber(ARGV[1]) then
    redis.call('EXPIRE', KEYS[1], ARGV[2])
end
return count
"""

LEASE_MAX = 64
LEASE_SHARE = 32


@dataclass(slots=True)
class Lease:
    next: int  # the next reserved hit number to hand out
    last: int  # the last one reserved (next > last: spent; last is the newest count seen)
    reset_at: int


class RedisWindowCounter:
    """Hits per window in Redis, shared by every process: one round trip per hit, or per
    leased block of hits for limits of ``lease_from`` and more."""

    def __init__(self, client: redis.Redis, *, key_prefix: str, lease_from: int) -> None:
        self.script = client.register_script(WINDOW_HIT_SCRIPT)
        self.key_prefix = f"{key_prefix}:" if key_prefix else ""
        self.lease_from = lease_from
        self.leases: dict[str, Lease] = {}
        self.lock = threading.Lock()

    def incr(self, key: str, *, amount: int, ttl: int) -> int:
        """Add ``amount`` hits to the window's key; the count after them."""
        return int(self.script(keys=[self.key_prefix + key], args=[amount, ttl]))

    def hit(self, key: str, *, limit: int, ttl: int, reset_at: int) -> int:
        if limit < self.lease_from:
            return self.incr(key, amount=1, ttl=ttl)
        with self.lock:
            lease = self.leases.get(key)
            if lease is not None and lease.next <= lease.last:
                lease.next += 1
                return lease.next - 1
            seen = lease.last if lease is not None else 0
            size = max(1, min(LEASE_MAX, (limit - seen) // LEASE_SHARE))
            if size > 1:
                # Holding the lock through the round trip keeps two threads from reserving a
                # block each.
                last = self.incr(key, amount=size, ttl=ttl)
                self.lease_store(key, Lease(next=last - size + 2, last=last, reset_at=reset_at))
                return last - size + 1
        count = self.incr(key, amount=1, ttl=ttl)
        with self.lock:
            lease = self.leases.get(key)
            if lease is None or lease.last < count:
                self.lease_store(key, Lease(next=count + 1, last=count, reset_at=reset_at))
        return count

    def lease_store(self, key: str, lease: Lease) -> None:
        if len(self.leases) >= 10_000:
            now = time.time()
            for stale in [k for k, v in self.leases.items() if v.reset_at <= now]:
                del self.leases[stale]
        self.leases[key] = lease


_counter: LocalWindowCounter | RedisWindowCounter | None = None
_counter_lock = threading.Lock()


def window_counter() -> LocalWindowCounter | RedisWindowCounter:
    """This process's counter, built on first use from the settings."""
    global _counter
    counter = _counter
    if counter is None:
        with _counter_lock:
            if _counter is None:
                if settings.REDIS_URL:
                    _counter = RedisWindowCounter(
                        redis_client(),
                        key_prefix=settings.CACHES["default"].get("KEY_PREFIX", ""),
                        lease_from=settings.RATE_LIMIT_LEASE_FROM,
                    )
                else:
                    _counter = LocalWindowCounter()
            counter = _counter
    return counter


def rate_limits_reset() -> None:
    """Forget this process's counts and leases (tests, setting changes; and a forked child,
    which must not hand out its parent's leased hits a second time)."""
    global _counter
    with _counter_lock:
        _counter = None


os.register_at_fork(after_in_child=rate_limits_reset)


@receiver(setting_changed)
def rate_limits_settings_changed(*, setting: str, **_: Any) -> None:
    if setting in {"REDIS_URL", "CACHES", "RATE_LIMIT_LEASE_FROM"}:
        rate_limits_reset()


def rate_limit_hit(*, bucket: str, limit: int, window_seconds: int = 60) -> RateLimitState:
    """Count one hit in ``bucket``'s current window and say what is left."""
    window_start = int(time.time() // window_seconds) * window_seconds
    reset_at = window_start + window_seconds
    count = window_counter().hit(
        f"rl:{bucket}:{window_start}", limit=limit, ttl=window_seconds + 5, reset_at=reset_at
    )
    return RateLimitState(limit=limit, remaining=limit - count, reset_at=reset_at)


def client_ip(request: Request) -> str:
    return str(request.META.get("REMOTE_ADDR", "unknown"))


class PlanRateThrottle(BaseThrottle):
    """The merchant's plan limit (or the anonymous one per address), with the
    ``X-RateLimit-*`` headers on the view's response, a 429 included."""

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
        # APIView.finalize_response copies view.headers onto whatever response the view ends
        # with, so the 429 carries them too.
        view.headers["X-RateLimit-Limit"] = str(state.limit)
        view.headers["X-RateLimit-Remaining"] = str(max(state.remaining, 0))
        view.headers["X-RateLimit-Reset"] = str(state.reset_at)
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
