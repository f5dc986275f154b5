"""The forms of routing rules and time-limit policies: the condition pick lists and what they offer
(never free text: a type typed as 故障 instead of `fault` never matched), and the clocks' targets."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from kefu.domain.org import Permission, User
from kefu.domain.sla import ClockName, Conditions
from kefu.domain.values import whole_number
from kefu.domain.workorders import Priority
from kefu.i18n import gettext
from kefu.services.org import admin as org_admin
from kefu.web import i18n_labels as labels
from kefu.web.kit import category_labels, context_of, locale_of


def codes(value: str) -> tuple[str, ...]:
    """A comma-separated list (Chinese commas too), or the choices of a multiple select joined so."""
    return tuple(x.strip() for x in value.replace("，", ",").split(",") if x.strip())


def pick_lists(request: Request, user: User, in_use: list[Conditions]) -> dict[str, Any]:
    """What conditions choose from: the categories, and the regions known (in use by conditions
    and engineers); types, channels, tiers and priorities come from the labels."""
    ctx = context_of(request)
    locale = locale_of(request)
    regions = {r for c in in_use for r in c.regions}
    if user.may(Permission.ROUTING_MANAGE):
        regions |= {a.region for a in org_admin.list_agents(ctx, user) if a.region}

    names: dict[str, str] = category_labels(request, user)["category_labels"]

    def options(found: dict[Any, str]) -> list[tuple[str, str]]:
        return [(str(value), gettext(locale, text)) for value, text in found.items()]

    return {
        "type_options": options(labels.TYPE),
        "category_options": list(names.items()),
        "category_names": names,
        "channel_options": options(labels.CHANNEL),
        "tier_options": options(labels.TIER),
        "priority_options": [(p.value, p.value) for p in Priority],
        "severity_options": options(labels.SEVERITY),
        "region_options": [(r, r) for r in sorted(regions)],
        "no_conditions": Conditions(),
    }


def conditions_of(form: dict[str, str]) -> Conditions:
    """The condition pick lists of a rule or policy form (each a multiple select; regions also from
    the "other regions" text box). The services refuse values that can never match."""
    severities = tuple(whole_number(s, "severities") for s in codes(form.get("severities", "")))
    return Conditions(
        types=codes(form.get("types", "")),
        categories=codes(form.get("categories", "")),
        regions=tuple(dict.fromkeys(codes(form.get("regions", "")) + codes(form.get("regions_other", "")))),
        channels=codes(form.get("channels", "")),
        tiers=codes(form.get("tiers", "")),
        priorities=codes(form.get("priorities", "")),
        severities=severities,
    )


def targets_of(form: dict[str, str]) -> dict[ClockName, int | dict[str, int]]:
    """target_<clock> fields: minutes, or per tier as "vip:180, *:360"; empty: no such clock."""
    out: dict[ClockName, int | dict[str, int]] = {}
    for clock in ClockName:
        raw = form.get(f"target_{clock.value}", "").strip()
        if not raw:
            continue
        if ":" in raw:
            tiers = {}
            for part in codes(raw):
                tier, _, minutes = part.partition(":")
                tiers[tier.strip()] = whole_number(minutes, f"target_{clock.value}")
            out[clock] = tiers
        else:
            out[clock] = whole_number(raw, f"target_{clock.value}")
    return out
