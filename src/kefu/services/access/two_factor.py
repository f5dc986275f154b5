"""Two-factor login with TOTP (RFC 6238, pyotp) and single-use recovery codes (R32).

A user enrols by scanning a QR code (or typing the secret) into an authenticator app and typing its
first code; ten recovery codes are then shown once. The secret is sealed at rest (ctx.sealer); a code
is accepted for its 30-second step and the steps either side (clock drift), and never twice: the
last step accepted is stored, and a code of that step or an earlier one is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp

from kefu.domain.audit import AuditAction
from kefu.domain.errors import N_, AuthenticationFailed, StateConflict, ValidationFailed
from kefu.domain.org import User
from kefu.domain.values import is_digits, same_secret
from kefu.services import audit
from kefu.services.access import sessions
from kefu.services.access.authz import load_managed_user
from kefu.services.access.credentials import code_hash, new_code, token_hash
from kefu.services.context import Context
from kefu.services.ports import SecondFactor, UnitOfWork
from kefu.services.ratelimits import Limit

ISSUER = "kefu"
RECOVERY_CODES = 10
#: Wrong codes a session may type at the login step before it ends (the password is asked again).
MAX_WRONG_CODES = 5
#: An enrolment begun this recently is shown again (the same QR code) rather than replaced.
ENROLMENT_KEPT = timedelta(hours=1)


@dataclass(frozen=True)
class Enrolment:
    """What the enrolment page shows: the secret (for typing) and the otpauth:// URI (for the QR code)."""

    secret: str
    uri: str


@dataclass(frozen=True)
class TwoFactorStatus:
    enabled_at: datetime | None
    recovery_codes_left: int
    required: bool  # the user's role must use a second factor


def _bound(user_id: int) -> str:
    return f"totp:{user_id}"


def status(ctx: Context, actor: User, *, user_id: int | None = None) -> TwoFactorStatus:
    """The second factor of the actor, or of a user the actor manages."""
    assert actor.id is not None
    with ctx.uow() as uow:
        user = load_managed_user(ctx, uow, actor, user_id)
        assert user.id is not None
        factor = uow.second_factors.get(user.id)
        enabled_at = factor.enabled_at if factor else None
        left = uow.second_factors.recovery_codes_left(user.id) if enabled_at else 0
    return TwoFactorStatus(enabled_at, left, user.role in ctx.accounts.two_factor_roles)


def begin_enrolment(ctx: Context, actor: User) -> Enrolment:
    """A new secret for the actor (or the one begun within the hour), to scan and confirm."""
    assert actor.id is not None
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        factor = uow.second_factors.get(actor.id)
        if factor is not None and factor.enabled_at is not None:
            raise StateConflict(N_("Two-factor login is already on. Turn it off first to enrol a new authenticator."))
        if factor is not None and now - factor.created_at < ENROLMENT_KEPT:
            secret = ctx.sealer.open(factor.sealed_secret, bound_to=_bound(actor.id))
        else:
            secret = pyotp.random_base32()
            uow.second_factors.begin(actor.id, ctx.sealer.seal(secret, bound_to=_bound(actor.id)), now)
            uow.commit()
    uri = pyotp.TOTP(secret).provisioning_uri(name=actor.username, issuer_name=ISSUER)
    return Enrolment(secret, uri)


def confirm_enrolment(ctx: Context, actor: User, code: str, *, session_token: str | None = None) -> list[str]:
    """Turn two-factor login on with the first code from the authenticator; returns the recovery
    codes, shown only this once. The session it was done from (if any) goes on to the next login step."""
    assert actor.id is not None
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        factor = uow.second_factors.get(actor.id)
        if factor is None or factor.enabled_at is not None:
            raise StateConflict(N_("There is no enrolment to confirm: open the two-factor page again."))
        if not _totp_accepted(ctx, uow, factor, code, now):
            raise ValidationFailed(
                "The code is wrong or already used. Type the 6 digits the authenticator shows now.", field="code"
            )
        uow.second_factors.enable(actor.id, now)
        codes = _new_recovery_codes(uow, actor.id, now)
        if session_token and (session := sessions.live_session(ctx, uow, session_token)) is not None:
            sessions.advance(ctx, uow, session.token_id, actor, stage_was=session.stage)
        _changed(ctx, uow, actor, actor, "enrolled")
        uow.commit()
    return codes


