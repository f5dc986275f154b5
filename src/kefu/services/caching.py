"""A small in-process cache whose entries expire, for reference data read on every request.

Entries live at most `ttl` on the context's clock. A change made in this process drops its entry at
once; other processes see it within `ttl`. A zero ttl turns caching off.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class TtlCache(Generic[K, V]):
    def __init__(self, ttl: timedelta, now: Callable[[], datetime], max_entries: int = 50_000) -> None:
        self.ttl = ttl
        self.now = now
        self.max_entries = max_entries
        self._entries: dict[K, tuple[V, datetime]] = {}

    def get(self, key: K) -> V | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[1] <= self.now():
            self._entries.pop(key, None)
            return None
        return entry[0]

    def put(self, key: K, value: V, *, not_after: datetime | None = None) -> None:
        if not self.ttl:
            return
        if len(self._entries) >= self.max_entries:
            self._entries.clear()
        until = self.now() + self.ttl
        self._entries[key] = (value, min(until, not_after) if not_after else until)

    def get_or_load(self, key: K, load: Callable[[], V]) -> V:
        """The cached value, or `load()`'s, which is then kept."""
        found = self.get(key)
        if found is None:
            found = load()
            self.put(key, found)
        return found

    def drop(self, key: K) -> None:
        self._entries.pop(key, None)

    def clear(self) -> None:
        self._entries.clear()
