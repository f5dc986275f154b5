"""Reference data: the category tree and the starting organisation of a new installation."""

from __future__ import annotations

from kefu.domain import sla_defaults
from kefu.domain.calendars import CalendarSpec
from kefu.domain.categories import Category, seed_categories, validate_code
from kefu.domain.contacts import UNCLASSIFIED
from kefu.domain.errors import N_, NotFound, ValidationFailed
from kefu.domain.org import (
    SYSTEM_USERNAME,
    Organisation,
    OrganisationKind,
    OrgTree,
    Permission,
    Role,
    Team,
    TeamFunction,
    User,
)
from kefu.domain.routing import RoutingRule, Strategy
from kefu.domain.sla import Conditions
from kefu.domain.workorders import Channel
from kefu.services import audit
from kefu.services.access import authz
from kefu.services.access.authz import require
from kefu.services.context import Context
from kefu.services.ports import UnitOfWork

#: The centre a new installation starts with: one province service centre with the four teams of R11.
SEED_ORGANISATION = ("省客服中心", OrganisationKind.PROVINCE)
SEED_TEAMS: list[tuple[str, TeamFunction]] = [
    ("客户接待组", TeamFunction.RECEPTION),
    ("技术支持组", TeamFunction.TECH_SUPPORT),
    ("现场维修组", TeamFunction.FIELD_REPAIR),
    ("质量反馈组", TeamFunction.QUALITY),
]


def seed_reference_data(ctx: Context) -> dict[str, int]:
    """Insert what is missing of the seed category tree, the starting organisation, the business
    calendars and SLA policies, and the `system` account that signs what kefu does by itself.

    Never overwrites: what an admin edited or deactivated stays as it is.
    """
    added = {"categories": 0, "teams": 0, "calendars": 0, "policies": 0, "routing_rules": 0}
    with ctx.uow(write=True) as uow:
        known = {c.code for c in uow.categories.all()}
        for category in seed_categories():
            if category.code not in known:
                uow.categories.add(category)
                added["categories"] += 1
        if not uow.org.organisations():
            name, kind = SEED_ORGANISATION
            org = uow.org.add_organisation(Organisation(id=None, name=name, kind=kind, region="省会"))
            assert org.id is not None
            for team_name, function in SEED_TEAMS:
                uow.org.add_team(Team(id=None, organisation_id=org.id, name=team_name, function=function))
                added["teams"] += 1
        known_calendars = {c.name for c in uow.sla.calendars()}
        for name, tz, hours, chinese in sla_defaults.CALENDARS:
            if name not in known_calendars:
                uow.sla.add_calendar(CalendarSpec(None, name, tz, hours, chinese))
                added["calendars"] += 1
        if not uow.sla.policies():
            for policy in sla_defaults.default_policies():
                uow.sla.save_policy(policy)
                added["policies"] += 1
        if uow.users.get_by_username(SYSTEM_USERNAME) is None:
            # It opens the work orders that come in through the channels: in the top organisation.
            home = OrgTree(uow.org.organisations()).top_id
            uow.users.add(
                User(
                    id=None,
                    username=SYSTEM_USERNAME,
                    display_name="kefu",
                    role=Role.ADMIN,
                    organisation_id=home,
                    # "!" is no argon2 hash: no password opens this inactive account.
                    password_hash="!",  # noqa: S106
                    created_at=ctx.clock.now(),
                    active=False,
                )
            )
        added["routing_rules"] = _seed_routing(ctx, uow)
        uow.commit()
    ctx.caches.sla.clear()
    ctx.caches.categories.clear()
    ctx.caches.clear_organisation()
    return added


#: The shipped routing rule: what comes in through a channel unclassified waits in the reception
#: team's queue ("to classify") until an agent there classifies it (and the rules route it on).
TO_CLASSIFY_RULE = "渠道来件待分类"
CHANNEL_BORN = (Channel.WEB, Channel.APP, Channel.EMAIL, Channel.SMS, Channel.WECHAT)


