"""Organisations, teams and the dispatch profile of agents (skills, languages, region, capacity,
shift): what routing and data scope are built on (R11, R14). Organisations are installation-wide
settings; teams and agents are managed within the organisation subtree (kefu.services.access.authz)."""

from __future__ import annotations

from dataclasses import dataclass

from kefu.domain.categories import validate_code
from kefu.domain.errors import ValidationFailed
from kefu.domain.org import EXTERNAL_KINDS, Organisation, OrganisationKind, Permission, Team, TeamFunction, User
from kefu.services import audit
from kefu.services.access import authz
from kefu.services.access.authz import require
from kefu.services.access.users import place
from kefu.services.context import Context
from kefu.services.dispatch.routing import HANDLER_ROLES


def list_organisations(ctx: Context, actor: User) -> list[Organisation]:
    require(actor, Permission.READ)
    with ctx.uow() as uow:
        return uow.org.organisations()


def _name(value: str, field: str) -> str:
    name = value.strip()
    if not name or len(name) > 200:
        raise ValidationFailed("The name must be 1 to 200 characters long.", field=field)
    return name


def add_organisation(
    ctx: Context, actor: User, *, name: str, kind: OrganisationKind, parent_id: int | None, region: str | None
) -> Organisation:
    """A new organisation (installation-wide: the top organisation's admins). An operator organisation
    never hangs below a vendor or partner."""
    with ctx.uow(write=True) as uow:
        authz.require_installation(ctx, uow, actor)
        existing = uow.org.organisations()
        clean = _name(name, "name")
        if any(o.name == clean for o in existing):
            raise ValidationFailed("An organisation named {name} exists already.", field="name", name=clean)
        parent = next((o for o in existing if o.id == parent_id), None) if parent_id is not None else None
        if parent_id is not None and parent is None:
            raise ValidationFailed("Organisation {id} does not exist.", field="parent_id", id=parent_id)
        if parent is not None and parent.kind in EXTERNAL_KINDS and kind not in EXTERNAL_KINDS:
            raise ValidationFailed(
                "An organisation of the operator cannot belong to a vendor or partner.", field="parent_id"
            )
        org = uow.org.add_organisation(
            Organisation(id=None, name=clean, kind=kind, parent_id=parent_id, region=(region or "").strip() or None)
        )
        audit.record_setting_change(
            ctx, uow, actor, "organisation", org.id, None, {"name": clean, "kind": kind.value, "parent_id": parent_id}
        )
        uow.commit()
    ctx.caches.clear_organisation()
    return org


def add_team(ctx: Context, actor: User, *, organisation_id: int, name: str, function: TeamFunction) -> Team:
    """A new team in an organisation of the actor's subtree."""
    with ctx.uow(write=True) as uow:
        if uow.org.get_organisation(organisation_id) is None:
            raise ValidationFailed("Organisation {id} does not exist.", field="organisation_id", id=organisation_id)
        authz.require_manages(ctx, uow, actor, Permission.ROUTING_MANAGE, organisation_id)
        clean = _name(name, "name")
        if any(t.name == clean and t.organisation_id == organisation_id for t in uow.org.teams()):
            raise ValidationFailed("The organisation has a team named {name} already.", field="name", name=clean)
        team = uow.org.add_team(Team(id=None, organisation_id=organisation_id, name=clean, function=function))
        audit.record_setting_change(
            ctx,
            uow,
            actor,
            "team",
            clean,
            None,
            {"name": clean, "organisation_id": organisation_id, "function": function.value},
        )
        uow.commit()
    ctx.caches.clear_organisation()
    return team


@dataclass(frozen=True)
class AgentProfile:
    """What dispatch knows of a person; None leaves a field as it is."""

    team_id: int | None = None
    region: str | None = None
    skills: tuple[str, ...] | None = None
    languages: tuple[str, ...] | None = None
    capacity: int | None = None
    on_shift: bool | None = None


def update_agent(ctx: Context, actor: User, user_id: int, profile: AgentProfile) -> User:
    """Set an agent's team, region, skills, languages, capacity and shift. Agents may set their own
    shift; everything else is for those who manage dispatch, for the people of their subtree with a
    role they cover, and a new team must be in their subtree too."""
    own_shift_only = actor.id == user_id and profile == AgentProfile(on_shift=profile.on_shift)
    with ctx.uow(write=True) as uow:
        if own_shift_only:
            user = authz.visible_user(ctx, uow, actor, user_id)
        else:
            user = authz.managed_user(ctx, uow, actor, Permission.ROUTING_MANAGE, user_id)
        before = _profile_of(user)
        if profile.team_id is not None:
            place(ctx, uow, actor, user, team_id=profile.team_id)
        if profile.region is not None:
            user.region = profile.region.strip() or None
        if profile.skills is not None:
            known = {c.code for c in uow.categories.all()}
            if unknown := [s for s in profile.skills if validate_code(s) not in known]:
                raise ValidationFailed("Unknown category: {codes}.", field="skills", codes=", ".join(unknown))
            user.skills = sorted(set(profile.skills))
        if profile.languages is not None:
            if any(not 2 <= len(x) <= 10 for x in profile.languages):
                raise ValidationFailed("Languages are short codes such as zh, yue or en.", field="languages")
            user.languages = sorted(set(profile.languages))
        if profile.capacity is not None:
            if not 0 <= profile.capacity <= 10_000:
                raise ValidationFailed("The capacity must be between 0 and 10,000 open work orders.", field="capacity")
            user.capacity = profile.capacity
        if profile.on_shift is not None:
            user.on_shift = profile.on_shift
        uow.users.update_profile(user)
        if (after := _profile_of(user)) != before:
            audit.record_setting_change(ctx, uow, actor, "agent", user.username, before, after)
        uow.commit()
    ctx.caches.tokens.clear()  # cached sessions carry the old profile
    return user


def _profile_of(user: User) -> dict[str, object]:
    return {
        "organisation_id": user.organisation_id,
        "team_id": user.team_id,
        "region": user.region,
        "skills": list(user.skills),
        "languages": list(user.languages),
        "capacity": user.capacity,
        "on_shift": user.on_shift,
    }


def list_agents(ctx: Context, actor: User, *, team_id: int | None = None) -> list[User]:
    """Active people who handle work orders, with their load (for supervisors' screens): those of the
    actor's organisation subtree."""
    require(actor, Permission.READ)
    with ctx.uow() as uow:
        return uow.users.find(roles=HANDLER_ROLES, team_id=team_id, organisation_ids=authz.staff_scope(ctx, uow, actor))
