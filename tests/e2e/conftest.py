"""End-to-end: a real kefu server on 127.0.0.1 (SQLite, its own file) and Debian's chromium, headless,
driven by Playwright. CI installs chromium (`.ci/run`); without it these tests fail in CI and are
skipped locally with the command to install it."""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from weakref import WeakKeyDictionary

import pytest
import uvicorn

from kefu.bootstrap import Kefu
from kefu.domain.org import Role
from kefu.services.access import two_factor
from kefu.services.access.accounts import NewUser, create_user
from kefu.services.customers import NewCustomer, register_customer
from kefu.services.org.reference import seed_demo_parties
from tests.support import ROOT
from tests.support.databases import IN_CI
from tests.support.factories import PASSWORD
from tests.support.kefus import seeded_kefu
from tests.support.pages import totp_code
from tests.support.peers import free_port

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = ROOT / "var" / "screenshots"

_script_errors: WeakKeyDictionary[Page, list[str]] = WeakKeyDictionary()


@dataclass
class Site:
    url: str
    kefu: Kefu
    agent: str
    lead: str
    engineer: str
    supervisor: str
    #: Of the top organisation: changes the settings every organisation shares. Admins log in with a
    #: second factor; this one is enrolled already (`second_factors` has its secret).
    settings_admin: str
    phone: str
    field_team: int
    admin: str  # must log in with a second factor and is not enrolled yet (the others need not)
    second_factors: dict[str, str]  # username: TOTP secret, for new_page to type the login code


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    db = tmp_path_factory.mktemp("e2e") / "kefu.db"
    k = seeded_kefu(f"sqlite:///{db}", cache_seconds=0, require_2fa_roles="admin")
    seed_demo_parties(k.ctx)
    with k.ctx.uow() as uow:
        home = min(o.id or 0 for o in uow.org.organisations())  # the centre seeded first
        teams = {t.function.value: t.id for t in uow.org.teams() if t.organisation_id == home}
    names = {
        role: f"{role.value.replace('_', '')}{i}"
        for i, role in enumerate((Role.AGENT, Role.SUPERVISOR, Role.FIELD_ENGINEER, Role.ADMIN))
    }
    people: list[tuple[str, Role, str, str, dict[str, Any]]] = [
        (names[Role.AGENT], Role.AGENT, "李娜", "reception", {}),
        ("fieldlead", Role.SUPERVISOR, "周强", "field_repair", {}),
        (
            names[Role.FIELD_ENGINEER],
            Role.FIELD_ENGINEER,
            "孙工",
            "field_repair",
            {"region": "广州", "skills": ("broadband",)},
        ),
        (names[Role.SUPERVISOR], Role.SUPERVISOR, "王主管", "reception", {}),
        ("settingsadmin", Role.ADMIN, "钱管理", "reception", {}),
    ]
    agent, *_, settings_admin = [
        create_user(
            k.ctx,
            NewUser(
                username=username,
                role=role,
                password=PASSWORD,
                display_name=display_name,
                team_id=teams[team],
                **more,
            ),
        )
        for username, role, display_name, team, more in people
    ]
    create_user(k.ctx, NewUser(username=names[Role.ADMIN], role=Role.ADMIN, password=PASSWORD, display_name="赵管理"))
    enrolment = two_factor.begin_enrolment(k.ctx, settings_admin)
    two_factor.confirm_enrolment(k.ctx, settings_admin, totp_code(enrolment.secret))
    phone = "13912345678"
    register_customer(
        k.ctx,
        agent,
        NewCustomer(name="王小明", phone=phone, brand="全球通", region="广州", address="广州市天河区体育西路100号"),
    )
    with serving(k) as url:
        yield Site(
            url=url,
            kefu=k,
            agent=names[Role.AGENT],
            lead="fieldlead",
            engineer=names[Role.FIELD_ENGINEER],
            supervisor=names[Role.SUPERVISOR],
            settings_admin=settings_admin.username,
            phone=phone,
            field_team=teams["field_repair"] or 0,
            admin=names[Role.ADMIN],
            second_factors={settings_admin.username: enrolment.secret},
        )
    k.engine.dispose()


@contextmanager
def serving(k: Kefu) -> Iterator[str]:
    """kefu served on a free port of 127.0.0.1 in a thread of this process: its address."""
    from kefu.app import create_app

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(k), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(100):
        if server.started:
            break
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
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


class NewPage(Protocol):
    def __call__(self, username: str, *, width: int = ..., height: int = ..., timezone: str = ...) -> Page: ...


@pytest.fixture
def new_page(browser: Browser, site: Site) -> Iterator[NewPage]:
    """A fresh browser context (its own cookies) logged in as the given user."""
    contexts: list[BrowserContext] = []

    def make(username: str, *, width: int = 1440, height: int = 900, timezone: str = "Asia/Shanghai") -> Page:
        context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN", timezone_id=timezone)
        contexts.append(context)
        page = watched(context.new_page())
        page.goto(f"{site.url}/login")
        page.fill("#username", username)
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        if (secret := site.second_factors.get(username)) is not None:
            page.wait_for_url("**/login/code**")
            # The enrolment used the current step's code: a later one (accepted up to a step ahead).
            page.fill("#code", totp_code(secret, steps_ahead=1))
            page.click("button[type=submit]")
        page.wait_for_url("**/ui/work-orders**")
        return page

    yield make
    for context in contexts:
        context.close()


def watched(page: Page) -> Page:
    """The page, its script and console errors kept for script_errors."""
    errors: list[str] = []

    def console(msg: ConsoleMessage) -> None:
        # Script errors and console errors; a refused form's 4xx page load is expected, not an error.
        if msg.type == "error" and not msg.text.startswith("Failed to load resource"):
            errors.append(msg.text)

    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", console)
    _script_errors[page] = errors
    return page


def script_errors(page: Page) -> list[str]:
    """The script and console errors the page has had so far."""
    return _script_errors[page]


def shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
