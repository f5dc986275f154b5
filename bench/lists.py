"""List and detail latency on a large PostgreSQL database, through the HTTP API.

    .venv/bin/kefu demo-data --customers 100000 --work-orders 1000000   # with KEFU_DATABASE_URL set
    .venv/bin/python bench/lists.py --pg postgresql+psycopg://postgres@127.0.0.1:5432/kefu_lists

Measures, with one client, p50/p95 of
  * the first page of open work orders with a filter (keyset pagination),
  * the page 1,000 pages deep (its cursor found by walking the pages once),
  * a work order's detail and its history,
and beside them, in the same run, the SQL a naive OFFSET pagination would run for the same deep
page, to show what keyset pagination saves. The server binds to 127.0.0.1; every loop is bounded.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

import httpx
from sqlalchemy import func, select, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "src"))

from intake import kefu_cli, machine, serve  # noqa: E402

from kefu.adapters.db.engine import make_engine  # noqa: E402
from kefu.adapters.db.tables import work_orders  # noqa: E402

PORT = 8767
FILTER = {"open": "true", "priority": "P3", "limit": "50"}


def timed(fn, n: int) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    samples = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1000)
    q = statistics.quantiles(samples, n=100)
    return q[49], q[94]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pg", required=True, help="PostgreSQL URL of a database loaded with demo-data")
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--depth", type=int, default=1000, help="how many pages deep")
    args = parser.parse_args()
    engine = make_engine(args.pg)
    with engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(work_orders)).scalar_one()
    print("machine:", machine())
    print(f"work orders in the database: {total:,}")
    if total < 1_000_000:
        print("load at least 1,000,000 first: kefu demo-data --customers 100000 --work-orders 1000000")
    name = f"lists{random.randrange(10**6)}"
    kefu_cli(
        args.pg,
        "user",
        "create",
        "--username",
        name,
        "--role",
        "supervisor",
        "--password-stdin",
        stdin="Bench-pass-12345",
    )
    token = kefu_cli(args.pg, "token", "create", "--username", name)
    headers = {"Authorization": f"Bearer {token}"}
    proc = serve("kefu.asgi:app", args.pg, PORT)
    base = f"http://127.0.0.1:{PORT}/api/v1"
    try:
        with httpx.Client(base_url=base, headers=headers, timeout=30) as c:

            def first_page() -> None:
                r = c.get("/work-orders", params=FILTER)
                assert r.status_code == 200 and len(r.json()["items"]) == 50, r.text

            cursor = None
            walk = time.perf_counter()
            for _ in range(args.depth):
                page = c.get("/work-orders", params={**FILTER, **({"cursor": cursor} if cursor else {})}).json()
                cursor = page["next_cursor"]
                if cursor is None:
                    raise SystemExit(f"fewer than {args.depth} pages match {FILTER}")
            walk = time.perf_counter() - walk

            def deep_page() -> None:
                r = c.get("/work-orders", params={**FILTER, "cursor": cursor})
                assert r.status_code == 200 and r.json()["items"], r.text

            numbers = [w["number"] for w in c.get("/work-orders", params={"limit": "200"}).json()["items"]]
            with engine.connect() as conn:
                numbers += list(
                    conn.execute(text("SELECT number FROM work_orders TABLESAMPLE SYSTEM (1) LIMIT 500")).scalars()
                )
            rng = random.Random(1)

            def detail() -> None:
                number = rng.choice(numbers)
                assert c.get(f"/work-orders/{number}").status_code == 200
                assert c.get(f"/work-orders/{number}/history").status_code == 200

            def sparse_page() -> None:
                r = c.get("/work-orders", params={"open": "true", "priority": "P1", "category": "broadband"})
                assert r.status_code == 200, r.text

            results = {
                "first page, open + P3": timed(first_page, args.samples),
                "first page, open + P1 + broadband (rare)": timed(sparse_page, args.samples),
                f"page {args.depth + 1} (keyset cursor)": timed(deep_page, args.samples),
                "detail + history (2 requests)": timed(detail, args.samples),
            }
    finally:
        proc.terminate()
        proc.wait(10)

    statuses = "('new','accepted','in_progress','dispatched','returned','pending','resolved','callback')"
    offset_sql = text(
        f"SELECT * FROM work_orders WHERE status IN {statuses} AND priority = 'P3' "
        "ORDER BY id DESC LIMIT 50 OFFSET :off"
    )
    with engine.connect() as conn:

        def offset_page() -> None:
            conn.execute(offset_sql, {"off": args.depth * 50}).all()

        results["same deep page with OFFSET (SQL only, no HTTP)"] = timed(offset_page, max(20, args.samples // 10))
    engine.dispose()

    print(f"walking {args.depth} pages once: {walk:.1f} s ({walk / args.depth * 1000:.1f} ms a page)")
    for label, (p50, p95) in results.items():
        print(f"{label:45s} p50 {p50:7.1f} ms   p95 {p95:7.1f} ms")


if __name__ == "__main__":
    main()
