"""Managing time limits: policies, business calendars, service agreements; the monthly SLA statement (R33).

Policies and calendars apply to every organisation: the top organisation's admins change them.
Service agreements and statements concern one customer: within the actor's data scope."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from kefu.domain.calendars import CalendarSpec, parse_hours
from kefu.domain.errors import N_, NotFound, ValidationFailed
from kefu.domain.org import Permission, User
from kefu.domain.sla import ClockName, ServiceAgreement, SlaPolicy
from kefu.domain.values import within_years
from kefu.services import audit
from kefu.services.access import authz, scope
from kefu.services.access.authz import require
from kefu.services.context import Context
from kefu.services.sla.clocks import setup


def list_policies(ctx: Context, actor: User) -> list[SlaPolicy]:
    require(actor, Permission.READ)
    with ctx.uow() as uow:
        return uow.sla.policies()


def save_policy(ctx: Context, actor: User, policy: SlaPolicy) -> SlaPolicy:
    """Create a policy (id None) or replace one. Work orders registered later use it; running
    clocks keep the targets they were given until something they depend on changes."""
    with ctx.uow(write=True) as uow:
        authz.require_installation(ctx, uow, actor)
        policy.conditions.check(c.code for c in uow.categories.all())
        if policy.calendar not in {c.name for c in uow.sla.calendars()}:
            raise ValidationFailed("Calendar {name} does not exist.", field="calendar", name=policy.calendar)
        existing = {p.id: p for p in uow.sla.policies()}
        if policy.id is not None and policy.id not in existing:
            raise NotFound(kind=N_("SLA policy"), key=policy.id)
        if any(p.name == policy.name and p.id != policy.id for p in existing.values()):
            raise ValidationFailed("A policy named {name} exists already.", field="name", name=policy.name)
        saved = uow.sla.save_policy(policy)
        old = existing.get(policy.id)
        audit.record_setting_change(
            ctx, uow, actor, "sla_policy", saved.name, old.as_data() if old else None, saved.as_data()
        )
        uow.commit()
    ctx.caches.sla.clear()
    return saved


def list_calendars(ctx: Context, actor: User) -> list[CalendarSpec]:
    require(actor, Permission.READ)
    with ctx.uow() as uow:
        return uow.sla.calendars()


def add_calendar(ctx: Context, actor: User, spec: CalendarSpec) -> CalendarSpec:
    require(actor, Permission.SETTINGS_MANAGE)
    parse_hours(spec.hours)
    try:
        ZoneInfo(spec.timezone)
    except (KeyError, ValueError):
        raise ValidationFailed(
            "{tz} is not a time zone, e.g. Asia/Shanghai.", field="timezone", tz=spec.timezone
        ) from None
    with ctx.uow(write=True) as uow:
        authz.require_installation(ctx, uow, actor)
        if spec.name in {c.name for c in uow.sla.calendars()}:
            raise ValidationFailed("A calendar named {name} exists already.", field="name", name=spec.name)
        saved = uow.sla.add_calendar(spec)
        audit.record_setting_change(
            ctx,
            uow,
            actor,
            "calendar",
            spec.name,
            None,
            {"timezone": spec.timezone, "hours": spec.hours, "chinese_holidays": spec.chinese_holidays},
        )
        uow.commit()
    ctx.caches.sla.clear()
    return saved


def set_calendar_day(
    ctx: Context, actor: User, calendar: str, day: date, is_workday: bool, note: str | None = None
) -> None:
    """Declare a day a working day or a day off, e.g. next year's 调休 before the package knows it."""
    with ctx.uow(write=True) as uow:
        authz.require_installation(ctx, uow, actor)
        if not uow.sla.set_calendar_day(calendar, day, is_workday, (note or "").strip() or None):
            raise NotFound(kind=N_("Calendar"), key=calendar)
        audit.record_setting_change(
            ctx,
            uow,
            actor,
            "calendar_day",
            f"{calendar}/{day.isoformat()}",
            None,
            {"is_workday": is_workday, "note": note},
        )
        uow.commit()
    ctx.caches.sla.clear()


def add_agreement(ctx: Context, actor: User, agreement: ServiceAgreement) -> ServiceAgreement:
    """A service agreement of a customer who belongs to the actor's organisation subtree."""
    with ctx.uow(write=True) as uow:
        authz.require_operator(ctx, uow, actor, Permission.SLA_MANAGE)
        customer = scope.load_customer(ctx, uow, actor, agreement.customer_id)
        home = customer.organisation_id or scope.tree(ctx, uow).top_id
        authz.require_manages(ctx, uow, actor, Permission.SLA_MANAGE, home)
        if agreement.calendar is not None and agreement.calendar not in {c.name for c in uow.sla.calendars()}:
            raise ValidationFailed("Calendar {name} does not exist.", field="calendar", name=agreement.calendar)
        saved = uow.sla.add_agreement(agreement)
        uow.commit()
    return saved


@dataclass(frozen=True)
class StatementLine:
    number: str
    clock: ClockName
    target_minutes: int
    breached_at: datetime
    late_minutes: int
    agreement: str | None
    credit_fen: int


@dataclass(frozen=True)
class Statement:
    customer_id: int
    month: str
    lines: list[StatementLine]

    @property
    def total_credit_fen(self) -> int:
        return sum(line.credit_fen for line in self.lines)


def sla_statement(ctx: Context, actor: User, customer_id: int, month: str) -> Statement:
    """Breaches of the customer's commitments whose deadline passed in `month` (YYYY-MM, local time),
    with the credit owed under the service agreement the work order ran under: for a customer in the
    actor's data scope, and only the work orders in it."""
    require(actor, Permission.READ)
    try:
        first = datetime.strptime(month + "-01", "%Y-%m-%d").replace(tzinfo=ctx.timezone)
    except ValueError:
        raise ValidationFailed("month must look like 2026-11.", field="month") from None
    within_years(first, "month")
    following = (first + timedelta(days=32)).replace(day=1)
    now = ctx.clock.now()
    with ctx.uow() as uow:
        scope.load_customer(ctx, uow, actor, customer_id)
        s = setup(ctx, uow)
        agreements = {a.id: a for a in uow.sla.agreements_of(customer_id)}
        breached = uow.sla.breached_between(customer_id, first, following)
        ids = sorted({b.clock.work_order_id for b in breached})
        seen = uow.work_orders.get_many_by_id(ids, visible_to=scope.visible_to(ctx, uow, actor))
        lines = []
        for number, record in (b for b in breached if b.clock.work_order_id in seen):
            assert record.breached_at is not None
            late = record.state.used(s.calendar(record.calendar), now) - record.state.target
            agreement = agreements.get(record.agreement_id) if record.agreement_id else None
            lines.append(
                StatementLine(
                    number=number,
                    clock=record.state.name,
                    target_minutes=record.state.target // timedelta(minutes=1),
                    breached_at=record.breached_at,
                    late_minutes=max(0, int(late.total_seconds() // 60)),
                    agreement=agreement.name if agreement else None,
                    credit_fen=agreement.credit_for(late) if agreement else 0,
                )
            )
    return Statement(customer_id=customer_id, month=month, lines=lines)
