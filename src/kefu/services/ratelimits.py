"""Rate limits on what anyone may call without an account (R32): logging in (the password, the
second factor's code), setting a password with a reset code, the portal's submissions, code
requests and code checks, the providers' webhooks. Each limit counts hits per key (an address, a
username, a phone number, a work-order number, a sender) in a sliding window and refuses with
RateLimited (429 and Retry-After) when the window is full.

The counts live where every server process sees them (kefu.adapters.ratelimits): Redis when
configured, else the database on PostgreSQL, else this process's memory (SQLite serves one process).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from kefu.domain.errors import RateLimited
from kefu.services.ports import RateLimiter


class Limit(StrEnum):
    LOGIN_ADDRESS = "login.address"  # login attempts from one address, pages and API alike
    LOGIN_CODE_ADDRESS = "login.code.address"  # second-factor codes tried from one address
    PASSWORD_RESET_ADDRESS = "password.reset.address"  # noqa: S105 - reset codes tried from one address
    PORTAL_SUBMIT_ADDRESS = "portal.submit.address"
    PORTAL_SUBMIT_PHONE = "portal.submit.phone"  # requests naming one phone number (an SMS goes to it)
    PORTAL_CODE_ADDRESS = "portal.code.address"
    PORTAL_CODE_NUMBER = "portal.code.number"  # codes asked for one work-order number, matching or not
    PORTAL_VERIFY_ADDRESS = "portal.verify.address"  # codes tried from one address
    PORTAL_UPLOAD_ADDRESS = "portal.upload.address"  # files customers upload from one address
    WEBHOOK_ADDRESS = "webhook.address"  # pushes from one address (a gateway carries many customers)
    WEBHOOK_SENDER = "webhook.sender"  # messages from one phone number or WeChat openid


#: What each limit allows unless KEFU_RATE_LIMITS says otherwise (e.g. {"login.address": "5/minute"}).
DEFAULTS: dict[Limit, str] = {
    Limit.LOGIN_ADDRESS: "30/minute",
    Limit.LOGIN_CODE_ADDRESS: "30/minute",
    Limit.PASSWORD_RESET_ADDRESS: "20/hour",
    Limit.PORTAL_SUBMIT_ADDRESS: "20/hour",
    Limit.PORTAL_SUBMIT_PHONE: "5/hour",
    Limit.PORTAL_CODE_ADDRESS: "20/hour",
    Limit.PORTAL_CODE_NUMBER: "5/hour",
    Limit.PORTAL_VERIFY_ADDRESS: "30/hour",
    Limit.PORTAL_UPLOAD_ADDRESS: "30/hour",
    Limit.WEBHOOK_ADDRESS: "1200/minute",
    Limit.WEBHOOK_SENDER: "30/minute",
}

_UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
_RATE = re.compile(r"^\s*(\d{1,7})\s*(?:/|per)\s*(\d{1,4})?\s*(second|minute|hour|day)s?\s*$")


@dataclass(frozen=True)
class Rate:
    amount: int
    seconds: int

    @classmethod
    def parse(cls, text: str) -> Rate:
        """'10/minute', '5 per hour', '3/10 minutes'."""
        match = _RATE.match(text.lower())
        if not match or int(match.group(1)) < 1 or (match.group(2) and int(match.group(2)) < 1):
            raise ValueError(f"{text!r} is no rate: write e.g. 10/minute, 5/hour or 3/10 minutes")
        return cls(int(match.group(1)), int(match.group(2) or 1) * _UNITS[match.group(3)])


def rates(overrides: Mapping[str, str]) -> dict[Limit, Rate]:
    """The limits in force: the defaults, changed by the settings; an unknown name is refused."""
    if unknown := sorted(set(overrides) - {limit.value for limit in Limit}):
        raise ValueError(f"unknown rate limits {unknown}; known: {sorted(limit.value for limit in Limit)}")
    return {limit: Rate.parse(overrides.get(limit.value, default)) for limit, default in DEFAULTS.items()}


class _Unlimited:
    def hit(self, name: str, amount: int, seconds: int, key: str) -> float | None:
        return None

    def first(self, name: str, key: str, seconds: int) -> bool:
        return True


@dataclass(frozen=True)
class RateLimits:
    """The limiter (where the counts live) and the limits in force; part of the Context."""

    limiter: RateLimiter = field(default_factory=_Unlimited)
    rates: Mapping[Limit, Rate] = field(default_factory=lambda: rates({}))

    def check(self, limit: Limit, key: str) -> None:
        """Count one hit of `key` under `limit`; RateLimited when that is one too many."""
        rate = self.rates[limit]
        wait = self.limiter.hit(limit.value, rate.amount, rate.seconds, key.lower())
        if wait is not None:
            raise RateLimited(retry_after=math.ceil(wait))

    def first_time(self, name: str, key: str, seconds: int) -> bool:
        """True the first time `key` is seen under `name` within `seconds` (a nonce against replays)."""
        return self.limiter.first(name, key, seconds)
