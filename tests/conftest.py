"""Test fixtures. Storage and API tests run once on SQLite and once on PostgreSQL.

PostgreSQL: set KEFU_TEST_DATABASE_URL (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test);
the tests create and drop their own database next to it. Without it the PostgreSQL half is skipped
locally and fails in CI (CI=true), where it must run. The helpers the fixtures use are in tests/support/.

Every log record of the session is kept and scanned at its end for personal data (tests/support/log_guard.py).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from kefu.adapters.db.engine import make_engine
from kefu.adapters.db.migrate import upgrade
from kefu.bootstrap import Kefu
from kefu.domain.org import Role
from kefu.services.audit import verify_chains
from kefu.services.org.reference import seed_reference_data
from tests.support import ROOT as ROOT  # still imported from here by tests/adapters/test_storage.py
from tests.support.databases import Database, empty_database, report_header
from tests.support.factories import Actor, Json, make_actor, new_customer
from tests.support.kefus import make_kefu
from tests.support.log_guard import pytest_configure as pytest_configure
from tests.support.log_guard import pytest_sessionfinish as pytest_sessionfinish


def pytest_report_header(config: pytest.Config) -> str:
    return report_header()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    """A migrated, seeded database per backend for the whole session."""
    with empty_database(request.param, tmp_path_factory.mktemp("db"), "kefu_test") as url:
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        yield Database(request.param, url)


@pytest.fixture(scope="session")
def kefu(database: Database) -> Iterator[Kefu]:
    k = make_kefu(database.url, reopen_window_days=30)
    seed_reference_data(k.ctx)
    yield k
    # Whatever the tests did through kefu, every hash chain of the shared database still holds.
    found = verify_chains(k.ctx)
    k.engine.dispose()
    assert found.intact, f"the tests left broken audit chains: {found.problems}"


@pytest.fixture(scope="session")
def app(kefu: Kefu) -> FastAPI:
    from kefu.app import create_app

    return create_app(kefu)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://127.0.0.1") as c:
        yield c


@pytest.fixture
def agent(kefu: Kefu) -> Actor:
    return make_actor(kefu, Role.AGENT)


@pytest.fixture
def supervisor(kefu: Kefu) -> Actor:
    return make_actor(kefu, Role.SUPERVISOR)


@pytest.fixture
def customer(client: TestClient, agent: Actor) -> Json:
    return new_customer(
        client,
        agent,
        name="王小明",
        brand="全球通",
        region="广州",
        id_number="11010519491231002X",
        address="广东省广州市天河区体育西路100号",
        services=["家庭宽带 300M"],
        devices=[{"model": "华为 Mate 60", "serial": "SN123"}],
    )
