"""In production every answer carries HSTS, and the API is described only to callers with a token:
no docs page, no anonymous OpenAPI document. Elsewhere both stay as they were."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient

from kefu.app import create_app
from kefu.bootstrap import Kefu
from tests.support.factories import Actor


@pytest.fixture
def production(kefu: Kefu) -> Iterator[TestClient]:
    """The session's kefu as a production set-up would serve it (the settings copied, not re-validated:
    production refuses SQLite)."""
    k = replace(kefu, settings=kefu.settings.model_copy(update={"environment": "production"}))
    with TestClient(create_app(k), base_url="https://kefu.example") as client:
        yield client


def test_production_sends_hsts_on_pages_api_and_health(production: TestClient, agent: Actor) -> None:
    for path, headers in (("/login", {}), ("/api/v1/me", agent.headers), ("/healthz", {})):
        r = production.get(path, headers=headers)
        assert r.status_code == 200, (path, r.text)
        assert r.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"


def test_production_describes_the_api_only_to_callers_with_a_token(production: TestClient, agent: Actor) -> None:
    assert production.get("/api/v1/docs").status_code == 404
    assert production.get("/api/v1/openapi.json").status_code == 401
    described = production.get("/api/v1/openapi.json", headers=agent.headers)
    assert described.status_code == 200 and "/api/v1/work-orders" in described.json()["paths"]


def test_elsewhere_no_hsts_and_public_docs(client: TestClient) -> None:
    r = client.get("/login")
    assert "strict-transport-security" not in r.headers
    assert client.get("/api/v1/openapi.json").status_code == 200
    assert client.get("/api/v1/docs").status_code == 200
