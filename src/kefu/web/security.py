"""Page sessions, CSRF (double-submit cookie) and security headers (HSTS on everything in production)."""

from __future__ import annotations

import secrets

from fastapi import Request
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kefu.domain.values import same_secret

SESSION_COOKIE = "kefu_session"
CSRF_COOKIE = "kefu_csrf"
LANG_COOKIE = "kefu_lang"

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'self'"
)


def csrf_token(request: Request) -> str:
    """The CSRF token for this browser: the cookie's value, made on first use."""
    token = request.cookies.get(CSRF_COOKIE) or getattr(request.state, "new_csrf", None)
    if not token:
        token = secrets.token_urlsafe(24)
        request.state.new_csrf = token
    return str(token)


def csrf_ok(request: Request, submitted: str | None) -> bool:
    cookie = request.cookies.get(CSRF_COOKIE)
    return bool(cookie and submitted and same_secret(cookie, submitted))


#: Browsers reach kefu over HTTPS only, for a year, once they have seen this (production only).
HSTS = "max-age=31536000; includeSubDomains"


class SecurityHeaders:
    """Pure ASGI middleware (no per-request task overhead on the API's hot path): CSP and friends on
    pages, the CSRF cookie when a page made a new token, and HSTS on every answer in production."""

    def __init__(self, app: ASGIApp, *, secure_cookies: bool, hsts: bool = False) -> None:
        self.app = app
        self.secure_cookies = secure_cookies
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        page = not scope["path"].startswith("/api/")
        if not page and not self.hsts:
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if self.hsts:
                    headers.setdefault("Strict-Transport-Security", HSTS)
                if page:
                    headers.setdefault("Content-Security-Policy", CSP)
                    headers.setdefault("X-Frame-Options", "DENY")
                    headers.setdefault("X-Content-Type-Options", "nosniff")
                    headers.setdefault("Referrer-Policy", "same-origin")
                    new_csrf = scope.get("state", {}).get("new_csrf")
                    if new_csrf:
                        cookie = f"{CSRF_COOKIE}={new_csrf}; HttpOnly; SameSite=Strict; Path=/"
                        headers.append("Set-Cookie", cookie + ("; Secure" if self.secure_cookies else ""))
            await send(message)

        await self.app(scope, receive, send_with_headers)
