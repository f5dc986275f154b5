"""Organisations, teams and the people in them; roles and what each role may do."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class OrganisationKind(StrEnum):
    HEADQUARTERS = "headquarters"  # 集团
    PROVINCE = "province"  # 省公司客服中心
    CITY = "city"  # 地市分公司
    VENDOR = "vendor"  # 终端厂商
    PARTNER = "partner"


class TeamFunction(StrEnum):
    RECEPTION = "reception"  # 客户接待组
    TECH_SUPPORT = "tech_support"  # 技术支持组
    FIELD_REPAIR = "field_repair"  # 现场维修组
    QUALITY = "quality"  # 质量反馈组


class Role(StrEnum):
    AGENT = "agent"
    TECH_SUPPORT = "tech_support"
    FIELD_ENGINEER = "field_engineer"
    QUALITY = "quality"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"
    AUDITOR = "auditor"


class Permission(StrEnum):
    READ = "read"
    CUSTOMER_CREATE = "customer.create"
    WORKORDER_CREATE = "workorder.create"
    WORKORDER_TRANSITION = "workorder.transition"
    WORKORDER_NOTE = "workorder.note"
    PII_VIEW = "pii.view"  # may ask for unmasked phone, ID number, address (every view is logged)
    USER_MANAGE = "user.manage"
    SLA_MANAGE = "sla.manage"  # policies, calendars, service agreements


P = Permission
_HANDLING = {P.READ, P.WORKORDER_TRANSITION, P.WORKORDER_NOTE}
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.AGENT: frozenset(_HANDLING | {P.CUSTOMER_CREATE, P.WORKORDER_CREATE}),
    Role.TECH_SUPPORT: frozenset(_HANDLING),
    # Field engineers have to reach the customer and find the site.
    Role.FIELD_ENGINEER: frozenset(_HANDLING | {P.PII_VIEW}),
    Role.QUALITY: frozenset({P.READ, P.WORKORDER_NOTE}),
    Role.SUPERVISOR: frozenset(_HANDLING | {P.CUSTOMER_CREATE, P.WORKORDER_CREATE, P.PII_VIEW, P.SLA_MANAGE}),
    Role.ADMIN: frozenset(set(Permission)),
    Role.AUDITOR: frozenset({P.READ}),
}


def role_may(role: Role, permission: Permission) -> bool:
    return permission in ROLE_PERMISSIONS[role]


@dataclass
class Organisation:
    id: int | None
    name: str
    kind: OrganisationKind
    parent_id: int | None = None
    region: str | None = None


@dataclass
class Team:
    id: int | None
    organisation_id: int
    name: str
    function: TeamFunction


@dataclass
class User:
    """Anyone who logs in. Agents are users in a team."""

    id: int | None
    username: str
    display_name: str
    role: Role
    password_hash: str
    created_at: datetime
    active: bool = True
    organisation_id: int | None = None
    team_id: int | None = None
    region: str | None = None
    skills: list[str] = field(default_factory=list)

    def may(self, permission: Permission) -> bool:
        return self.active and role_may(self.role, permission)
