"""Search latency and index size on PostgreSQL, in-process through the search use case.

    .venv/bin/python bench/search.py --pg postgresql+psycopg://postgres@127.0.0.1:5432/kefu_search \
        --work-orders 100000 --steps 4 [--samples 200] [--seconds 600]

Loads the work orders with the demo bulk loader (`kefu demo-data`, which also indexes them) in
--steps equal steps into the database given (a new, empty one is best: the script upgrades it), and
after each step reports the sizes of the search tables and of the GIN index beside the size of
work_orders. After the last step it measures, with one caller, p50/p95 of typical searches through
kefu.services.search.search (data scope, masking, one transaction each) as a supervisor of the
centre (the demo data's one organisation: every work order is in scope, the hardest case):
  * part of a work-order number (its last 6 digits),
  * a phone's last 4 digits, and a whole phone,
  * a Chinese word (宽带 — in a large share of the work orders), and a rarer pair (光猫 LOS),
  * a word with filters (status, category, date range),
and beside them, in the same run, the reference: reading one work order by its number through the
same layers (kefu.services.workorders.queries.get_work_order). Every loop is bounded in samples and
the whole run in --seconds.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from sqlalchemy import text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "src"))

from intake import kefu_cli, machine  # noqa: E402

from kefu.adapters.db.engine import make_engine  # noqa: E402
from kefu.bootstrap import build  # noqa: E402
from kefu.config import Settings  # noqa: E402
from kefu.domain.org import Role, User  # noqa: E402
from kefu.services import search  # noqa: E402
from kefu.services.ports import WorkOrderFilter  # noqa: E402
from kefu.services.workorders import queries  # noqa: E402

SIZES = """
SELECT pg_total_relation_size('work_orders') AS work_orders,
       pg_total_relation_size('search_parts') AS parts,
       pg_total_relation_size('search_documents') AS documents,
       pg_relation_size('ix_search_documents_vector') AS gin,
       (SELECT count(*) FROM work_orders) AS n
"""


def mib(n: int) -> str:
    return f"{n / 2**20:8.1f} MiB"


def timed(fn: Callable[[], object], n: int, deadline: float) -> tuple[float, float, int]:
    samples = []
    for _ in range(n):
        if time.monotonic() > deadline:
            break
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1000)
    if len(samples) < 2:
        return float("nan"), float("nan"), len(samples)
    q = statistics.quantiles(samples, n=100)
    return q[49], q[94], len(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pg", required=True, help="PostgreSQL URL (an empty database is best)")
    parser.add_argument("--work-orders", type=int, default=100_000, help="work orders to load in all")
    parser.add_argument("--steps", type=int, default=4, help="load in this many steps, sizes after each")
    parser.add_argument("--samples", type=int, default=200, help="searches per kind")
    parser.add_argument("--seconds", type=int, default=900, help="stop measuring after this long in all")
    parser.add_argument(
        "--reindex-only", action="store_true", help="load nothing: time `kefu search reindex` of what is there"
    )
    args = parser.parse_args()
    if not args.pg.startswith("postgresql"):
        raise SystemExit("PostgreSQL only: --pg postgresql+psycopg://...")
    deadline = time.monotonic() + args.seconds
    print("machine:", machine())
    kefu_cli(args.pg, "db", "upgrade")
    engine = make_engine(args.pg)
    per_step = args.work_orders // max(args.steps, 1)
    print(f"{'work orders':>12} {'work_orders':>13} {'search_parts':>13} {'search_docs':>13} {'GIN':>13}  load s")
    if args.reindex_only:
        t = time.perf_counter()
        kefu_cli(args.pg, "search", "reindex", "--batch", "1000")
        print(f"kefu search reindex: {time.perf_counter() - t:.0f} s")
    for step in range(0 if args.reindex_only else args.steps):
        if time.monotonic() > deadline:
            print("time is up: fewer steps loaded")
            break
        t = time.perf_counter()
        kefu_cli(
            args.pg,
            "demo-data",
            "--customers",
            str(max(per_step // 10, 10)),
            "--work-orders",
            str(per_step),
            "--seed",
            str(step + 1),
        )
        took = time.perf_counter() - t
        with engine.connect() as conn:
            s = conn.execute(text(SIZES)).one()
        print(f"{s.n:12,} {mib(s.work_orders)} {mib(s.parts)} {mib(s.documents)} {mib(s.gin)}  {took:6.0f}")
    with engine.connect() as conn:
        s = conn.execute(text(SIZES)).one()
        print(
            f"index per work order: search_parts {s.parts / s.n:.0f} B, search_documents (with GIN) "
            f"{s.documents / s.n:.0f} B, work_orders {s.work_orders / s.n:.0f} B"
        )
        conn.execute(text("ANALYZE"))
        conn.commit()
        sample = conn.execute(
            text(
                "SELECT w.number, c.phone FROM work_orders w JOIN customers c ON c.id = w.customer_id "
                "ORDER BY random() LIMIT 500"
            )
        ).all()
    engine.dispose()

    k = build(Settings(database_url=args.pg, embedded_worker=False))
    boss = _user(k, Role.SUPERVISOR)
    rng = random.Random(1)
    now = k.ctx.clock.now()
    month = WorkOrderFilter(created_from=now - timedelta(days=30), created_to=now)
    cases: dict[str, Callable[[], object]] = {
        "reference: one work order by number": lambda: queries.get_work_order(k.ctx, boss, rng.choice(sample).number),
        "number part (last 6 digits)": lambda: _s(k, boss, rng.choice(sample).number[-6:]),
        "phone, last 4 digits": lambda: _s(k, boss, rng.choice(sample).phone[-4:]),
        "phone, whole": lambda: _s(k, boss, rng.choice(sample).phone),
        "word 宽带 (common)": lambda: _s(k, boss, "宽带"),
        "words 光猫 LOS": lambda: _s(k, boss, "光猫 LOS"),
        "word 宽带 + open + broadband + 30 days": lambda: _s(
            k,
            boss,
            "宽带",
            WorkOrderFilter(
                statuses=("new", "accepted", "in_progress"),
                category="broadband",
                created_from=month.created_from,
                created_to=month.created_to,
            ),
        ),
        "word 断网 + status closed": lambda: _s(k, boss, "断网", WorkOrderFilter(statuses=("closed",))),
    }
    print(f"\nsearches as a supervisor of the centre ({args.samples} each, one caller):")
    for label, fn in cases.items():
        p50, p95, n = timed(fn, args.samples, deadline)
        print(f"  {label:42s} p50 {p50:7.1f} ms   p95 {p95:7.1f} ms   ({n} samples)")
    k.engine.dispose()


def _user(k, role: Role) -> User:  # type: ignore[no-untyped-def]
    from kefu.services.access.accounts import NewUser, create_user

    name = f"search{random.randrange(10**6)}"
    return create_user(k.ctx, NewUser(username=name, role=role, password="Bench-pass-12345"))


def _s(k, actor: User, q: str, flt: WorkOrderFilter | None = None) -> int:  # type: ignore[no-untyped-def]
    return len(search.search(k.ctx, actor, q, flt or WorkOrderFilter(), limit=20).results)


if __name__ == "__main__":
    main()
