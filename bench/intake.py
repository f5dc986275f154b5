"""Work-order intake through the HTTP API: kefu's full create against two references, in one run.

    .venv/bin/python bench/intake.py [--seconds 20] [--clients 8] [--pg postgresql+psycopg://postgres@127.0.0.1/test]
                                     [--chain-cost] [--no-sqlite]

For each database (SQLite, and PostgreSQL when --pg is given) it measures
  1. the raw single-row INSERT + COMMIT rate of the same row (one connection, no HTTP);
  2. a minimal ASGI endpoint (bench/minimal_app.py, same uvicorn settings) doing only that INSERT;
  3. kefu's POST /api/v1/work-orders (validation, auth, number, event, idempotency key);
and prints req/s, p50/p95 latency and kefu's share of the minimal endpoint's rate. With --chain-cost,
  4. kefu with the hash chain of work-order events switched off (bench/unchained_app.py) runs beside
     them, and the cost of the chain is kefu's rate against that one.
Servers bind to 127.0.0.1 only; every load phase stops after --seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
from sqlalchemy import text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
BODY = {
    "customer_id": 1,
    "type": "fault",
    "category": "broadband.no_connection",
    "channel": "hotline",
    "title": "宽带无法连接",
    "description": "客户反映家中宽带无法连接，光猫LOS灯红色闪烁，已重启无效。",
}


def machine() -> str:
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    cpu = platform.processor() or platform.machine()
    return f"{cpu}, {os.cpu_count()} cores, {mem:.0f} GiB, Python {platform.python_version()}"


def kefu_cli(url: str, *args: str, stdin: str | None = None) -> str:
    env = {**os.environ, "KEFU_DATABASE_URL": url}
    return subprocess.run(
        [sys.executable, "-m", "kefu.cli", *args],
        env=env,
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
        input=stdin,
    ).stdout.strip()


def prepare(url: str) -> str:
    kefu_cli(url, "db", "upgrade")
    kefu_cli(url, "demo-data", "--customers", "10", "--work-orders", "0", "--if-empty")
    name = f"bench{uuid.uuid4().hex[:6]}"
    kefu_cli(url, "user", "create", "--username", name, "--role", "agent", "--password-stdin", stdin="Bench-pass-12345")
    return kefu_cli(url, "token", "create", "--username", name)


def raw_insert_rate(url: str, seconds: float) -> float:
    from kefu.adapters.db.engine import make_engine

    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "CREATE TABLE IF NOT EXISTS bench_raw (id INTEGER PRIMARY KEY, body TEXT)"
                if engine.dialect.name == "sqlite"
                else "CREATE TABLE IF NOT EXISTS bench_raw (id BIGSERIAL PRIMARY KEY, body TEXT)"
            )
        )
    n, end = 0, time.perf_counter() + seconds
    body = str(BODY)
    with engine.connect().execution_options(kefu_write=True) as conn:
        while time.perf_counter() < end:
            conn.execute(text("INSERT INTO bench_raw (body) VALUES (:b)"), {"b": body})
            conn.commit()
            n += 1
    engine.dispose()
    return n / seconds


def serve(app: str, url: str, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "KEFU_DATABASE_URL": url, "PYTHONPATH": f"{ROOT / 'bench'}:{ROOT / 'src'}"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            app,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        env=env,
        cwd=ROOT,
    )
    for _ in range(100):
        try:
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"{app} did not start")


async def load(url: str, headers: dict[str, str], clients: int, seconds: float, unique_keys: bool) -> dict[str, float]:
    latencies: list[float] = []
    errors = 0
    end = time.perf_counter() + seconds

    async def client() -> None:
        nonlocal errors
        async with httpx.AsyncClient(timeout=30) as c:
            while time.perf_counter() < end:
                h = {**headers, "Idempotency-Key": uuid.uuid4().hex} if unique_keys else headers
                t = time.perf_counter()
                r = await c.post(url, json=BODY, headers=h)
                latencies.append(time.perf_counter() - t)
                if r.status_code != 201:
                    errors += 1

    start = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    elapsed = time.perf_counter() - start
    q = statistics.quantiles(latencies, n=100)
    return {
        "rps": len(latencies) / elapsed,
        "p50": q[49] * 1000,
        "p95": q[94] * 1000,
        "errors": errors,
        "n": len(latencies),
    }


def hash_cost_us(n: int = 20_000) -> float:
    """What the chain adds per event in CPU: its canonical form and its hash (a registration's
    events: created, sla_applied, routed)."""
    from datetime import UTC, datetime

    from kefu.domain.audit import GENESIS, chain_hash, event_content
    from kefu.domain.events import EventKind, WorkOrderEvent

    event = WorkOrderEvent(
        kind=EventKind.CREATED,
        actor_id=12,
        at=datetime.now(UTC),
        to_status="new",
        data={"channel": "hotline", "category": "broadband.no_connection", "priority": "P3", "clocks": [1, 2, 3]},
    )
    start = time.perf_counter()
    for seq in range(n):
        chain_hash(GENESIS, event_content(1234567, seq, event))
    return (time.perf_counter() - start) / n * 1e6


def run_one(label: str, url: str, seconds: float, clients: int, slices: int = 4, chain_cost: bool = False) -> None:
    """Both servers run side by side (the idle one costs nothing); the load alternates between them
    in `slices` slices each, so drift in the machine's speed hits both alike."""
    token = prepare(url)
    raw = raw_insert_rate(url, min(seconds, 5))
    bearer = {"Authorization": f"Bearer {token}"}
    targets = {
        "minimal": ("minimal_app:app", 8765, "/", {}),
        "kefu": ("kefu.asgi:app", 8766, "/api/v1/work-orders", bearer),
    }
    if chain_cost:
        targets["unchained"] = ("unchained_app:app", 8767, "/api/v1/work-orders", bearer)
    procs = {name: serve(app, url, port) for name, (app, port, _, _) in targets.items()}
    parts: dict[str, list[dict[str, float]]] = {name: [] for name in targets}
    try:
        names = list(targets)
        for n in range(slices):
            # Each slice starts with another target, so that none always runs first or last.
            for name in names[n % len(names) :] + names[: n % len(names)]:
                _, port, path, auth = targets[name]
                url_of = f"http://127.0.0.1:{port}{path}"
                parts[name].append(asyncio.run(load(url_of, auth, clients, seconds / slices, name != "minimal")))
    finally:
        for proc in procs.values():
            proc.terminate()
            proc.wait(10)
    print(f"\n== {label} ({clients} clients, {seconds:.0f} s each, in {slices} alternating slices)")
    print(f"raw INSERT+COMMIT, one connection: {raw:8.0f} rows/s")
    rates = {}
    for name, runs in parts.items():
        n = sum(r["n"] for r in runs)
        rates[name] = n / sum(r["n"] / r["rps"] for r in runs)
        p50 = statistics.median(r["p50"] for r in runs)
        p95 = max(r["p95"] for r in runs)
        errors = sum(r["errors"] for r in runs)
        print(
            f"{name:8s} {rates[name]:8.0f} req/s  p50 {p50:6.1f} ms  p95 {p95:6.1f} ms (worst slice)  "
            f"({n:.0f} requests, {errors:.0f} errors)"
        )
    print(f"kefu / minimal endpoint: {rates['kefu'] / rates['minimal']:.0%}")
    if chain_cost:
        print(f"kefu / kefu without the event hash chain: {rates['kefu'] / rates['unchained']:.1%}")
        print(f"hashing one event (canonical JSON + SHA-256), in process: {hash_cost_us():.1f} µs")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--pg", help="PostgreSQL URL of a database the benchmark may write to")
    parser.add_argument("--chain-cost", action="store_true", help="also kefu without the event hash chain")
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    args = parser.parse_args()
    print("machine:", machine())
    if not args.no_sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            run_one("SQLite", f"sqlite:///{tmp}/bench.db", args.seconds, args.clients, chain_cost=args.chain_cost)
    if args.pg:
        run_one("PostgreSQL", args.pg, args.seconds, args.clients, chain_cost=args.chain_cost)


if __name__ == "__main__":
    main()
