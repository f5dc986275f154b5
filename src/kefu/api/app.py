"""The ASGI application: the REST API under /api/v1, the agent pages, static assets, /healthz."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import text

from kefu import __version__
from kefu.api import (
    channels,
    customers,
    hops,
    meta,
    organisations,
    problems,
    routing,
    sla,
    visits,
    webhooks,
    workorders,
)
from kefu.api.schemas import PROBLEM_RESPONSES
from kefu.bootstrap import Kefu, build
from kefu.workers.loop import EmbeddedWorker


def create_app(app_kefu: Kefu | None = None) -> FastAPI:
    k = app_kefu or build()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        worker = None
        if k.settings.embedded_worker:
            worker = EmbeddedWorker(k.ctx, k.settings.worker_interval_seconds)
            worker.start()
        try:
            yield
        finally:
            if worker is not None:
                worker.close()

    app = FastAPI(
        lifespan=lifespan,
        title="kefu API",
        version=__version__,
        description="Customer-service and after-sales work orders (工单) for telecom operators.",
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redoc_url=None,
    )
    app.state.kefu = k
    problems.install(app)

    api = APIRouter(prefix="/api/v1", responses=PROBLEM_RESPONSES)
    api.include_router(customers.router)
    api.include_router(workorders.router)
    api.include_router(meta.router)
    api.include_router(sla.router)
    api.include_router(hops.router)
    api.include_router(routing.router)
    api.include_router(visits.router)
    api.include_router(organisations.router)
    api.include_router(channels.router)
    app.include_router(api)
    app.include_router(webhooks.router, responses=PROBLEM_RESPONSES)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> JSONResponse:
        with k.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return JSONResponse({"status": "ok", "version": __version__})

    from kefu.web.app import install as install_pages

    install_pages(app)
    return app
