"""Request dependencies: the service context and the authenticated user."""

from __future__ import annotations

from fastapi import Request
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from kefu.domain.errors import N_
from kefu.domain.org import User
from kefu.services.access.accounts import authenticate, cached_user
from kefu.services.context import Context


async def context(request: Request) -> Context:
    """Async on purpose: no I/O, so FastAPI runs it inline instead of on a worker thread."""
    ctx: Context = request.app.state.kefu.ctx
    return ctx


async def current_user(request: Request) -> User:
    """The user of the bearer token; every API route but /healthz needs one.

    Async so that a token checked moments ago costs no thread hop; the database is asked on a
    worker thread only when the token is not in the short-lived cache.
    """
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    user = None
    if scheme.lower() == "bearer" and token:
        ctx: Context = request.app.state.kefu.ctx
        user = cached_user(ctx, token.strip(), "api") or await run_in_threadpool(
            authenticate, ctx, token.strip(), "api"
        )
    if user is None:
        raise HTTPException(
            401,
            N_("Send a valid API token: Authorization: Bearer <token> (create one with `kefu token create`)."),
            headers={"WWW-Authenticate": "Bearer"},
        )
    return user
