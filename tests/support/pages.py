"""The server-rendered pages through HTTP: the CSRF token of a form, a field of a page, logging in, the
register form."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from fastapi.testclient import TestClient

from kefu.bootstrap import Kefu
from kefu.domain.org import Role
from tests.support.factories import PASSWORD, Actor, make_actor


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "the form carries a CSRF token"
    return match.group(1)


def field_of(html: str, pattern: str) -> str:
    """The first group of `pattern` in the page, which must be there."""
    match = re.search(pattern, html)
    assert match, f"the page has {pattern}"
    return match.group(1)


def login(client: TestClient, username: str) -> None:
    page = client.get("/login")
    r = client.post(
        "/login",
        data={"username": username, "password": PASSWORD, "csrf": csrf_of(page.text), "next": "/ui/work-orders"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/ui/work-orders"


def logged_in(client: TestClient, kefu: Kefu, role: Role) -> Actor:
    """A new user with `role`, logged in to the pages in `client`."""
    actor = make_actor(kefu, role)
    login(client, actor.username)
    return actor


def register_form(csrf: str, customer_id: object, **over: str) -> dict[str, str]:
    """The fields of the register-a-work-order form; `over` changes or adds fields."""
    return {
        "csrf": csrf,
        "customer_id": str(customer_id),
        "type": "fault",
        "channel": "hotline",
        "category": "broadband.no_connection",
        "title": "宽带断网",
        "description": "光猫红灯",
        **over,
    }


def post_login(client: TestClient, username: str, password: str = PASSWORD, next: str = "/ui/work-orders") -> str:
    """Log in with the password; returns where the browser is sent (the next login step, if one is due)."""
    page = client.get("/login")
    r = client.post(
        "/login",
        data={"username": username, "password": password, "csrf": csrf_of(page.text), "next": next},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    return str(r.headers["location"])


def totp_code(secret: str, *, steps_ahead: int = 0) -> str:
    """The code an authenticator app shows for `secret` now (or that many 30-second steps later)."""
    import pyotp

    return str(pyotp.TOTP(secret).at(datetime.now(UTC), counter_offset=steps_ahead))


def enrol_two_factor(client: TestClient) -> tuple[str, list[str]]:
    """On the enrolment page of a logged-in client: read the secret, confirm with its code; returns
    the secret and the recovery codes shown."""
    page = client.get("/ui/account/two-factor")
    assert page.status_code == 200 and "<svg" in page.text, page.text
    secret = field_of(page.text, r'id="secret" class="secret">([A-Z2-7 ]+)<').replace(" ", "")
    r = client.post("/ui/account/two-factor/confirm", data={"csrf": csrf_of(page.text), "code": totp_code(secret)})
    assert r.status_code == 200 and 'id="recovery-codes"' in r.text, r.text
    return secret, re.findall(r"<li><code>([a-z0-9-]+)</code></li>", r.text)
