"""Pages for dispatch and field service: dispatch and answer hops, schedule visits, the team queue,
the engineer's day (made for a phone), the visit report with the mandatory function test, and
service-request checklist steps."""

from __future__ import annotations

import json
from datetime import datetime
from functools import partial
from typing import Any

from fastapi import APIRouter, Form, Request, Response

from kefu.domain import values
from kefu.domain.errors import N_, DomainError, ValidationFailed
from kefu.domain.org import Permission, Role, User
from kefu.domain.values import is_digits, moment, record_id
from kefu.domain.visits import VisitOutcome
from kefu.i18n import gettext
from kefu.services import visits, workspace
from kefu.services.context import Context
from kefu.services.dispatch import hops as dispatch
from kefu.services.org import admin as org_admin
from kefu.web import i18n_labels as labels
from kefu.web.kit import (
    PathId,
    QueryId,
    category_labels,
    context_of,
    form_choice,
    form_version,
    locale_of,
    org_names,
    page_user,
    refused,
    render,
    run_action,
    run_work_order_action,
    user_timezone,
)

router = APIRouter(include_in_schema=False)


def _target(value: str) -> tuple[int | None, int | None]:
    kind, _, raw = value.partition(":")
    if kind not in ("team", "org") or not is_digits(raw):
        raise ValidationFailed("Choose the team or organisation to dispatch to.", field="to_team_id")
    chosen = record_id(raw, "to_team_id")
    return (chosen, None) if kind == "team" else (None, chosen)


@router.post("/ui/work-orders/{number}/dispatch")
def dispatch_form(
    request: Request,
    number: str,
    to: str = Form(""),
    instruction: str = Form(""),
    version: str = Form(""),
    csrf: str = Form(""),
) -> Response:
    user = page_user(request)

    def send(ctx: Context) -> None:
        team_id, org_id = _target(to)
        dispatch.dispatch_work_order(
            ctx,
            user,
            number,
            instruction=instruction,
            to_team_id=team_id,
            to_organisation_id=org_id,
            expected_version=form_version(version),
        )

    return run_work_order_action(request, user, number, csrf, send, anchor="#dispatches")


@router.post("/ui/dispatches/{dispatch_id}/answer")
def answer_form(
    request: Request,
    dispatch_id: PathId,
    number: str = Form(""),
    action: str = Form(""),
    text: str = Form(""),
    version: str = Form(""),
    csrf: str = Form(""),
) -> Response:
    user = page_user(request)

    def answer(ctx: Context) -> None:
        expected = form_version(version)
        if action == "accept":
            dispatch.accept_dispatch(ctx, user, dispatch_id, expected_version=expected)
        elif action == "return":
            dispatch.return_dispatch(ctx, user, dispatch_id, result=text, expected_version=expected)
        elif action == "reject":
            dispatch.reject_dispatch(ctx, user, dispatch_id, reason=text, expected_version=expected)
        else:
            raise ValidationFailed("Choose one of the offered actions.", field="action")

    return run_work_order_action(request, user, number, csrf, answer, anchor="#dispatches")


def _local(request: Request, value: str, field: str) -> datetime:
    """A datetime-local field, in the reader's timezone."""
    return moment(value, field, user_timezone(request))


def _items(value: str) -> tuple[str, ...]:
    return tuple(x.strip() for x in value.replace("，", ",").split(",") if x.strip())


@router.post("/ui/work-orders/{number}/visits")
def schedule_form(
    request: Request,
    number: str,
    engineer_id: str = Form(""),
    window_start: str = Form(""),
    window_end: str = Form(""),
    address: str = Form(""),
    tools: str = Form(""),
    parts: str = Form(""),
    version: str = Form(""),
    csrf: str = Form(""),
) -> Response:
    user = page_user(request)

    def schedule(ctx: Context) -> None:
        if not is_digits(engineer_id):
            raise ValidationFailed("Choose an engineer.", field="engineer_id")
        visits.schedule_visit(
            ctx,
            user,
            number,
            visits.NewVisit(
                engineer_id=record_id(engineer_id, "engineer_id"),
                window_start=_local(request, window_start, "window_start"),
                window_end=_local(request, window_end, "window_end"),
                address=address or None,
                tools=_items(tools),
                parts=_items(parts),
            ),
            expected_version=form_version(version),
        )

    return run_work_order_action(request, user, number, csrf, schedule, anchor="#visits")


@router.post("/ui/work-orders/{number}/checklist/{code}")
async def checklist_form(request: Request, number: str, code: str) -> Response:
    user = page_user(request)
    form = {k: str(v) for k, v in (await request.form()).items()}
    csrf = form.pop("csrf", None)
    return run_work_order_action(
        request,
        user,
        number,
        csrf,
        lambda ctx: visits.complete_checklist_step(ctx, user, number, code, form),
        anchor="#checklist",
    )


@router.get("/ui/teams/{team_id}/queue")
def team_queue(request: Request, team_id: PathId) -> Response:
    user = page_user(request)
    try:
        queue = dispatch.team_queue(context_of(request), user, team_id)
    except DomainError as exc:
        return refused(request, user, exc)
    return render(request, "team_queue.html", user=user, queue=queue, **org_names(request, user))


@router.post("/ui/agents/{user_id}/shift")
def shift_form(
    request: Request, user_id: PathId, on_shift: str = Form(""), team_id: str = Form(""), csrf: str = Form("")
) -> Response:
    """Go on or off shift (oneself), or set someone's shift (supervisors); routing follows at once."""
    user = page_user(request)
    back = f"/ui/teams/{team_id}/queue" if is_digits(team_id) and len(team_id) < 19 else "/ui/work-orders"
    return run_action(
        request,
        user,
        csrf,
        lambda ctx: org_admin.update_agent(ctx, user, user_id, org_admin.AgentProfile(on_shift=on_shift == "1")),
        then=back + "#members",
    )


