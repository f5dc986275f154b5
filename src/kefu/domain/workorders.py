"""The work order (工单): its vocabulary, its lifecycle and the methods that move it.

The lifecycle is one transition table (TRANSITIONS). `WorkOrder.move_to` is the only way a status
changes, and it refuses an illegal move with an error naming the allowed ones. Every change is
recorded as an immutable `WorkOrderEvent` collected in `WorkOrder.events` for the service layer
to store in the same transaction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from enum import StrEnum

from kefu.domain.errors import InvalidTransition, ReopenWindowExpired, ValidationFailed
from kefu.domain.events import EventKind, WorkOrderEvent


class Status(StrEnum):
    NEW = "new"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    IN_PROGRESS = "in_progress"
    DISPATCHED = "dispatched"
    RETURNED = "returned"
    PENDING = "pending"
    RESOLVED = "resolved"
    CALLBACK = "callback"
    CLOSED = "closed"


S = Status

# The lifecycle. Two refinements over the issue's table, both from seed 004's flow:
# * accepted -> dispatched: a reception team (客户接待组) often accepts a fault and dispatches it
#   to field repair or another province straight away; forcing an "in_progress" step in between
#   would put a meaningless event on every such timeline.
# * returned -> dispatched: when a receiver rejects a hop as out of its scope, the sender passes
#   the work order on to the right party at once ("solves it or passes it on").
# A dispatched work order cannot be cancelled directly: the hop has to come back (returned) first,
# otherwise the receiving party would keep working on a case that no longer exists.
TRANSITIONS: dict[Status, frozenset[Status]] = {
    S.NEW: frozenset({S.ACCEPTED, S.REJECTED, S.CANCELLED}),
    S.ACCEPTED: frozenset({S.IN_PROGRESS, S.DISPATCHED, S.RESOLVED, S.CANCELLED}),
    S.IN_PROGRESS: frozenset({S.DISPATCHED, S.PENDING, S.RESOLVED, S.CANCELLED}),
    S.DISPATCHED: frozenset({S.RETURNED}),
    S.RETURNED: frozenset({S.IN_PROGRESS, S.DISPATCHED, S.RESOLVED}),
    S.PENDING: frozenset({S.IN_PROGRESS, S.CANCELLED}),
    S.RESOLVED: frozenset({S.CALLBACK, S.CLOSED, S.IN_PROGRESS}),
    S.CALLBACK: frozenset({S.CLOSED, S.IN_PROGRESS}),
    S.CLOSED: frozenset({S.IN_PROGRESS}),
    S.REJECTED: frozenset(),
    S.CANCELLED: frozenset(),
}

# Every kefu status maps to exactly one TMF621 TroubleTicketStatusType.
# `held` is deliberately unused: kefu's "waiting for customer or parts" is `pending`, and a hop at
# another team is still work in progress from the customer's point of view.
TMF_STATUS: dict[Status, str] = {
    S.NEW: "acknowledged",
    S.ACCEPTED: "acknowledged",
    S.REJECTED: "rejected",
    S.CANCELLED: "cancelled",
    S.IN_PROGRESS: "inProgress",
    S.DISPATCHED: "inProgress",
    S.RETURNED: "inProgress",
    S.PENDING: "pending",
    S.RESOLVED: "resolved",
    S.CALLBACK: "resolved",
    S.CLOSED: "closed",
}

#: Statuses in which nobody has to do anything any more.
FINISHED_STATUSES: frozenset[Status] = frozenset({S.REJECTED, S.CANCELLED, S.CLOSED})
#: Statuses that still need work or a decision ("open work orders").
OPEN_STATUSES: frozenset[Status] = frozenset(set(Status) - FINISHED_STATUSES)
#: The same, as the sorted values filters and SQL use (sorted: "all open" is then one literal list).
OPEN_STATUS_VALUES: tuple[str, ...] = tuple(sorted(s.value for s in OPEN_STATUSES))
#: Moves back to work after a resolution: each counts as a re-open (R18).
REOPENING_FROM: frozenset[Status] = frozenset({S.RESOLVED, S.CALLBACK, S.CLOSED})


class WorkOrderType(StrEnum):
    INQUIRY = "inquiry"
    COMPLAINT = "complaint"
    FAULT = "fault"
    SERVICE_REQUEST = "service_request"
    SUGGESTION = "suggestion"
    PRAISE = "praise"


class Channel(StrEnum):
    HOTLINE = "hotline"
    WEB = "web"
    APP = "app"
    EMAIL = "email"
    SMS = "sms"
    WECHAT = "wechat"
    STORE = "store"
    MONITORING = "monitoring"


class Priority(StrEnum):
    P1 = "P1"
    P2 = "P2"
    P3 = "P3"
    P4 = "P4"


#: Fault severity 1 (一级, critical), 2 (二级, major), 3 (三级, moderate), 4 (四级, minor).
SEVERITY_LEVELS = (1, 2, 3, 4)


def default_priority(*, severity: int | None, vip: bool) -> Priority:
    """Priority when the registrar gives none: a fault's severity decides; VIP customers come first."""
    if severity is not None:
        return Priority(f"P{severity}")
    return Priority.P2 if vip else Priority.P3


