"""/api/v1/notifications: the caller's own notifications (newest first, a cursor, `unread`, `kind`),
marking one or all read; /api/v1/me/notification-settings: which kinds also come by e-mail or SMS."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from kefu.api.deps import Ctx, CurrentUser, Id
from kefu.api.schemas import Strict
from kefu.domain.notifications import KIND_LABELS, CopyChannel, Notification, NotificationFilter, NotificationKind
from kefu.http import cursors
from kefu.i18n import gettext, negotiate
from kefu.services.notifications import inbox

router = APIRouter(tags=["notifications"])


def _label(request: Request, kind: NotificationKind | None) -> str | None:
    return gettext(negotiate(request.headers.get("accept-language")), KIND_LABELS[kind]) if kind else None


class NotificationOut(BaseModel):
    id: int
    kind: NotificationKind | None = Field(description="a stable code; null for a kind this version does not know")
    label: str | None = Field(description="the kind in the caller's language (Accept-Language)")
    created_at: datetime
    read: bool
    read_at: datetime | None
    work_order: str | None = Field(description="the work order's number")
    link: str | None = Field(description="the work order in the API")
    details: dict[str, Any] = Field(description="what the kind tells: dispatch status, clock, level, excerpt …")

    @classmethod
    def of(cls, request: Request, n: Notification) -> NotificationOut:
        return cls(
            id=n.id,
            kind=n.kind,
            label=_label(request, n.kind),
            created_at=n.created_at,
            read=n.read_at is not None,
            read_at=n.read_at,
            work_order=n.number,
            link=f"/api/v1/work-orders/{n.number}" if n.number else None,
            details={k: v for k, v in n.payload.items() if k != "number"},
        )


class NotificationPageOut(BaseModel):
    items: list[NotificationOut]
    next_cursor: str | None
    unread: int = Field(description="the caller's unread notifications, all kinds")


class MarkedOut(BaseModel):
    marked: int


@router.get("/notifications", response_model=NotificationPageOut)
def list_notifications(
    request: Request,
    ctx: Ctx,
    user: CurrentUser,
    unread: Annotated[bool, Query(description="only those not read yet")] = False,
    kind: Annotated[list[NotificationKind] | None, Query(description="repeat for several")] = None,
    cursor: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=inbox.MAX_PAGE)] = 50,
) -> NotificationPageOut:
    """The caller's notifications, newest first."""
    flt = NotificationFilter(unread=unread, kinds=tuple(dict.fromkeys(kind or ())), before_id=cursors.decode(cursor))
    page = inbox.list_notifications(ctx, user, flt, limit=limit)
    return NotificationPageOut(
        items=[NotificationOut.of(request, n) for n in page.items],
        next_cursor=cursors.encode(page.next_before_id) if page.next_before_id else None,
        unread=page.unread,
    )


@router.post("/notifications/{notification_id}/read", response_model=NotificationOut)
def mark_read(notification_id: Id, request: Request, ctx: Ctx, user: CurrentUser) -> NotificationOut:
    """Mark one of one's notifications read (another user's: 404)."""
    return NotificationOut.of(request, inbox.mark_read(ctx, user, notification_id))


@router.post("/notifications/read-all", response_model=MarkedOut)
def mark_all_read(ctx: Ctx, user: CurrentUser) -> MarkedOut:
    return MarkedOut(marked=inbox.mark_all_read(ctx, user))


class KindCopies(BaseModel):
    kind: NotificationKind
    label: str
    channels: list[CopyChannel]


class CopySettingsOut(BaseModel):
    copies: list[KindCopies] = Field(description="every kind, with the channels it also comes by")
    email: str | None = Field(description="where e-mail copies go (masked)")
    phone: str | None = Field(description="where text messages go (masked)")


class CopySettingsIn(Strict):
    copies: Annotated[
        dict[NotificationKind, Annotated[list[CopyChannel], Field(max_length=2)]],
        Field(max_length=len(NotificationKind), description="kind -> channels; kinds left out come in-app only"),
    ]
    email: Annotated[str | None, Field(max_length=200, description='a new address; "" removes it; absent: kept')] = None
    phone: Annotated[
        str | None, Field(max_length=32, description='a new mobile number; "" removes it; absent: kept')
    ] = None


def _settings(request: Request, s: inbox.CopySettings) -> CopySettingsOut:
    return CopySettingsOut(
        copies=[
            KindCopies(
                kind=k,
                label=_label(request, k) or k.value,
                channels=[c for c in CopyChannel if (k, c) in s.chosen],
            )
            for k in NotificationKind
        ],
        email=s.email,
        phone=s.phone,
    )


@router.get("/me/notification-settings", response_model=CopySettingsOut)
def my_copy_settings(request: Request, ctx: Ctx, user: CurrentUser) -> CopySettingsOut:
    return _settings(request, inbox.copy_settings(ctx, user))


@router.put("/me/notification-settings", response_model=CopySettingsOut)
def save_my_copy_settings(body: CopySettingsIn, request: Request, ctx: Ctx, user: CurrentUser) -> CopySettingsOut:
    """Which kinds also come by e-mail or SMS (for on-call supervisors), and where to."""
    chosen = {(k, c) for k, channels in body.copies.items() for c in channels}
    saved = inbox.save_copy_settings(ctx, user, chosen, email=body.email, phone=body.phone)
    return _settings(request, saved)
