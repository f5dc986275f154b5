"""What every use case gets besides its arguments: the unit of work, the clock, settings-derived
values and the caches. Built once by kefu.bootstrap."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from zoneinfo import ZoneInfo

from kefu.domain.calendars import DayTypes, WeekdaysOnly
from kefu.domain.categories import Category
from kefu.domain.clock import Clock
from kefu.domain.notifications import QuietHours
from kefu.domain.org import User
from kefu.services.caching import TtlCache
from kefu.services.ports import PasswordHasher, Sender, UnitOfWork


@dataclass
class Context:
    """Everything a use case needs besides its arguments; built once by kefu.bootstrap."""

    uow: Callable[..., UnitOfWork]  # uow(write=True) for use cases that change something
    clock: Clock
    hasher: PasswordHasher
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))
    reopen_window: timedelta = timedelta(days=30)
    session_lifetime: timedelta = timedelta(hours=12)
    token_lifetime: timedelta = timedelta(days=365)
    #: How long a checked token, or a category, is trusted without asking the database again
    #: (0: always ask). A revoked token, a disabled user or a retired category therefore takes
    #: effect within this time everywhere, and at once in the process that made the change.
    cache_ttl: timedelta = timedelta(seconds=30)
    day_types: DayTypes = field(default_factory=WeekdaysOnly)  # official working days (chinese-calendar)
    quiet_hours: QuietHours | None = None
    #: The account that signs what kefu does by itself (SLA warnings, escalations).
    system_user_id: int | None = None
    #: Channel adapters for messages to customers, by channel ("sms", "email", ...).
    senders: dict[str, Sender] = field(default_factory=dict)
    #: Where customers follow their work orders (the self-service portal), for links in messages.
    portal_url: str = "http://127.0.0.1:8000/portal"
    tokens_cache: TtlCache[str, User] = field(init=False)
    categories_cache: TtlCache[str, Category] = field(init=False)
    sla_cache: TtlCache[str, object] = field(init=False)  # policies and calendars (kefu.services.sla.clocks)
    org_cache: TtlCache[str, object] = field(init=False)  # organisations, routing rules (kefu.services.access.scope)
    #: Aggregates that change slowly (the dashboard's 7-day averages): kept 20 times as long.
    slow_cache: TtlCache[str, object] = field(init=False)

    def __post_init__(self) -> None:
        self.tokens_cache = TtlCache(self.cache_ttl, self.clock.now)
        self.categories_cache = TtlCache(self.cache_ttl, self.clock.now)
        self.sla_cache = TtlCache(self.cache_ttl, self.clock.now)
        self.org_cache = TtlCache(self.cache_ttl, self.clock.now)
        self.slow_cache = TtlCache(self.cache_ttl * 20, self.clock.now)
