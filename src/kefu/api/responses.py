"""Serialise a response model once. Returning a Response skips FastAPI's second validation pass of
`response_model` (which stays on the route for the OpenAPI document)."""

from __future__ import annotations

from fastapi import Response
from pydantic import BaseModel


def json_response(model: BaseModel, status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(model.model_dump_json(), status_code=status_code, media_type="application/json", headers=headers)
