"""/api/v1/audit: the audit log, read and filtered by auditors and administrators (R35)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import AwareDatetime, BaseModel

from kefu.api.deps import Ctx, CurrentUser
from kefu.api.schemas import MAX_ID
from kefu.domain.audit import AuditAction, AuditFilter, AuditRecord
from kefu.http import cursors
from kefu.services import audit

router = APIRouter(prefix="/audit", tags=["audit"])


class AuditRowOut(BaseModel):
    id: int
    seq: int
    at: datetime
    actor_id: int | None
    actor: str | None
    action: AuditAction
    subject_type: str | None
    subject_id: str | None
    customer_id: int | None
    reason: str | None
    origin: str | None
    details: dict[str, Any]
    prev_hash: str
    hash: str

    @classmethod
    def of(cls, r: AuditRecord, people: dict[int, str]) -> AuditRowOut:
        e = r.entry
        return cls(
            id=r.id,
            seq=r.seq,
            at=e.at,
            actor_id=e.actor_id,
            actor=people.get(e.actor_id) if e.actor_id is not None else None,
            action=e.action,
            subject_type=e.subject_type,
            subject_id=e.subject_id,
            customer_id=e.customer_id,
            reason=e.reason,
            origin=e.origin,
            details=e.details,
            prev_hash=r.prev_hash,
            hash=r.hash,
        )


class AuditPageOut(BaseModel):
    items: list[AuditRowOut]
    next_cursor: str | None


@router.get("", response_model=AuditPageOut)
def read_audit_log(
    ctx: Ctx,
    user: CurrentUser,
    start: Annotated[AwareDatetime | None, Query(alias="from", description="rows at or after this time")] = None,
    end: Annotated[AwareDatetime | None, Query(alias="to", description="rows before this time")] = None,
    actor: Annotated[str | None, Query(max_length=64, description="the username of who acted")] = None,
    action: Annotated[list[AuditAction] | None, Query(description="repeat for several")] = None,
    subject_type: Annotated[str | None, Query(max_length=40, description="customer, user, category ...")] = None,
    subject_id: Annotated[str | None, Query(max_length=200, description="with subject_type")] = None,
    customer: Annotated[int | None, Query(gt=0, le=MAX_ID, description="whose personal data")] = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=audit.MAX_PAGE)] = 50,
) -> AuditPageOut:
    """Newest first; auditors and administrators only (the reading is recorded in the log too)."""
    flt = AuditFilter(
        start=start,
        end=end,
        actions=tuple(action or ()),
        subject_type=subject_type or None,
        subject_id=subject_id or None,
        customer_id=customer,
        before_id=cursors.decode(cursor),
    )
    page = audit.read_audit_log(ctx, user, flt, actor_username=actor, limit=limit)
    return AuditPageOut(
        items=[AuditRowOut.of(r, page.people) for r in page.records],
        next_cursor=cursors.encode(page.next_before_id) if page.next_before_id else None,
    )
