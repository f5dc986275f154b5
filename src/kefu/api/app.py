"""The REST API under /api/v1 (and the channels' webhooks): its routers and its problem+json errors,
installed into the application that kefu.app builds."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI

from kefu.api import (
    accounts,
    attachments,
    audit,
    channels,
    corrections,
    customers,
    hops,
    macros,
    meta,
    notifications,
    organisations,
    problems,
    replies,
    routing,
    search,
    sla,
    tags,
    users,
    visits,
    webhooks,
    workorders,
)
from kefu.api.deps import CurrentUser
from kefu.api.schemas import PROBLEM_RESPONSES

OPENAPI = "/api/v1/openapi.json"


def install(app: FastAPI) -> None:
    """Mount the API's routers and its error handlers."""
    problems.install(app)
    api = APIRouter(prefix="/api/v1", responses=PROBLEM_RESPONSES)
    features = (
        customers,
        workorders,
        corrections,
        meta,
        sla,
        hops,
        routing,
        visits,
        organisations,
        users,
        channels,
        accounts,
        audit,
        search,
        notifications,
        tags,
        attachments,
        replies,
        macros,
    )
    for feature in features:
        api.include_router(feature.router)
    api.include_router(replies.canned_router)
    app.include_router(api)
    app.include_router(webhooks.router, responses=PROBLEM_RESPONSES)
    if app.openapi_url is None:
        # Production: the OpenAPI document (the TMF621 description included) for callers with a token.
        @app.get(OPENAPI, include_in_schema=False)
        def openapi(_: CurrentUser) -> dict[str, Any]:
            return app.openapi()
