"""Administration pages: categories, teams, users, agents, routing rules, SLA policies and calendars,
message templates — each form checked by the same services as the API (within the organisation
subtree; installation-wide settings for the top organisation's admins), each change recorded.

Each section is a page of its own (GET /ui/admin/<section>, declared with @section) and each change
a form target of its own (POST /ui/admin/<change>, declared with @change); a refused change shows
its section again with the error above it and what was typed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from functools import partial
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from kefu.domain import values
from kefu.domain.errors import N_, DomainError, PermissionDenied, ValidationFailed
from kefu.domain.org import Permission, Role, TeamFunction, User
from kefu.domain.routing import RoutingRule, Strategy
from kefu.domain.sla import ClockName, SlaPolicy
from kefu.domain.sla_defaults import ESCALATION
from kefu.domain.values import whole_number
from kefu.services import audit, canned_replies, tags
from kefu.services.access import accounts, authz, users
from kefu.services.channels import notify
from kefu.services.context import Context
from kefu.services.dispatch import routing
from kefu.services.org import admin as org_admin
from kefu.services.org import reference
from kefu.services.sla import admin as sla_admin
from kefu.web import policy_forms
from kefu.web.kit import (
    context_of,
    form_choice,
    org_names,
    page_user,
    refused,
    render,
    run_action,
)

router = APIRouter(include_in_schema=False)

Show = Callable[[Request, User], dict[str, Any]]
Change = Callable[[Context, User, dict[str, str]], object]

#: What each section's page shows (only what that section needs), by the section's name.
SECTIONS: dict[str, Show] = {}


def section(name: str) -> Callable[[Show], Show]:
    """Declares the page GET /ui/admin/<name>, showing what the decorated function reads."""

    def declare(show: Show) -> Show:
        def page(request: Request) -> Response:
            user = page_user(request)
            try:
                return _page(request, user, name)
            except DomainError as exc:
                return refused(request, user, exc)

        SECTIONS[name] = show
        router.add_api_route(f"/ui/admin/{name}", page, methods=["GET"], name=f"admin_{name}")
        return show

    return declare


def change(path: str, *, back_to: str) -> Callable[[Change], Change]:
    """Declares the form target POST /ui/admin/<path>, making the change the decorated function
    makes; then the browser is back on the section `back_to` (with the error, if refused)."""

    def declare(make: Change) -> Change:
        async def post(request: Request) -> Response:
            user = page_user(request)
            raw = await request.form()
            # A multiple select sends its name once per choice: the choices joined with commas.
            form = {k: ",".join(str(v).strip() for v in raw.getlist(k)) for k in raw}
            return run_action(
                request,
                user,
                form.get("csrf"),
                lambda ctx: make(ctx, user, form),
                then=f"/ui/admin/{back_to}",
                redisplay=partial(_page, request, user, back_to, form=form),
            )

        router.add_api_route(f"/ui/admin/{path}", post, methods=["POST"], name=f"admin_{make.__name__}")
        return make

    return declare


def _page(
    request: Request,
    user: User,
    name: str,
    *,
    error: str | None = None,
    status_code: int = 200,
    form: dict[str, str] | None = None,
) -> Response:
    if not user.may(Permission.ROUTING_MANAGE):
        raise PermissionDenied(N_("Only supervisors and administrators manage these settings."))
    values = SECTIONS[name](request, user)
    return render(
        request,
        "admin.html",
        status_code,
        user=user,
        tab=name,
        error=error,
        form=form or {},
        runs_installation=authz.runs_installation_now(context_of(request), user),
        **values,
    )


@router.get("/ui/admin")
def old_address(tab: str = "categories") -> RedirectResponse:
    """Where the sections were (/ui/admin?tab=sla), for bookmarks and old links."""
    return RedirectResponse(f"/ui/admin/{tab if tab in SECTIONS else 'categories'}", status_code=303)


# The sections, in the order of the tabs.


@section("categories")
def categories(request: Request, user: User) -> dict[str, Any]:
    return {"categories": reference.list_categories(context_of(request), user, include_inactive=True)}


@section("teams")
def teams(request: Request, user: User) -> dict[str, Any]:
    return {**org_names(request, user), "functions": list(TeamFunction)}


@section("users")
def accounts_section(request: Request, user: User) -> dict[str, Any]:
    ctx = context_of(request)
    roles, where = users.placements(ctx, user)
    names = org_names(request, user)
    return {
        **names,
        "accounts": users.list_users(ctx, user),
        "roles": roles,
        "placeable": {i: o for i, o in names["organisations"].items() if i in where},
        "placeable_teams": {i: t for i, t in names["teams"].items() if t.organisation_id in where},
    }


@section("agents")
def agents(request: Request, user: User) -> dict[str, Any]:
    return {**org_names(request, user), "agents": org_admin.list_agents(context_of(request), user)}


@section("routing")
def routing_rules(request: Request, user: User) -> dict[str, Any]:
    rules = routing.list_rules(context_of(request), user)
    return {
        **org_names(request, user),
        **policy_forms.pick_lists(request, user, [r.conditions for r in rules]),
        "rules": rules,
        "strategies": list(Strategy),
    }


@section("sla")
def time_limits(request: Request, user: User) -> dict[str, Any]:
    ctx = context_of(request)
    policies = sla_admin.list_policies(ctx, user)
    return {
        **policy_forms.pick_lists(request, user, [p.conditions for p in policies]),
        "policies": policies,
        "calendars": sla_admin.list_calendars(ctx, user),
        "clocks": list(ClockName),
    }


@section("templates")
def message_templates(request: Request, user: User) -> dict[str, Any]:
    ctx = context_of(request)
    return {
        "templates": notify.list_templates(ctx, user),
        "canned": canned_replies.list_canned(ctx, user),
        "categories": reference.list_categories(ctx, user),
    }


@section("changes")
def change_log(request: Request, user: User) -> dict[str, Any]:
    changes, people = audit.setting_changes(context_of(request), user, limit=100)
    return {"changes": changes, "people": people}


# Reading the forms.


def _codes(value: str) -> tuple[str, ...]:
    return tuple(x.strip() for x in value.replace("，", ",").split(",") if x.strip())


def _int(value: str, field: str) -> int:
    return whole_number(value, field)


def _optional_int(form: dict[str, str], field: str) -> int | None:
    return _int(form[field], field) if form.get(field) else None


# The changes.


@change("category", back_to="categories")
def add_category(ctx: Context, user: User, form: dict[str, str]) -> None:
    reference.add_category(
        ctx,
        user,
        code=form.get("code", ""),
        label_zh=form.get("label_zh", ""),
        label_en=form.get("label_en", ""),
    )


@change("category-active", back_to="categories")
def switch_category(ctx: Context, user: User, form: dict[str, str]) -> None:
    reference.set_category_active(ctx, user, form.get("code", ""), form.get("active") == "1")


@change("team", back_to="teams")
def add_team(ctx: Context, user: User, form: dict[str, str]) -> None:
    function = form_choice(TeamFunction, form.get("function", ""), N_("Choose the team's function."), field="function")
    org_admin.add_team(
        ctx,
        user,
        organisation_id=_int(form.get("organisation_id", ""), "organisation_id"),
        name=form.get("name", ""),
        function=function,
    )


def _role(value: str) -> Role:
    return form_choice(Role, value, N_("Choose a role."), field="role")


@change("user", back_to="users")
def create_user(ctx: Context, user: User, form: dict[str, str]) -> None:
    accounts.create_user(
        ctx,
        accounts.NewUser(
            username=form.get("username", ""),
            role=_role(form.get("role", "")),
            password=form.get("password", ""),
            display_name=form.get("display_name") or None,
            team_id=_optional_int(form, "team_id"),
            organisation_id=_optional_int(form, "organisation_id"),
            # The password was chosen by someone else: the new user replaces it at the first login.
            must_change_password=True,
        ),
        actor=user,
    )


@change("user-change", back_to="users")
def change_user(ctx: Context, user: User, form: dict[str, str]) -> None:
    users.update_user(
        ctx,
        user,
        _int(form.get("user_id", ""), "user_id"),
        users.AccountChange(
            display_name=form.get("display_name") or None,
            role=_role(form["role"]) if form.get("role") else None,
            team_id=_optional_int(form, "team_id"),
            organisation_id=_optional_int(form, "organisation_id"),
            active={"1": True, "0": False}.get(form.get("active", "")),
        ),
    )


@change("agent", back_to="agents")
def update_agent(ctx: Context, user: User, form: dict[str, str]) -> None:
    org_admin.update_agent(
        ctx,
        user,
        _int(form.get("user_id", ""), "user_id"),
        org_admin.AgentProfile(
            team_id=_int(form["team_id"], "team_id") if form.get("team_id") else None,
            region=form.get("region", ""),
            skills=_codes(form.get("skills", "")),
            capacity=_int(form.get("capacity", ""), "capacity"),
            on_shift=form.get("on_shift") == "1",
        ),
    )


@change("rule", back_to="routing")
def add_rule(ctx: Context, user: User, form: dict[str, str]) -> None:
    strategy = form_choice(Strategy, form.get("strategy", ""), N_("Choose how to pick an agent."), field="strategy")
    routing.save_rule(
        ctx,
        user,
        RoutingRule(
            id=None,
            name=form.get("name", ""),
            position=_int(form.get("position", ""), "position"),
            team_id=_int(form.get("team_id", ""), "team_id"),
            strategy=strategy,
            fallback_team_id=_int(form["fallback_team_id"], "fallback_team_id")
            if form.get("fallback_team_id")
            else None,
            organisation_id=_optional_int(form, "organisation_id"),
            conditions=policy_forms.conditions_of(form),
        ),
    )


@change("rule-active", back_to="routing")
def switch_rule(ctx: Context, user: User, form: dict[str, str]) -> None:
    routing.set_rule_active(ctx, user, _int(form.get("rule_id", ""), "rule_id"), form.get("active") == "1")


@change("policy", back_to="sla")
def save_policy(ctx: Context, user: User, form: dict[str, str]) -> None:
    """Change a policy (its targets, conditions, whether it is active) or, without policy_id, add one."""
    if not form.get("policy_id"):
        name = form.get("name", "").strip()
        if not name:
            raise ValidationFailed("Give the policy a name.", field="name")
        sla_admin.save_policy(
            ctx,
            user,
            SlaPolicy(
                id=None,
                name=name[:200],
                position=_int(form.get("position", ""), "position"),
                targets=policy_forms.targets_of(form),
                calendar=form.get("calendar", "24x7"),
                conditions=policy_forms.conditions_of(form),
                escalations=ESCALATION,
                active=form.get("active") == "1",
            ),
        )
        return
    policy_id = _int(form.get("policy_id", ""), "policy_id")
    policy = next((p for p in sla_admin.list_policies(ctx, user) if p.id == policy_id), None)
    if policy is None:
        raise ValidationFailed("SLA policy {id} does not exist.", field="policy_id", id=policy_id)
    sla_admin.save_policy(
        ctx,
        user,
        replace(
            policy,
            targets=policy_forms.targets_of(form),
            # Service agreements' policies are kept to their agreements (the API sets those).
            conditions=replace(policy_forms.conditions_of(form), agreement_ids=policy.conditions.agreement_ids),
            active=form.get("active") == "1",
        ),
    )


@change("calendar-day", back_to="sla")
def set_calendar_day(ctx: Context, user: User, form: dict[str, str]) -> None:
    day = values.day(form.get("day", ""), "day")
    sla_admin.set_calendar_day(
        ctx, user, form.get("calendar", ""), day, form.get("is_workday") == "1", form.get("note")
    )


@change("template", back_to="templates")
def save_template(ctx: Context, user: User, form: dict[str, str]) -> None:
    notify.save_template(
        ctx,
        user,
        form.get("key", ""),
        form.get("channel", ""),
        form.get("locale", ""),
        form.get("subject"),
        form.get("body", ""),
    )


# Tags (issue #12, part 7): each organisation's list and whether free tags are allowed.


@section("tags")
def tags_section(request: Request, user: User) -> dict[str, Any]:
    return {**org_names(request, user), "tag_admin": tags.tag_admin(context_of(request), user)}


@change("tag", back_to="tags")
def add_tag(ctx: Context, user: User, form: dict[str, str]) -> None:
    tags.add_tag(
        ctx,
        user,
        organisation_id=_int_id(form.get("organisation_id", ""), "organisation_id"),
        name=form.get("name", ""),
    )


@change("tag-active", back_to="tags")
def switch_tag(ctx: Context, user: User, form: dict[str, str]) -> None:
    tags.set_tag_active(ctx, user, _int_id(form.get("tag_id", ""), "tag_id"), form.get("active") == "1")


@change("tag-setting", back_to="tags")
def free_tags(ctx: Context, user: User, form: dict[str, str]) -> None:
    tags.set_free_tags(
        ctx,
        user,
        organisation_id=_int_id(form.get("organisation_id", ""), "organisation_id"),
        allowed=form.get("free") == "1",
    )


def _int_id(value: str, field: str) -> int:
    return whole_number(value, field, low=1)


@change("canned-reply", back_to="templates")
def save_canned_reply(ctx: Context, user: User, form: dict[str, str]) -> None:
    canned_replies.save_canned(
        ctx,
        user,
        form.get("key", ""),
        form.get("locale", ""),
        form.get("category") or None,
        form.get("subject"),
        form.get("body", ""),
    )
