"""Cost of an SLA tick against how many work orders are open, on PostgreSQL.

    .venv/bin/python bench/sla_tick.py --pg postgresql+psycopg://postgres@127.0.0.1:5432/test

For 100,000 and for 1,000,000 open work orders (each database made, bulk-loaded with COPY and
dropped by the script), 10,000 of whose resolution clocks are due: the time to fire all 10,000
(ticks of 500 until nothing is due), and the ratio between the two sizes. The goal is a ratio near
1: a tick reads the partial index on next_fire_at, so its cost follows what is due, not what is open.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "src"))

from intake import machine  # noqa: E402

from kefu.adapters.db.migrate import upgrade  # noqa: E402
from kefu.bootstrap import build  # noqa: E402
from kefu.config import Settings  # noqa: E402
from kefu.services.org.reference import seed_reference_data  # noqa: E402
from kefu.workers.loop import run  # noqa: E402

DUE = 10_000


def load(url: str, open_orders: int) -> None:
    k = build(Settings(environment="test", database_url=url, embedded_worker=False))
    upgrade(k.engine)
    seed_reference_data(k.ctx)
    now = datetime.now(UTC)
    started = now - timedelta(hours=3)
    with k.engine.begin() as conn:
        system = conn.execute(text("SELECT id FROM users WHERE username = 'system'")).scalar_one()
        customer = conn.execute(
            text(
                "INSERT INTO customers (name, phone, tier, services, devices, tags, created_at) "
                "VALUES ('bench', '13900000000', 'standard', '[]', '[]', '[]', :t) RETURNING id"
            ),
            {"t": started},
        ).scalar_one()
    raw = k.engine.raw_connection()
    try:
        with raw.cursor() as cur:
            with cur.copy(
                "COPY work_orders (id, number, customer_id, type, category, channel, priority, severity, "
                "title, description, status, owner_id, created_by, created_at, updated_at) FROM STDIN"
            ) as cp:
                for i in range(1, open_orders + 1):
                    cp.write_row(
                        (
                            i,
                            f"GD{19990101 + i // 10**6}{i % 10**6:06d}",
                            customer,
                            "fault",
                            "broadband.no_connection",
                            "hotline",
                            "P3",
                            3,
                            "t",
                            "d",
                            "in_progress",
                            system,
                            system,
                            started,
                            started,
                        )
                    )
            with cur.copy(
                "COPY work_order_clocks (work_order_id, name, calendar, target_minutes, phase, elapsed_us, "
                "running_since, started_at, fired, laps, due_at, next_fire_at) FROM STDIN"
            ) as cp:
                for i in range(1, open_orders + 1):
                    due = started + timedelta(hours=2) if i % (open_orders // DUE) == 0 else now + timedelta(days=2)
                    cp.write_row(
                        (
                            i,
                            "resolution",
                            "24x7",
                            120 if due < now else 3000,
                            "running",
                            0,
                            started,
                            started,
                            0,
                            0,
                            due,
                            due,
                        )
                    )
        raw.commit()
    finally:
        raw.close()
    with k.engine.begin() as conn:
        conn.execute(text("SELECT setval(pg_get_serial_sequence('work_orders', 'id'), :n)"), {"n": open_orders})
        conn.execute(text("ANALYZE"))
    k.engine.dispose()


def measure(url: str) -> float:
    k = build(Settings(environment="test", database_url=url, embedded_worker=False))
    t = time.perf_counter()
    fired = run(k.ctx, stop=threading.Event(), batch=500, once=True)
    elapsed = time.perf_counter() - t
    assert fired == DUE, fired
    k.engine.dispose()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pg", required=True, help="PostgreSQL URL; the script makes and drops its own databases")
    parser.add_argument("--sizes", default="100000,1000000")
    args = parser.parse_args()
    admin = create_engine(make_url(args.pg).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
    print("machine:", machine())
    results = {}
    for size in (int(s) for s in args.sizes.split(",")):
        name = f"kefu_tick_{uuid.uuid4().hex[:8]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(args.pg).set(drivername="postgresql+psycopg", database=name).render_as_string(False)
        try:
            t = time.perf_counter()
            load(url, size)
            print(f"{size:>9,} open work orders loaded in {time.perf_counter() - t:.0f} s")
            results[size] = measure(url)
            print(
                f"{size:>9,} open, {DUE:,} due: fired all in {results[size]:.2f} s "
                f"({DUE / results[size]:.0f} thresholds/s)"
            )
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    sizes = sorted(results)
    if len(sizes) >= 2:
        print(f"ratio {sizes[-1]:,} / {sizes[0]:,} open: {results[sizes[-1]] / results[sizes[0]]:.2f}")


if __name__ == "__main__":
    main()
