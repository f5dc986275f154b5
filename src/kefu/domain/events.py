"""Past-tense, immutable facts about work orders. Stored once, never changed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class EventKind(StrEnum):
    CREATED = "created"
    STATUS_CHANGED = "status_changed"
    NOTE_ADDED = "note_added"
    PRIORITY_CHANGED = "priority_changed"
    TEAM_CHANGED = "team_changed"
    SLA_APPLIED = "sla_applied"  # a policy set (or moved) the deadlines
    SLA_WARNING = "sla_warning"
    SLA_BREACHED = "sla_breached"
    SLA_ESCALATED = "sla_escalated"
    ROUTED = "routed"  # a routing rule (or the lack of one) chose team and handler
    HANDLER_CHANGED = "handler_changed"
    HOP_SENT = "hop_sent"  # dispatched to another team or organisation (派单)
    HOP_ACCEPTED = "hop_accepted"
    HOP_REJECTED = "hop_rejected"  # out of the receiver's scope; back to the sender
    HOP_RETURNED = "hop_returned"  # answered with a result (回单)
    VISIT_SCHEDULED = "visit_scheduled"
    VISIT_CHECKED_IN = "visit_checked_in"
    VISIT_COMPLETED = "visit_completed"
    VISIT_CANCELLED = "visit_cancelled"
    CHECKLIST_STEP_DONE = "checklist_step_done"
    CONTACT_RECEIVED = "contact_received"  # the customer wrote or called again about it
    CUSTOMER_CONFIRMED = "customer_confirmed"  # confirmed the resolution (self-service)
    CUSTOMER_RATED = "customer_rated"
    LINKED = "linked"  # related to another work order (both timelines say so)
    MERGED = "merged"  # a duplicate folded into another work order (the duplicate is cancelled)
    TAGS_CHANGED = "tags_changed"  # data: the tags added and removed
    FILE_ADDED = "file_added"  # a file uploaded by an agent or the customer (data: its id, name, size)
    EDITED = "edited"  # an agent corrected one field of the registration (data: field, from, to)
    REPLY_QUEUED = "reply_queued"  # an agent replied to the customer; the reply waits in the outbox
    REPLY_DELIVERED = "reply_delivered"  # the reply was handed to its channel (answers the customer)
    REPLY_FAILED = "reply_failed"  # the reply could not be delivered, after the last retry
    CALL_PLACED = "call_placed"  # an agent called the customer from the work order (click-to-call)
    MACRO_APPLIED = "macro_applied"  # a named set of actions, recorded before the actions' own events


@dataclass(frozen=True)
class WorkOrderEvent:
    kind: EventKind
    actor_id: int
    at: datetime
    from_status: str | None = None
    to_status: str | None = None
    note: str | None = None
    visibility: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    id: int | None = None
    work_order_id: int | None = None
