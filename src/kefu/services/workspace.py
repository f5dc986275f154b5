"""The agents' and supervisors' workspace: queues with counts, saved filters and the dashboard.
(The record of admin changes is the audit log's: kefu.services.audit.)"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta
from urllib.parse import parse_qsl, urlencode

from kefu.domain.contacts import UNCLASSIFIED
from kefu.domain.errors import N_, NotFound, ValidationFailed
from kefu.domain.org import Permission, User
from kefu.domain.workorders import OPEN_STATUS_VALUES, Status
from kefu.services.access import scope
from kefu.services.access.authz import require
from kefu.services.context import Context
from kefu.services.ports import AgentLoad, SavedFilter, WorkOrderFilter

COUNT_CAP = 999
#: The queues that show how long their oldest work order has waited.
AGED = frozenset({"to_classify", "unassigned"})
OPEN = OPEN_STATUS_VALUES


@dataclass(frozen=True)
class Queue:
    key: str
    label: str  # msgid
    query: dict[str, str]  # the list page's parameters for it
    count: int
    capped: bool
    oldest_at: datetime | None = None  # the queues that show their age: when the oldest came in


def queue_filters(actor: User, now: datetime) -> list[tuple[str, str, dict[str, str], WorkOrderFilter]]:
    """The standard queues: (key, label msgid, list parameters, filter)."""
    team = actor.team_id
    out = [
        ("mine", N_("My work"), {"queue": "mine"}, WorkOrderFilter(statuses=OPEN, handler_id=actor.id)),
        (
            "due",
            N_("Due within 1 hour"),
            {"breach_within": "60"},
            WorkOrderFilter(statuses=OPEN, due_before=now + timedelta(hours=1)),
        ),
    ]
    # Whatever came in through a channel unclassified waits here until an agent classifies it
    # (the shipped routing rule puts it in the reception team's queue as well).
    out.append(
        (
            "to_classify",
            N_("To classify"),
            {"queue": "to_classify"},
            WorkOrderFilter(statuses=OPEN, category=UNCLASSIFIED),
        )
    )
    if team is not None:
        out[1:1] = [
            ("team", N_("My team"), {"queue": "team"}, WorkOrderFilter(statuses=OPEN, team_id=team)),
            (
                "unassigned",
                N_("Unassigned"),
                {"queue": "unassigned"},
                WorkOrderFilter(statuses=OPEN, team_id=team, unassigned=True),
            ),
            (
                "waiting",
                N_("Waiting on others"),
                {"queue": "waiting"},
                WorkOrderFilter(statuses=(Status.DISPATCHED.value,), team_id=team),
            ),
        ]
    else:
        out.append(
            (
                "waiting",
                N_("Waiting on others"),
                {"queue": "waiting"},
                WorkOrderFilter(statuses=(Status.DISPATCHED.value,), owner_id=actor.id),
            )
        )
    return out


def queue_filter(actor: User, key: str, now: datetime) -> WorkOrderFilter | None:
    return next((f for k, _, _, f in queue_filters(actor, now) if k == key), None)


def queues(ctx: Context, actor: User) -> list[Queue]:
    """The standard queues with their counts (capped: no COUNT over millions of rows)."""
    require(actor, Permission.READ)
    now = ctx.clock.now()
    with ctx.uow() as uow:
        visible = scope.visible_to(ctx, uow, actor)
        out = []
        for key, label, query, flt in queue_filters(actor, now):
            scoped = replace(flt, visible_to=visible)
            n = uow.workspace.count(scoped, COUNT_CAP)
            oldest = uow.workspace.oldest(scoped) if key in AGED and n else None
            out.append(Queue(key, label, query, min(n, COUNT_CAP), n > COUNT_CAP, oldest))
        return out


# --- saved filters -------------------------------------------------------------------------------

ALLOWED_PARAMS = {"status", "priority", "type", "category", "queue", "breach_within", "customer", "tag"}


def saved_filters(ctx: Context, actor: User) -> list[SavedFilter]:
    require(actor, Permission.READ)
    with ctx.uow() as uow:
        return uow.workspace.filters(actor.id or 0)


def save_filter(ctx: Context, actor: User, name: str, query: str) -> None:
    require(actor, Permission.READ)
    name = name.strip()
    if not 1 <= len(name) <= 60:
        raise ValidationFailed("Give the filter a name of 1 to 60 characters.", field="name")
    kept = [(k, v) for k, v in parse_qsl(query.lstrip("?")) if k in ALLOWED_PARAMS and v]
    if not kept:
        raise ValidationFailed("Choose some filters first, then save them.", field="query")
    with ctx.uow(write=True) as uow:
        if len(uow.workspace.filters(actor.id or 0)) >= 30:
            raise ValidationFailed("You have 30 saved filters already; delete one first.", field="name")
        uow.workspace.save_filter(actor.id or 0, name, urlencode(kept), ctx.clock.now())
        uow.commit()


def delete_filter(ctx: Context, actor: User, filter_id: int) -> None:
    require(actor, Permission.READ)
    with ctx.uow(write=True) as uow:
        if not uow.workspace.delete_filter(actor.id or 0, filter_id):
            raise NotFound(kind=N_("Saved filter"), key=filter_id)
        uow.commit()


# --- dashboard -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Dashboard:
    by_status: dict[str, int]
    by_team: dict[int | None, int]
    breaches_today: int
    due_within_hour: int
    channels_today: dict[str, int]
    channels_week_avg: dict[str, float]
    categories_today: dict[str, int]
    categories_week_avg: dict[str, float]
    agents: list[AgentLoad]
    at: datetime


def dashboard(ctx: Context, actor: User) -> Dashboard:
    """Live figures for supervisors: open work by status and team, time limits missed today and
    falling due within the hour, today's volume by channel and category against the 7-day average,
    and the agents' load. Kept for `ctx.cache_ttl` per scope (every supervisor's screen refreshes
    on its own; the figures are aggregates over many rows)."""
    require(actor, Permission.ROUTING_MANAGE)
    with ctx.uow() as uow:
        visible = scope.visible_to(ctx, uow, actor)
        key = "dashboard:" + (",".join(map(str, sorted(visible))) if visible is not None else "*")
        cached = ctx.caches.dashboards.get(key)
        if cached is not None:
            return cached
        now = ctx.clock.now()
        today = datetime.combine(now.astimezone(ctx.timezone).date(), time(0), ctx.timezone)
        week = today - timedelta(days=7)

        def avg(column: str) -> dict[str, float]:
            """The 7 days before today change once a day: kept in the slow cache."""
            cache_key = f"week:{column}:{today.date()}:{key}"

            def load() -> dict[str, float]:
                figures = uow.workspace.created_by(column, week, today, visible)
                return {str(k): round(v / 7, 1) for k, v in figures.items()}

            return ctx.caches.week_averages.get_or_load(cache_key, load)

        teams = (
            None
            if visible is None
            else [t.id for t in uow.org.teams() if t.organisation_id in visible and t.id is not None]
        )
        found = Dashboard(
            by_status={str(k): v for k, v in uow.workspace.open_by("status", visible).items()},
            by_team=uow.workspace.open_by("team_id", visible),
            breaches_today=uow.workspace.breaches_between(today, now + timedelta(seconds=1), visible),
            due_within_hour=uow.workspace.count(
                WorkOrderFilter(statuses=OPEN, visible_to=visible, due_before=now + timedelta(hours=1)), COUNT_CAP
            ),
            channels_today={str(k): v for k, v in uow.workspace.created_by("channel", today, now, visible).items()},
            channels_week_avg=avg("channel"),
            categories_today={str(k): v for k, v in uow.workspace.created_by("category", today, now, visible).items()},
            categories_week_avg=avg("category"),
            agents=uow.workspace.agents_load(teams),
            at=now,
        )
    ctx.caches.dashboards.put(key, found)
    return found
