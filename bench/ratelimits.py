"""What the rate-limit lookups cost on the intake path, on PostgreSQL: the signed SMS webhook (each
message from a new customer opens a work order), in process through the ASGI app, with the limits'
counts nowhere (before: no limits), in this process's memory, in Redis and in PostgreSQL; and the
bare lookup (one `hit`) on each storage. One run, alternating slices of equal size, so the ratios
hold on a noisy machine.

    .venv/bin/python bench/ratelimits.py --pg postgresql+psycopg://postgres@127.0.0.1:5432/test \\
        [--redis redis://127.0.0.1:6379/15] [--messages 200] [--rounds 4]

The script makes its own database next to --pg and drops it afterwards; each phase is bounded by
its message count.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import uuid
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "src"))

from fastapi.testclient import TestClient  # noqa: E402
from intake import machine  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from kefu.adapters.channels.sms import sign  # noqa: E402
from kefu.adapters.db.migrate import upgrade  # noqa: E402
from kefu.adapters.ratelimits import build_limiter  # noqa: E402
from kefu.app import create_app  # noqa: E402
from kefu.bootstrap import Kefu, build  # noqa: E402
from kefu.config import Settings  # noqa: E402
from kefu.services.org.reference import seed_reference_data  # noqa: E402
from kefu.services.ratelimits import Limit, RateLimits, rates  # noqa: E402

SECRET = "bench-sms-secret"
OUT_OF_REACH = {limit.value: "1000000/minute" for limit in Limit}


def variants(url: str, redis_url: str) -> dict[str, Kefu]:
    base = build(
        Settings(database_url=url, sms_secret=SECRET, embedded_worker=False, rate_limits=OUT_OF_REACH, quiet_hours="")
    )
    upgrade(base.engine)
    seed_reference_data(base.ctx)
    made = {"no limits (before)": replace(base, ctx=replace(base.ctx, rate_limits=RateLimits()))}
    for storage, label in (("memory", "memory"), ("redis", "Redis"), ("database", "PostgreSQL")):
        if storage == "redis" and not redis_url:
            continue
        limiter = build_limiter(storage, redis_url=redis_url, engine=base.engine)  # type: ignore[arg-type]
        made[label] = replace(base, ctx=replace(base.ctx, rate_limits=RateLimits(limiter, rates(OUT_OF_REACH))))
    return made


def sms(client: TestClient, n: int) -> float:
    body = json.dumps(
        {"message_id": uuid.uuid4().hex, "from": f"137{n:08d}", "text": "家里宽带断网了，光猫红灯"}, ensure_ascii=False
    ).encode()
    headers = {"X-Kefu-Signature": sign(SECRET, body), "Content-Type": "application/json"}
    start = time.perf_counter()
    r = client.post("/api/v1/channels/sms/inbound", content=body, headers=headers)
    elapsed = time.perf_counter() - start
    assert r.status_code == 200, r.text
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pg", required=True)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/15")
    parser.add_argument("--messages", type=int, default=200, help="per variant and round")
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    name = f"kefu_bench_rl_{uuid.uuid4().hex[:6]}"
    admin = create_engine(make_url(args.pg).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(args.pg).set(drivername="postgresql+psycopg", database=name).render_as_string(hide_password=False)
    try:
        made = variants(url, args.redis)
        clients = {label: TestClient(create_app(k), base_url="http://127.0.0.1") for label, k in made.items()}
        times: dict[str, list[float]] = {label: [] for label in made}
        lookups: dict[str, list[float]] = {label: [] for label in made}
        n = 0
        for _ in range(args.rounds):
            for label, client in clients.items():
                for _ in range(args.messages):
                    n += 1
                    times[label].append(sms(client, n))
                limits = made[label].ctx.rate_limits
                start = time.perf_counter()
                for i in range(args.messages):
                    limits.check(Limit.WEBHOOK_SENDER, f"1390000{i % 50:04d}")
                lookups[label].append((time.perf_counter() - start) / args.messages)
        print(f"machine: {machine()}")
        print(f"{args.rounds} rounds x {args.messages} SMS per variant, in process, PostgreSQL")
        before = statistics.median(times["no limits (before)"])
        print(f"{'counts kept in':<20} {'webhook median ms':>18} {'p95 ms':>8} {'vs before':>10} {'one lookup ms':>14}")
        for label, series in times.items():
            ordered = sorted(series)
            median, p95 = statistics.median(series), ordered[int(len(ordered) * 0.95)]
            lookup = statistics.median(lookups[label]) * 1000
            print(f"{label:<20} {median * 1000:>18.2f} {p95 * 1000:>8.2f} {median / before:>9.2f}x {lookup:>14.3f}")
        for client in clients.values():
            client.close()
        next(iter(made.values())).engine.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
