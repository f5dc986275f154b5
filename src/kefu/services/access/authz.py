"""The one place permissions are checked (R32): what a role may do (`require`), and where — inside
the actor's own organisation subtree (`require_manages`, `managed_user`,
`require_manages_user`, `require_placement`), or,
for settings that affect every organisation, only as an admin of the top organisation
(`require_installation`). Every use case calls these; the rules themselves are in
kefu.domain.org, and docs/SECURITY.md writes them down as a matrix.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kefu.domain.errors import N_, NotFound, PermissionDenied
from kefu.domain.org import (
    SYSTEM_USERNAME,
    Permission,
    Role,
    User,
    manages,
    manages_user,
    may_place,
    role_covers,
    runs_installation,
    visible_staff,
)
from kefu.services.access import scope
from kefu.services.ports import UnitOfWork

if TYPE_CHECKING:  # context.py imports access.lockout, which needs this module: no cycle at run time
    from kefu.services.context import Context

_ACTIONS: dict[Permission, str] = {
    Permission.READ: N_("read work orders"),
    Permission.CUSTOMER_CREATE: N_("register customers"),
    Permission.WORKORDER_CREATE: N_("register work orders"),
    Permission.WORKORDER_TRANSITION: N_("change the status of work orders"),
    Permission.WORKORDER_NOTE: N_("add notes to work orders"),
    Permission.PII_VIEW: N_("see unmasked personal data"),
    Permission.USER_MANAGE: N_("manage users"),
    Permission.SLA_MANAGE: N_("manage service agreements"),
    Permission.WORKORDER_DISPATCH: N_("dispatch work orders or schedule field visits"),
    Permission.ROUTING_MANAGE: N_("manage teams, agents and routing rules"),
    Permission.SETTINGS_MANAGE: N_(
        "change settings that affect every organisation (organisations, categories, message templates, "
        "time limits, calendars, routing between organisations)"
    ),
    Permission.AUDIT_READ: N_("read the audit log"),
}
OUTSIDE_SUBTREE = N_("manage anything outside your organisation and the organisations below it")
NOT_AT_TOP = N_(
    "change settings that affect every organisation; that is for the administrators of the top organisation"
)
ROLE_ABOVE = N_("give a role with more permissions than your own")
USER_ABOVE = N_("change the account of someone whose role has more permissions than your own")


def require(actor: User, permission: Permission) -> None:
    if not actor.may(permission):
        raise PermissionDenied(role=actor.role.value, action=_ACTIONS[permission])


def _denied(actor: User, action: str) -> PermissionDenied:
    return PermissionDenied(role=actor.role.value, action=action)


def require_manages(
    ctx: Context, uow: UnitOfWork, actor: User, permission: Permission, organisation_id: int | None
) -> None:
    """`actor` may do what `permission` allows to what belongs to this organisation: it is the actor's
    own organisation or below it (and a vendor's user never reaches an operator organisation)."""
    require(actor, permission)
    if not manages(actor, organisation_id, scope.tree(ctx, uow)):
        raise _denied(actor, OUTSIDE_SUBTREE)


def require_operator(ctx: Context, uow: UnitOfWork, actor: User, permission: Permission) -> None:
    """What only the operator's own staff do whatever their role: see personal data unmasked, agree
    service levels with customers. A vendor's or partner's user is refused."""
    require(actor, permission)
    if scope.external(ctx, uow, actor):
        raise _denied(actor, _ACTIONS[permission])


CORRECTING = N_("correct what the operator registered (a vendor or partner answers its hop instead)")


def require_correcting(ctx: Context, uow: UnitOfWork, actor: User) -> None:
    """Correcting a work order's registration (category, type, customer …) is for the operator's
    staff: a vendor's or partner's user who received it on a hop answers the hop instead."""
    require(actor, Permission.WORKORDER_TRANSITION)
    if scope.external(ctx, uow, actor):
        raise _denied(actor, CORRECTING)


def require_installation(ctx: Context, uow: UnitOfWork, actor: User) -> None:
    """Settings that affect every organisation: admins of the top organisation only."""
    require(actor, Permission.SETTINGS_MANAGE)
    if not runs_installation(actor, scope.tree(ctx, uow)):
        raise _denied(actor, NOT_AT_TOP)


def runs_installation_now(ctx: Context, actor: User) -> bool:
    """For pages deciding what to offer: whether `actor` may change installation-wide settings."""
    with ctx.uow() as uow:
        return runs_installation(actor, scope.tree(ctx, uow))


def staff_scope(ctx: Context, uow: UnitOfWork, actor: User) -> frozenset[int] | None:
    """The organisations whose people `actor` sees in lists (None: all)."""
    return visible_staff(actor, scope.tree(ctx, uow))


def visible_user(ctx: Context, uow: UnitOfWork, actor: User, user_id: int) -> User:
    """A user `actor` may see (itself, or someone of its subtree); otherwise NotFound, as if there were
    no such user."""
    return _visible(ctx, uow, actor, uow.users.get(user_id), user_id)


def _visible(ctx: Context, uow: UnitOfWork, actor: User, found: User | None, key: int | str) -> User:
    allowed = staff_scope(ctx, uow, actor)
    if (
        found is None
        or found.username == SYSTEM_USERNAME
        or (found.id != actor.id and allowed is not None and found.organisation_id not in allowed)
    ):
        raise NotFound(kind=N_("User"), key=key)
    return found


def _require_manages_visible(ctx: Context, uow: UnitOfWork, actor: User, target: User) -> None:
    if not manages_user(actor, target, scope.tree(ctx, uow)):
        raise _denied(actor, USER_ABOVE if not role_covers(actor.role, target.role) else OUTSIDE_SUBTREE)


def managed_user(ctx: Context, uow: UnitOfWork, actor: User, permission: Permission, user_id: int) -> User:
    """A user whose account `actor` may change with `permission`: in its subtree (else not found) and
    with a role `actor` covers (else refused)."""
    require(actor, permission)
    target = visible_user(ctx, uow, actor, user_id)
    _require_manages_visible(ctx, uow, actor, target)
    return target


def require_placement(ctx: Context, uow: UnitOfWork, actor: User, role: Role, organisation_id: int | None) -> None:
    """`actor` may give someone `role` in this organisation: a role it covers, inside its subtree."""
    if not role_covers(actor.role, role):
        raise _denied(actor, ROLE_ABOVE)
    if not may_place(actor, role, organisation_id, scope.tree(ctx, uow)):
        raise _denied(actor, OUTSIDE_SUBTREE)


def require_manages_user(ctx: Context, uow: UnitOfWork, actor: User, target: User) -> None:
    """Refuse unless `actor` may manage `target`'s account (reset their password or second factor,
    end their sessions, revoke their tokens). Inside the caller's transaction.

    The permission model decides (kefu.domain.org.manages_user): the actor needs the permission to
    manage users; the target must belong to the actor's organisation subtree (the top organisation's
    subtree is every organisation; a target outside it is not confirmed to exist: NotFound) and have
    a role the actor covers; a vendor's or partner's user never manages the operator's staff; the
    account that signs what kefu does by itself is nobody's to manage. A refusal as not found names
    the target's id, never its username.
    """
    _require_manages_user(ctx, uow, actor, target, target.id or 0)


def _require_manages_user(ctx: Context, uow: UnitOfWork, actor: User, target: User, key: int | str) -> None:
    """require_manages_user; a refusal as not found names `key` (what the caller gave), never more."""
    require(actor, Permission.USER_MANAGE)
    _visible(ctx, uow, actor, target, key)
    _require_manages_visible(ctx, uow, actor, target)


def load_managed_user(
    ctx: Context, uow: UnitOfWork, actor: User | None, user: int | str | None, *, self_service: bool = True
) -> User:
    """The user with this id or username (None: the actor), if `actor` may manage their account (see
    require_manages_user; everyone manages their own; no actor: the command line run by the operator
    of the machine). Inside the caller's transaction.

    With `self_service=False` (an administrator's recovery actions: a password-reset code, removing a
    second factor) nobody may aim it at themselves: those skip the current password and the code that
    changing one's own password or turning off one's own second factor ask for, so a stolen session or
    API token must not be able to use them on its own account."""
    if user is None or (actor is not None and user == actor.id):
        assert actor is not None
        found = actor
    else:
        by_key = uow.users.get(user) if isinstance(user, int) else uow.users.get_by_username(user.strip().lower())
        if by_key is None or by_key.id is None:
            raise NotFound(kind=N_("User"), key=user)
        found = by_key
        if actor is not None and actor.id != found.id:
            _require_manages_user(ctx, uow, actor, found, user)
    if actor is not None and actor.id == found.id and not self_service:
        raise PermissionDenied(
            role=actor.role.value,
            action=N_("use an administrator's recovery action on their own account; ask another administrator"),
        )
    return found
