"""Page sessions (R32): opened by logging in, complete once every login step is done (a second
factor, a new password the administrator asked for, enrolling a second factor the role requires),
ended by logging out, by the user from their list of sessions, by an administrator, by a new
password, or by themselves after `session_idle` without a request or `session_lifetime` in all.

A checked session is remembered for the cache TTL, so ending one works at once in this process and
within the TTL in the others.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from kefu.domain.audit import AuditAction
from kefu.domain.errors import N_, NotFound
from kefu.domain.org import User
from kefu.services import audit
from kefu.services.access.authz import load_managed_user
from kefu.services.access.credentials import TOKEN_PREFIX, new_token, token_hash
from kefu.services.context import Access, Context
from kefu.services.ports import Credential, TokenGrant, UnitOfWork

#: How long a login may wait at one of its steps (typing a code, installing an authenticator).
STEP_TIME = timedelta(minutes=15)
#: A session's "last seen" is written at most this often (not on every request).
TOUCH_EVERY = timedelta(minutes=1)


class Stage(StrEnum):
    """A login step still due; a session with one opens only the page of that step."""

    SECOND_FACTOR = "second_factor"  # the code from the authenticator (or a recovery code)
    NEW_PASSWORD = "new_password"  # noqa: S105 - an administrator asked for a new password
    ENROL = "enrol_2fa"  # the role requires a second factor the user has not set up


@dataclass(frozen=True)
class Client:
    """Where a login comes from, as the sessions page shows it."""

    user_agent: str = ""
    address: str = ""


@dataclass(frozen=True)
class Pending:
    """A session half-way through its login."""

    user: User
    session_id: int
    stage: Stage


def _due(ctx: Context, user: User, *, two_factor: bool, factor_checked: bool) -> Stage | None:
    if two_factor and not factor_checked:
        return Stage.SECOND_FACTOR
    if user.must_change_password:
        return Stage.NEW_PASSWORD
    if not two_factor and user.role in ctx.accounts.two_factor_roles:
        return Stage.ENROL
    return None


def open_session(ctx: Context, user: User, client: Client) -> str:
    """A new session for a user whose password was just checked; returns its token. It is complete
    at once unless a login step is due (see Stage)."""
    assert user.id is not None
    token = new_token()
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        factor = uow.second_factors.get(user.id)
        stage = _due(ctx, user, two_factor=bool(factor and factor.enabled_at), factor_checked=False)
        session_id = uow.tokens.add(
            user_id=user.id,
            token_hash=token_hash(token),
            kind="session",
            label=None,
            at=now,
            expires_at=now + (STEP_TIME if stage else ctx.accounts.session_lifetime),
            stage=stage,
            user_agent=client.user_agent[:300] or None,
            address=client.address[:64] or None,
        )
        if stage is None:
            _logged_in(ctx, uow, user, session_id, client.address[:64] or None)
        uow.commit()
    return token


def advance(ctx: Context, uow: UnitOfWork, session_id: int, user: User, *, stage_was: str | None) -> Stage | None:
    """After a login step is done (or the second factor checked): the next step due, or none, when
    the session is complete and runs for `session_lifetime` (the login succeeded, if the session was
    half-way, at `stage_was`). Inside the caller's transaction."""
    assert user.id is not None
    factor = uow.second_factors.get(user.id)
    stage = _due(ctx, user, two_factor=bool(factor and factor.enabled_at), factor_checked=True)
    now = ctx.clock.now()
    uow.tokens.set_stage(session_id, stage, expires_at=now + (STEP_TIME if stage else ctx.accounts.session_lifetime))
    if stage is None and stage_was is not None:
        opened = uow.tokens.get(session_id, now)
        _logged_in(ctx, uow, user, session_id, opened.address if opened else None)
    return stage


def _logged_in(ctx: Context, uow: UnitOfWork, user: User, session_id: int, address: str | None) -> None:
    """The audit row of a login: written when the session is complete (every login step done)."""
    audit.record(
        ctx, uow, user, AuditAction.LOGIN_SUCCEEDED, subject_type="session", subject_id=session_id, origin=address
    )


def reloaded(uow: UnitOfWork, user_id: int) -> User:
    user = uow.users.get(user_id)
    assert user is not None
    return user


def _grant(ctx: Context, token: str) -> TokenGrant | None:
    if not token.startswith(TOKEN_PREFIX) or len(token) > 100:
        return None
    with ctx.uow() as uow:
        return uow.tokens.user_for(token_hash(token), "session", ctx.clock.now())


def _idle(ctx: Context, grant: TokenGrant, now: datetime) -> bool:
    return grant.last_seen_at is not None and now - grant.last_seen_at > ctx.accounts.session_idle


def pending(ctx: Context, token: str) -> Pending | None:
    """The session half-way through its login that `token` opens, if it is one."""
    grant = _grant(ctx, token)
    if grant is None or grant.stage is None:
        return None
    return Pending(grant.user, grant.token_id, Stage(grant.stage))


