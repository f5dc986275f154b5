"""/api/v1/customers"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from kefu.api.deps import context, current_user
from kefu.api.schemas import MAX_ID, CustomerIn, CustomerOut, CustomerPage
from kefu.domain.customers import Device
from kefu.domain.org import User
from kefu.http import cursors
from kefu.services import customers as svc
from kefu.services.context import Context

router = APIRouter(prefix="/customers", tags=["customers"])


@router.post("", status_code=201, response_model=CustomerOut)
def create_customer(
    body: CustomerIn, ctx: Context = Depends(context), user: User = Depends(current_user)
) -> CustomerOut:
    new = svc.NewCustomer(
        **body.model_dump(exclude={"devices"}),
        devices=[Device(model=d.model, serial=d.serial) for d in body.devices],
    )
    return CustomerOut.of(svc.register_customer(ctx, user, new), masked=True)


@router.get("", response_model=CustomerPage)
def search_customers(
    phone: Annotated[str | None, Query(max_length=20, description="the phone number or its first digits")] = None,
    name: Annotated[str | None, Query(max_length=100, description="the start of the name")] = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    ctx: Context = Depends(context),
    user: User = Depends(current_user),
) -> CustomerPage:
    found = svc.search_customers(ctx, user, phone=phone, name=name, before_id=cursors.decode(cursor), limit=limit)
    next_cursor = cursors.encode(found[-1].id) if len(found) == limit and found[-1].id else None
    return CustomerPage(items=[CustomerOut.of(c, masked=True) for c in found], next_cursor=next_cursor)


@router.get("/{customer_id}", response_model=CustomerOut)
def get_customer(
    customer_id: Annotated[int, Path(gt=0, le=MAX_ID)],
    unmask: Annotated[bool, Query(description="show personal data unmasked (roles with pii.view; logged)")] = False,
    ctx: Context = Depends(context),
    user: User = Depends(current_user),
) -> CustomerOut:
    return CustomerOut.of(svc.get_customer(ctx, user, customer_id, unmask=unmask), masked=not unmask)
