"""Property-based requests generated from the published OpenAPI document (schemathesis).

Whatever a client sends, allowed by the schema or not, kefu answers without a server error, with a
documented status code and content type, and with a body that matches the documented schema.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import positive_data_acceptance

from kefu.app import create_app
from kefu.bootstrap import Kefu
from kefu.domain.org import Role
from tests.support.databases import Database, empty_database
from tests.support.factories import make_actor
from tests.support.kefus import seeded_kefu


@pytest.fixture
def own_kefu(database: Database, tmp_path: Path) -> Iterator[Kefu]:
    """A database of its own: the fuzzer creates policies and calendars that would change what the
    other tests' work orders get."""
    with empty_database(database.backend, tmp_path, "kefu_fuzz") as url:
        k = seeded_kefu(url)
        yield k
        k.engine.dispose()


def test_every_operation_conforms_to_the_published_schema(own_kefu: Kefu) -> None:
    kefu = own_kefu
    app = create_app(kefu)
    headers = make_actor(kefu, Role.SUPERVISOR).headers
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    operations = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result.err()
        operations.append(result.ok())
    assert len(operations) >= 10

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def exercise(case: schemathesis.Case[Any]) -> None:
            # Business rules (an unknown customer id, a phone number that is no phone number)
            # rightly refuse some requests the schema alone allows: that one check is left out.
            case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])

        exercise()
