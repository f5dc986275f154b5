"""What the routes take from the request besides the body: the service context, the authenticated
user, ids in the path and the If-Match version; and the ETag that answers with a version.

Routes declare them with the aliases: `ctx: Ctx, user: CurrentUser`, `dispatch_id: Id`,
`if_match: IfMatch = None`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Path, Request
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from kefu.api.schemas import MAX_ID
from kefu.domain.errors import N_, PermissionDenied, ValidationFailed
from kefu.domain.org import User
from kefu.domain.values import is_digits
from kefu.services.access.tokens import authenticate_token, cached_token, may_write
from kefu.services.context import Access, Context

#: Methods a read-only token may use.
READING = frozenset({"GET", "HEAD", "OPTIONS"})


async def context(request: Request) -> Context:
    """Async on purpose: no I/O, so FastAPI runs it inline instead of on a worker thread."""
    ctx: Context = request.app.state.kefu.ctx
    return ctx


async def current_access(request: Request) -> Access:
    """The user of the bearer token and what the token may do; every API route but /healthz needs
    one, and a read-only token only reads (GET).

    Async so that a token checked moments ago costs no thread hop; the database is asked on a
    worker thread only when the token is not in the short-lived cache.
    """
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    access = None
    if scheme.lower() == "bearer" and token:
        ctx: Context = request.app.state.kefu.ctx
        access = cached_token(ctx, token.strip()) or await run_in_threadpool(authenticate_token, ctx, token.strip())
    if access is None:
        raise HTTPException(
            401,
            N_("Send a valid API token: Authorization: Bearer <token> (create one with `kefu token create`)."),
            headers={"WWW-Authenticate": "Bearer"},
        )
    if request.method not in READING and not may_write(access):
        raise PermissionDenied(N_("This API token is read-only: it may only read (GET). Make a read-write token."))
    return access


async def current_user(access: Annotated[Access, Depends(current_access)]) -> User:
    return access.user


#: The service context of the application.
Ctx = Annotated[Context, Depends(context)]
#: The user of the request's bearer token (401 without one; 403 for a change with a read-only token).
CurrentUser = Annotated[User, Depends(current_user)]
#: The same, with the token's id and scopes.
CurrentAccess = Annotated[Access, Depends(current_access)]
#: A database id in the path: 64-bit, so anything larger is bad input (422), not a crash.
Id = Annotated[int, Path(gt=0, le=MAX_ID)]
#: The ETag a client read, sent back to refuse a change to something changed since.
IfMatch = Annotated[str | None, Header(alias="If-Match", description="the ETag you read, to refuse a stale change")]


def if_match_version(value: str | None) -> int | None:
    """The version an If-Match header names (None without the header)."""
    if value is None:
        return None
    raw = value.strip().removeprefix("W/").strip('"')
    if not is_digits(raw) or len(raw) > 18:
        raise ValidationFailed('If-Match must be the ETag of the work order you read, e.g. "3".', field="If-Match")
    return int(raw)


def etag(version: int) -> dict[str, str]:
    """The ETag header of something at this version (what If-Match sends back)."""
    return {"ETag": f'"{version}"'}
