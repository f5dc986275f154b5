"""Page sessions, CSRF (double-submit cookie) and security headers."""

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


class SecurityHeaders:
    """Pure ASGI middleware (no per-request task overhead on the API's hot path): CSP and friends on
    pages, and the CSRF cookie when a page made a new token."""

    def __init__(self, app: ASGIApp, *, secure_cookies: bool) -> None:
        self.app = app
        self.secure_cookies = secure_cookies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/api/"):
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
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
