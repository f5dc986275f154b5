"""End-to-end: a real kefu server on 127.0.0.1 (SQLite, its own file) and Debian's chromium, headless,
driven by Playwright. CI installs chromium (`.ci/run`); without it these tests fail in CI and are
skipped locally with the command to install it."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn

from kefu.adapters.db.migrate import upgrade
from kefu.bootstrap import Kefu, build
from kefu.config import Settings
from kefu.domain.org import Role
from kefu.services.access.accounts import NewUser, create_user
from kefu.services.customers import NewCustomer, register_customer
from kefu.services.org.reference import seed_demo_parties, seed_reference_data
from tests.conftest import IN_CI, PASSWORD, ROOT

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = ROOT / "var" / "screenshots"


@dataclass
class Site:
    url: str
    kefu: Kefu
    agent: str
    lead: str
    engineer: str
    supervisor: str
    phone: str
    field_team: int


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    db = tmp_path_factory.mktemp("e2e") / "kefu.db"
    k = build(Settings(environment="test", database_url=f"sqlite:///{db}", embedded_worker=False, cache_seconds=0))
    upgrade(k.engine)
    seed_reference_data(k.ctx)
    seed_demo_parties(k.ctx)
    with k.ctx.uow() as uow:
        home = min(o.id or 0 for o in uow.org.organisations())  # the centre seeded first
        teams = {t.function.value: t.id for t in uow.org.teams() if t.organisation_id == home}
    names = {
        role: f"{role.value.replace('_', '')}{i}"
        for i, role in enumerate((Role.AGENT, Role.SUPERVISOR, Role.FIELD_ENGINEER, Role.ADMIN))
    }
    agent = create_user(
        k.ctx,
        NewUser(
            username=names[Role.AGENT],
            role=Role.AGENT,
            password=PASSWORD,
            display_name="李娜",
            team_id=teams["reception"],
        ),
    )
    create_user(
        k.ctx,
        NewUser(
            username="fieldlead",
            role=Role.SUPERVISOR,
            password=PASSWORD,
            display_name="周强",
            team_id=teams["field_repair"],
        ),
    )
    create_user(
        k.ctx,
        NewUser(
            username=names[Role.FIELD_ENGINEER],
            role=Role.FIELD_ENGINEER,
            password=PASSWORD,
            display_name="孙工",
            team_id=teams["field_repair"],
            region="广州",
            skills=("broadband",),
        ),
    )
    create_user(
        k.ctx,
        NewUser(
            username=names[Role.SUPERVISOR],
            role=Role.SUPERVISOR,
            password=PASSWORD,
            display_name="王主管",
            team_id=teams["reception"],
        ),
    )
    phone = "13912345678"
    register_customer(
        k.ctx,
        agent,
        NewCustomer(name="王小明", phone=phone, brand="全球通", region="广州", address="广州市天河区体育西路100号"),
    )
    port = _free_port()
    from kefu.app import create_app

    server = uvicorn.Server(uvicorn.Config(create_app(k), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(100):
        if server.started:
            break
        time.sleep(0.05)
    yield Site(
        url=f"http://127.0.0.1:{port}",
        kefu=k,
        agent=names[Role.AGENT],
        lead="fieldlead",
        engineer=names[Role.FIELD_ENGINEER],
        supervisor=names[Role.SUPERVISOR],
        phone=phone,
        field_team=teams["field_repair"] or 0,
    )
    server.should_exit = True
    thread.join(10)
    k.engine.dispose()


@pytest.fixture(scope="session")
def browser():  # type: ignore[no-untyped-def]
    if not Path(CHROMIUM).exists() or shutil.which("chromium") is None:
        if IN_CI:
            pytest.fail("CI must run the browser tests: chromium is missing (.ci/run installs it)")
        pytest.skip("browser tests need Debian's chromium: apt-get install -y chromium fonts-noto-cjk")
    from playwright.sync_api import sync_playwright

    os.environ.setdefault("PLAYWRIGHT_BROWSERS_PATH", "0")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        yield b
        b.close()


@pytest.fixture
def new_page(browser, site: Site):  # type: ignore[no-untyped-def]
    """A fresh browser context (its own cookies) logged in as the given user."""
    contexts = []

    def make(username: str, *, width: int = 1440, height: int = 900, timezone: str = "Asia/Shanghai"):  # type: ignore[no-untyped-def]
        context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN", timezone_id=timezone)
        contexts.append(context)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        # Script errors and console errors; a refused form's 4xx page load is expected, not an error.
        page.on(
            "console",
            lambda msg: (
                errors.append(msg.text)
                if msg.type == "error" and not msg.text.startswith("Failed to load resource")
                else None
            ),
        )
        page.js_errors = errors
        page.goto(f"{site.url}/login")
        page.fill("#username", username)
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url("**/ui/work-orders**")
        return page

    yield make
    for context in contexts:
        context.close()


def shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
