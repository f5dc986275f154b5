"""The agents' and supervisors' pages on a large PostgreSQL database, against the API list.

    .venv/bin/kefu demo-data --customers 100000 --work-orders 1000000   # with KEFU_DATABASE_URL set
    .venv/bin/python bench/pages.py --pg postgresql+psycopg://postgres@127.0.0.1:5432/kefu_lists

One client, logged in through the login form, on a server on 127.0.0.1 (caches off, so every request
asks the database). p50/p95 of: the work-order list page with its five queue counts and saved filters,
the team queue as a list, "due within 1 hour", the supervisor's dashboard panel, and — in the same
run, as the reference — the API's first page of open work orders. Every loop is bounded.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import statistics
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "src"))

from intake import machine, serve  # noqa: E402

from kefu.bootstrap import build  # noqa: E402
from kefu.config import Settings  # noqa: E402
from kefu.domain.org import Role  # noqa: E402
from kefu.services.access.accounts import NewUser, create_user  # noqa: E402
from kefu.services.access.tokens import create_api_token  # noqa: E402
from kefu.services.ports import WorkOrderFilter  # noqa: E402

PORT = 8773
PASSWORD = "Bench-pages-12345"


def login(client: httpx.Client, username: str) -> None:
    page = client.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    r = client.post(
        "/login", data={"username": username, "password": PASSWORD, "csrf": csrf, "next": "/ui/work-orders"}
    )
    assert r.status_code in (200, 303), r.status_code


def timed(client: httpx.Client, path: str, samples: int, headers: dict[str, str] | None = None) -> tuple[float, float]:
    out = []
    for _ in range(samples):
        t = time.perf_counter()
        r = client.get(path, headers=headers)
        out.append((time.perf_counter() - t) * 1000)
        assert r.status_code == 200, (path, r.status_code)
    q = statistics.quantiles(out, n=100)
    return q[49], q[94]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pg", required=True)
    parser.add_argument("--samples", type=int, default=100)
    args = parser.parse_args()
    # The supervisor logs in with the password alone: the bench measures pages, not two-factor login.
    k = build(Settings(database_url=args.pg, embedded_worker=False, require_2fa_roles=""))
    with k.ctx.uow() as uow:
        demo = uow.users.get_by_username("zhangwei")
        total = uow.workspace.count(WorkOrderFilter(), 10**7)
    assert demo is not None, "load the demo data first"
    suffix = secrets.token_hex(3)
    agent = create_user(
        k.ctx, NewUser(username=f"benchagent{suffix}", role=Role.AGENT, password=PASSWORD, team_id=demo.team_id)
    )
    supervisor = create_user(
        k.ctx, NewUser(username=f"benchsup{suffix}", role=Role.SUPERVISOR, password=PASSWORD, team_id=demo.team_id)
    )
    token = create_api_token(k.ctx, agent.username, name="bench").token
    os.environ["KEFU_CACHE_SECONDS"] = "0"
    os.environ["KEFU_EMBEDDED_WORKER"] = "false"
    proc = serve("kefu.asgi:app", args.pg, PORT)
    results = {}
    try:
        base = f"http://127.0.0.1:{PORT}"
        with (
            httpx.Client(base_url=base, timeout=60, follow_redirects=True) as a,
            httpx.Client(base_url=base, timeout=60, follow_redirects=True) as s,
        ):
            login(a, agent.username)
            login(s, supervisor.username)
            for _ in range(3):  # warm up
                a.get("/ui/work-orders")
                s.get("/ui/dashboard/panel")
            results["API: first page of open work orders"] = timed(
                a, "/api/v1/work-orders?open=true&limit=50", args.samples, {"Authorization": f"Bearer {token}"}
            )
            results["page: work orders (5 queue counts)"] = timed(a, "/ui/work-orders", args.samples)
            results["page: team queue as a list"] = timed(a, "/ui/work-orders?queue=team", args.samples)
            results["page: due within 1 hour"] = timed(a, "/ui/work-orders?breach_within=60", args.samples)
            results["page: dashboard panel (supervisor)"] = timed(s, "/ui/dashboard/panel", max(args.samples // 5, 10))
    finally:
        proc.terminate()
        proc.wait(10)
    print("machine:", machine())
    print(f"work orders in the database: {total:,}")
    for label, (p50, p95) in results.items():
        print(f"{label:40s} p50 {p50:7.1f} ms   p95 {p95:7.1f} ms")


if __name__ == "__main__":
    main()
