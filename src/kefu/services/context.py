"""What every use case gets besides its arguments: the unit of work, the clock, settings-derived
values and the caches. Built once by kefu.bootstrap."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from kefu.domain.calendars import DayTypes, WeekdaysOnly
from kefu.domain.categories import Category
from kefu.domain.clock import Clock
from kefu.domain.notifications import QuietHours
from kefu.domain.org import OrgTree, Role, User
from kefu.domain.routing import RoutingRule
from kefu.services.access.lockout import LockoutPolicy
from kefu.services.caching import TtlCache
from kefu.services.ports import CodeHasher, PasswordHasher, SecretSealer, Sender, UnitOfWork
from kefu.services.ratelimits import RateLimits

if TYPE_CHECKING:  # the cached values' types; their modules need Context themselves
    from kefu.services.sla.clocks import SlaSetup
    from kefu.services.workspace import Dashboard


class Caches:
    """Short-lived copies of what nearly every request reads, one typed cache per kind. Each is kept
    for `Context.cache_ttl` (the week averages 20 times as long); a use case that changes the source
    clears the cache it affects, so the change shows at once in this process and within the TTL in
    the others."""

    def __init__(self, ttl: timedelta, now: Callable[[], datetime]) -> None:
        self.tokens: TtlCache[str, Access] = TtlCache(ttl, now)  # checked sessions and API tokens
        self.categories: TtlCache[str, Category] = TtlCache(ttl, now)
        self.sla: TtlCache[str, SlaSetup] = TtlCache(ttl, now)  # policies and calendars
        self.organisations: TtlCache[str, OrgTree] = TtlCache(ttl, now)
        self.routing_rules: TtlCache[str, list[RoutingRule]] = TtlCache(ttl, now)
        self.templates: TtlCache[str, dict[tuple[str, str, str], tuple[str | None, str]]] = TtlCache(ttl, now)
        self.system: TtlCache[str, User] = TtlCache(ttl, now)  # the account that signs what kefu does itself
        self.dashboards: TtlCache[str, Dashboard] = TtlCache(ttl, now)
        #: The dashboard's 7-day averages change once a day.
        self.week_averages: TtlCache[str, dict[str, float]] = TtlCache(ttl * 20, now)

    def clear_organisation(self) -> None:
        """Organisations, teams, routing rules or message templates changed: everything derived
        from them goes (the dashboards count by team)."""
        for cache in (self.organisations, self.routing_rules, self.templates, self.dashboards, self.system):
            cache.clear()


@dataclass(frozen=True)
class Access:
    """Who a checked session or API token acts for, and what the token may do."""

    user: User
    token_id: int
    scopes: frozenset[str] | None = None  # API tokens: {"read"} or {"read", "write"}; None: everything


@dataclass(frozen=True)
class AccountRules:
    """Sessions, API tokens, passwords and second factors (R32); from the settings."""

    session_lifetime: timedelta = timedelta(hours=12)  # from logging in, whatever happens
    session_idle: timedelta = timedelta(minutes=30)  # without a request
    token_lifetime: timedelta = timedelta(days=90)  # unless the creator asks for less
    token_max_lifetime: timedelta = timedelta(days=365)
    password_min_length: int = 12
    password_reset_lifetime: timedelta = timedelta(hours=24)
    two_factor_roles: frozenset[Role] = frozenset({Role.ADMIN, Role.SUPERVISOR})


@dataclass(frozen=True)
class Context:
    """Everything a use case needs besides its arguments; built once by kefu.bootstrap and never
    changed afterwards (only the caches' contents change)."""

    uow: Callable[..., UnitOfWork]  # uow(write=True) for use cases that change something
    clock: Clock
    hasher: PasswordHasher
    codes: CodeHasher  # keyed hashes of one-time codes
    sealer: SecretSealer  # TOTP secrets at rest
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))
    reopen_window: timedelta = timedelta(days=30)
    #: How long before the booked slot a field engineer may check in (KEFU_CHECKIN_EARLY_MINUTES).
    checkin_early: timedelta = timedelta(hours=2)
    accounts: AccountRules = field(default_factory=AccountRules)
    #: How long a checked token, or a category, is trusted without asking the database again
    #: (0: always ask). A revoked token, a disabled user or a retired category therefore takes
    #: effect within this time everywhere, and at once in the process that made the change.
    cache_ttl: timedelta = timedelta(seconds=30)
    day_types: DayTypes = field(default_factory=WeekdaysOnly)  # official working days (chinese-calendar)
    quiet_hours: QuietHours | None = None
    #: Channel adapters for messages to customers, by channel ("sms", "email", ...).
    senders: Mapping[str, Sender] = field(default_factory=dict)
    #: Where customers follow their work orders (the self-service portal), for links in messages.
    portal_url: str = "http://127.0.0.1:8000/portal"
    #: Rate limits on what anyone may call without an account, and where their counts live.
    rate_limits: RateLimits = field(default_factory=RateLimits)
    #: When failed logins lock an account or an address.
    lockout: LockoutPolicy = field(default_factory=LockoutPolicy)
    #: The installation's language for what kefu sends to staff by itself (copies of notifications
    #: by e-mail or SMS): msgid -> text (kefu.bootstrap passes the default catalogue's).
    gettext: Callable[[str], str] = field(default=str)
    #: The largest file kept: an e-mail attachment, an upload by an agent or on the portal.
    max_attachment_bytes: int = 10 * 2**20
    caches: Caches = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "caches", Caches(self.cache_ttl, self.clock.now))
