"""Permission checks shared by every use case."""

from __future__ import annotations

from kefu.domain.errors import PermissionDenied
from kefu.domain.org import Permission, User

_ACTIONS: dict[Permission, str] = {
    Permission.READ: "read work orders",
    Permission.CUSTOMER_CREATE: "register customers",
    Permission.WORKORDER_CREATE: "register work orders",
    Permission.WORKORDER_TRANSITION: "change the status of work orders",
    Permission.WORKORDER_NOTE: "add notes to work orders",
    Permission.PII_VIEW: "see unmasked personal data",
    Permission.USER_MANAGE: "manage users",
}


def require(actor: User, permission: Permission) -> None:
    if not actor.may(permission):
        raise PermissionDenied(role=actor.role.value, action=_ACTIONS[permission])