def _seed_routing(ctx: Context, uow: UnitOfWork) -> int:
    """Add the shipped rule if no rule of its name exists (an admin may have changed or switched it
    off: it is never touched again): for every organisation, to the top organisation's reception team."""
    if any(r.name == TO_CLASSIFY_RULE for r in uow.routing.rules()):
        return 0
    tree = OrgTree(uow.org.organisations())
    reception = [
        t for t in uow.org.teams() if t.function is TeamFunction.RECEPTION and t.organisation_id == tree.top_id
    ]
    system = uow.users.get_by_username(SYSTEM_USERNAME)
    if not reception or system is None or system.id is None:
        return 0
    rule = RoutingRule(
        id=None,
        name=TO_CLASSIFY_RULE,
        position=1000,  # after the rules an admin adds
        team_id=min(t.id or 0 for t in reception),
        strategy=Strategy.QUEUE,
        conditions=Conditions(categories=(UNCLASSIFIED,), channels=tuple(c.value for c in CHANNEL_BORN)),
    )
    uow.routing.save_rule(rule, actor_id=system.id, at=ctx.clock.now())
    return 1


#: The other parties of seed 004's flow, for demonstrations: group HQ, the base province (基地省) and
#: a device maker, each with a team to dispatch to.
DEMO_PARTIES: list[tuple[str, OrganisationKind, str | None, str, TeamFunction]] = [
    ("集团客服部", OrganisationKind.HEADQUARTERS, None, "集团技术支持组", TeamFunction.TECH_SUPPORT),
    ("基地省客服中心", OrganisationKind.PROVINCE, "集团客服部", "基地省技术支持组", TeamFunction.TECH_SUPPORT),
    ("终端厂商客服中心", OrganisationKind.VENDOR, None, "厂商热线组", TeamFunction.RECEPTION),
]


def seed_demo_parties(ctx: Context) -> int:
    """Add the demonstration organisations that are missing (never changes existing ones)."""
    added = 0
    with ctx.uow(write=True) as uow:
        known = {o.name: o for o in uow.org.organisations()}
        for name, kind, parent, team_name, function in DEMO_PARTIES:
            if name in known:
                continue
            parent_id = known[parent].id if parent in known else None
            org = uow.org.add_organisation(Organisation(id=None, name=name, kind=kind, parent_id=parent_id))
            known[name] = org
            assert org.id is not None
            uow.org.add_team(Team(id=None, organisation_id=org.id, name=team_name, function=function))
            added += 1
        uow.commit()
    ctx.caches.clear_organisation()
    return added


def list_categories(ctx: Context, actor: User, *, include_inactive: bool = False) -> list[Category]:
    require(actor, Permission.READ)
    with ctx.uow() as uow:
        found = uow.categories.all()
    return [c for c in found if include_inactive or c.active]


def add_category(ctx: Context, actor: User, *, code: str, label_zh: str, label_en: str) -> Category:
    """A new category under an existing one (or a new top level); recorded in the change log.
    Categories are shared by every organisation: the top organisation's admins change them."""
    code = validate_code(code.strip())
    zh, en = label_zh.strip(), label_en.strip()
    if not zh or not en or len(zh) > 100 or len(en) > 100:
        raise ValidationFailed("Give the name in Chinese and in English (up to 100 characters each).", field="label_zh")
    with ctx.uow(write=True) as uow:
        authz.require_installation(ctx, uow, actor)
        known = {c.code: c for c in uow.categories.all()}
        if code in known:
            raise ValidationFailed("Category {code} exists already.", field="code", code=code)
        parent = code.rpartition(".")[0]
        if parent and parent not in known:
            raise ValidationFailed("Add its parent {parent} first.", field="code", parent=parent)
        category = Category(
            code=code, label_zh=zh, label_en=en, sort=max((c.sort for c in known.values()), default=0) + 1
        )
        uow.categories.add(category)
        audit.record_setting_change(ctx, uow, actor, "category", code, None, {"label_zh": zh, "label_en": en})
        uow.commit()
    ctx.caches.categories.clear()
    return category


def set_category_active(ctx: Context, actor: User, code: str, active: bool) -> None:
    """Retire a category (it stays on old work orders, new ones cannot use it) or bring it back."""
    with ctx.uow(write=True) as uow:
        authz.require_installation(ctx, uow, actor)
        found = uow.categories.get(code)
        if found is None:
            raise NotFound(kind=N_("Category"), key=code)
        if found.active != active:
            uow.categories.set_active(code, active)
            audit.record_setting_change(ctx, uow, actor, "category", code, {"active": found.active}, {"active": active})
        uow.commit()
    ctx.caches.categories.clear()


def list_categories_unchecked(ctx: Context) -> list[Category]:
    """The category tree for pages without a staff user (the customers' portal)."""
    with ctx.uow() as uow:
        return [c for c in uow.categories.all() if c.active]


def list_teams(ctx: Context, actor: User) -> list[Team]:
    require(actor, Permission.READ)
    with ctx.uow() as uow:
        return uow.org.teams()
