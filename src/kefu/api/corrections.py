"""Corrections: `PATCH /api/v1/work-orders/{number}` (a work order's registered fields),
`PATCH /api/v1/customers/{id}` (a customer's record), `POST /api/v1/customers/{id}/merges` (a
duplicate folded into the real record) and `GET /api/v1/customers/{id}/history` (the corrections)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from kefu.api.deps import Ctx, CurrentUser, Id, IfMatch, if_match_version
from kefu.api.responses import versioned
from kefu.api.schemas import MAX_ID, CustomerOut, Moment, Strict, WorkOrderOut
from kefu.domain.customers import Tier
from kefu.domain.errors import ValidationFailed
from kefu.domain.workorders import WorkOrderType
from kefu.services import customers as svc
from kefu.services.workorders import corrections

router = APIRouter()


class WorkOrderPatch(Strict):
    """Only the fields sent change; null empties an optional one (fault time, place, device, severity)."""

    type: WorkOrderType | None = None
    category: Annotated[str | None, Field(min_length=1, max_length=100)] = None
    severity: Annotated[int | None, Field(ge=1, le=4)] = None
    title: Annotated[str | None, Field(min_length=1, max_length=200)] = None
    description: Annotated[str | None, Field(min_length=1, max_length=20_000)] = None
    fault_time: Moment | None = None
    fault_place: Annotated[str | None, Field(max_length=300)] = None
    device: Annotated[str | None, Field(max_length=200)] = None
    customer_id: int | None = Field(default=None, gt=0, le=MAX_ID, description="re-link to another customer")
    reason: Annotated[
        str | None,
        Field(max_length=1000, description="why; required to change type, category or customer after a dispatch"),
    ] = None


@router.patch("/work-orders/{number}", response_model=WorkOrderOut, tags=["work orders"])
def edit_work_order(
    number: str,
    body: WorkOrderPatch,
    ctx: Ctx,
    user: CurrentUser,
    if_match: IfMatch = None,
) -> Response:
    """Correct what was registered; each changed field is an `edited` event. When type, category,
    customer or severity change, the time limits and the routing rules follow."""
    changes: dict[str, object] = {name: getattr(body, name) for name in body.model_fields_set if name != "reason"}
    for name in ("type", "category", "title", "description", "customer_id"):
        if name in changes and changes[name] is None:
            raise ValidationFailed("This field cannot be emptied.", field=name)
    work_order = corrections.edit_work_order(
        ctx, user, number, changes, reason=body.reason, expected_version=if_match_version(if_match)
    )
    return versioned(WorkOrderOut.of(work_order), work_order.version)


class CustomerPatch(Strict):
    """Only the fields sent change; null empties an optional one."""

    name: Annotated[str | None, Field(min_length=1, max_length=100)] = None
    phone: Annotated[str | None, Field(max_length=20)] = None
    tier: Tier | None = None
    brand: Annotated[str | None, Field(max_length=50)] = None
    region: Annotated[str | None, Field(max_length=100)] = None
    email: Annotated[str | None, Field(max_length=200)] = None
    address: Annotated[str | None, Field(max_length=300)] = None
    id_number: Annotated[str | None, Field(max_length=18)] = None
    services: list[Annotated[str, Field(max_length=50)]] | None = Field(default=None, max_length=50)
    tags: list[Annotated[str, Field(max_length=50)]] | None = Field(default=None, max_length=50)
    reason: Annotated[str | None, Field(max_length=1000, description="why (kept in the customer's history)")] = None


@router.patch("/customers/{customer_id}", response_model=CustomerOut, tags=["customers"])
def edit_customer(customer_id: Id, body: CustomerPatch, ctx: Ctx, user: CurrentUser) -> CustomerOut:
    """Correct a customer's record: each changed field goes into its history (masked) and the audit log."""
    changes = {name: getattr(body, name) for name in body.model_fields_set if name != "reason"}
    if "tier" in changes and changes["tier"] is None:
        raise ValidationFailed("Choose a tier.", field="tier")
    return CustomerOut.of(svc.edit_customer(ctx, user, customer_id, changes, reason=body.reason), masked=True)


class MergeIn(Strict):
    merged_id: int = Field(gt=0, le=MAX_ID, description="the duplicate record to fold into this one")
    reason: Annotated[str | None, Field(max_length=1000)] = None


@router.post("/customers/{customer_id}/merges", response_model=CustomerOut, tags=["customers"])
def merge_customers(customer_id: Id, body: MergeIn, ctx: Ctx, user: CurrentUser) -> CustomerOut:
    """Merge a duplicate record into this one: work orders, contacts and identifiers move here; the
    duplicate stays, marked as merged into this one."""
    return CustomerOut.of(svc.merge_customers(ctx, user, customer_id, body.merged_id, reason=body.reason), masked=True)


class ChangeOut(BaseModel):
    at: datetime
    actor: str
    field: str
    old: str | None
    new: str | None
    reason: str | None


@router.get("/customers/{customer_id}/history", response_model=list[ChangeOut], tags=["customers"])
def customer_history(customer_id: Id, ctx: Ctx, user: CurrentUser) -> list[ChangeOut]:
    """The corrections and merges of the record, newest first (personal data masked)."""
    return [
        ChangeOut(at=h.at, actor=h.actor, field=h.change.field, old=h.change.old, new=h.change.new, reason=h.reason)
        for h in svc.customer_history(ctx, user, customer_id)
    ]
