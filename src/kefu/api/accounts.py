"""/api/v1: one's own account (password, sessions, API tokens, two-factor status) and, for the
administrators who manage a user, that user's (a password-reset code, resetting the second factor,
ending sessions, revoking tokens)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field

from kefu.api.deps import Ctx, CurrentAccess, CurrentUser, Id
from kefu.api.schemas import Strict
from kefu.services.access import passwords, sessions, tokens, two_factor
from kefu.services.ports import Credential

router = APIRouter(tags=["accounts"])


class PasswordChange(BaseModel):
    # Not Strict: spaces at either end of a password are part of it.
    model_config = ConfigDict(extra="forbid")
    current_password: Annotated[str, Field(max_length=200)]
    new_password: Annotated[str, Field(max_length=200)]


class SessionOut(BaseModel):
    id: int
    user_agent: str | None
    address: str | None
    created_at: datetime
    last_seen_at: datetime | None
    expires_at: datetime

    @classmethod
    def of(cls, c: Credential) -> SessionOut:
        return cls(
            id=c.id,
            user_agent=c.user_agent,
            address=c.address,
            created_at=c.created_at,
            last_seen_at=c.last_seen_at,
            expires_at=c.expires_at,
        )


class TokenIn(Strict):
    name: Annotated[str, Field(min_length=1, max_length=100, description="what the token is for")]
    days: Annotated[int | None, Field(ge=1, le=3650, description="valid for (default: KEFU_TOKEN_DAYS)")] = None
    read_only: bool = Field(default=False, description="may only read (GET)")


class TokenOut(BaseModel):
    id: int
    name: str | None
    scopes: list[str]
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None

    @classmethod
    def of(cls, c: Credential) -> TokenOut:
        return cls(
            id=c.id,
            name=c.name,
            scopes=sorted(tokens.SCOPES.get(c.scopes or "read write", frozenset({tokens.READ}))),
            created_at=c.created_at,
            expires_at=c.expires_at,
            last_used_at=c.last_seen_at,
        )


class NewTokenOut(TokenOut):
    token: str = Field(description="the secret: shown only in this answer")


class TwoFactorOut(BaseModel):
    enabled: bool
    enabled_at: datetime | None
    recovery_codes_left: int
    required: bool = Field(description="the user's role must use it")


class ResetIn(Strict):
    must_change_at_login: bool = Field(
        default=False, description="the current password leads only to choosing a new one; sessions end now"
    )


class ResetOut(BaseModel):
    username: str
    code: str = Field(description="hand it to the user; shown only in this answer, valid once")
    path: str = Field(description="where the user sets the new password (with the code)")
    expires_at: datetime


# --- one's own account ---


@router.post("/me/password", status_code=204)
def change_password(body: PasswordChange, ctx: Ctx, user: CurrentUser) -> Response:
    """Change one's password (the current one is asked); every page session of the user ends."""
    passwords.change_password(ctx, user, body.current_password, body.new_password)
    return Response(status_code=204)


@router.get("/me/sessions", response_model=list[SessionOut])
def my_sessions(ctx: Ctx, user: CurrentUser) -> list[SessionOut]:
    return [SessionOut.of(c) for c in sessions.list_sessions(ctx, user)]


@router.delete("/me/sessions/{session_id}", status_code=204)
def end_my_session(session_id: Id, ctx: Ctx, user: CurrentUser) -> Response:
    sessions.end_session(ctx, user, session_id)
    return Response(status_code=204)


@router.delete("/me/sessions", status_code=204)
def end_my_sessions(ctx: Ctx, user: CurrentUser) -> Response:
    """End every page session of the caller (the API token goes on)."""
    sessions.end_other_sessions(ctx, user, keeping=None)
    return Response(status_code=204)


@router.get("/me/tokens", response_model=list[TokenOut])
def my_tokens(ctx: Ctx, user: CurrentUser) -> list[TokenOut]:
    """The caller's tokens (expired ones of the last 30 days included), never their secrets."""
    return [TokenOut.of(c) for c in tokens.list_api_tokens(ctx, user)]


