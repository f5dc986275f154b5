"""The session: the front door, logging in and out, and the page language."""

from __future__ import annotations

from functools import partial

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from kefu.domain.errors import DomainError
from kefu.http.clients import address_of
from kefu.i18n import LOCALES
from kefu.services.access import accounts
from kefu.web.kit import check_csrf, context_of, refused, render
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
def login_form(request: Request, next: str = "/ui/work-orders") -> HTMLResponse:
    return render(request, "login.html", next=next, error=None, username="")


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
        _, token = accounts.log_in(context_of(request), username, password, address=address_of(request.scope))
    except DomainError as exc:
        return refused(request, None, exc, partial(render, request, "login.html", next=next, username=username))
    target = next if next.startswith("/") and not next.startswith("//") else "/ui/work-orders"
    response = RedirectResponse(target, status_code=303)
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


@router.post("/logout")
def logout(request: Request, csrf: str = Form("")) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token and csrf_ok(request, csrf):
        accounts.log_out(context_of(request), token)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
