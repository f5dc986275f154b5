"""Accounts in a real browser: an admin is sent to two-factor enrolment at the first login, scans
(here: reads the key and computes the code, as the app would), keeps the recovery codes, logs out and
in again with password and code; a user changes their password; the admin makes an API token and
revokes it on the tokens page, and the token stops working. Screenshots: var/screenshots/2*.png."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kefu.domain.org import Role
from kefu.services.access.accounts import NewUser, create_user
from tests.e2e.conftest import NewPage, Site, script_errors, shot, watched
from tests.support.factories import PASSWORD
from tests.support.pages import totp_code

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page


def _log_in(page: Page, site: Site, username: str, password: str = PASSWORD) -> None:
    page.goto(f"{site.url}/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")


def _change_password(page: Page, current: str, new: str) -> None:
    page.fill("#current_password", current)
    page.fill("#password", new)
    page.fill("#repeat", new)
    page.click("form[action='/ui/account/password'] button[type=submit]")


def test_admin_enrols_two_factor_and_logs_in_with_a_code_then_revokes_a_token(browser: Browser, site: Site) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 860}, locale="zh-CN", timezone_id="Asia/Shanghai")
    page = watched(context.new_page())
    _log_in(page, site, site.admin)
    page.wait_for_url("**/ui/account/two-factor**")
    assert "必须使用两步验证登录" in (page.text_content("#step") or "")
    assert page.locator("nav[aria-label='主导航'], nav a[href='/ui/work-orders']").count() == 0  # nothing else
    page.wait_for_selector("#qr svg")
    shot(page, "20-two-factor-enrol")
    # Elsewhere leads back here until enrolled.
    page.goto(f"{site.url}/ui/work-orders")
    page.wait_for_url("**/ui/account/two-factor**")

    secret = (page.text_content("#secret") or "").replace(" ", "")
    page.fill("#code", "000000")
    page.click("form[action='/ui/account/two-factor/confirm'] button[type=submit]")
    page.wait_for_selector("#error")
    assert "验证码错误或已使用" in (page.text_content("#error") or "")
    page.fill("#code", totp_code(secret))
    page.click("form[action='/ui/account/two-factor/confirm'] button[type=submit]")
    page.wait_for_selector("#recovery-codes")
    codes = page.locator("ol.codes li").all_text_contents()
    assert len(codes) == 10
    shot(page, "21-recovery-codes")
    page.click("#continue")
    page.wait_for_url("**/ui/work-orders")

    page.click("header button:has-text('退出')")
    page.wait_for_url("**/login**")
    _log_in(page, site, site.admin)
    page.wait_for_url("**/login/code**")
    page.fill("#code", "123456")
    page.click("button[type=submit]")
    page.wait_for_selector("#error")
    shot(page, "22-login-code-wrong")
    page.fill("#code", totp_code(secret, steps_ahead=1))
    page.click("button[type=submit]")
    page.wait_for_url("**/ui/work-orders")

    # My account → API tokens: empty, then one made, used, revoked.
    page.click("#my-account")
    page.wait_for_url("**/ui/account/password")
    page.click("#tab-tokens")
    page.wait_for_selector("#no-tokens")
    shot(page, "23-tokens-empty")
    page.fill("#t-name", "夜间报表导出")
    page.fill("#t-days", "30")
    page.click("form[action='/ui/account/tokens'] button[type=submit]")
    page.wait_for_selector("#token-secret")
    token = page.text_content("#token-secret") or ""
    shot(page, "24-token-made")
    api = f"{site.url}/api/v1/me"
    headers = {"Authorization": f"Bearer {token}"}
    assert page.request.get(api, headers=headers).status == 200
    page.goto(f"{site.url}/ui/account/tokens")
    page.click("#tokens tr:has-text('夜间报表导出') button:has-text('吊销')")
    page.wait_for_selector("#no-tokens")
    assert page.request.get(api, headers=headers).status == 401
    shot(page, "25-token-revoked")

    page.click("#tab-sessions")
    page.wait_for_selector("#sessions tr.current")
    shot(page, "26-sessions")
    assert not script_errors(page), script_errors(page)
    context.close()


def test_a_user_changes_their_password(site: Site, new_page: NewPage) -> None:
    create_user(
        site.kefu.ctx,
        NewUser(username="chenjing", role=Role.AGENT, password=PASSWORD, display_name="陈静"),
    )
    page = new_page("chenjing")
    page.click("#my-account")
    page.wait_for_url("**/ui/account/password")
    _change_password(page, "not-my-password-1", "Lotus pond 2026")
    page.wait_for_selector("#error")
    assert "当前密码不正确" in (page.text_content("#error") or "")
    _change_password(page, PASSWORD, "password1234")
    page.wait_for_selector("#error")
    assert "常见密码" in (page.text_content("#error") or "")
    shot(page, "27-password-refused")
    _change_password(page, PASSWORD, "Lotus pond 2026")
    page.wait_for_selector("#done")
    shot(page, "28-password-changed")
    page.click("header button:has-text('退出')")
    page.wait_for_url("**/login**")
    _log_in(page, site, "chenjing", "Lotus pond 2026")
    page.wait_for_url("**/ui/work-orders")
    assert not script_errors(page), script_errors(page)


def test_an_admin_sees_a_users_account_security(site: Site, browser: Browser) -> None:
    """The page an administrator hands out a reset code from (the admin enrolled in the first test;
    here a second admin enrols on the way in)."""
    create_user(site.kefu.ctx, NewUser(username="admin9", role=Role.ADMIN, password=PASSWORD, display_name="钱管理"))
    context = browser.new_context(viewport={"width": 1280, "height": 860}, locale="zh-CN")
    page = context.new_page()
    _log_in(page, site, "admin9")
    page.wait_for_url("**/ui/account/two-factor**")
    page.fill("#code", totp_code((page.text_content("#secret") or "").replace(" ", "")))
    page.click("form[action='/ui/account/two-factor/confirm'] button[type=submit]")
    page.click("#continue")
    page.wait_for_url("**/ui/work-orders")
    page.goto(f"{site.url}/ui/admin/agents")
    page.fill("#find-username", site.agent)
    page.click("#find-user button")
    page.wait_for_url("**/security")
    page.click("#issue-reset")
    page.wait_for_selector("#reset-code-value")
    shot(page, "29-user-security-reset-code")
    context.close()
