"""The bell in the top bar (its count polled by HTMX) and the notifications page: newest first,
filtered by kind or unread, each linking to its work order; mark one or all read. Only one's own."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from kefu.domain.errors import DomainError, ValidationFailed
from kefu.domain.notifications import KIND_LABELS, Notification, NotificationFilter, NotificationKind
from kefu.domain.org import User
from kefu.services.notifications import inbox
from kefu.web.kit import LoginRequired, LoginStepDue, PathId, context_of, page_user, refused, render, run_action

router = APIRouter(include_in_schema=False)

PAGE = 50
STOP_POLLING = 286  # HTMX: stop the polling trigger of the element that asked


@router.get("/ui/notifications/bell")
def bell(request: Request) -> Response:
    """The bell with the unread count (the top bar asks for it on load and every 30 s). The polling
    keeps no idle session alive; once the session has ended it stops (HTMX's 286) instead of
    drawing the login page into the top bar."""
    try:
        user = page_user(request, touch=False)
    except (LoginRequired, LoginStepDue):
        if request.headers.get("HX-Request") == "true":
            return Response(status_code=STOP_POLLING)
        raise
    return render(request, "_bell.html", unread=inbox.unread_count(context_of(request), user))


def _form(request: Request) -> dict[str, str]:
    return {k: request.query_params.get(k, "").strip()[:40] for k in ("kind", "unread", "before")}


def _filter(form: dict[str, str]) -> NotificationFilter:
    kind = form["kind"]
    if kind and kind not in {k.value for k in NotificationKind}:
        raise ValidationFailed("Choose one of the offered kinds.", field="kind")
    before = form["before"]
    if before and not (before.isascii() and before.isdigit() and 0 < int(before) < 2**63):
        raise ValidationFailed("{name} must be a whole number.", field="before", name="before")
    return NotificationFilter(
        unread=form["unread"] == "1",
        kinds=(NotificationKind(kind),) if kind else (),
        before_id=int(before) if before else None,
    )


@router.get("/ui/notifications")
def notifications_page(request: Request) -> Response:
    user = page_user(request)
    form = _form(request)
    try:
        page = inbox.list_notifications(context_of(request), user, _filter(form), limit=PAGE)
    except DomainError as exc:
        return refused(request, user, exc, partial(_show, request, user, form, None))
    return _show(request, user, form, page)


def _show(
    request: Request,
    user: User,
    form: dict[str, str],
    page: inbox.NotificationPage | None,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    query = {k: form[k] for k in ("kind", "unread") if form.get(k)}
    older = None
    if page is not None and page.next_before_id is not None:
        older = "/ui/notifications?" + urlencode({**query, "before": page.next_before_id})
    return render(
        request,
        "notifications.html",
        status_code,
        user=user,
        form=form,
        page=page,
        older=older,
        here="/ui/notifications" + ("?" + urlencode(query) if query else ""),
        kinds=[(k.value, KIND_LABELS[k]) for k in NotificationKind],
        kind_labels=KIND_LABELS,
        moment=_moment,
        error=error,
    )


def _moment(value: object) -> datetime | None:
    """A time a notification carries (ISO 8601), or None."""
    try:
        found = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None
    return found if found is not None and found.tzinfo is not None else None


def _back(next: str) -> str:
    """Back to the list as it was filtered (only a local notifications address)."""
    return next if next.startswith("/ui/notifications") and "//" not in next else "/ui/notifications"


@router.post("/ui/notifications/{notification_id}/read")
def mark_read(request: Request, notification_id: PathId, csrf: str = Form(""), next: str = Form("")) -> Response:
    user = page_user(request)
    return run_action(
        request, user, csrf, lambda ctx: inbox.mark_read(ctx, user, notification_id), then=_back(next[:300])
    )


@router.post("/ui/notifications/read-all")
def mark_all_read(request: Request, csrf: str = Form(""), next: str = Form("")) -> Response:
    user = page_user(request)
    return run_action(request, user, csrf, lambda ctx: inbox.mark_all_read(ctx, user), then=_back(next[:300]))


@router.post("/ui/notifications/{notification_id}/open")
def open_notification(request: Request, notification_id: PathId, csrf: str = Form("")) -> Response:
    """Open the work order a notification is about, marking it read."""
    user = page_user(request)
    opened: list[Notification] = []
    response = run_action(
        request,
        user,
        csrf,
        lambda ctx: opened.append(inbox.mark_read(ctx, user, notification_id)),
        then="/ui/notifications",
    )
    if opened and opened[0].number and response.status_code == 303:
        response.headers["location"] = f"/ui/work-orders/{quote(opened[0].number)}"
    return response
