"""The request and response models that several routers share, and what every model builds on:
`Strict` (the base of request bodies), `MAX_ID` and the problem document of every error answer.
A model only one router uses lives in that router's module (see `kefu.api`)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from kefu.domain.customers import Customer, Tier
from kefu.domain.sla import Conditions
from kefu.domain.values import FIRST_YEAR, LAST_YEAR
from kefu.domain.workorders import Channel, Priority, Status, WorkOrder, WorkOrderType

#: Ids are 64-bit in the database; anything larger is bad input, not a crash.
MAX_ID = 2**63 - 1


def _in_years(value: date) -> date:
    # A ValueError, as pydantic wants: it becomes a 422 naming the field (year 1 or 9999 would
    # overflow the time-zone arithmetic further on).
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValueError(f"must fall between the years {FIRST_YEAR} and {LAST_YEAR}")
    return value


#: A moment a client sends: with its offset, and within the years kefu computes with.
Moment = Annotated[AwareDatetime, AfterValidator(_in_years)]
#: A date a client sends, within the years kefu computes with.
Day = Annotated[date, AfterValidator(_in_years)]


class NulCharacter(ValueError):
    """A NUL character in a request body: `path` leads to the text holding it (problems names it)."""

    def __init__(self, path: tuple[str | int, ...]) -> None:
        super().__init__("Text must not contain NUL (\\x00) characters.")
        self.path = path


def nul_path(value: Any, path: tuple[str | int, ...] = ()) -> tuple[str | int, ...] | None:
    """Where the first text with a NUL character is (() for `value` itself), None without one."""
    if isinstance(value, str):
        return path if "\x00" in value else None
    if isinstance(value, dict):
        for k, v in value.items():
            if isinstance(k, str) and "\x00" in k:
                return path
            if (found := nul_path(v, (*path, str(k)))) is not None:
                return found
    if isinstance(value, list | tuple):
        for i, v in enumerate(value):
            if (found := nul_path(v, (*path, i))) is not None:
                return found
    return None


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @model_validator(mode="before")
    @classmethod
    def _no_nul_characters(cls, data: Any) -> Any:
        if (path := nul_path(data)) is not None:
            raise NulCharacter(path)
        return data


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
    merged_into_id: int | None = Field(default=None, description="set when this record was merged into another")

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
            merged_into_id=c.merged_into_id,
        )


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


# When an SLA policy or a routing rule applies.
class ConditionsIO(Strict):
    tiers: list[str] = []
    types: list[str] = []
    priorities: list[str] = []
    severities: list[Annotated[int, Field(ge=1, le=4)]] = []
    categories: list[str] = Field(default=[], description="category codes; each includes its subtree")
    regions: list[str] = []
    channels: list[str] = []
    agreement_ids: list[Annotated[int, Field(gt=0, le=MAX_ID)]] = []

    def domain(self) -> Conditions:
        return Conditions.from_dict(self.model_dump())

    @classmethod
    def of(cls, c: Conditions) -> ConditionsIO:
        return cls.model_validate(c.to_dict())


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