@router.post("/me/tokens", status_code=201, response_model=NewTokenOut)
def create_token(body: TokenIn, ctx: Ctx, access: CurrentAccess) -> NewTokenOut:
    """A new token of one's own; it lives no longer than the token this request came with."""
    user = access.user
    issued = tokens.create_api_token(
        ctx,
        user.username,
        name=body.name,
        days=body.days,
        read_only=body.read_only,
        actor=user,
        made_with=access.token_id,
    )
    return NewTokenOut(**TokenOut.of(issued.credential).model_dump(), token=issued.token)


@router.delete("/me/tokens/{token_id}", status_code=204)
def revoke_my_token(token_id: Id, ctx: Ctx, user: CurrentUser) -> Response:
    tokens.revoke_api_token(ctx, user, token_id)
    return Response(status_code=204)


@router.get("/me/two-factor", response_model=TwoFactorOut)
def my_two_factor(ctx: Ctx, user: CurrentUser) -> TwoFactorOut:
    """Two-factor status (enrolment is on the page: it shows a QR code)."""
    return _two_factor(two_factor.status(ctx, user))


def _two_factor(status: two_factor.TwoFactorStatus) -> TwoFactorOut:
    return TwoFactorOut(
        enabled=status.enabled_at is not None,
        enabled_at=status.enabled_at,
        recovery_codes_left=status.recovery_codes_left,
        required=status.required,
    )


# --- a user the caller manages ---


@router.post("/users/{user_id}/password-reset", status_code=201, response_model=ResetOut)
def issue_password_reset(user_id: Id, body: ResetIn, ctx: Ctx, user: CurrentUser) -> ResetOut:
    """A one-time code for the user to set a new password with (never a password)."""
    reset = passwords.issue_password_reset(ctx, user, user_id, must_change_at_login=body.must_change_at_login)
    return ResetOut(
        username=reset.username, code=reset.code, path=f"/password/reset?code={reset.code}", expires_at=reset.expires_at
    )


@router.get("/users/{user_id}/two-factor", response_model=TwoFactorOut)
def user_two_factor(user_id: Id, ctx: Ctx, user: CurrentUser) -> TwoFactorOut:
    return _two_factor(two_factor.status(ctx, user, user_id=user_id))


@router.delete("/users/{user_id}/two-factor", status_code=204)
def reset_two_factor(user_id: Id, ctx: Ctx, user: CurrentUser) -> Response:
    """Remove the user's second factor (a lost phone); their sessions end."""
    two_factor.reset_two_factor(ctx, user, user_id)
    return Response(status_code=204)


@router.get("/users/{user_id}/sessions", response_model=list[SessionOut])
def user_sessions(user_id: Id, ctx: Ctx, user: CurrentUser) -> list[SessionOut]:
    return [SessionOut.of(c) for c in sessions.list_sessions(ctx, user, user_id=user_id)]


@router.delete("/users/{user_id}/sessions", status_code=204)
def end_user_sessions(user_id: Id, ctx: Ctx, user: CurrentUser) -> Response:
    sessions.end_other_sessions(ctx, user, keeping=None, user_id=user_id)
    return Response(status_code=204)


@router.get("/users/{user_id}/tokens", response_model=list[TokenOut])
def user_tokens(user_id: Id, ctx: Ctx, user: CurrentUser) -> list[TokenOut]:
    return [TokenOut.of(c) for c in tokens.list_api_tokens(ctx, user, user_id=user_id)]


@router.delete("/users/{user_id}/tokens/{token_id}", status_code=204)
def revoke_user_token(user_id: Id, token_id: Id, ctx: Ctx, user: CurrentUser) -> Response:
    tokens.revoke_api_token(ctx, user, token_id, owner=user_id)
    return Response(status_code=204)
