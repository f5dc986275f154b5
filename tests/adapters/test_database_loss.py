"""A dropped database connection (the server restarted, a proxy cut it, pg_terminate_backend) is
answered 503 with Retry-After — problem+json on the API, a page on the pages — and the next
requests are served again without restarting kefu."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from kefu.app import create_app
from kefu.bootstrap import Kefu
from kefu.domain.org import Role
from tests.support.databases import create_pg_database, drop_pg_database, require_pg
from tests.support.factories import make_actor
from tests.support.kefus import seeded_kefu
from tests.support.pages import login


@pytest.fixture
def pg_kefu() -> Iterator[Kefu]:
    url = create_pg_database("kefu_loss")
    k = seeded_kefu(url)
    yield k
    k.engine.dispose()
    drop_pg_database(url)


def cut_connections(k: Kefu) -> int:
    """Terminate every server process serving kefu's database, as a restart would."""
    admin = create_engine(require_pg(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        cut = conn.execute(
            text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = :db"),
            {"db": k.engine.url.database},
        ).scalar_one()
    admin.dispose()
    return int(cut)


def test_a_dropped_connection_answers_503_and_the_next_requests_recover(pg_kefu: Kefu) -> None:
    actor = make_actor(pg_kefu, Role.ADMIN)
    with TestClient(create_app(pg_kefu), base_url="http://127.0.0.1", raise_server_exceptions=False) as c:
        assert c.get("/api/v1/customers", headers=actor.headers).status_code == 200
        assert cut_connections(pg_kefu) >= 1
        r = c.get("/api/v1/customers", headers=actor.headers)
        assert r.status_code == 503 and r.headers["content-type"] == "application/problem+json"
        assert r.json()["code"] == "service_unavailable" and int(r.headers["Retry-After"]) >= 1
        assert [c.get("/api/v1/customers", headers=actor.headers).status_code for _ in range(3)] == [200] * 3

        login(c, make_actor(pg_kefu, Role.AGENT).username)
        assert c.get("/ui/work-orders").status_code == 200
        assert cut_connections(pg_kefu) >= 1
        page = c.get("/ui/work-orders")
        assert page.status_code == 503 and "text/html" in page.headers["content-type"]
        assert "服务暂时不可用" in page.text and int(page.headers["Retry-After"]) >= 1
        assert [c.get("/ui/work-orders").status_code for _ in range(3)] == [200] * 3
