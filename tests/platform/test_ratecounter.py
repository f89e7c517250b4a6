"""The rate-limit counter's own Redis connection (pagtracker/api/ratecounter.py), against the
real Redis of CI's second run."""

import os
import uuid

import pytest
import redis

from pagtracker.api.ratecounter import RedisReplyError, RespCounter

REDIS_URL = os.environ.get("REDIS_URL", "")
pytestmark = pytest.mark.skipif(not REDIS_URL, reason="needs REDIS_URL (CI's second run)")


def other_db_url() -> str:
    base = REDIS_URL.rsplit("/", 1)[0] if REDIS_URL.count("/") > 2 else REDIS_URL
    return f"{base}/7"


def test_counts_atomically_and_sets_the_expiry_on_the_first_hit():
    key = f"test:rc:{uuid.uuid4().hex}"
    counter = RespCounter(REDIS_URL)
    assert [counter.incr(key, ttl=30) for _ in range(3)] == [1, 2, 3]
    plain = redis.Redis.from_url(REDIS_URL)
    assert int(plain.get(key)) == 3
    assert 0 < plain.ttl(key) <= 30


def test_selects_the_database_of_the_url():
    key = f"test:rc:{uuid.uuid4().hex}"
    RespCounter(other_db_url()).incr(key, ttl=30)
    assert redis.Redis.from_url(other_db_url()).get(key) == b"1"
    assert redis.Redis.from_url(REDIS_URL).get(key) is None or other_db_url() == REDIS_URL


def test_reconnects_when_redis_dropped_the_connection():
    key = f"test:rc:{uuid.uuid4().hex}"
    counter = RespCounter(REDIS_URL)
    assert counter.incr(key, ttl=30) == 1
    admin = redis.Redis.from_url(REDIS_URL)
    host, port = counter._local.sock.getsockname()[:2]
    assert admin.client_kill(f"{host}:{port}")
    assert counter.incr(key, ttl=30) == 2


def test_an_error_reply_is_raised_not_counted():
    key = f"test:rc:{uuid.uuid4().hex}"
    redis.Redis.from_url(REDIS_URL).set(key, "not a number")
    counter = RespCounter(REDIS_URL)
    with pytest.raises(RedisReplyError, match="not an integer"):
        counter.incr(key, ttl=30)
    # The counter stays usable after an error line.
    assert counter.incr(f"{key}:2", ttl=30) == 1


def test_tls_and_unix_socket_urls_are_left_to_redis_py():
    assert RespCounter.supports("redis://127.0.0.1:6379/0")
    assert not RespCounter.supports("rediss://127.0.0.1:6379/0")
    assert not RespCounter.supports("unix:///tmp/redis.sock?db=1")


# -- leases (pagtracker/api/throttling.py): two processes simulated by two lease tables ------


def hits_across_two_processes(monkeypatch, *, bucket: str, limit: int, n: int, seed: int = 7):
    import random

    from pagtracker.api import throttling

    tables: list[dict] = [{}, {}]
    calls = []
    real_incr = throttling._redis_incr

    def counting_incr(*args, **kwargs):
        calls.append(kwargs.get("amount", 1))
        return real_incr(*args, **kwargs)

    monkeypatch.setattr(throttling, "_redis_incr", counting_incr)
    rng = random.Random(seed)
    allowed = []
    for _ in range(n):
        monkeypatch.setattr(throttling, "_leases", tables[rng.randrange(2)])
        state = throttling.rate_limit_hit(bucket=bucket, limit=limit, window_seconds=3600)
        allowed.append(not state.exceeded)
    return allowed, calls


def test_leased_hits_never_exceed_the_limit_and_refuse_at_most_two_blocks_early(monkeypatch):
    limit = 2000
    allowed, calls = hits_across_two_processes(
        monkeypatch, bucket=f"lease:{uuid.uuid4().hex}", limit=limit, n=2600
    )
    assert sum(allowed) <= limit
    assert sum(allowed) >= limit - 2 * 64
    # The first half of the window is served from blocks: a Redis call per dozens of hits.
    assert len([c for c in calls if c > 1]) < 2600 / 20
    # Near the limit blocks shrink to single hits: exact again.
    assert calls[-1] == 1


def test_limits_below_the_lease_threshold_cost_one_incr_per_hit(monkeypatch, settings):
    settings.RATE_LIMIT_LEASE_FROM = 1000
    allowed, calls = hits_across_two_processes(
        monkeypatch, bucket=f"lease:{uuid.uuid4().hex}", limit=300, n=320
    )
    assert allowed == [True] * 300 + [False] * 20
    assert calls == [1] * 320
