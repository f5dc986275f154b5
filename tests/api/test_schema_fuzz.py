"""Property-based requests generated from the published OpenAPI document (schemathesis).

Whatever a client sends, allowed by the schema or not, kefu answers without a server error, with a
documented status code and content type, and with a body that matches the documented schema.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from kefu.adapters.db.migrate import upgrade
from kefu.app import create_app
from kefu.bootstrap import Kefu, build
from kefu.config import Settings
from kefu.domain.org import Role
from kefu.services.org.reference import seed_reference_data
from tests.conftest import Database, create_pg_database, drop_pg_database, make_actor


@pytest.fixture
def own_kefu(database: Database, tmp_path: Path) -> Iterator[Kefu]:
    """A database of its own: the fuzzer creates policies and calendars that would change what the
    other tests' work orders get."""
    url = f"sqlite:///{tmp_path / 'fuzz.db'}" if database.backend == "sqlite" else create_pg_database("kefu_fuzz")
    k = build(Settings(environment="test", database_url=url, embedded_worker=False))
    upgrade(k.engine)
    seed_reference_data(k.ctx)
    yield k
    k.engine.dispose()
    if database.backend == "postgresql":
        drop_pg_database(url)


def test_every_operation_conforms_to_the_published_schema(own_kefu: Kefu) -> None:
    kefu = own_kefu
    app = create_app(kefu)
    headers = make_actor(kefu, Role.SUPERVISOR).headers
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def exercise(case) -> None:  # type: ignore[no-untyped-def]
            # Business rules (an unknown customer id, a phone number that is no phone number)
            # rightly refuse some requests the schema alone allows: that one check is left out.
            case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])

        exercise()
