"""Two real `kefu serve` processes on 127.0.0.1 enforce one rate limit together: sharing Redis,
and (without Redis) sharing PostgreSQL."""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.support import ROOT
from tests.support.databases import create_pg_database, drop_pg_database
from tests.support.kefus import seeded_kefu
from tests.support.peers import free_port
from tests.support.redis import redis_url


@pytest.fixture
def pg_url() -> Iterator[str]:
    url = create_pg_database("kefu_shared_limits")
    seeded_kefu(url).engine.dispose()
    yield url
    drop_pg_database(url)


def serve(url: str, port: int, **env: str) -> subprocess.Popen[bytes]:
    variables = {
        **os.environ,
        "KEFU_DATABASE_URL": url,
        "KEFU_ENVIRONMENT": "test",
        "KEFU_EMBEDDED_WORKER": "false",
        **env,
    }
    return subprocess.Popen(
        [sys.executable, "-m", "kefu.cli", "serve", "--port", str(port)],
        env=variables,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def wait_up(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else b""
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise AssertionError(f"kefu serve on {port} did not come up")


def attempt(client: httpx.Client) -> int:
    page = client.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token
    r = client.post("/login", data={"username": "nobody", "password": "wrong-password-1", "csrf": token.group(1)})
    return r.status_code


def two_servers_share_one_limit(url: str, **env: str) -> None:
    # A limit of its own (amount and window make the key), so earlier runs' counts do not matter.
    amount, minutes = random.randint(5, 9), random.randint(2, 59)
    env["KEFU_RATE_LIMITS"] = json.dumps({"login.address": f"{amount}/{minutes} minutes"})
    env["KEFU_LOCKOUT_ADDRESS_FAILURES"] = "1000"
    env["KEFU_LOCKOUT_ACCOUNT_FAILURES"] = "1000"
    ports = [free_port(), free_port()]
    procs = [serve(url, port, **env) for port in ports]
    try:
        for port, proc in zip(ports, procs, strict=True):
            wait_up(port, proc)
        clients = [httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) for port in ports]
        answers = [attempt(clients[n % 2]) for n in range(amount + 3)]
        # The login page itself is not limited; each attempt counts once, wherever it lands.
        assert answers[:amount] == [401] * amount, answers
        assert answers[amount:] == [429] * 3, answers
        for c in clients:
            c.close()
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=30)


def test_two_servers_share_a_limit_through_redis(pg_url: str) -> None:
    two_servers_share_one_limit(pg_url, KEFU_REDIS_URL=redis_url())


def test_two_servers_share_a_limit_through_postgresql(pg_url: str) -> None:
    two_servers_share_one_limit(pg_url, KEFU_RATE_LIMIT_STORAGE="database")
