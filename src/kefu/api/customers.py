"""/api/v1/customers"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from kefu.api.deps import Ctx, CurrentUser, Id
from kefu.api.schemas import CustomerOut, Strict
from kefu.domain.audit import Unmasking, UnmaskReason
from kefu.domain.customers import Device, Tier
from kefu.http import cursors
from kefu.services import customers as svc

router = APIRouter(prefix="/customers", tags=["customers"])


class DeviceIn(Strict):
    model: Annotated[str, Field(min_length=1, max_length=100)]
    serial: Annotated[str | None, Field(max_length=100)] = None


class CustomerIn(Strict):
    name: Annotated[str, Field(min_length=1, max_length=100)]
    phone: Annotated[str, Field(min_length=5, max_length=20)]
    tier: Tier | None = Field(default=None, description="vip | premium | standard; derived from brand when left out")
    brand: Annotated[str | None, Field(max_length=50, description="e.g. 全球通, 动感地带, 神州行")] = None
    region: Annotated[str | None, Field(max_length=100)] = None
    email: Annotated[str | None, Field(max_length=200)] = None
    address: Annotated[str | None, Field(max_length=300)] = None
    id_number: Annotated[str | None, Field(max_length=18)] = None
    services: list[Annotated[str, Field(max_length=100)]] = Field(default_factory=list, max_length=50)
    devices: list[DeviceIn] = Field(default_factory=list, max_length=50)
    tags: list[Annotated[str, Field(max_length=50)]] = Field(default_factory=list, max_length=50)


class CustomerPage(BaseModel):
    items: list[CustomerOut]
    next_cursor: str | None


def new_customer_of(body: CustomerIn) -> svc.NewCustomer:
    return svc.NewCustomer(
        **body.model_dump(exclude={"devices"}),
        devices=[Device(model=d.model, serial=d.serial) for d in body.devices],
    )


@router.post("", status_code=201, response_model=CustomerOut)
def create_customer(body: CustomerIn, ctx: Ctx, user: CurrentUser) -> CustomerOut:
    return CustomerOut.of(svc.register_customer(ctx, user, new_customer_of(body)), masked=True)


@router.get("", response_model=CustomerPage)
def search_customers(
    ctx: Ctx,
    user: CurrentUser,
    phone: Annotated[str | None, Query(max_length=20, description="the phone number or its first digits")] = None,
    name: Annotated[str | None, Query(max_length=100, description="the start of the name")] = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> CustomerPage:
    found = svc.search_customers(ctx, user, phone=phone, name=name, before_id=cursors.decode(cursor), limit=limit)
    next_cursor = cursors.encode(found[-1].id) if len(found) == limit and found[-1].id else None
    return CustomerPage(items=[CustomerOut.of(c, masked=True) for c in found], next_cursor=next_cursor)


@router.get("/{customer_id}", response_model=CustomerOut)
def get_customer(
    customer_id: Id,
    ctx: Ctx,
    user: CurrentUser,
    response: Response,
    unmask: Annotated[
        bool, Query(description="show personal data unmasked (roles with pii.view; needs a reason; audited)")
    ] = False,
    reason: Annotated[
        UnmaskReason | None, Query(description="why the personal data is needed (with unmask=true)")
    ] = None,
    reason_note: Annotated[str | None, Query(max_length=200, description="more about the reason")] = None,
) -> CustomerOut:
    why = Unmasking.asked(reason, reason_note) if unmask else None
    if why is not None:
        response.headers["Cache-Control"] = "no-store"
    return CustomerOut.of(svc.get_customer(ctx, user, customer_id, unmask=why), masked=why is None)
