"""The one place permissions are checked (R32): what a role may do (`require`), and where — inside
the actor's own organisation subtree (`require_manages`, `managed_user`, `require_placement`), or,
for settings that affect every organisation, only as an admin of the top organisation
(`require_installation`). Every use case calls these; the rules themselves are in
kefu.domain.org, and docs/SECURITY.md writes them down as a matrix.
"""

from __future__ import annotations

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
from kefu.services.context import Context
from kefu.services.ports import UnitOfWork

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
    found = uow.users.get(user_id)
    allowed = staff_scope(ctx, uow, actor)
    if (
        found is None
        or found.username == SYSTEM_USERNAME
        or (found.id != actor.id and allowed is not None and found.organisation_id not in allowed)
    ):
        raise NotFound(kind=N_("User"), key=user_id)
    return found


def managed_user(ctx: Context, uow: UnitOfWork, actor: User, permission: Permission, user_id: int) -> User:
    """A user whose account `actor` may change with `permission`: in its subtree (else not found) and
    with a role `actor` covers (else refused)."""
    require(actor, permission)
    target = visible_user(ctx, uow, actor, user_id)
    if not manages_user(actor, target, scope.tree(ctx, uow)):
        raise _denied(actor, USER_ABOVE if not role_covers(actor.role, target.role) else OUTSIDE_SUBTREE)
    return target


def require_placement(ctx: Context, uow: UnitOfWork, actor: User, role: Role, organisation_id: int | None) -> None:
    """`actor` may give someone `role` in this organisation: a role it covers, inside its subtree."""
    if not role_covers(actor.role, role):
        raise _denied(actor, ROLE_ABOVE)
    if not may_place(actor, role, organisation_id, scope.tree(ctx, uow)):
        raise _denied(actor, OUTSIDE_SUBTREE)
