"""/api/v1/tags, /api/v1/tag-settings, /api/v1/work-orders/{number}/tags and the bulk actions
(/api/v1/work-orders/bulk) on a selection of work orders."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from kefu.api.deps import Ctx, CurrentUser, Id, IfMatch, if_match_version
from kefu.api.responses import json_response, versioned
from kefu.api.schemas import MAX_ID, Strict
from kefu.domain.tags import MAX_NAME, MAX_PER_WORK_ORDER, Tag
from kefu.http.errors import status_for
from kefu.i18n import negotiate, translate_error
from kefu.services import bulk, tags

router = APIRouter(tags=["tags"])

TagName = Annotated[str, Field(min_length=1, max_length=MAX_NAME)]
TagList = Annotated[list[TagName], Field(max_length=MAX_PER_WORK_ORDER)]


class TagOut(BaseModel):
    id: int
    organisation_id: int
    name: str
    active: bool
    created_at: datetime

    @classmethod
    def of(cls, t: Tag) -> TagOut:
        assert t.id is not None
        return cls(id=t.id, organisation_id=t.organisation_id, name=t.name, active=t.active, created_at=t.created_at)


class TagsOut(BaseModel):
    items: list[TagOut]


class TagIn(Strict):
    organisation_id: int = Field(gt=0, le=MAX_ID)
    name: TagName


class TagPatch(Strict):
    active: bool


class TagSettingIn(Strict):
    free_tags: bool = Field(description="whether tags outside the lists may be given to this subtree's work orders")


class WorkOrderTagsOut(BaseModel):
    number: str
    tags: list[str]
    offered: list[str] = Field(description="the tags of the lists that apply to this work order")
    free_tags: bool = Field(description="whether other tags may be given")


class TagChangeIn(Strict):
    add: TagList = []
    remove: TagList = []


@router.get("/tags", response_model=TagsOut)
def list_tags(ctx: Ctx, user: CurrentUser) -> Response:
    """The tags in use of the lists of your organisation, those below it and those above it."""
    return json_response(TagsOut(items=[TagOut.of(t) for t in tags.list_tags(ctx, user)]))


@router.post("/tags", status_code=201, response_model=TagOut)
def add_tag(body: TagIn, ctx: Ctx, user: CurrentUser) -> Response:
    """A new tag in the list of an organisation of your subtree."""
    tag = tags.add_tag(ctx, user, organisation_id=body.organisation_id, name=body.name)
    return json_response(TagOut.of(tag), 201)


@router.patch("/tags/{tag_id}", response_model=TagOut)
def change_tag(tag_id: Id, body: TagPatch, ctx: Ctx, user: CurrentUser) -> Response:
    """Retire a tag from its list (work orders keep it) or bring it back."""
    return json_response(TagOut.of(tags.set_tag_active(ctx, user, tag_id, body.active)))


@router.put("/tag-settings/{organisation_id}", status_code=204)
def set_tag_setting(organisation_id: Id, body: TagSettingIn, ctx: Ctx, user: CurrentUser) -> Response:
    tags.set_free_tags(ctx, user, organisation_id=organisation_id, allowed=body.free_tags)
    return Response(status_code=204)


def _tags_out(number: str, found: tags.WorkOrderTags) -> Response:
    return versioned(
        WorkOrderTagsOut(number=number, tags=found.tags, offered=found.offered, free_tags=found.free), found.version
    )


@router.get("/work-orders/{number}/tags", response_model=WorkOrderTagsOut)
def work_order_tags(number: str, ctx: Ctx, user: CurrentUser) -> Response:
    return _tags_out(number, tags.work_order_tags(ctx, user, number))


@router.post("/work-orders/{number}/tags", response_model=WorkOrderTagsOut)
def change_work_order_tags(
    number: str, body: TagChangeIn, ctx: Ctx, user: CurrentUser, if_match: IfMatch = None
) -> Response:
    """Add and remove tags (one event on the timeline); If-Match refuses a stale change."""
    found = tags.change_tags(
        ctx, user, number, add=body.add, remove=body.remove, expected_version=if_match_version(if_match)
    )
    return _tags_out(number, found)


# --- bulk ----------------------------------------------------------------------------------------


class BulkItemIn(Strict):
    number: Annotated[str, Field(min_length=1, max_length=40)]
    version: int | None = Field(default=None, ge=1, le=2**31 - 1, description="the version you selected it at")


class BulkIn(Strict):
    action: str = Field(max_length=40, description="what to do to each work order: " + ", ".join(bulk.ACTIONS))
    items: Annotated[list[BulkItemIn], Field(min_length=1, max_length=bulk.MAX_ITEMS)]
    params: dict[str, Any] = Field(
        default_factory=dict,
        description='assign: {"team_id", "handler_id", "reason"}; move: {"to", "note"}; '
        'tag: {"add": [...], "remove": [...]}; macro: {"macro_id"}',
    )


class BulkItemOut(BaseModel):
    number: str
    ok: bool
    version: int | None = None
    status: int | None = Field(default=None, description="the status code the single request would have answered")
    code: str | None = None
    detail: str | None = None


class BulkOut(BaseModel):
    action: str
    succeeded: int
    failed: int
    items: list[BulkItemOut]


@router.post("/work-orders/bulk", response_model=BulkOut)
def bulk_action(body: BulkIn, request: Request, ctx: Ctx, user: CurrentUser) -> Response:
    """One action on up to 200 work orders, each on its own (its own permission, scope and version
    check, its own transaction): the answer lists what happened to each."""
    results = bulk.run_bulk(ctx, user, body.action, body.params, [bulk.Item(i.number, i.version) for i in body.items])
    locale = negotiate(request.headers.get("accept-language"))
    items = [
        BulkItemOut(number=r.number, ok=True, version=r.version)
        if r.error is None
        else BulkItemOut(
            number=r.number,
            ok=False,
            status=status_for(r.error),
            code=r.error.code,
            detail=translate_error(locale, r.error.template, r.error.params),
        )
        for r in results
    ]
    ok = sum(1 for i in items if i.ok)
    return json_response(BulkOut(action=body.action, succeeded=ok, failed=len(items) - ok, items=items))
