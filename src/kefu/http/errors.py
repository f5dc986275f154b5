"""The HTTP status code for each domain error: the one mapping the API's problem+json answers
(kefu.api.problems) and the pages' refusals (kefu.web.kit.refused) both use."""

from __future__ import annotations

from kefu.domain import errors as e

STATUS_FOR: list[tuple[type[e.DomainError], int]] = [
    (e.NotFound, 404),
    (e.ValidationFailed, 422),
    (e.InvalidTransition, 409),
    (e.ReopenWindowExpired, 409),
    (e.StateConflict, 409),
    (e.ConcurrentUpdate, 409),
    (e.IdempotencyKeyReused, 422),
    (e.AuthenticationFailed, 401),
    (e.PermissionDenied, 403),
    (e.RequestTooLarge, 413),
    (e.RateLimited, 429),
    (e.ServiceUnavailable, 503),
]


def retry_after(error: e.DomainError) -> dict[str, str]:
    """The Retry-After header of a refusal that asks the client to come back later (429, 503)."""
    seconds = getattr(error, "retry_after", None)
    return {"Retry-After": str(seconds)} if isinstance(seconds, int) else {}


def status_for(error: e.DomainError) -> int:
    """A domain error of none of these classes is a bad request (400)."""
    for cls, status in STATUS_FOR:
        if isinstance(error, cls):
            return status
    return 400
