"""kefu built for the tests: no embedded worker, and the cheap password hasher."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from kefu.adapters.db.migrate import upgrade
from kefu.bootstrap import Kefu, build
from kefu.config import Settings
from kefu.domain.clock import Clock
from kefu.services.org.reference import seed_reference_data
from kefu.services.ratelimits import Limit
from tests.support.databases import empty_database
from tests.support.hashing import FastHasher

#: The suite logs in, submits and pushes far more often from one address than anyone would: its
#: rate limits are out of reach unless a test sets its own (tests/test_edge_*).
GENEROUS_LIMITS = {limit.value: "100000/minute" for limit in Limit}


def make_kefu(url: str, *, clock: Clock | None = None, **settings: Any) -> Kefu:
    """kefu on `url`; `settings` override the test defaults: environment "test", no embedded worker,
    rate limits out of reach, rate-limit counts in this process's memory, and no role required to
    log in with a second factor (the tests of two-factor login ask for it, with `require_2fa_roles`;
    the others log supervisors and admins in with the password alone), and check-in a week before
    the booked slot (the scenarios book tomorrow's slots and check in at once; tests/domain/
    test_visit_check_in.py holds the 2-hour default)."""
    values: dict[str, Any] = {
        "environment": "test",
        "embedded_worker": False,
        "rate_limits": GENEROUS_LIMITS,
        "rate_limit_storage": "memory",
        "require_2fa_roles": "",
        "checkin_early_minutes": 7 * 24 * 60,
        **settings,
    }
    return build(Settings(database_url=url, **values), clock=clock, hasher=FastHasher())


def seeded_kefu(url: str, **settings: Any) -> Kefu:
    """kefu on a new database, migrated and holding the reference data."""
    k = make_kefu(url, **settings)
    upgrade(k.engine)
    seed_reference_data(k.ctx)
    return k


@contextmanager
def own_kefu(backend: str, directory: Path, prefix: str, **settings: Any) -> Iterator[Kefu]:
    """kefu on a database of its own (migrated, reference data), for tests whose settings or data
    (rate limits, lockouts, calendars) must not reach the session's other tests."""
    with empty_database(backend, directory, prefix) as url:
        k = seeded_kefu(url, **settings)
        try:
            yield k
        finally:
            k.engine.dispose()
