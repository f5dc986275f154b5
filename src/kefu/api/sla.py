"""/api/v1/sla: time-limit policies and business calendars; service agreements and the SLA statement."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from kefu.api.deps import Ctx, CurrentUser, Id
from kefu.api.schemas import MAX_ID, ConditionsIO, Day, Strict
from kefu.domain.calendars import CalendarSpec
from kefu.domain.sla import ClockName, EscalationLevel, Notify, ServiceAgreement, SlaPolicy
from kefu.services.sla import admin as svc

router = APIRouter(tags=["time limits (SLA)"])

Minutes = Annotated[int, Field(gt=0, le=60 * 24 * 365)]


class EscalationIO(Strict):
    level: Annotated[int, Field(ge=1, le=9)]
    at: Annotated[float, Field(gt=0, le=10, description="fraction of the target, 1.0 = the deadline")]
    notify: list[Notify] = []
    raise_priority: bool = False
    reassign_team_id: Annotated[int | None, Field(gt=0, le=MAX_ID)] = None


class PolicyIO(Strict):
    id: int | None = Field(default=None, description="set by kefu")
    name: Annotated[str, Field(min_length=1, max_length=200)]
    position: Annotated[int, Field(ge=0, le=1_000_000, description="policies are tried in this order")]
    active: bool = True
    calendar: str = "24x7"
    conditions: ConditionsIO = ConditionsIO()
    targets: dict[ClockName, Minutes | dict[str, Minutes]] = Field(
        description='minutes per clock, or per customer tier: {"hop": {"vip": 180, "*": 360}}'
    )
    warn_at: list[Annotated[float, Field(gt=0, lt=1)]] = [0.75]
    escalations: list[EscalationIO] = []

    def domain(self, policy_id: int | None = None) -> SlaPolicy:
        return SlaPolicy(
            id=policy_id,
            name=self.name,
            position=self.position,
            active=self.active,
            calendar=self.calendar,
            targets=dict(self.targets),
            conditions=self.conditions.domain(),
            warn_at=tuple(self.warn_at),
            escalations=tuple(
                EscalationLevel(e.level, e.at, tuple(e.notify), e.raise_priority, e.reassign_team_id)
                for e in self.escalations
            ),
        )

    @classmethod
    def of(cls, p: SlaPolicy) -> PolicyIO:
        return cls(
            id=p.id,
            name=p.name,
            position=p.position,
            active=p.active,
            calendar=p.calendar,
            targets=p.targets,
            conditions=ConditionsIO.of(p.conditions),
            warn_at=list(p.warn_at),
            escalations=[
                EscalationIO(
                    level=e.level,
                    at=e.at,
                    notify=list(e.notify),
                    raise_priority=e.raise_priority,
                    reassign_team_id=e.reassign_team_id,
                )
                for e in p.escalations
            ],
        )


class CalendarIO(Strict):
    id: int | None = None
    name: Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[\w.-]+$")]
    timezone: str = "Asia/Shanghai"
    hours: list[Annotated[list[str], Field(min_length=2, max_length=2)]] = Field(
        default=[], description='[["08:30", "12:00"], ["13:30", "18:00"]]; [] for round the clock'
    )
    chinese_holidays: bool = True
    overrides: dict[Day, bool] = Field(default={}, description="days made working days (true) or days off")


class CalendarDayIn(Strict):
    is_workday: bool
    note: Annotated[str | None, Field(max_length=200)] = None


class AgreementIO(Strict):
    id: int | None = None
    name: Annotated[str, Field(min_length=1, max_length=200)]
    targets: dict[ClockName, Minutes]
    compensation_fen_per_hour: Annotated[int, Field(ge=0, le=10**12, description="credit per started hour late, fen")]
    valid_from: Day
    valid_to: Day | None = None
    calendar: Annotated[str | None, Field(min_length=1, max_length=100, description="a calendar's name")] = None


class StatementLineOut(BaseModel):
    number: str
    clock: str
    target_minutes: int
    breached_at: datetime
    late_minutes: int
    agreement: str | None
    credit_fen: int


class StatementOut(BaseModel):
    customer_id: int
    month: str
    lines: list[StatementLineOut]
    total_credit_fen: int


@router.get("/sla/policies", response_model=list[PolicyIO])
def policies(ctx: Ctx, user: CurrentUser) -> list[PolicyIO]:
    return [PolicyIO.of(p) for p in svc.list_policies(ctx, user)]


@router.post("/sla/policies", status_code=201, response_model=PolicyIO)
def create_policy(body: PolicyIO, ctx: Ctx, user: CurrentUser) -> PolicyIO:
    return PolicyIO.of(svc.save_policy(ctx, user, body.domain()))


@router.put("/sla/policies/{policy_id}", response_model=PolicyIO)
def replace_policy(
    policy_id: Id,
    body: PolicyIO,
    ctx: Ctx,
    user: CurrentUser,
) -> PolicyIO:
    return PolicyIO.of(svc.save_policy(ctx, user, body.domain(policy_id)))


@router.get("/sla/calendars", response_model=list[CalendarIO])
def calendars(ctx: Ctx, user: CurrentUser) -> list[CalendarIO]:
    return [
        CalendarIO(
            id=c.id,
            name=c.name,
            timezone=c.timezone,
            hours=c.hours,
            chinese_holidays=c.chinese_holidays,
            overrides=c.overrides,
        )
        for c in svc.list_calendars(ctx, user)
    ]


@router.post("/sla/calendars", status_code=201, response_model=CalendarIO)
def create_calendar(body: CalendarIO, ctx: Ctx, user: CurrentUser) -> CalendarIO:
    spec = svc.add_calendar(
        ctx, user, CalendarSpec(None, body.name, body.timezone, body.hours, body.chinese_holidays, body.overrides)
    )
    return body.model_copy(update={"id": spec.id})


@router.put("/sla/calendars/{name}/days/{day}", status_code=204)
def set_calendar_day(
    name: Annotated[str, Path(max_length=100)],
    day: Day,
    body: CalendarDayIn,
    ctx: Ctx,
    user: CurrentUser,
) -> None:
    svc.set_calendar_day(ctx, user, name, day, body.is_workday, body.note)


@router.post("/customers/{customer_id}/agreements", status_code=201, response_model=AgreementIO)
def add_agreement(
    customer_id: Id,
    body: AgreementIO,
    ctx: Ctx,
    user: CurrentUser,
) -> AgreementIO:
    saved = svc.add_agreement(
        ctx,
        user,
        ServiceAgreement(
            id=None,
            customer_id=customer_id,
            name=body.name,
            targets=dict(body.targets),
            compensation_fen_per_hour=body.compensation_fen_per_hour,
            valid_from=body.valid_from,
            valid_to=body.valid_to,
            calendar=body.calendar,
        ),
    )
    return body.model_copy(update={"id": saved.id})


@router.get("/customers/{customer_id}/sla-statement", response_model=StatementOut)
def sla_statement(
    customer_id: Id,
    month: Annotated[str, Query(description="YYYY-MM")],
    ctx: Ctx,
    user: CurrentUser,
) -> StatementOut:
    st = svc.sla_statement(ctx, user, customer_id, month)
    lines = [
        StatementLineOut(
            number=x.number,
            clock=x.clock.value,
            target_minutes=x.target_minutes,
            breached_at=x.breached_at,
            late_minutes=x.late_minutes,
            agreement=x.agreement,
            credit_fen=x.credit_fen,
        )
        for x in st.lines
    ]
    return StatementOut(customer_id=customer_id, month=month, lines=lines, total_credit_fen=st.total_credit_fen)