@router.get("/ui/visits/day")
def engineer_day(request: Request, day: str = "", engineer: QueryId = None) -> Response:
    """The engineer's day, in time order; supervisors pick an engineer."""
    user = page_user(request)
    ctx = context_of(request)
    today = ctx.clock.now().astimezone(ctx.timezone).date()
    try:
        when, bad_day = (values.day(day, "day") if day else today), False
    except ValidationFailed:
        when, bad_day = today, True
    engineer_id = engineer or user.id or 0
    try:
        found = visits.engineer_day(ctx, user, engineer_id, when)
    except DomainError as exc:
        return refused(request, user, exc)
    return render(
        request, "engineer_day.html", user=user, day=when, visits=found, engineer_id=engineer_id, bad_day=bad_day
    )


def _visit_page(
    request: Request,
    user: User,
    visit_id: PathId,
    *,
    error: str | None = None,
    status_code: int = 200,
    form: dict[str, str] | None = None,
) -> Response:
    visit, wo, customer = visits.view_visit(context_of(request), user, visit_id)
    may_record = user.may(Permission.WORKORDER_TRANSITION) and (
        user.id == visit.engineer_id or user.role in (Role.SUPERVISOR, Role.ADMIN)
    )
    return render(
        request,
        "visit.html",
        status_code,
        user=user,
        visit=visit,
        wo=wo,
        customer=customer,
        can_unmask=user.may(Permission.PII_VIEW),
        error=error,
        may_record=may_record,
        form=form or {},
    )


@router.get("/ui/visits/{visit_id}")
def visit_page(request: Request, visit_id: PathId) -> Response:
    user = page_user(request)
    try:
        return _visit_page(request, user, visit_id)
    except DomainError as exc:
        return refused(request, user, exc)


@router.post("/ui/visits/{visit_id}/check-in")
def check_in_form(request: Request, visit_id: PathId, version: str = Form(""), csrf: str = Form("")) -> Response:
    user = page_user(request)
    return run_action(
        request,
        user,
        csrf,
        lambda ctx: visits.check_in(ctx, user, visit_id, expected_version=form_version(version)),
        then=f"/ui/visits/{visit_id}",
        redisplay=partial(_visit_page, request, user, visit_id),
    )


@router.post("/ui/visits/{visit_id}/complete")
async def complete_form(request: Request, visit_id: PathId) -> Response:
    user = page_user(request)
    form = {k: str(v) for k, v in (await request.form()).items()}

    def report(ctx: Context) -> None:
        outcome = form_choice(
            VisitOutcome, form.get("outcome", ""), N_("Choose the outcome of the visit."), field="outcome"
        )
        test = {"passed": True, "failed": False}.get(form.get("function_test", ""))
        cleaned = {"yes": True, "no": False}.get(form.get("site_cleaned", ""))
        visits.complete_visit(
            ctx,
            user,
            visit_id,
            visits.VisitReport(
                diagnosis=form.get("diagnosis"),
                repair_actions=form.get("repair_actions"),
                function_test_passed=test,
                function_test_note=form.get("function_test_note"),
                confirmed_by=form.get("confirmed_by"),
                signature=form.get("signature") or None,
                site_cleaned=cleaned,
                outcome=outcome,
            ),
            expected_version=form_version(form.get("version", "")),
        )

    return run_action(
        request,
        user,
        form.get("csrf"),
        report,
        then=f"/ui/visits/{visit_id}",
        redisplay=partial(_visit_page, request, user, visit_id, form=form),
    )


def _dashboard_values(request: Request, user: User) -> dict[str, Any]:
    ctx = context_of(request)
    board = workspace.dashboard(ctx, user)
    names = category_labels(request, user)["category_labels"]
    channels = sorted(set(board.channels_today) | set(board.channels_week_avg))
    top = sorted(
        set(board.categories_today) | set(board.categories_week_avg),
        key=lambda c: -(board.categories_today.get(c, 0) + board.categories_week_avg.get(c, 0)),
    )[:10]
    locale = locale_of(request)

    def chart(keys: list[str], label_of: dict[str, str], today: dict[str, int], week: dict[str, float]) -> str:
        return json.dumps(
            {
                "labels": [label_of.get(k, k) for k in keys],
                "today": [today.get(k, 0) for k in keys],
                "week": [week.get(k, 0) for k in keys],
            },
            ensure_ascii=False,
        )

    return {
        "board": board,
        "teams": org_names(request, user)["teams"],
        "channel_chart": chart(
            channels,
            {k: gettext(locale, v) for k, v in labels.CHANNEL.items()},
            board.channels_today,
            board.channels_week_avg,
        ),
        "category_chart": chart(top, names, board.categories_today, board.categories_week_avg),
    }


@router.get("/ui/dashboard")
def dashboard(request: Request) -> Response:
    return _dashboard(request, "dashboard.html")


@router.get("/ui/dashboard/panel")
def dashboard_panel(request: Request) -> Response:
    """The figures alone, for the page's refresh every 30 seconds (HTMX)."""
    return _dashboard(request, "_dashboard_panel.html")


def _dashboard(request: Request, template: str) -> Response:
    user = page_user(request)
    try:
        values = _dashboard_values(request, user)
    except DomainError as exc:
        return refused(request, user, exc)
    return render(request, template, user=user, **values)