NUMBER_RE = re.compile(r"^GD(\d{8})(\d{6})$")


def format_number(day: date, sequence: int) -> str:
    if not 1 <= sequence <= 999_999:
        raise ValueError(f"daily work-order sequence out of range: {sequence}")
    return f"GD{day:%Y%m%d}{sequence:06d}"


def is_work_order_number(text: str) -> bool:
    return NUMBER_RE.match(text) is not None


@dataclass
class WorkOrder:
    id: int | None
    number: str
    customer_id: int
    type: WorkOrderType
    category: str
    channel: Channel
    priority: Priority
    severity: int | None
    title: str
    description: str
    status: Status
    owner_id: int  # first-ask owner (首问负责人, R15): never changes
    created_by: int
    created_at: datetime
    updated_at: datetime
    handler_id: int | None = None
    team_id: int | None = None
    fault_time: datetime | None = None
    fault_place: str | None = None
    device: str | None = None
    promised_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    reopen_count: int = 0
    version: int = 1
    organisation_id: int | None = None  # the first-ask owner's organisation (data scope)
    next_due_at: datetime | None = None  # the earliest deadline of its running clocks (kept by the SLA service)
    events: list[WorkOrderEvent] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def register(
        cls,
        *,
        customer_id: int,
        type: WorkOrderType,
        category: str,
        channel: Channel,
        title: str,
        description: str,
        actor_id: int,
        at: datetime,
        customer_is_vip: bool = False,
        priority: Priority | None = None,
        severity: int | None = None,
        team_id: int | None = None,
        fault_time: datetime | None = None,
        fault_place: str | None = None,
        device: str | None = None,
        promised_at: datetime | None = None,
        number: str = "",
        organisation_id: int | None = None,
    ) -> WorkOrder:
        """A new work order; the registering agent becomes its first-ask owner.

        Storage gives it its number (GD + day + sequence) when it is saved, unless one is given.
        """
        _require_aware(at, "at")
        title = one_line(title)
        fault_place = one_line(fault_place) or None if fault_place is not None else None
        device = one_line(device) or None if device is not None else None
        description = description.strip()
        if not title:
            raise ValidationFailed("The title must not be empty.", field="title")
        if len(title) > 200:
            raise ValidationFailed("The title is longer than 200 characters.", field="title")
        if not description:
            raise ValidationFailed("The description must not be empty.", field="description")
        if severity is not None:
            if type is not WorkOrderType.FAULT:
                raise ValidationFailed(
                    "A severity applies to faults only; leave it out for type {type}.",
                    field="severity",
                    type=type.value,
                )
            if severity not in SEVERITY_LEVELS:
                raise ValidationFailed("The severity must be 1 (critical) to 4 (minor).", field="severity")
        elif type is WorkOrderType.FAULT:
            severity = 3
        if fault_time is not None:
            _require_aware(fault_time, "fault_time")
            if fault_time > at + timedelta(minutes=5):
                raise ValidationFailed("The fault time lies in the future.", field="fault_time")
        if promised_at is not None:
            _require_aware(promised_at, "promised_at")
            if promised_at <= at:
                raise ValidationFailed("The promised time must lie after the registration time.", field="promised_at")
        wo = cls(
            id=None,
            number=number,
            customer_id=customer_id,
            type=type,
            category=category,
            channel=channel,
            priority=priority or default_priority(severity=severity, vip=customer_is_vip),
            severity=severity,
            title=title,
            description=description,
            status=Status.NEW,
            owner_id=actor_id,
            created_by=actor_id,
            created_at=at,
            updated_at=at,
            handler_id=actor_id,
            team_id=team_id,
            fault_time=fault_time,
            fault_place=(fault_place or "").strip() or None,
            device=(device or "").strip() or None,
            promised_at=promised_at,
            organisation_id=organisation_id,
        )
        wo.events.append(
            WorkOrderEvent(
                kind=EventKind.CREATED,
                actor_id=actor_id,
                at=at,
                to_status=Status.NEW.value,
                data={
                    "channel": channel.value,
                    "type": type.value,
                    "category": category,
                    "priority": wo.priority.value,
                },
            )
        )
        return wo

    @property
    def tmf_status(self) -> str:
        return TMF_STATUS[self.status]

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_dispatchable(self) -> bool:
        """Whether anyone may be sent to work on it (a hop, a field visit): open and not resolved —
        a resolved work order is re-opened first."""
        return self.is_open and self.status not in (Status.RESOLVED, Status.CALLBACK)

    def allowed_moves(self) -> list[Status]:
        return sorted(TRANSITIONS[self.status], key=list(Status).index)

    def move_to(
        self,
        to: Status,
        *,
        actor_id: int,
        at: datetime,
        note: str | None = None,
        reopen_window: timedelta,
    ) -> WorkOrderEvent:
        """Move along the lifecycle; refuse anything the transition table does not allow."""
        _require_aware(at, "at")
        if to not in TRANSITIONS[self.status]:
            raise InvalidTransition(
                current=self.status.value,
                requested=to.value,
                allowed=[s.value for s in self.allowed_moves()],
            )
        if self.status is Status.CLOSED:
            assert self.closed_at is not None
            if at - self.closed_at > reopen_window:
                raise ReopenWindowExpired(number=self.number, days=reopen_window.days)
        if to is Status.REJECTED and not (note or "").strip():
            raise ValidationFailed("A reason is required to reject a work order: write it in the note.", field="note")
        if to is Status.CANCELLED and not (note or "").strip():
            raise ValidationFailed("A reason is required to cancel a work order: write it in the note.", field="note")
        previous = self.status
        self.status = to
        self.updated_at = at
        if to is Status.RESOLVED:
            self.resolved_at = at
        elif to is Status.CLOSED:
            self.closed_at = at
        elif to is Status.IN_PROGRESS and previous in REOPENING_FROM:
            self.reopen_count += 1
            self.resolved_at = None
            self.closed_at = None
        event = WorkOrderEvent(
            kind=EventKind.STATUS_CHANGED,
            actor_id=actor_id,
            at=at,
            from_status=previous.value,
            to_status=to.value,
            note=(note or "").strip() or None,
            data={"reopened": True} if previous in REOPENING_FROM and to is Status.IN_PROGRESS else {},
        )
        self.events.append(event)
        return event

    def change_priority(self, to: Priority, *, actor_id: int, at: datetime, reason: str | None) -> WorkOrderEvent:
        _require_aware(at, "at")
        if to is self.priority:
            raise ValidationFailed(
                "The work order already has priority {priority}.", field="priority", priority=to.value
            )
        if not self.is_open:
            raise ValidationFailed("A finished work order keeps its priority.", field="priority")
        event = WorkOrderEvent(
            kind=EventKind.PRIORITY_CHANGED,
            actor_id=actor_id,
            at=at,
            note=(reason or "").strip() or None,
            data={"from": self.priority.value, "to": to.value},
        )
        self.priority = to
        self.updated_at = at
        self.events.append(event)
        return event

    def raised_priority(self) -> Priority | None:
        """One step more urgent, or None at P1."""
        order = list(Priority)
        index = order.index(self.priority)
        return order[index - 1] if index > 0 else None

    def reassign_team(self, team_id: int, *, actor_id: int, at: datetime, reason: str | None) -> WorkOrderEvent:
        event = WorkOrderEvent(
            kind=EventKind.TEAM_CHANGED,
            actor_id=actor_id,
            at=at,
            note=(reason or "").strip() or None,
            data={"from": self.team_id, "to": team_id},
        )
        self.team_id = team_id
        self.updated_at = at
        self.events.append(event)
        return event

    def assign(
        self,
        *,
        team_id: int | None,
        handler_id: int | None,
        actor_id: int,
        at: datetime,
        reason: str | None = None,
        kind: EventKind = EventKind.HANDLER_CHANGED,
        data: dict[str, object] | None = None,
    ) -> WorkOrderEvent:
        """Give the work order to a team and a handler (None: waits in the team's queue). The
        first-ask owner stays (R15)."""
        event = WorkOrderEvent(
            kind=kind,
            actor_id=actor_id,
            at=at,
            note=(reason or "").strip() or None,
            data={
                "from_team": self.team_id,
                "from_handler": self.handler_id,
                "team_id": team_id,
                "handler_id": handler_id,
                **(data or {}),
            },
        )
        self.team_id, self.handler_id = team_id, handler_id
        self.updated_at = at
        self.events.append(event)
        return event

    def note_time_limits(self, sla: dict[str, object]) -> None:
        """Add the time limits chosen at registration to the (not yet stored) registration event."""
        created = next(i for i, e in enumerate(self.events) if e.kind is EventKind.CREATED)
        self.events[created] = replace(self.events[created], data={**self.events[created].data, "sla": sla})

    def record(self, event: WorkOrderEvent) -> None:
        """Keep an event that changes nothing on the work order itself (e.g. an SLA warning)."""
        self.events.append(event)

    def correct(
        self, changes: dict[str, object], *, actor_id: int, at: datetime, reason: str | None, dispatched: bool
    ) -> list[WorkOrderEvent]:
        """Correct registered fields (see `_correct`): one `edited` event per field that changes."""
        return _correct(self, changes, actor_id=actor_id, at=at, reason=reason, dispatched=dispatched)

    def move_to_customer(self, customer_id: int, *, actor_id: int, at: datetime, reason: str) -> WorkOrderEvent:
        """Its customer record was a duplicate merged into `customer_id`: the work order follows,
        whatever its status (its history is the customer's), recorded like a correction."""
        _require_aware(at, "at")
        event = WorkOrderEvent(
            kind=EventKind.EDITED,
            actor_id=actor_id,
            at=at,
            note=reason,
            data={"field": "customer_id", "from": self.customer_id, "to": customer_id, "merged": True},
        )
        self.customer_id = customer_id
        self.updated_at = at
        self.events.append(event)
        return event

    def add_note(self, *, actor_id: int, at: datetime, body: str, customer_visible: bool) -> WorkOrderEvent:
        _require_aware(at, "at")
        body = body.strip()
        if not body:
            raise ValidationFailed("The note must not be empty.", field="body")
        if len(body) > 10_000:
            raise ValidationFailed("The note is longer than 10,000 characters.", field="body")
        self.updated_at = at
        event = WorkOrderEvent(
            kind=EventKind.NOTE_ADDED,
            actor_id=actor_id,
            at=at,
            note=body,
            visibility="customer" if customer_visible else "internal",
        )
        self.events.append(event)
        return event


