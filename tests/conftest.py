"""Test fixtures. Storage and API tests run once on SQLite and once on PostgreSQL.

PostgreSQL: set KEFU_TEST_DATABASE_URL (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test);
the tests create and drop their own database next to it. Without it the PostgreSQL half is skipped
locally and fails in CI (CI=true), where it must run.
"""

from __future__ import annotations

import os
import secrets
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from kefu.adapters.db.engine import make_engine
from kefu.adapters.db.migrate import upgrade
from kefu.bootstrap import Kefu, build
from kefu.config import Settings
from kefu.domain.org import Role
from kefu.services.access.accounts import NewUser, create_api_token, create_user
from kefu.services.org.reference import seed_reference_data

PG_URL = os.environ.get("KEFU_TEST_DATABASE_URL")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
PASSWORD = "correct-horse-42"


def pytest_report_header(config: pytest.Config) -> str:
    if PG_URL:
        return f"PostgreSQL tests: on ({make_url(PG_URL).render_as_string(hide_password=True)})"
    return (
        "PostgreSQL tests: SKIPPED - set KEFU_TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test "
        "to run them"
    )


def _require_pg() -> str:
    if PG_URL:
        return PG_URL
    if IN_CI:
        pytest.fail("CI must run the PostgreSQL tests: KEFU_TEST_DATABASE_URL is not set")
    pytest.skip("PostgreSQL half skipped: set KEFU_TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _admin_engine(url: str) -> Engine:
    return create_engine(make_url(url).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")


@dataclass
class Database:
    backend: str
    url: str


def create_pg_database(prefix: str) -> str:
    url = _require_pg()
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = _admin_engine(url)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(url).set(drivername="postgresql+psycopg", database=name).render_as_string(hide_password=False)


def drop_pg_database(url: str) -> None:
    name = make_url(url).database
    admin = _admin_engine(_require_pg())
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    """A migrated, seeded database per backend for the whole session."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'kefu.db'}"
    else:
        url = create_pg_database("kefu_test")
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    yield Database(request.param, url)
    if request.param == "postgresql":
        drop_pg_database(url)


@pytest.fixture(scope="session")
def kefu(database: Database) -> Iterator[Kefu]:
    k = build(Settings(environment="test", database_url=database.url, reopen_window_days=30, embedded_worker=False))
    seed_reference_data(k.ctx)
    yield k
    k.engine.dispose()


@pytest.fixture(scope="session")
def app(kefu: Kefu):  # type: ignore[no-untyped-def]
    from kefu.app import create_app

    return create_app(kefu)


@pytest.fixture
def client(app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(app, base_url="http://127.0.0.1") as c:
        yield c


@dataclass
class Actor:
    username: str
    id: int
    role: Role
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", "Accept-Language": "en"}


def make_actor(kefu: Kefu, role: Role, team_id: int | None = None) -> Actor:
    username = f"{role.value.replace('_', '')}{secrets.token_hex(4)}"
    user = create_user(kefu.ctx, NewUser(username=username, role=role, password=PASSWORD, team_id=team_id))
    assert user.id is not None
    return Actor(username, user.id, role, create_api_token(kefu.ctx, username))


@pytest.fixture
def agent(kefu: Kefu) -> Actor:
    return make_actor(kefu, Role.AGENT)


@pytest.fixture
def supervisor(kefu: Kefu) -> Actor:
    return make_actor(kefu, Role.SUPERVISOR)


def unique_phone() -> str:
    return "139" + f"{secrets.randbelow(10**8):08d}"


@pytest.fixture
def customer(client: TestClient, agent: Actor) -> dict[str, object]:
    r = client.post(
        "/api/v1/customers",
        headers=agent.headers,
        json={
            "name": "王小明",
            "phone": unique_phone(),
            "brand": "全球通",
            "region": "广州",
            "id_number": "11010519491231002X",
            "address": "广东省广州市天河区体育西路100号",
            "services": ["家庭宽带 300M"],
            "devices": [{"model": "华为 Mate 60", "serial": "SN123"}],
        },
    )
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def work_order_body(customer_id: int, **over: object) -> dict[str, object]:
    body: dict[str, object] = {
        "customer_id": customer_id,
        "type": "fault",
        "category": "broadband.no_connection",
        "channel": "hotline",
        "title": "宽带无法连接",
        "description": "光猫LOS灯红色闪烁，重启无效。",
    }
    body.update(over)
    return body


ROOT = Path(__file__).resolve().parents[1]
