"""The ASGI application: the REST API under /api/v1, the agent and customer pages, static assets,
/healthz, and (on SQLite) the embedded worker. The one module that wires the API and the pages
together; neither imports the other.

Here too is what both answer alike at the edge: a refusal raised anywhere (the services' domain
errors, a rate limit, a body too large, the database unreachable) becomes problem+json on the
API's paths and a page on the others, with Retry-After where the client should come back later."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy import exc as db_errors
from sqlalchemy import text

from kefu import __version__
from kefu.api.app import OPENAPI
from kefu.api.app import install as install_api
from kefu.api.problems import domain_problem, invalid_fields
from kefu.bootstrap import Kefu, build
from kefu.domain.errors import UNSTORABLE, DomainError, RequestTooLarge, ServiceUnavailable, ValidationFailed
from kefu.http.bodies import BodyLimit, Receive, Scope, Send
from kefu.http.uploads import upload_limit
from kefu.web.app import install as install_pages
from kefu.web.kit import refused
from kefu.workers.loop import EmbeddedWorker

log = logging.getLogger("kefu.app")

#: Paths answered in problem+json (the API, the providers' webhooks); the others are pages.
API_PATHS = ("/api/", "/channels/", "/healthz")
#: Paths anyone may call without an account: the smaller body limit applies (/login covers the
#: second factor's /login/code; /password/ is setting a password with a reset code).
PUBLIC_PATHS = ("/login", "/logout", "/password/", "/portal", "/channels/", "/api/v1/channels/")
#: Where files are uploaded (paths ending in /attachments): the size of a file is read there.
UPLOAD_PATHS = ("/api/v1/work-orders/", "/ui/work-orders/", "/portal/orders/")
#: Errors that mean the database cannot be reached now (a dropped connection, a restart, a full pool).
UNREACHABLE = (
    db_errors.OperationalError,
    db_errors.InterfaceError,
    db_errors.TimeoutError,
    db_errors.DisconnectionError,
)


def answer_refusal(request: Request, error: DomainError) -> Response:
    """problem+json on the API's paths, the error page (in the reader's language) on the others."""
    if request.url.path.startswith(API_PATHS):
        return domain_problem(request, error)
    return refused(request, None, error)


def install_edge(app: FastAPI) -> None:
    """The refusals every path answers alike, and the body-size limits."""
    settings = app.state.kefu.settings

    async def _refusal(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, DomainError)
        return answer_refusal(request, exc)

    async def _unreachable(request: Request, exc: Exception) -> Response:
        # The pool drops the broken connection (SQLAlchemy invalidates it and every connection
        # made before it), so the next request gets a new one: no restart needed.
        log.warning("database unreachable on %s %s: %s", request.method, request.url.path, type(exc).__name__)
        return answer_refusal(request, ServiceUnavailable())

    async def _unstorable(request: Request, exc: Exception) -> Response:
        error = ValidationFailed(UNSTORABLE)
        error.code = "unstorable_value"
        return answer_refusal(request, error)

    api_validation_error = app.exception_handlers[RequestValidationError]

    async def _invalid(request: Request, exc: Exception) -> Response:
        # The API says it in problem+json with each field's error; a page names the fields.
        assert isinstance(exc, RequestValidationError)
        if request.url.path.startswith(API_PATHS):
            answer = api_validation_error(request, exc)
            return await answer if isinstance(answer, Awaitable) else answer
        fields = ", ".join(invalid_fields(exc))
        return refused(request, None, ValidationFailed("Some fields are missing or invalid: {fields}.", fields=fields))

    app.add_exception_handler(DomainError, _refusal)
    app.add_exception_handler(RequestValidationError, _invalid)
    for unreachable in UNREACHABLE:
        app.add_exception_handler(unreachable, _unreachable)
    app.add_exception_handler(db_errors.DataError, _unstorable)

    async def too_large(scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        response = answer_refusal(Request(scope), RequestTooLarge(kb=limit // 1024))
        await response(scope, receive, send)

    app.add_middleware(
        BodyLimit,
        max_bytes=settings.max_body_kb * 1024,
        public_max_bytes=settings.max_public_body_kb * 1024,
        public=PUBLIC_PATHS,
        refuse=too_large,
        uploads=UPLOAD_PATHS,
        upload_max_bytes=upload_limit(settings.mail_max_attachment_mb * 2**20),
    )


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
    install_edge(app)
    return app
