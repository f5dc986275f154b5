"""Passwords (R32): the one policy every new password meets, changing one's own password, and the
reset an administrator starts by handing the user a one-time code (never a password)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from importlib import resources

from kefu.domain.audit import AuditAction
from kefu.domain.errors import N_, AuthenticationFailed, ValidationFailed
from kefu.domain.org import User
from kefu.services import audit
from kefu.services.access import sessions
from kefu.services.access.authz import load_managed_user
from kefu.services.access.credentials import code_hash, new_code
from kefu.services.context import Context
from kefu.services.ratelimits import Limit

#: Past this, a "password" is an attempt to make argon2 work for nothing.
MAX_PASSWORD = 128
#: Digits, punctuation and spaces around a word: "Password2026!" is "password" with decoration.
_DECORATION = re.compile(r"^[\W\d_]+|[\W\d_]+$")


@cache
def common_passwords() -> frozenset[str]:
    """The common and breached passwords shipped with kefu (tools/common_passwords.py writes them)."""
    text = resources.files("kefu.services.access").joinpath("common_passwords.txt").read_text(encoding="utf-8")
    return frozenset(line for line in text.splitlines() if line and not line.startswith("#"))


def check_password_policy(ctx: Context, password: str, *, username: str) -> None:
    """Refuse a password that is too short, common, or built on the username, naming the rule broken.

    The rules follow NIST SP 800-63B (length and a list of known passwords rather than many
    composition rules), with one composition rule kept for the 等保 expectation of "at least two
    kinds of characters": letters, digits, and anything else. A common password with digits or
    punctuation around it ("Password2026!") is as common as the word itself.
    """
    minimum = ctx.accounts.password_min_length
    if len(password) < minimum:
        raise ValidationFailed("The password needs at least {n} characters.", field="password", n=minimum)
    if len(password) > MAX_PASSWORD:
        raise ValidationFailed("The password may have at most {n} characters.", field="password", n=MAX_PASSWORD)
    kinds = (
        any(c.isalpha() for c in password),
        any(c.isdigit() for c in password),
        any(not c.isalnum() for c in password),
    )
    if sum(kinds) < 2:
        raise ValidationFailed(
            "The password needs two kinds of characters: letters, digits, or symbols and spaces.", field="password"
        )
    lowered = password.lower()
    name = username.strip().lower()
    if len(name) >= 3 and name in lowered:
        raise ValidationFailed("The password must not contain the username.", field="password")
    common = common_passwords()
    if lowered in common or _DECORATION.sub("", lowered) in common or len(set(lowered)) <= 3:
        raise ValidationFailed(
            "This password is on the list of common or breached passwords: choose another.", field="password"
        )


def change_password(ctx: Context, actor: User, current: str, new: str, *, keep_session: str | None = None) -> None:
    """The user's own password, after the current one. Every other session of theirs ends (the one
    the change was made from, `keep_session`, goes on); their API tokens stay."""
    assert actor.id is not None
    if len(current) > MAX_PASSWORD or not ctx.hasher.verify(current, actor.password_hash):
        raise ValidationFailed("The current password is wrong.", field="current_password")
    if new == current:
        raise ValidationFailed("The new password must differ from the current one.", field="password")
    check_password_policy(ctx, new, username=actor.username)
    new_hash = ctx.hasher.hash(new)
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        uow.users.set_password(actor.id, new_hash, at=now, must_change=False)
        keep = sessions.live_session(ctx, uow, keep_session) if keep_session else None
        ended = sessions.end_sessions_of(ctx, uow, actor.id, now, actor=actor, keeping=keep.token_id if keep else None)
        if keep is not None:
            sessions.advance(ctx, uow, keep.token_id, sessions.reloaded(uow, actor.id), stage_was=keep.stage)
        audit.record(
            ctx,
            uow,
            actor,
            AuditAction.PASSWORD_CHANGED,
            subject_type="user",
            subject_id=actor.id,
            details={"with": "current"},
        )
        uow.commit()
    sessions.forget(ctx, ended)


@dataclass(frozen=True)
class PasswordReset:
    """A one-time code for setting a new password: shown to the administrator once, to hand over."""

    username: str
    code: str
    expires_at: datetime


def issue_password_reset(
    ctx: Context, actor: User | None, user: int | str, *, must_change_at_login: bool = False
) -> PasswordReset:
    """A one-time code with which `user` (an id or username) sets a new password (at /password/reset). `actor` is
    None only for the command line run by the operator of the machine.

    With `must_change_at_login`, the old password, while it still works, leads only to choosing a new
    one, and the user's sessions end now.
    """
    code = new_code()
    now = ctx.clock.now()
    expires_at = now + ctx.accounts.password_reset_lifetime
    with ctx.uow(write=True) as uow:
        target = load_managed_user(ctx, uow, actor, user, self_service=False)
        assert target.id is not None
        uow.password_resets.add(
            user_id=target.id,
            code_hash=code_hash(code),
            created_by=actor.id if actor else None,
            at=now,
            expires_at=expires_at,
        )
        ended: list[str] = []
        if must_change_at_login:
            uow.users.set_must_change_password(target.id, True)
            ended = sessions.end_sessions_of(ctx, uow, target.id, now, actor=actor)
        audit.record(
            ctx,
            uow,
            actor,
            AuditAction.PASSWORD_RESET,
            subject_type="user",
            subject_id=target.id,
            details={"must_change_at_login": must_change_at_login, "expires_at": expires_at.isoformat()},
        )
        uow.commit()
    sessions.forget(ctx, ended)
    return PasswordReset(username=target.username, code=code, expires_at=expires_at)


def reset_password(ctx: Context, code: str, new: str, *, address: str | None = None) -> User:
    """Set a new password with a reset code: valid for its lifetime, once. Every session of the user
    ends; the second factor, if any, is still asked at the next login. Attempts from one address are
    rate-limited first (RateLimited: 429)."""
    if address is not None:
        ctx.rate_limits.check(Limit.PASSWORD_RESET_ADDRESS, address)
    wrong = AuthenticationFailed(N_("The reset code is wrong, used or expired. Ask your administrator for a new one."))
    hashed = code_hash(code[:100])
    now = ctx.clock.now()
    with ctx.uow() as uow:
        user_id = uow.password_resets.user_of(hashed, now)
        user = uow.users.get(user_id) if user_id is not None else None
    if user is None or user.id is None or not user.active:
        raise wrong
    check_password_policy(ctx, new, username=user.username)  # a refused password leaves the code unused
    new_hash = ctx.hasher.hash(new)
    with ctx.uow(write=True) as uow:
        if uow.password_resets.redeem(hashed, now) != user.id:
            raise wrong  # used meanwhile
        uow.users.set_password(user.id, new_hash, at=now, must_change=False)
        ended = sessions.end_sessions_of(ctx, uow, user.id, now, actor=user)
        audit.record(
            ctx,
            uow,
            user,
            AuditAction.PASSWORD_CHANGED,
            subject_type="user",
            subject_id=user.id,
            origin=address,
            details={"with": "reset code"},
        )
        uow.commit()
    sessions.forget(ctx, ended)
    return user
