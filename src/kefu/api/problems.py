"""The one place that turns errors into RFC 9457 problem+json responses (the status code for a
domain error comes from kefu.http.errors, which the pages use as well)."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from kefu.api.schemas import NulCharacter
from kefu.domain import errors as e
from kefu.domain.errors import N_
from kefu.http.errors import retry_after, status_for
from kefu.i18n import negotiate, translate_error

log = logging.getLogger("kefu.api")

TITLES = {  # msgids: see kefu/translations
    400: N_("Bad request"),
    401: N_("Not authenticated"),
    403: N_("Forbidden"),
    404: N_("Not found"),
    405: N_("Method not allowed"),
    409: N_("Conflict"),
    412: N_("Precondition failed"),
    415: N_("Unsupported media type"),
    413: N_("Request too large"),
    422: N_("Invalid input"),
    429: N_("Too many requests"),
    500: N_("Internal error"),
    503: N_("Service unavailable"),
}


def problem(
    request: Request, status: int, code: str, detail: str, *, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    locale = negotiate(request.headers.get("accept-language"))
    body: dict[str, Any] = {
        "type": f"/problems/{code}",
        "title": translate_error(locale, TITLES.get(status, "Error"), {}),
        "status": status,
        "detail": detail,
        "code": code,
        "instance": request.url.path,
    }
    body.update({k: v for k, v in extra.items() if v is not None})
    return JSONResponse(body, status_code=status, media_type="application/problem+json", headers=headers)


def translated_problem(
    request: Request, status: int, code: str, template: str, params: dict[str, object] | None = None
) -> JSONResponse:
    """A problem whose detail is one of kefu's messages (a msgid), in the client's language."""
    locale = negotiate(request.headers.get("accept-language"))
    return problem(request, status, code, translate_error(locale, template, params or {}))


def domain_problem(request: Request, exc: e.DomainError) -> JSONResponse:
    """The problem+json answer to a refusal (kefu.app also sends the database's being unreachable here)."""
    locale = negotiate(request.headers.get("accept-language"))
    extra: dict[str, Any] = {}
    if isinstance(exc, e.ValidationFailed) and exc.field:
        extra["errors"] = [{"field": exc.field, "message": translate_error(locale, exc.template, exc.params)}]
    if isinstance(exc, e.InvalidTransition):
        extra["allowed"] = exc.allowed
    headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, e.AuthenticationFailed) else retry_after(exc) or None
    return problem(
        request, status_for(exc), exc.code, translate_error(locale, exc.template, exc.params), headers=headers, **extra
    )


async def _domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, e.DomainError)
    return domain_problem(request, exc)


def _field_name(loc: tuple[Any, ...]) -> str:
    # A repeated query parameter (?status=a&status=b) is one field to the person who typed it.
    in_query = bool(loc) and loc[0] == "query"
    parts = [
        str(p) for p in loc if p not in ("body", "query", "path", "header") and not (in_query and isinstance(p, int))
    ]
    return ".".join(parts) or str(loc[0] if loc else "request")


def invalid_fields(exc: RequestValidationError) -> list[str]:
    """The fields a request failed validation on, as the person who typed them names them."""
    return sorted({_field_name(tuple(err.get("loc", ()))) for err in exc.errors()})


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    locale = negotiate(request.headers.get("accept-language"))
    errors = []
    for err in exc.errors():
        loc = tuple(err.get("loc", ()))
        if isinstance(nul := (err.get("ctx") or {}).get("error"), NulCharacter):
            loc = (*loc, *nul.path)  # the text holding the NUL, not the body as a whole
        field = _field_name(loc)
        if err.get("type") == "json_invalid":
            msg = translate_error(locale, "The request body is not valid JSON.", {})
            return problem(request, 400, "malformed_json", msg, errors=[{"field": "body", "message": msg}])
        errors.append({"field": field, "message": err.get("msg", "invalid")})
    fields = ", ".join(sorted({x["field"] for x in errors}))
    detail = translate_error(locale, "Some fields are missing or invalid: {fields}.", {"fields": fields})
    return problem(request, 422, "validation_failed", detail, errors=errors)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    locale = negotiate(request.headers.get("accept-language"))
    code = {404: "not_found", 405: "method_not_allowed", 401: "authentication_required"}.get(
        exc.status_code, "http_error"
    )
    # Starlette's own phrases ("Not Found") say less than these; our messages pass through as they are.
    params: dict[str, object] = {"method": request.method}
    detail = (
        {
            404: N_("There is nothing at this address; check the path against /api/v1/docs."),
            405: N_("This address does not accept {method} requests."),
        }.get(exc.status_code)
        if exc.detail in ("Not Found", "Method Not Allowed")
        else None
    )
    if detail is None:
        detail = exc.detail if isinstance(exc.detail, str) else TITLES.get(exc.status_code, "Error")
    return problem(
        request, exc.status_code, code, translate_error(locale, detail, params), headers=getattr(exc, "headers", None)
    )


async def _data_error(request: Request, exc: Exception) -> JSONResponse:
    """The database refused a value (e.g. a NUL character in a query parameter): bad input, nothing stored."""
    return translated_problem(request, 422, "unstorable_value", e.UNSTORABLE)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return translated_problem(
        request, 500, "internal_error", N_("Something went wrong on our side; the change was not saved.")
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(e.DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(DataError, _data_error)
    app.add_exception_handler(Exception, _unexpected)
