"""The Redis the tests share limits through: KEFU_TEST_REDIS_URL, or the one .ci/run starts on
127.0.0.1:6379. Without one the Redis tests are skipped locally and fail in CI, where it must run."""

from __future__ import annotations

import os

import pytest
import redis

from tests.support.databases import IN_CI

REDIS_URL = os.environ.get("KEFU_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def redis_url() -> str:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError:
        if IN_CI:
            pytest.fail(f"CI must run the Redis tests: no Redis at {REDIS_URL}")
        pytest.skip(f"no Redis at {REDIS_URL}")
    return REDIS_URL
