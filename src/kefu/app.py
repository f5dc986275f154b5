"""The ASGI application: the REST API under /api/v1, the agent and customer pages, static assets,
/healthz, and (on SQLite) the embedded worker. The one module that wires the API and the pages
together; neither imports the other."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import text

from kefu import __version__
from kefu.api.app import OPENAPI
from kefu.api.app import install as install_api
from kefu.bootstrap import Kefu, build
from kefu.web.app import install as install_pages
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

    # In production nothing describes the API to anonymous callers: no docs page, and the OpenAPI
    # document only for callers with a valid token (kefu.api.app).
    public_docs = not k.settings.production
    app = FastAPI(
        lifespan=lifespan,
        title="kefu API",
        version=__version__,
        description="Customer-service and after-sales work orders (工单) for telecom operators.",
        openapi_url=OPENAPI if public_docs else None,
        docs_url="/api/v1/docs" if public_docs else None,
        redoc_url=None,
    )
    app.state.kefu = k
    install_api(app)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> JSONResponse:
        with k.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return JSONResponse({"status": "ok", "version": __version__})

    install_pages(app)
    return app
