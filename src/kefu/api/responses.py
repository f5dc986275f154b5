"""Serialise a response model once. Returning a Response skips FastAPI's second validation pass of
`response_model` (which stays on the route for the OpenAPI document)."""

from __future__ import annotations

from fastapi import Response
from pydantic import BaseModel

from kefu.api.deps import etag


def json_response(model: BaseModel, status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(model.model_dump_json(), status_code=status_code, media_type="application/json", headers=headers)


def versioned(model: BaseModel, version: int, status_code: int = 200, *, location: str | None = None) -> Response:
    """Something as it is now, with the ETag of its version (what If-Match sends back to change it
    again) and, when just created, where it lives (Location)."""
    headers = {"Location": location} if location else {}
    return json_response(model, status_code, {**headers, **etag(version)})
