"""kefu built for the tests: no embedded worker, and the cheap password hasher."""

from __future__ import annotations

from typing import Any

from kefu.adapters.db.migrate import upgrade
from kefu.bootstrap import Kefu, build
from kefu.config import Settings
from kefu.domain.clock import Clock
from kefu.services.org.reference import seed_reference_data
from kefu.services.ratelimits import Limit
from tests.support.hashing import FastHasher

#: The suite logs in, submits and pushes far more often from one address than anyone would: its
#: rate limits are out of reach unless a test sets its own (tests/test_edge_*).
GENEROUS_LIMITS = {limit.value: "100000/minute" for limit in Limit}


def make_kefu(url: str, *, clock: Clock | None = None, **settings: Any) -> Kefu:
    """kefu on `url`; `settings` override the test defaults (environment "test", no embedded worker,
    rate limits out of reach, rate-limit counts in this process's memory)."""
    values: dict[str, Any] = {
        "environment": "test",
        "embedded_worker": False,
        "rate_limits": GENEROUS_LIMITS,
        "rate_limit_storage": "memory",
        **settings,
    }
    return build(Settings(database_url=url, **values), clock=clock, hasher=FastHasher())


def seeded_kefu(url: str, **settings: Any) -> Kefu:
    """kefu on a new database, migrated and holding the reference data."""
    k = make_kefu(url, **settings)
    upgrade(k.engine)
    seed_reference_data(k.ctx)
    return k
