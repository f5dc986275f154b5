"""Inbound messages per second through the intake, over HTTP, on PostgreSQL.

    .venv/bin/python bench/channels.py --pg postgresql+psycopg://postgres@127.0.0.1:5432/kefu_bench [--seconds 30]

One kefu server on 127.0.0.1 (KEFU_SMS_SECRET set), 8 concurrent clients; in one run, alternating
slices of equal length:
  * SMS from new customers (signed webhook; each opens a work order and queues the answer),
  * SMS from customers who already have an open work order about it (each is threaded into it),
  * CTI call events (ringing, answered, hangup of new calls),
and beside them kefu's own work-order POST by an agent, the reference measured in bench/intake.py.
Every load phase is bounded in time; the server and the database are made and left by the script.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "src"))

from intake import BODY, machine, prepare, serve  # noqa: E402

from kefu.adapters.channels.sms import sign  # noqa: E402

SECRET = "bench-sms-secret"
PORT = 8771
_counter = itertools.count(1)


def _phone(i: int) -> str:
    return f"13{(700_000_000 + i) % 10**9:09d}"


def sms_new() -> tuple[str, bytes, dict[str, str]]:
    i = next(_counter)
    body = json.dumps(
        {"message_id": uuid.uuid4().hex, "from": _phone(i + 5_000_000), "text": "家里宽带断网了，光猫红灯"},
        ensure_ascii=False,
    ).encode()
    return (
        "/api/v1/channels/sms/inbound",
        body,
        {"X-Kefu-Signature": sign(SECRET, body), "Content-Type": "application/json"},
    )


def sms_follow_up() -> tuple[str, bytes, dict[str, str]]:
    body = json.dumps(
        {"message_id": uuid.uuid4().hex, "from": _phone(next(_counter) % 200), "text": "请问什么时候能修好？"},
        ensure_ascii=False,
    ).encode()
    return (
        "/api/v1/channels/sms/inbound",
        body,
        {"X-Kefu-Signature": sign(SECRET, body), "Content-Type": "application/json"},
    )


def cti_event(token: str) -> tuple[str, bytes, dict[str, str]]:
    i = next(_counter)
    kind = ("ringing", "answered", "hangup")[i % 3]
    body = json.dumps(
        {"call_id": f"call-{i // 3}", "event": kind, "at": datetime.now(UTC).isoformat(), "caller": _phone(i // 3)}
    ).encode()
    return "/api/v1/cti/events", body, {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}


def work_order(token: str) -> tuple[str, bytes, dict[str, str]]:
    return (
        "/api/v1/work-orders",
        json.dumps(BODY).encode(),
        {"Authorization": f"Bearer {token}", "Content-Type": "application/json", "Idempotency-Key": uuid.uuid4().hex},
    )


async def load(make, clients: int, seconds: float) -> tuple[int, float, list[float], int]:  # type: ignore[no-untyped-def]
    latencies: list[float] = []
    errors = 0
    end = time.perf_counter() + seconds

    async def client() -> None:
        nonlocal errors
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{PORT}", timeout=30) as c:
            while time.perf_counter() < end:
                path, body, headers = make()
                t = time.perf_counter()
                r = await c.post(path, content=body, headers=headers)
                latencies.append(time.perf_counter() - t)
                if r.status_code >= 300:
                    errors += 1

    start = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return len(latencies), time.perf_counter() - start, latencies, errors


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pg", required=True, help="PostgreSQL URL of a database the benchmark may write to")
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()
    os.environ["KEFU_SMS_SECRET"] = SECRET
    os.environ["KEFU_EMBEDDED_WORKER"] = "false"
    token = prepare(args.pg)
    proc = serve("kefu.asgi:app", args.pg, PORT)
    try:
        # The follow-up senders get their first message (and work order) before the clock starts.
        with httpx.Client(base_url=f"http://127.0.0.1:{PORT}", timeout=30) as c:
            for i in range(200):
                body = json.dumps(
                    {"message_id": uuid.uuid4().hex, "from": _phone(i), "text": "宽带断网"}, ensure_ascii=False
                ).encode()
                c.post(
                    "/api/v1/channels/sms/inbound",
                    content=body,
                    headers={"X-Kefu-Signature": sign(SECRET, body), "Content-Type": "application/json"},
                )
        kinds = {
            "SMS, new customer (opens a work order)": sms_new,
            "SMS, follow-up (threaded)": sms_follow_up,
            "CTI call event": lambda: cti_event(token),
            "work order POST by an agent": lambda: work_order(token),
        }
        totals = {k: [0, 0.0, [], 0] for k in kinds}
        slices = 4
        for _ in range(slices):
            for name, make in kinds.items():
                n, elapsed, lat, errors = asyncio.run(load(make, args.clients, args.seconds / slices / len(kinds)))
                t = totals[name]
                t[0] += n
                t[1] += elapsed
                t[2] += lat
                t[3] += errors
    finally:
        proc.terminate()
        proc.wait(10)
    print("machine:", machine())
    print(f"{args.clients} clients, {args.seconds:.0f} s in all, {slices} alternating slices per kind")
    for name, (n, elapsed, lat, errors) in totals.items():
        q = statistics.quantiles(lat, n=100)
        print(
            f"{name:42s} {n / elapsed:7.0f} /s  p50 {q[49] * 1000:6.1f} ms  p95 {q[94] * 1000:6.1f} ms  "
            f"({n} requests, {errors} errors)"
        )


if __name__ == "__main__":
    main()
