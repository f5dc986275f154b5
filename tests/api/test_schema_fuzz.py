"""Property-based requests generated from the published OpenAPI document (schemathesis).

Whatever a client sends, allowed by the schema or not, kefu answers without a server error, with a
documented status code and content type, and with a body that matches the documented schema; and
sent by someone without a token (the webhooks' real callers), without a server error.

Bounded for CI: KEFU_FUZZ_EXAMPLES examples per operation (20), and past KEFU_FUZZ_SECONDS (150)
per database the remaining operations get 5 each — every operation is always exercised.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
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
    paths = {op.path for op in operations}
    assert {"/api/v1/channels/sms/inbound", "/channels/wechat"} <= paths  # the public webhooks too

    examples = int(os.environ.get("KEFU_FUZZ_EXAMPLES", "20"))
    budget = time.monotonic() + float(os.environ.get("KEFU_FUZZ_SECONDS", "150"))
    for operation in operations:
        n = examples if time.monotonic() < budget else min(examples, 5)

        @given(case=operation.as_strategy())
        @settings(max_examples=n, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def exercise(case: schemathesis.Case[Any]) -> None:
            # Business rules (an unknown customer id, a phone number that is no phone number)
            # rightly refuse some requests the schema alone allows: that one check is left out.
            case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])

        @given(case=operation.as_strategy())
        @settings(max_examples=max(1, n // 4), deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def anonymously(case: schemathesis.Case[Any]) -> None:
            case.call_and_validate(checks=[not_a_server_error])

        exercise()
        anonymously()
