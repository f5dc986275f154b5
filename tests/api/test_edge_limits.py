"""What every unauthenticated endpoint refuses before doing any work: bodies over the configured
size (413, declared or chunked), and too many requests (429 with Retry-After, problem+json on the
API and the webhooks). Every POST route that answers without an account is under the smaller
body limit."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from kefu.app import PUBLIC_PATHS, create_app
from kefu.bootstrap import Kefu
from tests.support.databases import Database
from tests.support.kefus import own_kefu

SECRET = "edge-sms-secret"


@pytest.fixture(scope="module")
def edge(database: Database, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kefu]:
    with own_kefu(
        database.backend,
        tmp_path_factory.mktemp("edge"),
        "kefu_edge",
        sms_secret=SECRET,
        wechat_token="edge-token",
        max_public_body_kb=4,
        max_body_kb=16,
        rate_limits={"webhook.sender": "2/minute"},
    ) as k:
        yield k


@pytest.fixture
def client(edge: Kefu) -> Iterator[TestClient]:
    with TestClient(create_app(edge), base_url="http://127.0.0.1") as c:
        yield c


def chunked(size: int) -> Iterator[bytes]:
    for _ in range(size // 1024):
        yield b"x" * 1024


def test_bodies_over_the_limit_are_refused_before_they_are_read(client: TestClient) -> None:
    big = b"x" * (5 * 1024)
    r = client.post("/api/v1/channels/sms/inbound", content=big)
    assert r.status_code == 413 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == "request_too_large"
    r = client.post("/channels/wechat", content=chunked(8 * 1024))  # no Content-Length: counted
    assert r.status_code == 413
    for page in ("/login", "/portal/requests", "/portal/track", "/portal/verify"):
        r = client.post(page, content=big, headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert r.status_code == 413 and "text/html" in r.headers["content-type"] and "4 kB" in r.text, page
        r = client.post(page, content=chunked(8 * 1024), headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert r.status_code == 413, page
    # With an account the larger limit applies; past it, refused too.
    r = client.post("/api/v1/work-orders", content=b"x" * (20 * 1024), headers={"Content-Type": "application/json"})
    assert r.status_code == 413
    r = client.post(
        "/api/v1/work-orders", content=b"{}" + b" " * (6 * 1024), headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 401  # under 16 kB: read, and refused for want of a token


def test_every_post_route_that_answers_without_an_account_is_public(client: TestClient) -> None:
    """A new unauthenticated route must join PUBLIC_PATHS (the smaller limit) or fail here."""
    app = client.app
    for route in app.routes:  # type: ignore[attr-defined]
        methods = getattr(route, "methods", None) or set()
        if "POST" not in methods or "{" in route.path:
            continue
        r = client.post(route.path, data={}, follow_redirects=False)
        needs_account = r.status_code in (401, 403) or (r.status_code == 303 and "/login" in r.headers["location"])
        assert needs_account or route.path.startswith(PUBLIC_PATHS), (route.path, r.status_code)


def sms(client: TestClient, message_id: str, sender: str) -> int:
    body = json.dumps({"message_id": message_id, "from": sender, "text": "宽带断了"}).encode()
    signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    r = client.post(
        "/api/v1/channels/sms/inbound",
        content=body,
        headers={"X-Kefu-Signature": signature, "Content-Type": "application/json"},
    )
    if r.status_code == 429:
        assert r.headers["content-type"] == "application/problem+json" and int(r.headers["Retry-After"]) >= 1
        assert r.json()["code"] == "rate_limited"
    return int(r.status_code)


def test_one_sender_flooding_the_webhook_is_slowed_down(client: TestClient) -> None:
    assert [sms(client, f"m-{n}", "13911112222") for n in range(3)] == [200, 200, 429]
    assert sms(client, "m-other", "13933334444") == 200  # another customer is not held up
