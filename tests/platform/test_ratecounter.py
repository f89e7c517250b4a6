"""The rate-limit window counters (pagtracker/api/throttling.py): in process memory for the
embedded default, and on real Redis (CI's second run) through redis-py."""

import os
import random
import uuid

import pytest
import redis

from pagtracker.api.throttling import (
    LocalWindowCounter,
    RedisWindowCounter,
    rate_limit_hit,
    window_counter,
)
from pagtracker.cache import redis_client
from tests.conftest import run_concurrently

REDIS_URL = os.environ.get("REDIS_URL", "")
needs_redis = pytest.mark.skipif(not REDIS_URL, reason="needs REDIS_URL (CI's second run)")


class CountingRedisWindowCounter(RedisWindowCounter):
    """Records the amount of every round trip to Redis."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.calls: list[int] = []

    def incr(self, key: str, *, amount: int, ttl: int) -> int:
        self.calls.append(amount)
        return super().incr(key, amount=amount, ttl=ttl)


def fresh_key() -> str:
    return f"test:rl:{uuid.uuid4().hex}"


def test_the_embedded_default_counts_in_process_memory(settings):
    settings.REDIS_URL = ""
    assert isinstance(window_counter(), LocalWindowCounter)
    bucket = uuid.uuid4().hex
    states = [rate_limit_hit(bucket=bucket, limit=3) for _ in range(4)]
    assert [s.remaining for s in states] == [2, 1, 0, -1]
    assert [s.exceeded for s in states] == [False, False, False, True]
    assert rate_limit_hit(bucket=uuid.uuid4().hex, limit=3).remaining == 2


def test_local_counts_from_many_threads_are_exact():
    counter = LocalWindowCounter()
    key = fresh_key()
    results = run_concurrently(
        8, lambda _: [counter.hit(key, limit=10, ttl=60, reset_at=0) for _ in range(200)]
    )
    counts = sorted(n for hits in results for n in hits)
    assert counts == list(range(1, 1601))


@needs_redis
def test_with_redis_url_the_counter_is_redis_under_the_cache_prefix(settings):
    settings.REDIS_URL = REDIS_URL
    counter = window_counter()
    assert isinstance(counter, RedisWindowCounter)
    bucket = uuid.uuid4().hex
    assert rate_limit_hit(bucket=bucket, limit=60).remaining == 59
    prefix = settings.CACHES["default"].get("KEY_PREFIX", "")
    keys = redis.Redis.from_url(REDIS_URL).keys(f"*rl:{bucket}:*")
    assert len(keys) == 1 and keys[0].decode().startswith(f"{prefix}:rl:")


@needs_redis
def test_redis_counts_are_atomic_across_threads_and_expire_with_their_window():
    counter = RedisWindowCounter(redis_client(), key_prefix="", lease_from=10**9)
    key = fresh_key()
    results = run_concurrently(
        6, lambda _: [counter.hit(key, limit=100, ttl=30, reset_at=0) for _ in range(50)]
    )
    counts = sorted(n for hits in results for n in hits)
    assert counts == list(range(1, 301))
    plain = redis.Redis.from_url(REDIS_URL)
    assert int(plain.get(key)) == 300
    assert 0 < plain.ttl(key) <= 30


@needs_redis
def test_redis_counting_survives_a_dropped_connection_and_a_script_flush():
    client = redis.Redis.from_url(REDIS_URL, client_name=f"rl-{uuid.uuid4().hex[:12]}")
    counter = RedisWindowCounter(client, key_prefix="", lease_from=10**9)
    key = fresh_key()
    assert counter.hit(key, limit=10, ttl=30, reset_at=0) == 1
    admin = redis.Redis.from_url(REDIS_URL)
    name = client.client_getname()
    mine = [c for c in admin.client_list() if c.get("name") == name]
    assert mine and all(admin.client_kill(c["addr"]) for c in mine)
    admin.script_flush()
    assert counter.hit(key, limit=10, ttl=30, reset_at=0) == 2


@needs_redis
def test_an_error_from_redis_is_raised_not_counted():
    key = fresh_key()
    redis.Redis.from_url(REDIS_URL).set(key, "not a number")
    counter = RedisWindowCounter(redis_client(), key_prefix="", lease_from=10**9)
    with pytest.raises(redis.ResponseError, match="not an integer"):
        counter.hit(key, limit=10, ttl=30, reset_at=0)
    assert counter.hit(fresh_key(), limit=10, ttl=30, reset_at=0) == 1


# -- leases: two processes, as two counters on one Redis ------------------------------------


def hits_across_two_processes(*, limit: int, n: int, lease_from: int = 1000, seed: int = 7):
    processes = [
        CountingRedisWindowCounter(redis_client(), key_prefix="", lease_from=lease_from)
        for _ in range(2)
    ]
    rng = random.Random(seed)
    key = fresh_key()
    allowed = []
    for _ in range(n):
        count = processes[rng.randrange(2)].hit(key, limit=limit, ttl=3600, reset_at=0)
        allowed.append(count <= limit)
    return allowed, processes[0].calls + processes[1].calls, processes


@needs_redis
def test_leased_hits_never_exceed_the_limit_and_refuse_at_most_two_blocks_early():
    limit = 2000
    allowed, calls, processes = hits_across_two_processes(limit=limit, n=2600)
    assert sum(allowed) <= limit
    assert sum(allowed) >= limit - 2 * 64
    # Most of the window is served from blocks: a block refill per dozens of hits.
    assert len([c for c in calls if c > 1]) < limit / 10
    assert len(calls) < 2600 / 2
    # Near the limit blocks shrink to single hits: exact again.
    assert processes[0].calls[-1] == processes[1].calls[-1] == 1


@needs_redis
def test_limits_below_the_lease_threshold_cost_one_round_trip_per_hit():
    allowed, calls, _ = hits_across_two_processes(limit=300, n=320)
    assert allowed == [True] * 300 + [False] * 20
    assert calls == [1] * 320
