"""Reference data: the category tree and the starting organisation of a new installation."""

from __future__ import annotations

from kefu.domain.categories import Category, seed_categories
from kefu.domain.org import Organisation, OrganisationKind, Permission, Team, TeamFunction, User
from kefu.services.authz import require
from kefu.services.ports import Context

#: The centre a new installation starts with: one province service centre with the four teams of R11.
SEED_ORGANISATION = ("省客服中心", OrganisationKind.PROVINCE)
SEED_TEAMS: list[tuple[str, TeamFunction]] = [
    ("客户接待组", TeamFunction.RECEPTION),
    ("技术支持组", TeamFunction.TECH_SUPPORT),
    ("现场维修组", TeamFunction.FIELD_REPAIR),
    ("质量反馈组", TeamFunction.QUALITY),
]


def seed_reference_data(ctx: Context) -> dict[str, int]:
    """Insert what is missing of the seed category tree and the starting organisation.

    Never overwrites: categories edited or deactivated by an admin stay as they are.
    """
    added = {"categories": 0, "teams": 0}
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
        uow.commit()
    ctx.categories_cache.clear()
    return added


def list_categories(ctx: Context, actor: User, *, include_inactive: bool = False) -> list[Category]:
    require(actor, Permission.READ)
    with ctx.uow() as uow:
        found = uow.categories.all()
    return [c for c in found if include_inactive or c.active]


def list_teams(ctx: Context, actor: User) -> list[Team]:
    require(actor, Permission.READ)
    with ctx.uow() as uow:
        return uow.org.teams()
