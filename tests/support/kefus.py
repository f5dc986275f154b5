"""kefu built for the tests: no embedded worker, and the cheap password hasher."""

from __future__ import annotations

from typing import Any

from kefu.adapters.db.migrate import upgrade
from kefu.bootstrap import Kefu, build
from kefu.config import Settings
from kefu.domain.clock import Clock
from kefu.services.org.reference import seed_reference_data
from tests.support.hashing import FastHasher


def make_kefu(url: str, *, clock: Clock | None = None, **settings: Any) -> Kefu:
    """kefu on `url`; `settings` override the test defaults: environment "test", no embedded worker,
    and no role required to log in with a second factor (the tests of two-factor login ask for it,
    with `require_2fa_roles`; the others log supervisors and admins in with the password alone)."""
    values: dict[str, Any] = {"environment": "test", "embedded_worker": False, "require_2fa_roles": "", **settings}
    return build(Settings(database_url=url, **values), clock=clock, hasher=FastHasher())


def seeded_kefu(url: str, **settings: Any) -> Kefu:
    """kefu on a new database, migrated and holding the reference data."""
    k = make_kefu(url, **settings)
    upgrade(k.engine)
    seed_reference_data(k.ctx)
    return k