def current(ctx: Context, token: str, *, touch: bool = True) -> Access | None:
    """The complete, live session `token` opens, or None.

    Checked in the database at most once per cache TTL; that check ends a session idle too long,
    sends a user whose role now requires a second factor they lack back to enrolment, and writes
    "last seen" (at most once a minute). `touch=False`: a request the page makes by itself (the
    bell's polling), which must not keep an idle session alive: nothing is written or cached."""
    key = f"session:{token_hash(token)}"
    if (cached := ctx.caches.tokens.get(key)) is not None:
        return cached
    grant = _grant(ctx, token)
    if grant is None or grant.stage is not None:
        return None
    now = ctx.clock.now()
    rules = ctx.accounts
    if _idle(ctx, grant, now) or (not grant.two_factor and grant.user.role in rules.two_factor_roles):
        with ctx.uow(write=True) as uow:
            if _idle(ctx, grant, now):
                uow.tokens.revoke(token_hash(token), now)
            else:
                uow.tokens.set_stage(grant.token_id, Stage.ENROL, expires_at=now + STEP_TIME)
            uow.commit()
        return None
    if not touch:
        return Access(grant.user, grant.token_id)
    if grant.last_seen_at is None or now - grant.last_seen_at >= TOUCH_EVERY:
        with ctx.uow(write=True) as uow:
            uow.tokens.touch(grant.token_id, now)
            uow.commit()
    access = Access(grant.user, grant.token_id)
    ctx.caches.tokens.put(key, access, not_after=min(grant.expires_at, now + rules.session_idle))
    return access


def live_session(ctx: Context, uow: UnitOfWork, token: str) -> TokenGrant | None:
    """The live session (complete or not) `token` opens; inside the caller's transaction."""
    return uow.tokens.user_for(token_hash(token), "session", ctx.clock.now())


def session_id_of(ctx: Context, uow: UnitOfWork, token: str) -> int | None:
    """The id of the live session (complete or not) `token` opens; inside the caller's transaction."""
    grant = live_session(ctx, uow, token)
    return grant.token_id if grant else None


def list_sessions(ctx: Context, actor: User, *, user_id: int | None = None) -> list[Credential]:
    """The live sessions of the actor, or of a user the actor manages."""
    with ctx.uow() as uow:
        owner = load_managed_user(ctx, uow, actor, user_id)
        return uow.tokens.of_users([_id(owner)], "session", valid_after=ctx.clock.now())


def end_session(ctx: Context, actor: User, session_id: int) -> None:
    """End one session: the actor's own, or one of a user the actor manages."""
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        found = uow.tokens.get(session_id, now)
        if found is None or found.kind != "session":
            raise NotFound(kind=N_("Session"), key=session_id)
        try:
            load_managed_user(ctx, uow, actor, found.user_id)
        except NotFound:  # someone else's, outside the actor's subtree: as if there were no such session
            raise NotFound(kind=N_("Session"), key=session_id) from None
        ended = uow.tokens.revoke_of_user(found.user_id, "session", now, ids=[session_id])
        _ended(ctx, uow, actor, found.user_id, len(ended))
        uow.commit()
    forget(ctx, ended)


def end_other_sessions(ctx: Context, actor: User, *, keeping: str | None, user_id: int | None = None) -> int:
    """End every session of the actor (or of a user the actor manages) but the one `keeping` opens."""
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        owner = load_managed_user(ctx, uow, actor, user_id)
        keep = session_id_of(ctx, uow, keeping) if keeping else None
        ended = end_sessions_of(ctx, uow, _id(owner), now, actor=actor, keeping=keep)
        uow.commit()
    forget(ctx, ended)
    return len(ended)


def log_out(ctx: Context, session_token: str) -> None:
    """End the session `session_token` opens (a login given up half-way is no logout to record)."""
    hashed = token_hash(session_token)
    with ctx.uow(write=True) as uow:
        session = live_session(ctx, uow, session_token)
        uow.tokens.revoke(hashed, ctx.clock.now())
        if session is not None and session.stage is None:
            audit.record(
                ctx, uow, session.user, AuditAction.LOGOUT, subject_type="session", subject_id=session.token_id
            )
        uow.commit()
    ctx.caches.tokens.drop(f"session:{hashed}")


def end_sessions_of(
    ctx: Context, uow: UnitOfWork, user_id: int, at: datetime, *, actor: User | None, keeping: int | None = None
) -> list[str]:
    """End the user's sessions (but `keeping`) inside the caller's transaction; returns their hashes
    for `forget`, to call once it has committed."""
    ended = uow.tokens.revoke_of_user(user_id, "session", at, keep=keeping)
    if ended:
        _ended(ctx, uow, actor, user_id, len(ended))
    return ended


def _ended(ctx: Context, uow: UnitOfWork, actor: User | None, user_id: int, count: int) -> None:
    """The audit row of sessions ended by `actor` (None: the command line); logging out is LOGOUT."""
    audit.record(
        ctx, uow, actor, AuditAction.SESSIONS_ENDED, subject_type="user", subject_id=user_id, details={"count": count}
    )


def _id(user: User) -> int:
    assert user.id is not None
    return user.id


def forget(ctx: Context, hashes: list[str]) -> None:
    """Drop ended sessions from this process's cache (after the commit that ended them)."""
    for hashed in hashes:
        ctx.caches.tokens.drop(f"session:{hashed}")
