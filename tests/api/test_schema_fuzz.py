"""Property-based requests generated from the published OpenAPI document (schemathesis).

Whatever a client sends, allowed by the schema or not, kefu answers without a server error, with a
documented status code and content type, and with a body that matches the documented schema.
"""

from __future__ import annotations

import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from kefu.bootstrap import Kefu
from kefu.domain.org import Role
from tests.conftest import make_actor


def test_every_operation_conforms_to_the_published_schema(app: FastAPI, kefu: Kefu) -> None:
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
