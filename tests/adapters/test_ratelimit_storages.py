"""The rate limiter on each of its storages: this process's memory, Redis, and the database (on
SQLite and PostgreSQL): the limit holds, the answer says how long to wait, keys are apart, and
threads racing for the last places never get more than the limit."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Iterator

import pytest
from limits.storage import MemoryStorage

from kefu.adapters.ratelimits import LimitsRateLimiter, build_limiter, storage_kind
from kefu.bootstrap import Kefu
from kefu.domain.errors import RateLimited
from kefu.services.ratelimits import Limit, Rate, RateLimits, rates
from tests.support.databases import Database
from tests.support.kefus import own_kefu
from tests.support.redis import redis_url


@pytest.fixture(scope="module")
def limits_kefu(database: Database, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kefu]:
    with own_kefu(database.backend, tmp_path_factory.mktemp("rl"), "kefu_rl") as k:
        yield k


@pytest.fixture(params=["memory", "database", "redis"])
def limiter(request: pytest.FixtureRequest, limits_kefu: Kefu) -> LimitsRateLimiter:
    url = redis_url() if request.param == "redis" else ""
    return build_limiter(request.param, redis_url=url, engine=limits_kefu.engine)


def test_the_limit_holds_per_key_and_says_when_to_come_back(limiter: LimitsRateLimiter) -> None:
    key, other = secrets.token_hex(6), secrets.token_hex(6)
    answers = [limiter.hit("test.limit", 3, 60, key) for _ in range(5)]
    assert answers[:3] == [None, None, None]
    assert all(wait is not None and 1 <= wait <= 120 for wait in answers[3:])
    assert limiter.hit("test.limit", 3, 60, other) is None  # another key counts apart
    assert limiter.hit("test.other", 3, 60, key) is None  # and another limit


def test_long_and_non_ascii_keys_are_counted_by_their_hash(limiter: LimitsRateLimiter) -> None:
    key = "客户" + secrets.token_hex(6) + "x" * 500
    assert [limiter.hit("test.long", 1, 60, key) is None for _ in range(2)] == [True, False]


def test_threads_racing_for_the_last_places_get_no_more_than_the_limit(limiter: LimitsRateLimiter) -> None:
    key, allowed, lock = secrets.token_hex(6), [], threading.Lock()

    def hit() -> None:
        for _ in range(5):
            ok = limiter.hit("test.race", 10, 60, key) is None
            with lock:
                allowed.append(ok)

    threads = [threading.Thread(target=hit) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert 1 <= sum(allowed) <= 10 and len(allowed) == 30


def test_a_nonce_is_remembered_for_its_whole_window_across_bucket_boundaries(limiter: LimitsRateLimiter) -> None:
    """A replayed WeChat push must be refused however the window's buckets fall: the sliding-window
    counter rounds the previous bucket down and forgot a nonce as soon as its bucket rolled over."""
    while time.time() % 2 < 1.6:  # just before a 2-second bucket boundary
        time.sleep(0.05)
    key = secrets.token_hex(6)
    assert limiter.first("test.nonce", key, 2)
    time.sleep(0.6)  # the boundary has passed, the 2 seconds have not
    assert not limiter.first("test.nonce", key, 2)
    time.sleep(2.1)
    assert limiter.first("test.nonce", key, 2)  # gone once its time is up (the timestamp check refuses it anyway)


def test_auto_chooses_redis_then_the_database_on_postgresql_then_memory(limits_kefu: Kefu) -> None:
    engine = limits_kefu.engine
    assert storage_kind("auto", redis_url="redis://127.0.0.1:6379/0", engine=engine) == "redis"
    expected = "database" if engine.dialect.name == "postgresql" else "memory"
    assert storage_kind("auto", redis_url="", engine=engine) == expected


def test_unreachable_redis_lets_requests_through_rather_than_failing_them(limits_kefu: Kefu) -> None:
    down = build_limiter("redis", redis_url="redis://127.0.0.1:1/0", engine=limits_kefu.engine)
    assert down.hit("test.down", 1, 60, "k") is None and down.hit("test.down", 1, 60, "k") is None


def test_rates_are_parsed_and_unknown_names_refused() -> None:
    assert Rate.parse("10/minute") == Rate(10, 60)
    assert Rate.parse("5 per hour") == Rate(5, 3600)
    assert Rate.parse("3/10 minutes") == Rate(3, 600)
    for bad in ("ten/minute", "0/minute", "5/fortnight", "5/0 minutes"):
        with pytest.raises(ValueError):
            Rate.parse(bad)
    with pytest.raises(ValueError, match="unknown rate limits"):
        rates({"login.everything": "1/minute"})
    assert rates({"login.address": "2/second"})[Limit.LOGIN_ADDRESS] == Rate(2, 1)


def test_a_full_window_is_refused_with_the_seconds_to_wait() -> None:
    limits = RateLimits(limiter=LimitsRateLimiter(MemoryStorage()), rates=rates({"login.address": "1/minute"}))
    limits.check(Limit.LOGIN_ADDRESS, "10.0.0.1")
    with pytest.raises(RateLimited) as refused:
        limits.check(Limit.LOGIN_ADDRESS, "10.0.0.1")
    assert 1 <= refused.value.retry_after <= 120
    assert limits.first_time("nonce", "a", 60) and not limits.first_time("nonce", "a", 60)
