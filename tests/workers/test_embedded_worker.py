"""`kefu serve` runs the timers itself (the `make run` set-up): a due deadline fires without a worker process."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from kefu.app import create_app
from kefu.bootstrap import Kefu
from kefu.domain.clock import FixedClock
from kefu.domain.org import Role
from kefu.services.access.tokens import authenticate_token
from kefu.services.workorders import queries
from tests.support.databases import Database
from tests.support.factories import Json, make_actor, work_order_body
from tests.support.kefus import make_kefu


def test_the_server_fires_due_deadlines_in_its_own_thread(database: Database, kefu: Kefu, customer: Json) -> None:
    clock = FixedClock(datetime.now(UTC))
    k = make_kefu(database.url, clock=clock, embedded_worker=True, worker_interval_seconds=0.2, quiet_hours="")
    try:
        agent = make_actor(k, Role.AGENT)
        access = authenticate_token(k.ctx, agent.token)
        assert access is not None
        user = access.user
        with TestClient(create_app(k)) as client:
            number = client.post(
                "/api/v1/work-orders", headers=agent.headers, json=work_order_body(customer["id"])
            ).json()["number"]
            clock.advance(timedelta(minutes=31))  # first response (30 min) is now overdue
            deadline = time.monotonic() + 20
            kinds: list[str] = []
            while time.monotonic() < deadline:
                kinds = [e.kind.value for e in queries.work_order_history(k.ctx, user, number)[0]]
                if "sla_breached" in kinds:
                    break
                time.sleep(0.2)
        assert kinds.count("sla_breached") == 1
    finally:
        k.engine.dispose()
