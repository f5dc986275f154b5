"""/api/v1/search: work orders by number (whole or part), phone (whole or last digits), customer
name or words, with the list's filters; best match first (kefu.services.search)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from kefu.api.deps import Ctx, CurrentUser
from kefu.api.responses import json_response
from kefu.api.schemas import MAX_ID, CustomerOut, Moment, WorkOrderOut
from kefu.domain.workorders import Status
from kefu.http import cursors
from kefu.services import search as svc
from kefu.services.ports import WorkOrderFilter

router = APIRouter(prefix="/search", tags=["search"])


class SearchItem(BaseModel):
    work_order: WorkOrderOut
    customer: CustomerOut | None = Field(description="masked, as in every list")
    score: float = Field(description="how well it matches; higher is better (compare within one search only)")


class SearchPage(BaseModel):
    items: list[SearchItem]
    next_cursor: str | None


@router.get("", response_model=SearchPage)
def search(
    ctx: Ctx,
    user: CurrentUser,
    q: Annotated[
        str,
        Query(
            description="a work-order number or part of it, a phone number or its last 4+ digits, "
            "a customer's name, or words (Chinese is segmented); every word must match"
        ),
    ] = "",
    status: Annotated[list[Status] | None, Query(description="repeat for several")] = None,
    category: Annotated[str | None, Query(max_length=100, description="a category code; includes its subtree")] = None,
    team: Annotated[int | None, Query(gt=0, le=MAX_ID)] = None,
    created_from: Moment | None = None,
    created_to: Moment | None = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=svc.MAX_PAGE)] = 20,
) -> Response:
    flt = WorkOrderFilter(
        statuses=tuple(sorted({s.value for s in status or []})),
        category=category,
        team_id=team,
        created_from=created_from,
        created_to=created_to,
    )
    offset = cursors.decode_position(cursor, svc.MAX_OFFSET)
    page = svc.search(ctx, user, q, flt, limit=limit, offset=offset)
    items = [
        SearchItem(
            work_order=WorkOrderOut.of(r.work_order),
            customer=CustomerOut.of(r.customer, masked=True) if r.customer else None,
            score=r.score,
        )
        for r in page.results
    ]
    next_cursor = cursors.encode_position(page.next_offset) if page.next_offset is not None else None
    return json_response(SearchPage(items=items, next_cursor=next_cursor))
