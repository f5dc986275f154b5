"""/ui/search: the results of the search box in the top bar of every staff page — work orders by
number, phone, customer name or words, with the list's filters (kefu.services.search)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from functools import partial
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from kefu.domain.errors import DomainError, ValidationFailed
from kefu.domain.org import User
from kefu.domain.values import day, record_id
from kefu.domain.workorders import Status
from kefu.http import cursors
from kefu.services import search as svc
from kefu.services.org import reference
from kefu.services.ports import WorkOrderFilter
from kefu.web.kit import category_labels, context_of, page_user, refused, render, user_timezone

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 20
PARAMS = ("q", "status", "category", "team", "from", "to", "cursor")


def _filter(request: Request, params: dict[str, str]) -> WorkOrderFilter:
    """The filters typed beside the words; a bad value is refused naming its field."""
    tz = user_timezone(request)
    status = params.get("status", "")
    if status and status not in Status.__members__.values():
        raise ValidationFailed("Choose a status from the list.", field="status")
    team = params.get("team", "")
    start, end = params.get("from", ""), params.get("to", "")
    first = day(start, "from") if start else None
    last = day(end, "to") if end else None
    if first and last and first > last:
        raise ValidationFailed("The first day lies after the last day.", field="from")
    return WorkOrderFilter(
        statuses=(status,) if status else (),
        category=params.get("category") or None,
        team_id=record_id(team, "team") if team else None,
        created_from=datetime.combine(first, time(), tz) if first else None,
        # The whole last day; 9999-12-31 + 1 day does not exist: the end of the years then.
        created_to=datetime.combine(last, time(), tz) + timedelta(days=1) if last and last.year < 9999 else None,
    )


@router.get("/ui/search")
def search_page(request: Request) -> Response:
    user = page_user(request)
    params = {
        k: v
        for k, v in request.query_params.items()
        if k in ("q", "status", "category", "team", "from", "to", "cursor")
    }
    if not params.get("q", "").strip():
        return _page(request, user, params, None)
    try:
        flt = _filter(request, params)
        offset = cursors.decode_position(params.get("cursor"), svc.MAX_OFFSET)
        page = svc.search(context_of(request), user, params["q"], flt, limit=PAGE_SIZE, offset=offset)
    except DomainError as exc:
        return refused(request, user, exc, partial(_page, request, user, params, None))
    return _page(request, user, params, page)


def _page(
    request: Request,
    user: User,
    params: dict[str, str],
    page: svc.SearchPage | None,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    next_url = None
    if page is not None and page.next_offset is not None:
        next_url = "?" + urlencode({**params, "cursor": cursors.encode_position(page.next_offset)})
    teams = reference.list_teams(context_of(request), user)
    return render(
        request,
        "search.html",
        status_code,
        user=user,
        params=params,
        page=page,
        next_url=next_url,
        error=error,
        teams=teams,
        **category_labels(request, user),
    )