def verify_login_code(ctx: Context, session_token: str, code: str, *, address: str | None = None) -> User:
    """The second login step: a code from the authenticator or an unused recovery code. After
    MAX_WRONG_CODES wrong ones the session ends and the login starts again with the password.
    Before that, codes tried from one address are rate-limited (RateLimited: 429)."""
    if address is not None:
        ctx.rate_limits.check(Limit.LOGIN_CODE_ADDRESS, address)
    found = sessions.pending(ctx, session_token)
    if found is None or found.stage is not sessions.Stage.SECOND_FACTOR:
        raise AuthenticationFailed(N_("The login took too long or was not started. Log in again."))
    user = found.user
    assert user.id is not None
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        factor = uow.second_factors.get(user.id)
        if factor is not None and _any_code_accepted(ctx, uow, factor, code, now):
            sessions.advance(ctx, uow, found.session_id, user, stage_was=found.stage)
            uow.commit()
            return user
        if uow.tokens.count_failed_code(found.session_id) >= MAX_WRONG_CODES:
            uow.tokens.revoke(token_hash(session_token), now)
            uow.commit()
            raise AuthenticationFailed(N_("Too many wrong codes. Log in again."))
        uow.commit()
    raise ValidationFailed("The code is wrong or already used.", field="code")


def renew_recovery_codes(ctx: Context, actor: User, code: str) -> list[str]:
    """Ten new recovery codes (the old ones stop working), after a current code."""
    assert actor.id is not None
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        factor = _enabled(uow, actor.id)
        if not _any_code_accepted(ctx, uow, factor, code, now):
            raise ValidationFailed("The code is wrong or already used.", field="code")
        codes = _new_recovery_codes(uow, actor.id, now)
        _changed(ctx, uow, actor, actor, "recovery codes renewed")
        uow.commit()
    return codes


def turn_off(ctx: Context, actor: User, code: str) -> None:
    """The actor turns two-factor login off, after a current code; refused where the role requires it."""
    assert actor.id is not None
    if actor.role in ctx.accounts.two_factor_roles:
        raise StateConflict(N_("Your role must use two-factor login; it cannot be turned off."))
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        factor = _enabled(uow, actor.id)
        if not _any_code_accepted(ctx, uow, factor, code, now):
            raise ValidationFailed("The code is wrong or already used.", field="code")
        uow.second_factors.remove(actor.id)
        _changed(ctx, uow, actor, actor, "removed")
        uow.commit()


def reset_two_factor(ctx: Context, actor: User | None, user: int | str) -> None:
    """Remove a user's second factor (a lost phone): they enrol again at their next login if their
    role requires it. Their sessions end. By an administrator who manages them, or (None) the
    command line run by the operator of the machine."""
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        target = load_managed_user(ctx, uow, actor, user, self_service=False)
        assert target.id is not None
        if not uow.second_factors.remove(target.id):
            raise StateConflict(N_("{user} has no second factor to reset."), user=target.username)
        ended = sessions.end_sessions_of(ctx, uow, target.id, now, actor=actor)
        _changed(ctx, uow, actor, target, "removed")
        uow.commit()
    sessions.forget(ctx, ended)


def _enabled(uow: UnitOfWork, user_id: int) -> SecondFactor:
    factor = uow.second_factors.get(user_id)
    if factor is None or factor.enabled_at is None:
        raise StateConflict(N_("Two-factor login is not on."))
    return factor


def _any_code_accepted(ctx: Context, uow: UnitOfWork, factor: SecondFactor, typed: str, now: datetime) -> bool:
    digits = "".join(typed.split())
    if len(digits) == 6 and is_digits(digits):
        return _totp_accepted(ctx, uow, factor, digits, now)
    if not typed or len(typed) > 40:
        return False
    return uow.second_factors.use_recovery_code(factor.user_id, code_hash(typed), now)


def _totp_accepted(ctx: Context, uow: UnitOfWork, factor: SecondFactor, typed: str, now: datetime) -> bool:
    """The code of the current 30-second step or one either side, later than the last one accepted."""
    digits = "".join(typed.split())
    if len(digits) != 6 or not is_digits(digits):
        return False
    try:
        secret = ctx.sealer.open(factor.sealed_secret, bound_to=_bound(factor.user_id))
    except ValueError:  # sealed under another KEFU_SECRET_KEY (changed since), or altered
        raise StateConflict(
            N_("Your second factor can no longer be read on this server; ask an administrator to reset it.")
        ) from None
    totp = pyotp.TOTP(secret)
    step = totp.timecode(now)
    for candidate in (step - 1, step, step + 1):
        if same_secret(totp.generate_otp(candidate), digits):
            return uow.second_factors.claim_step(factor.user_id, candidate)
    return False


def _new_recovery_codes(uow: UnitOfWork, user_id: int, at: datetime) -> list[str]:
    codes = [new_code() for _ in range(RECOVERY_CODES)]
    uow.second_factors.replace_recovery_codes(user_id, [code_hash(c) for c in codes], at)
    return codes


def _changed(ctx: Context, uow: UnitOfWork, actor: User | None, user: User, change: str) -> None:
    """The audit row of `user`'s second factor enrolled or removed (by them, an administrator or,
    actor None, the command line)."""
    audit.record(
        ctx,
        uow,
        actor,
        AuditAction.TWO_FACTOR_CHANGED,
        subject_type="user",
        subject_id=user.id,
        details={"change": change},
    )
