"""API tokens (R32): named, expiring (`token_lifetime` by default, never past `token_max_lifetime`),
read-only or read-write, listed without their secret and revoked by their owner, an administrator
who manages the owner, or the operator of the machine (`kefu token revoke`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from kefu.domain.audit import AuditAction
from kefu.domain.errors import N_, NotFound, ValidationFailed
from kefu.domain.org import User
from kefu.domain.values import plain_text
from kefu.services import audit
from kefu.services.access.authz import load_managed_user
from kefu.services.access.credentials import TOKEN_PREFIX, new_token, token_hash
from kefu.services.context import Access, Context
from kefu.services.ports import Credential, UnitOfWork

READ = "read"
WRITE = "write"
#: What a token may do, by the name people choose it by.
SCOPES: dict[str, frozenset[str]] = {"read": frozenset({READ}), "read write": frozenset({READ, WRITE})}
#: "Last used" is written at most this often (not on every request).
TOUCH_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class IssuedToken:
    """A new token: its secret (shown only this once) and what is stored of it."""

    token: str
    credential: Credential


def create_api_token(
    ctx: Context,
    username: str,
    *,
    name: str,
    days: int | None = None,
    read_only: bool = False,
    actor: User | None = None,
    made_with: int | None = None,
) -> IssuedToken:
    """A bearer token for the API, valid `days` (default `token_lifetime`). With an `actor`, only for
    the actor's own account; without, for anyone (the command line run by the operator of the machine).

    `made_with`: the id of the API token the request came with. A token made that way lives no
    longer than that one and reads only if it reads only, so a leaked token cannot renew itself."""
    name = plain_text(name.strip(), "name")
    if not name or len(name) > 100:
        raise ValidationFailed("Give the token a name of 1-100 characters (what it is for).", field="name")
    rules = ctx.accounts
    most = rules.token_max_lifetime.days
    if days is not None and not 1 <= days <= most:
        raise ValidationFailed("A token is valid for 1 to {n} days.", field="days", n=most)
    lifetime = timedelta(days=days) if days is not None else rules.token_lifetime
    token = new_token()
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        user = uow.users.get_by_username(username.strip().lower())
        if user is None or user.id is None or not user.active:
            raise NotFound(kind=N_("User"), key=username)
        if actor is not None and actor.id != user.id:
            raise ValidationFailed("Tokens are made for one's own account.", field="username")
        expires_at = now + lifetime
        if made_with is not None:
            parent = uow.tokens.get(made_with, now)
            if parent is None:
                raise NotFound(kind=N_("API token"), key=made_with)
            expires_at = min(expires_at, parent.expires_at)
            read_only = read_only or "write" not in (parent.scopes or "").split()
        scopes = "read" if read_only else "read write"
        token_id = uow.tokens.add(
            user_id=user.id,
            token_hash=token_hash(token),
            kind="api",
            label=name,
            at=now,
            expires_at=expires_at,
            scopes=scopes,
        )
        credential = uow.tokens.get(token_id, now)
        assert credential is not None
        _record(ctx, uow, actor, AuditAction.TOKEN_ISSUED, credential)
        uow.commit()
    return IssuedToken(token, credential)


def list_api_tokens(ctx: Context, actor: User | None, *, user_id: int | None = None) -> list[Credential]:
    """Unrevoked tokens, the expired ones of the last 30 days included: the actor's own, those of a
    user the actor manages, or (no actor: the command line) anyone's."""
    with ctx.uow() as uow:
        if actor is not None:
            user_id = load_managed_user(ctx, uow, actor, user_id).id
        owners = [user_id] if user_id is not None else None
        return uow.tokens.of_users(owners, "api", valid_after=ctx.clock.now() - timedelta(days=30))


def revoke_api_token(ctx: Context, actor: User | None, token_id: int, *, owner: int | None = None) -> Credential:
    """Revoke a token (of `owner`, if given): the actor's own or one of a user the actor manages (no
    actor: the command line). It stops working at once in this process and within the cache TTL in
    the others."""
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        found = uow.tokens.get(token_id, now)
        if found is None or found.kind != "api" or owner not in (None, found.user_id):
            raise NotFound(kind=N_("API token"), key=token_id)
        try:
            load_managed_user(ctx, uow, actor, found.user_id)
        except NotFound:  # someone else's, outside the actor's subtree: as if there were no such token
            raise NotFound(kind=N_("API token"), key=token_id) from None
        revoked = uow.tokens.revoke_of_user(found.user_id, "api", now, ids=[token_id])
        _record(ctx, uow, actor, AuditAction.TOKEN_REVOKED, found)
        uow.commit()
    for hashed in revoked:
        ctx.caches.tokens.drop(f"api:{hashed}")
    return found


def authenticate_token(ctx: Context, token: str) -> Access | None:
    """The active user of a valid API token and what the token may do, or None.

    A positive answer is remembered for the cache TTL (never past the token's expiry), so a busy
    API client costs no database round trip per request for authentication.
    """
    if not token.startswith(TOKEN_PREFIX) or len(token) > 100:
        return None
    key = f"api:{token_hash(token)}"
    if (cached := ctx.caches.tokens.get(key)) is not None:
        return cached
    now = ctx.clock.now()
    with ctx.uow() as uow:
        grant = uow.tokens.user_for(token_hash(token), "api", now)
    if grant is None:
        return None
    if grant.last_seen_at is None or now - grant.last_seen_at >= TOUCH_EVERY:
        with ctx.uow(write=True) as uow:
            uow.tokens.touch(grant.token_id, now)
            uow.commit()
    access = Access(grant.user, grant.token_id, SCOPES.get(grant.scopes or "read write", frozenset({READ})))
    ctx.caches.tokens.put(key, access, not_after=grant.expires_at)
    return access


def cached_token(ctx: Context, token: str) -> Access | None:
    """The access of a token checked within the cache TTL, without touching the database."""
    return ctx.caches.tokens.get(f"api:{token_hash(token)}")


def may_write(access: Access) -> bool:
    return access.scopes is None or WRITE in access.scopes


def _record(ctx: Context, uow: UnitOfWork, actor: User | None, action: AuditAction, token: Credential) -> None:
    """The audit row of a token issued or revoked (actor None: the command line); never its secret."""
    audit.record(
        ctx,
        uow,
        actor,
        action,
        subject_type="token",
        subject_id=token.id,
        details={
            "user_id": token.user_id,
            "name": token.name,
            "scopes": token.scopes,
            "expires_at": token.expires_at.isoformat(),
        },
    )
