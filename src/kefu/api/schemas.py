"""Request and response bodies of the REST API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from kefu.domain.customers import Customer, Tier
from kefu.domain.events import WorkOrderEvent
from kefu.domain.org import User
from kefu.domain.workorders import Channel, Priority, Status, WorkOrder, WorkOrderType
from kefu.services.sla.clocks import ClockView

#: Ids are 64-bit in the database; anything larger is bad input, not a crash.
MAX_ID = 2**63 - 1


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_has_nul(v) for v in value)
    return False


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @model_validator(mode="before")
    @classmethod
    def _no_nul_characters(cls, data: Any) -> Any:
        if _has_nul(data):
            raise ValueError("Text must not contain NUL (\\x00) characters.")
        return data


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


class CustomerOut(BaseModel):
    id: int
    name: str
    phone: str | None = Field(description="null for a customer known only by e-mail or WeChat so far")
    tier: Tier
    brand: str | None
    region: str | None
    email: str | None
    address: str | None
    id_number: str | None
    services: list[str]
    devices: list[dict[str, Any]]
    tags: list[str]
    created_at: datetime
    masked: bool

    @classmethod
    def of(cls, c: Customer, *, masked: bool) -> CustomerOut:
        assert c.id is not None
        return cls(
            id=c.id,
            name=c.name,
            phone=c.phone,
            tier=c.tier,
            brand=c.brand,
            region=c.region,
            email=c.email,
            address=c.address,
            id_number=c.id_number,
            services=c.services,
            devices=[d.as_dict() for d in c.devices],
            tags=c.tags,
            created_at=c.created_at,
            masked=masked,
        )


class CustomerPage(BaseModel):
    items: list[CustomerOut]
    next_cursor: str | None


class WorkOrderIn(Strict):
    customer_id: int = Field(gt=0, le=MAX_ID)
    type: WorkOrderType
    category: Annotated[str, Field(min_length=1, max_length=100, description="a code such as broadband.no_connection")]
    channel: Channel
    title: Annotated[str, Field(min_length=1, max_length=200)]
    description: Annotated[str, Field(min_length=1, max_length=20_000)]
    priority: Priority | None = None
    severity: Annotated[
        int | None, Field(ge=1, le=4, description="1 (一级, critical) to 4 (四级, minor); faults only")
    ] = None
    team_id: int | None = Field(default=None, gt=0, le=MAX_ID)
    fault_time: AwareDatetime | None = None
    fault_place: Annotated[str | None, Field(max_length=300)] = None
    device: Annotated[str | None, Field(max_length=200)] = None
    promised_at: AwareDatetime | None = Field(default=None, description="the time promised to the customer (R4)")
    call_id: Annotated[
        str | None,
        Field(
            max_length=100,
            description=("the CTI call during which it is registered: the registration clock runs from its answer"),
        ),
    ] = None


class TransitionIn(Strict):
    to: Status
    note: Annotated[str | None, Field(max_length=10_000)] = None


class NoteIn(Strict):
    body: Annotated[str, Field(min_length=1, max_length=10_000)]
    customer_visible: bool = False


class WorkOrderOut(BaseModel):
    number: str
    status: Status
    tmf_status: str
    allowed_transitions: list[Status]
    type: WorkOrderType
    category: str
    channel: Channel
    priority: Priority
    severity: int | None
    title: str
    description: str
    customer_id: int
    owner_id: int = Field(description="first-ask owner (首问负责人); never changes")
    handler_id: int | None
    team_id: int | None
    created_by: int
    created_at: datetime
    updated_at: datetime
    fault_time: datetime | None
    fault_place: str | None
    device: str | None
    promised_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    reopen_count: int
    version: int
    organisation_id: int | None = Field(description="the owning organisation (the first-ask owner's)")

    @classmethod
    def of(cls, w: WorkOrder) -> WorkOrderOut:
        return cls(
            number=w.number,
            status=w.status,
            tmf_status=w.tmf_status,
            allowed_transitions=w.allowed_moves(),
            type=w.type,
            category=w.category,
            channel=w.channel,
            priority=w.priority,
            severity=w.severity,
            title=w.title,
            description=w.description,
            customer_id=w.customer_id,
            owner_id=w.owner_id,
            handler_id=w.handler_id,
            team_id=w.team_id,
            created_by=w.created_by,
            created_at=w.created_at,
            updated_at=w.updated_at,
            fault_time=w.fault_time,
            fault_place=w.fault_place,
            device=w.device,
            promised_at=w.promised_at,
            resolved_at=w.resolved_at,
            closed_at=w.closed_at,
            reopen_count=w.reopen_count,
            version=w.version,
            organisation_id=w.organisation_id,
        )


class ClockOut(BaseModel):
    name: str = Field(description="register, first_response, diagnosis, onsite, resolution, customer_reply, hop")
    state: Literal["not_started", "running", "warned", "paused", "met", "breached"]
    target_minutes: int
    due_at: datetime | None = Field(description="the deadline while the clock runs; null while paused or stopped")
    remaining_minutes: int = Field(description="working minutes left on the clock's calendar; negative when overdue")
    started_at: datetime | None
    stopped_at: datetime | None
    breached_at: datetime | None

    @classmethod
    def of(cls, v: ClockView) -> ClockOut:
        return cls(
            name=v.name.value,
            state=v.state,  # type: ignore[arg-type]
            target_minutes=v.target_minutes,
            due_at=v.due_at,
            remaining_minutes=v.remaining_minutes,
            started_at=v.started_at,
            stopped_at=v.stopped_at,
            breached_at=v.breached_at,
        )


class WorkOrderDetailOut(WorkOrderOut):
    clocks: list[ClockOut]


class PriorityIn(Strict):
    priority: Priority
    reason: Annotated[str | None, Field(max_length=1000)] = None


class WorkOrderPage(BaseModel):
    items: list[WorkOrderOut]
    next_cursor: str | None


class Person(BaseModel):
    id: int
    username: str | None = None
    display_name: str | None = None


class EventOut(BaseModel):
    id: int | None
    kind: str
    at: datetime
    actor: Person
    from_status: str | None
    to_status: str | None
    note: str | None
    visibility: Literal["internal", "customer"] | None
    data: dict[str, Any]

    @classmethod
    def of(cls, e: WorkOrderEvent, people: dict[int, User]) -> EventOut:
        u = people.get(e.actor_id)
        actor = Person(id=e.actor_id, username=u.username, display_name=u.display_name) if u else Person(id=e.actor_id)
        return cls(
            id=e.id,
            kind=e.kind.value,
            at=e.at,
            actor=actor,
            from_status=e.from_status,
            to_status=e.to_status,
            note=e.note,
            visibility=e.visibility,  # type: ignore[arg-type]
            data=e.data,
        )


class HistoryOut(BaseModel):
    number: str
    events: list[EventOut]


class FieldError(BaseModel):
    field: str
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details, as every error of this API is answered."""

    type: str
    title: str
    status: int
    detail: str
    code: str = Field(description="stable machine-readable code, e.g. invalid_transition")
    instance: str
    errors: list[FieldError] | None = Field(default=None, description="the fields that were wrong")
    allowed: list[str] | None = Field(default=None, description="for invalid_transition: the moves that are allowed")


def _problem_response(description: str) -> dict[str, Any]:
    return {"description": description, "model": Problem, "content": {"application/problem+json": {}}}


#: Error answers every route can give; listed in the OpenAPI document.
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _problem_response("Malformed request (e.g. the body is not JSON)"),
    401: _problem_response("Missing or invalid bearer token"),
    403: _problem_response("The role may not do this"),
    404: _problem_response("No such resource"),
    409: _problem_response("Conflict: illegal transition or a concurrent change"),
    422: _problem_response("Invalid input; `errors` names the fields"),
}


class CategoryOut(BaseModel):
    code: str
    parent: str | None
    label_zh: str
    label_en: str
    active: bool


class MeOut(BaseModel):
    id: int
    username: str
    display_name: str
    role: str
    team_id: int | None
