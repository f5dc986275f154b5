"""Administration pages: categories, teams, agents, routing rules, SLA policies and calendars,
message templates — each form checked by the same services as the API, each change recorded."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from functools import partial
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from kefu.domain.errors import N_, DomainError, PermissionDenied, ValidationFailed
from kefu.domain.org import Permission, TeamFunction, User
from kefu.domain.routing import RoutingRule, Strategy
from kefu.domain.sla import ClockName, Conditions
from kefu.services import workspace
from kefu.services.channels import notify
from kefu.services.dispatch import routing
from kefu.services.org import admin as org_admin
from kefu.services.org import reference
from kefu.services.sla import admin as sla_admin
from kefu.web.kit import check_csrf, context_of, org_names, page_user, refused, render

router = APIRouter(include_in_schema=False)
TABS = ("categories", "teams", "agents", "routing", "sla", "templates", "changes")


def _page(
    request: Request,
    user: User,
    tab: str,
    *,
    error: str | None = None,
    status_code: int = 200,
    form: dict[str, str] | None = None,
) -> Response:
    ctx = context_of(request)
    if not user.may(Permission.ROUTING_MANAGE):
        raise PermissionDenied(N_("Only supervisors and administrators manage these settings."))
    tab = tab if tab in TABS else "categories"
    values: dict[str, Any] = {"tab": tab, "error": error, "form": form or {}}
    # Only what the section shown needs.
    if tab in ("teams", "agents", "routing"):
        values.update(org_names(request, user))
    if tab == "categories":
        values["categories"] = reference.list_categories(ctx, user, include_inactive=True)
    elif tab == "teams":
        values["functions"] = list(TeamFunction)
    elif tab == "agents":
        values["agents"] = org_admin.list_agents(ctx, user)
    elif tab == "routing":
        values["rules"], values["strategies"] = routing.list_rules(ctx, user), list(Strategy)
    elif tab == "sla":
        values["policies"] = sla_admin.list_policies(ctx, user)
        values["calendars"] = sla_admin.list_calendars(ctx, user)
        values["clocks"] = list(ClockName)
    elif tab == "templates":
        values["templates"] = notify.list_templates(ctx, user)
    else:
        values["changes"], values["people"] = workspace.admin_changes(ctx, user, limit=100)
    return render(request, "admin.html", status_code, user=user, **values)


@router.get("/ui/admin")
def admin(request: Request, tab: str = "categories") -> Response:
    user = page_user(request)
    try:
        return _page(request, user, tab)
    except DomainError as exc:
        return refused(request, user, exc)


def _codes(value: str) -> tuple[str, ...]:
    return tuple(x.strip() for x in value.replace("，", ",").split(",") if x.strip())


def _int(value: str, field: str) -> int:
    if not value.strip().isdigit():
        raise ValidationFailed("{name} must be a whole number.", field=field, name=field)
    return int(value)


def _targets(form: dict[str, str]) -> dict[ClockName, int | dict[str, int]]:
    """target_<clock> fields: minutes, or per tier as "vip:180, *:360"; empty: no such clock."""
    out: dict[ClockName, int | dict[str, int]] = {}
    for clock in ClockName:
        raw = form.get(f"target_{clock.value}", "").strip()
        if not raw:
            continue
        if ":" in raw:
            tiers = {}
            for part in _codes(raw):
                tier, _, minutes = part.partition(":")
                tiers[tier.strip()] = _int(minutes, f"target_{clock.value}")
            out[clock] = tiers
        else:
            out[clock] = _int(raw, f"target_{clock.value}")
    return out


@router.post("/ui/admin/{section}")
async def change(request: Request, section: str) -> Response:
    user = page_user(request)
    ctx = context_of(request)
    form = {k: str(v).strip() for k, v in (await request.form()).items()}
    tab = {
        "category": "categories",
        "category-active": "categories",
        "team": "teams",
        "agent": "agents",
        "rule": "routing",
        "rule-active": "routing",
        "policy": "sla",
        "calendar-day": "sla",
        "template": "templates",
    }.get(section, "categories")
    try:
        check_csrf(request, form.get("csrf"))
        if section == "category":
            reference.add_category(
                ctx,
                user,
                code=form.get("code", ""),
                label_zh=form.get("label_zh", ""),
                label_en=form.get("label_en", ""),
            )
        elif section == "category-active":
            reference.set_category_active(ctx, user, form.get("code", ""), form.get("active") == "1")
        elif section == "team":
            try:
                function = TeamFunction(form.get("function", ""))
            except ValueError:
                raise ValidationFailed("Choose the team's function.", field="function") from None
            org_admin.add_team(
                ctx,
                user,
                organisation_id=_int(form.get("organisation_id", ""), "organisation_id"),
                name=form.get("name", ""),
                function=function,
            )
        elif section == "agent":
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
        elif section == "rule":
            try:
                strategy = Strategy(form.get("strategy", ""))
            except ValueError:
                raise ValidationFailed("Choose how to pick an agent.", field="strategy") from None
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
                    conditions=Conditions(
                        types=_codes(form.get("types", "")),
                        categories=_codes(form.get("categories", "")),
                        regions=_codes(form.get("regions", "")),
                        channels=_codes(form.get("channels", "")),
                        tiers=_codes(form.get("tiers", "")),
                    ),
                ),
            )
        elif section == "rule-active":
            rule_id = _int(form.get("rule_id", ""), "rule_id")
            rule = next((r for r in routing.list_rules(ctx, user) if r.id == rule_id), None)
            if rule is None:
                raise ValidationFailed("Routing rule {id} does not exist.", field="rule_id", id=rule_id)
            routing.save_rule(ctx, user, replace(rule, active=form.get("active") == "1"))
        elif section == "policy":
            policy_id = _int(form.get("policy_id", ""), "policy_id")
            policy = next((p for p in sla_admin.list_policies(ctx, user) if p.id == policy_id), None)
            if policy is None:
                raise ValidationFailed("SLA policy {id} does not exist.", field="policy_id", id=policy_id)
            sla_admin.save_policy(ctx, user, replace(policy, targets=_targets(form), active=form.get("active") == "1"))
        elif section == "calendar-day":
            try:
                day = date.fromisoformat(form.get("day", ""))
            except ValueError:
                raise ValidationFailed("Enter the day as 2026-12-31.", field="day") from None
            sla_admin.set_calendar_day(
                ctx, user, form.get("calendar", ""), day, form.get("is_workday") == "1", form.get("note")
            )
        elif section == "template":
            notify.save_template(
                ctx,
                user,
                form.get("key", ""),
                form.get("channel", ""),
                form.get("locale", ""),
                form.get("subject"),
                form.get("body", ""),
            )
        else:
            raise ValidationFailed("Choose one of the offered actions.", field="section")
    except DomainError as exc:
        return refused(request, user, exc, partial(_page, request, user, tab, form=form))
    return RedirectResponse(f"/ui/admin?tab={tab}", status_code=303)
