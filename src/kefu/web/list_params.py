"""The work-order list's query parameters: filters, the sort and the cursor of the next page. Read
leniently: a value not understood is dropped and named on the page (`problems`), never a 500."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, time, timedelta, tzinfo
from urllib.parse import urlencode

from kefu.domain.errors import ValidationFailed
from kefu.domain.tags import clean_tag
from kefu.domain.values import day, record_id, whole_number
from kefu.domain.workorders import OPEN_STATUS_VALUES, Priority, Status, WorkOrderType
from kefu.http import cursors
from kefu.services.ports import WORK_ORDER_SORTS, WorkOrderFilter


def list_filter(params: dict[str, str], now: datetime, tz: tzinfo) -> tuple[WorkOrderFilter, dict[str, str]]:
    """The list filter from query parameters; bad values are dropped and reported, never a 500."""
    problems: dict[str, str] = {}
    status = params.get("status", "open")
    statuses: tuple[str, ...] = ()
    if status == "open":
        statuses = OPEN_STATUS_VALUES
    elif status in Status.__members__.values():
        statuses = (status,)
    elif status not in ("", "all"):
        problems["status"] = status

    def one(name: str, allowed: set[str]) -> tuple[str, ...]:
        value = params.get(name, "")
        if value and value not in allowed:
            problems[name] = value
            return ()
        return (value,) if value else ()

    sort, descending = list_sort(params, problems)
    before_id = None
    after = None
    try:
        if sort:
            after = cursors.decode_after(params.get("cursor"), sort, moment=sort in ("created", "due"))
        else:
            before_id = cursors.decode(params.get("cursor"))
    except ValidationFailed:
        problems["cursor"] = params.get("cursor", "")
    flt = WorkOrderFilter(
        statuses=statuses,
        priorities=one("priority", {p.value for p in Priority}),
        types=one("type", {t.value for t in WorkOrderType}),
        category=params.get("category") or None,
        owner_id=None,
        customer_id=_customer(params, problems),
        before_id=before_id,
        tag=_tag(params, problems),
        sort=sort,
        descending=descending,
        after=after,
    )
    created_on = params.get("created_on", "")
    if created_on:
        try:
            start = datetime.combine(day(created_on, "created_on"), time(0), tz)
        except ValidationFailed:
            problems["created_on"] = created_on
        else:
            flt = replace(flt, created_from=start, created_to=start + timedelta(days=1))
    within = params.get("breach_within", "")
    if within:
        try:
            minutes = whole_number(within, "breach_within", high=60 * 24 * 30)
        except ValidationFailed:
            problems["breach_within"] = within
        else:
            flt = replace(flt, due_before=now + timedelta(minutes=minutes))
    return flt, problems


def _tag(params: dict[str, str], problems: dict[str, str]) -> str | None:
    raw = params.get("tag", "")
    try:
        return clean_tag(raw, "tag") if raw.strip() else None
    except ValidationFailed:
        problems["tag"] = raw.encode("unicode_escape").decode()[:60]
        return None


def list_sort(params: dict[str, str], problems: dict[str, str]) -> tuple[str, bool]:
    """`sort=due` (ascending) or `sort=-created` (descending); the due list is sorted by due time."""
    raw = params.get("sort", "")
    if not raw:
        return ("due", False) if params.get("breach_within") or params.get("queue") == "due" else ("", False)
    key = raw.removeprefix("-")
    if key not in WORK_ORDER_SORTS:
        problems["sort"] = raw
        return "", False
    return key, raw.startswith("-")


def _customer(params: dict[str, str], problems: dict[str, str]) -> int | None:
    raw = params.get("customer", "")
    try:
        return record_id(raw, "customer") if raw else None
    except ValidationFailed:
        problems["customer"] = raw
        return None


def sorted_by(params: dict[str, str], sort: str, descending: bool, key: str) -> str:
    """The list's address sorted by `key` (the other way round when it is sorted by it already)."""
    flip = key == sort and not descending
    kept = {k: v for k, v in params.items() if k not in ("sort", "cursor")}
    return "?" + urlencode({**kept, "sort": ("-" if flip else "") + key})
