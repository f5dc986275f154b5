"""Domain errors. Each carries a stable code, an English message template and its parameters.

The message template is also the msgid in the translation catalogues, so entry points can show it
in the user's language (see kefu.web.i18n). Entry points map the error class to a status code in
one place (kefu.http.errors, used by the API and the pages alike).
"""

from __future__ import annotations

from typing import Any


def N_(message: str) -> str:
    return message


class DomainError(Exception):
    code = "domain_error"
    template = N_("The request could not be carried out.")

    def __init__(self, template: str | None = None, /, **params: Any) -> None:
        if template is not None:
            self.template = template
        self.params = params
        super().__init__(self.message)

    @property
    def message(self) -> str:
        return self.template.format(**self.params) if self.params else self.template


#: What the database refused to store (a NUL character, a number out of range): the API's and the
#: pages' answer alike.
UNSTORABLE = N_(
    "The request contains a value the database cannot store (e.g. a NUL "
    "character or a number out of range); nothing was changed."
)


class NotFound(DomainError):
    code = "not_found"
    template = N_("{kind} {key} does not exist.")


class ValidationFailed(DomainError):
    """Input that breaks a business rule. `field` names the offending field when there is one."""

    code = "validation_failed"

    def __init__(self, template: str, /, *, field: str | None = None, **params: Any) -> None:
        self.field = field
        super().__init__(template, **params)


class InvalidTransition(DomainError):
    code = "invalid_transition"
    template = N_("A work order in status {current} cannot move to {requested}. Allowed moves: {allowed}.")

    def __init__(self, *, current: str, requested: str, allowed: list[str]) -> None:
        self.allowed = allowed
        super().__init__(current=current, requested=requested, allowed=", ".join(allowed) if allowed else "none")


class StateConflict(DomainError):
    """The thing asked for does not fit the current state (a hop already answered, a visit
    already completed); the template says what the state is and what can be done."""

    code = "state_conflict"


class ReopenWindowExpired(DomainError):
    code = "reopen_window_expired"
    template = N_(
        "Work order {number} was closed more than {days} days ago and can no longer be re-opened; "
        "register a new work order instead."
    )


class ConcurrentUpdate(DomainError):
    code = "concurrent_update"
    template = N_(
        "Work order {number} was changed by someone else (now version {current}, you had version "
        "{expected}). Reload it and try again."
    )


class IdempotencyKeyReused(DomainError):
    code = "idempotency_key_reused"
    template = N_("Idempotency-Key {key} was already used for a different request. Use a new key for a new work order.")


class AuthenticationFailed(DomainError):
    code = "authentication_failed"
    template = N_("Wrong username or password, or the account is disabled.")


class PermissionDenied(DomainError):
    code = "permission_denied"
    template = N_("Your role ({role}) may not {action}.")


class RateLimited(DomainError):
    """Too many requests of one kind from one address (or for one account, phone, work order):
    answered 429 with Retry-After."""

    code = "rate_limited"
    template = N_("Too many attempts. Please wait {seconds} seconds and try again.")

    def __init__(self, *, retry_after: int) -> None:
        self.retry_after = max(1, retry_after)
        super().__init__(seconds=self.retry_after)


class ServiceUnavailable(DomainError):
    """The database cannot be reached for the moment: answered 503 with Retry-After."""

    code = "service_unavailable"
    template = N_("The service is briefly unavailable. Please try again in a few seconds.")
    retry_after = 5


class RequestTooLarge(DomainError):
    """A request body over the configured size: refused with 413 before it is read."""

    code = "request_too_large"
    template = N_("The request is larger than {kb} kB; nothing was read.")
