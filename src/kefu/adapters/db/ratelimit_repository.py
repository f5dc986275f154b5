"""Rate-limit counts in the database, for several server processes on one PostgreSQL without Redis:
a storage of the `limits` library (its Storage interface and the sliding-window-counter support),
so the same strategy runs on memory, Redis and SQL.

Why a storage of `limits` rather than a table of our own: the strategy (the weighted count of
the current and the previous window, Retry-After from the window's reset) stays the library's,
tested once for every storage. Why the sliding window counter: one row per key and window — a
fixed window lets twice the limit through around a window's edge, a moving window keeps one row
per hit. Each hit is one transaction of two statements (the previous window's count, then an
upsert of the current one) that does not wait for the disk (synchronous_commit off: a count lost
to a crash costs nothing); expired rows go now and then, at about one hit in 256.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from math import floor
from typing import Any

from limits.storage.base import SlidingWindowCounterSupport, Storage, TimestampedSlidingWindow
from sqlalchemy import Connection, Engine, case, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from kefu.adapters.db.tables import rate_limit_counters as t

PURGE_ONE_IN = 256


class SqlRateLimitStorage(Storage, SlidingWindowCounterSupport, TimestampedSlidingWindow):
    STORAGE_SCHEME = None  # built by kefu.adapters.ratelimits, never from a URI

    def __init__(self, engine: Engine) -> None:
        super().__init__(wrap_exceptions=True)
        self.engine = engine
        self._insert: Any = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return SQLAlchemyError

    @contextmanager
    def _writing(self) -> Iterator[Connection]:
        """A write transaction (on SQLite one that takes the write lock up front: kefu_write)."""
        with self.engine.connect() as conn:
            conn.execution_options(kefu_write=True)
            with conn.begin():
                if self.engine.dialect.name == "postgresql":
                    # A count lost to a crash in the last moments costs nothing; waiting for the
                    # disk on every hit would cost most of the lookup.
                    conn.exec_driver_sql("SET LOCAL synchronous_commit = off")
                yield conn

    # --- Storage ---

    def _incr(self, conn: Connection, key: str, expiry: float, amount: int, now: float) -> int:
        stmt = self._insert(t).values(key=key, count=amount, expires_at=now + expiry)
        expired = t.c.expires_at <= now
        stmt = stmt.on_conflict_do_update(
            index_elements=[t.c.key],
            set_={
                "count": case((expired, stmt.excluded.count), else_=t.c.count + stmt.excluded.count),
                "expires_at": case((expired, stmt.excluded.expires_at), else_=t.c.expires_at),
            },
        ).returning(t.c.count)
        count = int(conn.execute(stmt).scalar_one())
        if random.randrange(PURGE_ONE_IN) == 0:
            conn.execute(delete(t).where(t.c.expires_at <= now))
        return count

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        with self._writing() as conn:
            return self._incr(conn, key, expiry, amount, time.time())

    def _counts(self, conn: Connection, keys: list[str], now: float) -> dict[str, int]:
        rows = conn.execute(select(t.c.key, t.c.count).where(t.c.key.in_(keys), t.c.expires_at > now))
        return {str(key): int(count) for key, count in rows}

    def get(self, key: str) -> int:
        with self.engine.connect() as conn:
            return self._counts(conn, [key], time.time()).get(key, 0)

    def get_expiry(self, key: str) -> float:
        with self.engine.connect() as conn:
            found = conn.execute(select(t.c.expires_at).where(t.c.key == key)).scalar_one_or_none()
        return float(found) if found is not None else time.time()

    def check(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.execute(select(func.count()).select_from(t).where(t.c.key == ""))
        except SQLAlchemyError:
            return False
        return True

    def reset(self) -> int | None:
        with self._writing() as conn:
            return int(conn.execute(delete(t)).rowcount)

    def clear(self, key: str) -> None:
        with self._writing() as conn:
            conn.execute(delete(t).where(t.c.key == key))

    # --- SlidingWindowCounterSupport (the same arithmetic as limits' memory storage) ---

    @staticmethod
    def _window(
        counts: dict[str, int], previous_key: str, current_key: str, expiry: int, now: float
    ) -> tuple[int, float, int, float]:
        previous, current = counts.get(previous_key, 0), counts.get(current_key, 0)
        previous_ttl = (1 - (((now - expiry) / expiry) % 1)) * expiry if previous else 0.0
        current_ttl = (1 - ((now / expiry) % 1)) * expiry + expiry
        return previous, previous_ttl, current, current_ttl

    def acquire_sliding_window_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        if amount > limit:
            return False
        now = time.time()
        previous_key, current_key = self.sliding_window_keys(key, expiry, now)
        with self._writing() as conn:
            previous = self._counts(conn, [previous_key], now).get(previous_key, 0)
            previous_ttl = (1 - (((now - expiry) / expiry) % 1)) * expiry if previous else 0.0
            weighted_previous = previous * previous_ttl / expiry
            if floor(weighted_previous) + amount > limit:
                return False
            current = self._incr(conn, current_key, 2 * expiry, amount, now)
            if floor(weighted_previous + current) > limit:
                # Another process took the last place meanwhile: give this one back.
                conn.execute(t.update().where(t.c.key == current_key).values(count=t.c.count - amount))
                return False
        return True

    def get_sliding_window(self, key: str, expiry: int) -> tuple[int, float, int, float]:
        now = time.time()
        previous_key, current_key = self.sliding_window_keys(key, expiry, now)
        with self.engine.connect() as conn:
            counts = self._counts(conn, [previous_key, current_key], now)
        return self._window(counts, previous_key, current_key, expiry, now)

    def clear_sliding_window(self, key: str, expiry: int) -> None:
        previous_key, current_key = self.sliding_window_keys(key, expiry, time.time())
        with self._writing() as conn:
            conn.execute(delete(t).where(t.c.key.in_([previous_key, current_key])))
