"""The rate limiter the services count hits with (kefu.services.ports.RateLimiter): the `limits`
library's sliding-window-counter strategy on one of its storages — Redis, the database
(kefu.adapters.db.ratelimit_repository) or this process's memory."""

from __future__ import annotations

import hashlib
import logging
import time
from typing import Literal

from limits import RateLimitItemPerSecond
from limits.errors import StorageError
from limits.storage import MemoryStorage, RedisStorage, Storage
from limits.strategies import SlidingWindowCounterRateLimiter
from sqlalchemy import Engine

from kefu.adapters.db.ratelimit_repository import SqlRateLimitStorage

log = logging.getLogger("kefu.ratelimits")

StorageKind = Literal["auto", "memory", "database", "redis"]
#: Keys longer than this (a username or a header typed by anyone) are counted by their SHA-256.
LONGEST_KEY = 80


class LimitsRateLimiter:
    """Counts in `storage`. When the storage cannot be reached (Redis down) a hit is let through and
    logged: the limits protect the service, they must not take it down; the login lockout, kept in
    the database, still holds."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self.strategy = SlidingWindowCounterRateLimiter(storage)

    def hit(self, name: str, amount: int, seconds: int, key: str) -> float | None:
        key = _stored_key(key)
        item = RateLimitItemPerSecond(amount, seconds, namespace="kefu")
        try:
            if self.strategy.hit(item, name, key):
                return None
            reset = self.strategy.get_window_stats(item, name, key).reset_time
        except StorageError:
            log.warning("rate-limit storage unavailable; %s not counted", name, exc_info=True)
            return None
        return max(1.0, reset - time.time())

    def first(self, name: str, key: str, seconds: int) -> bool:
        """A counter that lives exactly `seconds` from its first hit (not the sliding window, whose
        previous bucket rounds down and would forget a nonce at a bucket boundary)."""
        try:
            return self.storage.incr(f"kefu/once/{name}/{_stored_key(key)}", seconds) == 1
        except StorageError:
            log.warning("rate-limit storage unavailable; %s refused (replay check fails closed)", name)
            return False


def _stored_key(key: str) -> str:
    """Keys longer than LONGEST_KEY or not ASCII (a username or a header typed by anyone) are
    counted by their SHA-256."""
    if len(key) > LONGEST_KEY or not key.isascii():
        return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
    return key


def storage_kind(kind: StorageKind, *, redis_url: str, engine: Engine) -> Literal["memory", "database", "redis"]:
    """auto: Redis when configured, else the database on PostgreSQL, else memory (one process)."""
    if kind != "auto":
        return kind
    if redis_url:
        return "redis"
    return "database" if engine.dialect.name == "postgresql" else "memory"


def build_limiter(kind: StorageKind, *, redis_url: str, engine: Engine) -> LimitsRateLimiter:
    chosen = storage_kind(kind, redis_url=redis_url, engine=engine)
    storage: Storage
    if chosen == "redis":
        storage = RedisStorage(redis_url, wrap_exceptions=True, socket_timeout=2, socket_connect_timeout=2)
    elif chosen == "database":
        storage = SqlRateLimitStorage(engine)
    else:
        storage = MemoryStorage(wrap_exceptions=True)
    return LimitsRateLimiter(storage)
