"""Request dependencies: the service context and the authenticated user."""

from __future__ import annotations

from fastapi import Request
from starlette.exceptions import HTTPException

from kefu.bootstrap import Kefu
from kefu.domain.errors import N_
from kefu.domain.org import User
from kefu.services.accounts import authenticate
from kefu.services.ports import Context


def kefu(request: Request) -> Kefu:
    app: Kefu = request.app.state.kefu
    return app


def context(request: Request) -> Context:
    return kefu(request).ctx


def current_user(request: Request) -> User:
    """The user of the bearer token; every API route but /healthz needs one."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    user = None
    if scheme.lower() == "bearer" and token:
        user = authenticate(context(request), token.strip(), "api")
    if user is None:
        raise HTTPException(
            401,
            N_("Send a valid API token: Authorization: Bearer <token> (create one with `kefu token create`)."),
            headers={"WWW-Authenticate": "Bearer"},
        )
    return user
