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
