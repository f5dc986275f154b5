"""`kefu worker` processes on PostgreSQL: side by side, and killed mid-tick."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, insert, select, text

from kefu.adapters.db.engine import make_engine
from kefu.adapters.db.tables import customers, users, work_order_clocks, work_order_events, work_orders
from tests.support import ROOT
from tests.support.databases import create_pg_database, drop_pg_database
from tests.support.kefus import seeded_kefu
from tests.support.log_guard import personal_data_in

N = 10_000


@pytest.fixture
def pg_url() -> Iterator[str]:
    url = create_pg_database("kefu_workers")
    seeded_kefu(url).engine.dispose()
    yield url
    drop_pg_database(url)


def seed_due_clocks(engine: Engine, n: int) -> None:
    """n open work orders whose resolution clock fell due an hour ago (no policy: one threshold each)."""
    now = datetime.now(UTC)
    started = now - timedelta(hours=3)
    with engine.begin() as conn:
        system = conn.execute(select(users.c.id).where(users.c.username == "system")).scalar_one()
        customer = conn.execute(
            insert(customers)
            .values(
                name="批量",
                phone="13900000000",
                tier="standard",
                services=[],
                devices=[],
                tags=[],
                created_at=started,
            )
            .returning(customers.c.id)
        ).scalar_one()
        conn.execute(
            insert(work_orders),
            [
                {
                    "number": f"GD19990101{i:06d}",
                    "customer_id": customer,
                    "type": "fault",
                    "category": "broadband.no_connection",
                    "channel": "hotline",
                    "priority": "P3",
                    "severity": 3,
                    "title": "t",
                    "description": "d",
                    "status": "in_progress",
                    "owner_id": system,
                    "created_by": system,
                    "created_at": started,
                    "updated_at": started,
                    "reopen_count": 0,
                    "version": 1,
                }
                for i in range(1, n + 1)
            ],
        )
        ids = conn.execute(select(work_orders.c.id).where(work_orders.c.customer_id == customer)).scalars().all()
        conn.execute(
            insert(work_order_clocks),
            [
                {
                    "work_order_id": wid,
                    "name": "resolution",
                    "calendar": "24x7",
                    "target_minutes": 120,
                    "phase": "running",
                    "elapsed_us": 0,
                    "running_since": started,
                    "started_at": started,
                    "fired": 0,
                    "laps": 0,
                    "due_at": started + timedelta(hours=2),
                    "next_fire_at": started + timedelta(hours=2),
                }
                for wid in ids
            ],
        )


def worker(url: str, *args: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "KEFU_DATABASE_URL": url}
    return subprocess.Popen(
        [sys.executable, "-m", "kefu.cli", "worker", *args],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def breaches(engine: Engine) -> tuple[int, int]:
    """(breach events, distinct work orders with one)."""
    with engine.connect() as conn:
        row = conn.execute(
            select(func.count(), func.count(work_order_events.c.work_order_id.distinct())).where(
                work_order_events.c.kind == "sla_breached"
            )
        ).one()
    return row[0], row[1]


def test_four_workers_fire_each_of_10000_deadlines_exactly_once(pg_url: str) -> None:
    engine = make_engine(pg_url)
    seed_due_clocks(engine, N)
    procs = [worker(pg_url, "--once", "--batch", "250") for _ in range(4)]
    for p in procs:
        assert p.wait(timeout=300) == 0, p.stderr.read() if p.stderr else ""
        logged = p.stderr.read().decode() if p.stderr else ""
        assert "fired" in logged and not personal_data_in(logged.splitlines())  # what a worker logs is clean too
    assert breaches(engine) == (N, N)
    with engine.connect() as conn:
        left = conn.execute(
            select(func.count()).select_from(work_order_clocks).where(work_order_clocks.c.next_fire_at.is_not(None))
        ).scalar_one()
        fired_each = conn.execute(
            select(func.count())
            .select_from(work_order_clocks)
            .where(work_order_clocks.c.fired == 1, work_order_clocks.c.breached_at.is_not(None))
        ).scalar_one()
    assert left == 0 and fired_each == N
    engine.dispose()


def test_a_worker_killed_mid_tick_loses_nothing_and_doubles_nothing(pg_url: str) -> None:
    engine = make_engine(pg_url)
    seed_due_clocks(engine, N)
    victim = worker(pg_url, "--once", "--batch", str(N))  # one transaction for everything
    deadline = time.monotonic() + 60
    with engine.connect() as conn:  # wait until it holds the rows, i.e. is inside its tick
        while time.monotonic() < deadline:
            locked = conn.execute(
                text(
                    "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                    "WHERE c.relname = 'work_order_clocks' AND l.mode = 'RowShareLock'"
                )
            ).scalar_one()
            conn.rollback()
            if locked:
                break
            time.sleep(0.05)
    assert locked, "the worker never claimed its rows"
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=30)
    assert breaches(engine) == (0, 0)  # it died before committing: nothing of its tick is kept
    survivor = worker(pg_url, "--once", "--batch", "500")
    assert survivor.wait(timeout=300) == 0
    assert breaches(engine) == (N, N)
    engine.dispose()
