"""The session: the front door, logging in (password, then the second factor when the user has one)
and out, setting a password with an administrator's reset code, and the page language."""

from __future__ import annotations

from functools import partial
from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from kefu.domain.errors import DomainError
from kefu.http.clients import address_of
from kefu.i18n import LOCALES
from kefu.services.access import accounts, demo, passwords, sessions, two_factor
from kefu.services.access.sessions import Stage
from kefu.web.kit import after_login_step, check_csrf, check_typed_twice, context_of, refused, render, signed_in
from kefu.web.security import LANG_COOKIE, SESSION_COOKIE, csrf_ok

router = APIRouter(include_in_schema=False)


@router.get("/")
def home() -> RedirectResponse:
    return RedirectResponse("/ui/work-orders", status_code=303)


@router.get("/lang/{locale}")
def switch_language(locale: str, request: Request) -> RedirectResponse:
    back = request.headers.get("referer") or "/ui/work-orders"
    response = RedirectResponse(back if back.startswith(str(request.base_url)) else "/ui/work-orders", 303)
    if locale in LOCALES:
        response.set_cookie(LANG_COOKIE, locale, max_age=3600 * 24 * 365, samesite="lax", path="/")
    return response


@router.get("/login")
def login_form(request: Request, next: str = "/ui/work-orders", done: str = "") -> HTMLResponse:
    return render(request, "login.html", next=next, error=None, username="", done=done, **_demo(request))


def _demo(request: Request) -> dict[str, Any]:
    """In demo mode (KEFU_DEMO=1, never in production): the demo people and their password, found
    once per process (each is checked against the password)."""
    settings = request.app.state.kefu.settings
    if not settings.demo or settings.production:
        return {}
    state = request.app.state
    if getattr(state, "demo_people", None) is None:
        password = demo.demo_password(settings.secret_key)
        state.demo_people = (demo.demo_accounts(context_of(request), password), password)
    people, password = state.demo_people
    return {"demo_people": people, "demo_password": password} if people else {}


def client_of(request: Request) -> sessions.Client:
    """The browser and address a login comes from: for the list of sessions, and the address for the
    login's rate limit and lockout."""
    return sessions.Client(user_agent=request.headers.get("user-agent", ""), address=address_of(request.scope))


@router.post("/login")
def login(
    request: Request,
    username: str = Form(""),
    password: str = Form(""),
    csrf: str = Form(""),
    next: str = Form("/ui/work-orders"),
) -> Response:
    try:
        check_csrf(request, csrf)
        _, token = accounts.log_in(context_of(request), username, password, client=client_of(request))
    except DomainError as exc:
        return refused(
            request, None, exc, partial(render, request, "login.html", next=next, username=username, **_demo(request))
        )
    response = RedirectResponse(after_login_step(request, token, next), status_code=303)
    settings = request.app.state.kefu.settings
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
        path="/",
        max_age=settings.session_hours * 3600,
    )
    return response


@router.get("/login/code")
def code_form(request: Request, next: str = "/ui/work-orders") -> Response:
    signed_in(request, step=Stage.SECOND_FACTOR)
    return render(request, "login_code.html", next=next, error=None)


@router.post("/login/code")
def code(request: Request, code: str = Form(""), csrf: str = Form(""), next: str = Form("/ui/work-orders")) -> Response:
    """The second login step: the authenticator's code, or a recovery code."""
    signed_in(request, step=Stage.SECOND_FACTOR)
    token = request.cookies.get(SESSION_COOKIE, "")
    ctx = context_of(request)
    try:
        check_csrf(request, csrf)
        two_factor.verify_login_code(ctx, token, code, address=address_of(request.scope))
    except DomainError as exc:
        return refused(request, None, exc, partial(render, request, "login_code.html", next=next))
    return RedirectResponse(after_login_step(request, token, next), status_code=303)


@router.get("/password/reset")
def reset_form(request: Request, code: str = "") -> HTMLResponse:
    """Where a user sets a new password with the code an administrator gave them (no login)."""
    return render(request, "password_reset.html", code=code[:100], error=None)


@router.post("/password/reset")
def reset(
    request: Request,
    code: str = Form(""),
    password: str = Form(""),
    repeat: str = Form(""),
    csrf: str = Form(""),
) -> Response:
    try:
        check_csrf(request, csrf)
        check_typed_twice(password, repeat)
        passwords.reset_password(context_of(request), code, password, address=address_of(request.scope))
    except DomainError as exc:
        return refused(request, None, exc, partial(render, request, "password_reset.html", code=code[:100]))
    response = RedirectResponse("/login?done=password", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.post("/logout")
def logout(request: Request, csrf: str = Form("")) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token and csrf_ok(request, csrf):
        sessions.log_out(context_of(request), token)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
