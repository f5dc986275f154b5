"""Wiring the pages into the ASGI application: their routers, the static files, the security
headers and the way to the login page (kefu.api.app calls install)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from kefu.web import (
    account_pages,
    admin_pages,
    attachment_pages,
    audit_pages,
    correction_pages,
    customer_pages,
    field_pages,
    macro_pages,
    notification_pages,
    portal_pages,
    reply_pages,
    search_pages,
    session_pages,
    tag_pages,
    workorder_pages,
)
from kefu.web.kit import STEP_PAGES, LoginRequired, LoginStepDue
from kefu.web.security import SecurityHeaders

STATIC = Path(__file__).parent / "static"


def install(app: FastAPI) -> None:
    app.include_router(session_pages.router)
    app.include_router(tag_pages.router)  # before the work-order pages: /ui/work-orders/bulk
    app.include_router(attachment_pages.router)
    app.include_router(workorder_pages.router)
    app.include_router(reply_pages.router)
    app.include_router(customer_pages.router)
    app.include_router(correction_pages.router)  # after customer_pages: /ui/customers/lookup first
    app.include_router(admin_pages.router)
    app.include_router(field_pages.router)
    app.include_router(portal_pages.router)
    app.include_router(audit_pages.router)
    app.include_router(account_pages.router)
    app.include_router(search_pages.router)
    app.include_router(notification_pages.router)
    app.include_router(macro_pages.router)
    app.mount("/static", StaticFiles(directory=STATIC, check_dir=False), name="static")
    settings = app.state.kefu.settings
    app.add_middleware(SecurityHeaders, secure_cookies=settings.cookie_secure, hsts=settings.production)

    @app.exception_handler(LoginRequired)
    async def _to_login(request: Request, exc: LoginRequired) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse("/login?" + urlencode({"next": target}), status_code=303)

    @app.exception_handler(LoginStepDue)
    async def _to_step(request: Request, exc: LoginStepDue) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(STEP_PAGES[exc.stage] + "?" + urlencode({"next": target}), status_code=303)