#: What an agent may correct after registration (the priority has its own command).
CORRECTABLE = (
    "type",
    "category",
    "severity",
    "title",
    "description",
    "fault_time",
    "fault_place",
    "device",
    "customer_id",
)
#: Corrections that put the work order under other rules (routing, time limits): after it was
#: dispatched, the party working on it has to learn why, so they need a reason.
RECLASSIFYING = frozenset({"type", "category", "customer_id"})
#: Corrections that policies and routing rules look at (kefu.domain.sla.Facts).
POLICY_FIELDS = frozenset({"type", "category", "customer_id", "severity"})
_TEXT_LIMITS = {"title": 200, "description": 20_000, "fault_place": 300, "device": 200}


def one_line(text: str) -> str:
    """A one-line field (title, fault place, device) as stored: line breaks, tabs and other control
    characters become single spaces — a title comes back as the Subject of an e-mail, a place on
    a visit's list."""
    return " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())


def _stored_form(value: object) -> object:
    """A field's value as an event's data keeps it (JSON)."""
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _correct(
    wo: WorkOrder,
    changes: dict[str, object],
    *,
    actor_id: int,
    at: datetime,
    reason: str | None,
    dispatched: bool,
) -> list[WorkOrderEvent]:
    """Correct what was registered (R7: a wrong category or type, a typo, the wrong customer): one
    `edited` event per field that really changes (who, field, from, to, the reason). A severity
    belongs to faults only: a fault gets 三级 unless one is given, another type loses it. A finished
    work order stays as it was closed; after a dispatch, reclassifying it needs a reason."""
    _require_aware(at, "at")
    unknown = [name for name in changes if name not in CORRECTABLE]
    if unknown:
        raise ValidationFailed("This field cannot be corrected.", field=unknown[0])
    if not wo.is_open:
        raise ValidationFailed(
            "A finished work order is not corrected any more; re-open it first.", field=next(iter(changes), None)
        )
    reason = (reason or "").strip() or None
    if reason is not None and len(reason) > 1000:
        raise ValidationFailed("The reason is longer than 1,000 characters.", field="reason")
    wanted: dict[str, object] = {}
    for name, value in changes.items():
        if name in _TEXT_LIMITS:
            text = str(value or "").strip() if name == "description" else one_line(str(value or ""))
            if len(text) > _TEXT_LIMITS[name]:
                raise ValidationFailed("This text is longer than {max} characters.", field=name, max=_TEXT_LIMITS[name])
            if not text and name in ("title", "description"):
                raise ValidationFailed("This field must not be empty.", field=name)
            value = text or None
        elif name == "fault_time" and value is not None:
            assert isinstance(value, datetime)
            _require_aware(value, "fault_time")
            if value > at + timedelta(minutes=5):
                raise ValidationFailed("The fault time lies in the future.", field="fault_time")
        elif name == "type":
            value = WorkOrderType(str(value))
        elif name == "customer_id" and (not isinstance(value, int) or value <= 0):
            raise ValidationFailed("Pick the customer.", field="customer_id")
        elif name == "category" and not value:
            raise ValidationFailed("Pick a category.", field="category")
        wanted[name] = value
    new_type = wanted.get("type", wo.type)
    assert isinstance(new_type, WorkOrderType)
    if new_type is WorkOrderType.FAULT:
        severity = wanted.get("severity", wo.severity) or 3
        if severity not in SEVERITY_LEVELS:
            raise ValidationFailed("The severity must be 1 (critical) to 4 (minor).", field="severity")
        wanted["severity"] = severity
    else:
        if wanted.get("severity") is not None:
            raise ValidationFailed(
                "A severity applies to faults only; leave it out for type {type}.",
                field="severity",
                type=new_type.value,
            )
        wanted["severity"] = None
    changed = {name: value for name, value in wanted.items() if getattr(wo, name) != value}
    if dispatched and reason is None and (moved := RECLASSIFYING & changed.keys()):
        raise ValidationFailed(
            "The work order was dispatched already: give a reason for changing its {what}.",
            field="reason",
            what=", ".join(sorted(moved)),
        )
    events = []
    for name in CORRECTABLE:  # in a fixed order: the timeline reads the same for the same change
        if name not in changed:
            continue
        event = WorkOrderEvent(
            kind=EventKind.EDITED,
            actor_id=actor_id,
            at=at,
            note=reason,
            data={"field": name, "from": _stored_form(getattr(wo, name)), "to": _stored_form(changed[name])},
        )
        setattr(wo, name, changed[name])
        wo.events.append(event)
        events.append(event)
    if not events:
        raise ValidationFailed("Nothing was changed.", field=next(iter(changes), None))
    wo.updated_at = at
    return events


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValidationFailed("{name} must carry a timezone.", field=name, name=name)
