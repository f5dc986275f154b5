"""Storage of calendars, SLA policies, service agreements and the clocks of work orders."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update

from kefu.adapters.db.tables import (
    business_calendars,
    calendar_days,
    service_agreements,
    sla_policies,
    work_order_clocks,
    work_orders,
)
from kefu.adapters.db.types import UTCDateTime
from kefu.adapters.db.workorder_queries import with_number
from kefu.domain.calendars import CalendarSpec
from kefu.domain.sla import (
    ClockName,
    ClockPhase,
    ClockRecord,
    ClockState,
    Conditions,
    EscalationLevel,
    Notify,
    ServiceAgreement,
    SlaPolicy,
)
from kefu.services.ports import BreachedClock

_CLOCKS_OF = select(work_order_clocks).where(work_order_clocks.c.work_order_id == bindparam("id"))
_CLOCK_UPDATE = update(work_order_clocks).where(
    work_order_clocks.c.work_order_id == bindparam("b_work_order_id"), work_order_clocks.c.name == bindparam("b_name")
)


def _us(delta: timedelta) -> int:
    return delta // timedelta(microseconds=1)


def _policy(row: Any) -> SlaPolicy:
    return SlaPolicy(
        id=row.id,
        name=row.name,
        position=row.position,
        active=row.active,
        calendar=row.calendar,
        targets={ClockName(k): v for k, v in row.targets.items()},
        conditions=Conditions.from_dict(row.conditions),
        warn_at=tuple(row.warn_at),
        escalations=tuple(
            EscalationLevel(
                level=e["level"],
                at=e["at"],
                notify=tuple(Notify(n) for n in e.get("notify", ())),
                raise_priority=e.get("raise_priority", False),
                reassign_team_id=e.get("reassign_team_id"),
            )
            for e in row.escalations
        ),
    )


def _policy_values(p: SlaPolicy) -> dict[str, Any]:
    return {
        "name": p.name,
        **p.as_data(),
        "escalations": [
            {
                "level": e.level,
                "at": e.at,
                "notify": [n.value for n in e.notify],
                "raise_priority": e.raise_priority,
                "reassign_team_id": e.reassign_team_id,
            }
            for e in p.escalations
        ],
    }


def _clock(row: Any) -> ClockRecord:
    state = ClockState(
        name=ClockName(row.name),
        target=timedelta(minutes=row.target_minutes),
        phase=ClockPhase(row.phase),
        elapsed=timedelta(microseconds=row.elapsed_us),
        running_since=row.running_since,
        started_at=row.started_at,
        stopped_at=row.stopped_at,
        fired=row.fired,
        laps=row.laps,
    )
    return ClockRecord(
        work_order_id=row.work_order_id,
        state=state,
        calendar=row.calendar,
        policy_id=row.policy_id,
        agreement_id=row.agreement_id,
        due_at=row.due_at,
        next_fire_at=row.next_fire_at,
        breached_at=row.breached_at,
    )


def _clock_values(r: ClockRecord) -> dict[str, Any]:
    s = r.state
    return {
        "policy_id": r.policy_id,
        "agreement_id": r.agreement_id,
        "calendar": r.calendar,
        "target_minutes": s.target // timedelta(minutes=1),
        "phase": s.phase.value,
        "elapsed_us": _us(s.elapsed),
        "running_since": s.running_since,
        "started_at": s.started_at,
        "stopped_at": s.stopped_at,
        "fired": s.fired,
        "laps": s.laps,
        "due_at": r.due_at,
        "next_fire_at": r.next_fire_at,
        "breached_at": r.breached_at,
    }


def _agreement(row: Any) -> ServiceAgreement:
    return ServiceAgreement(
        id=row.id,
        customer_id=row.customer_id,
        name=row.name,
        targets={ClockName(k): v for k, v in row.targets.items()},
        compensation_fen_per_hour=row.compensation_fen_per_hour,
        valid_from=row.valid_from,
        valid_to=row.valid_to,
        calendar=row.calendar,
    )


class SqlSlaRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def calendars(self) -> list[CalendarSpec]:
        overrides: dict[int, dict[date, bool]] = {}
        for d in self.conn.execute(select(calendar_days)):
            overrides.setdefault(d.calendar_id, {})[d.day] = d.is_workday
        return [
            CalendarSpec(
                id=r.id,
                name=r.name,
                timezone=r.timezone,
                hours=list(r.hours),
                chinese_holidays=r.chinese_holidays,
                overrides=overrides.get(r.id, {}),
            )
            for r in self.conn.execute(select(business_calendars).order_by(business_calendars.c.id))
        ]

    def add_calendar(self, spec: CalendarSpec) -> CalendarSpec:
        new_id = self.conn.execute(
            insert(business_calendars)
            .values(name=spec.name, timezone=spec.timezone, hours=spec.hours, chinese_holidays=spec.chinese_holidays)
            .returning(business_calendars.c.id)
        ).scalar_one()
        for day, is_workday in spec.overrides.items():
            self.conn.execute(insert(calendar_days).values(calendar_id=new_id, day=day, is_workday=is_workday))
        return CalendarSpec(new_id, spec.name, spec.timezone, spec.hours, spec.chinese_holidays, spec.overrides)

    def set_calendar_day(self, calendar: str, day: date, is_workday: bool, note: str | None) -> bool:
        calendar_id = self.conn.execute(
            select(business_calendars.c.id).where(business_calendars.c.name == calendar)
        ).scalar()
        if calendar_id is None:
            return False
        key = (calendar_days.c.calendar_id == calendar_id) & (calendar_days.c.day == day)
        if self.conn.execute(update(calendar_days).where(key).values(is_workday=is_workday, note=note)).rowcount == 0:
            self.conn.execute(
                insert(calendar_days).values(calendar_id=calendar_id, day=day, is_workday=is_workday, note=note)
            )
        return True

    def policies(self) -> list[SlaPolicy]:
        rows = self.conn.execute(select(sla_policies).order_by(sla_policies.c.position, sla_policies.c.id))
        return [_policy(r) for r in rows]

    def save_policy(self, policy: SlaPolicy) -> SlaPolicy:
        values = _policy_values(policy)
        if policy.id is None:
            new_id = self.conn.execute(insert(sla_policies).values(values).returning(sla_policies.c.id)).scalar_one()
            return replace(policy, id=new_id)
        self.conn.execute(update(sla_policies).where(sla_policies.c.id == policy.id).values(values))
        return policy

    def agreement(self, agreement_id: int) -> ServiceAgreement | None:
        row = self.conn.execute(select(service_agreements).where(service_agreements.c.id == agreement_id)).first()
        return _agreement(row) if row else None

    def agreements_of(self, customer_id: int) -> list[ServiceAgreement]:
        rows = self.conn.execute(
            select(service_agreements)
            .where(service_agreements.c.customer_id == customer_id)
            .order_by(service_agreements.c.valid_from)
        )
        return [_agreement(r) for r in rows]

    def add_agreement(self, agreement: ServiceAgreement) -> ServiceAgreement:
        new_id = self.conn.execute(
            insert(service_agreements)
            .values(
                customer_id=agreement.customer_id,
                name=agreement.name,
                targets={k.value: v for k, v in agreement.targets.items()},
                calendar=agreement.calendar,
                compensation_fen_per_hour=agreement.compensation_fen_per_hour,
                valid_from=agreement.valid_from,
                valid_to=agreement.valid_to,
            )
            .returning(service_agreements.c.id)
        ).scalar_one()
        return replace(agreement, id=new_id)

    def clocks(self, work_order_id: int, *, lock: bool = False) -> list[ClockRecord]:
        stmt = _CLOCKS_OF
        if lock and self.conn.dialect.name == "postgresql":
            stmt = stmt.with_for_update()
        return [_clock(r) for r in self.conn.execute(stmt, {"id": work_order_id})]

    def add_clocks(self, records: list[ClockRecord]) -> None:
        if records:
            rows = [{"work_order_id": r.work_order_id, "name": r.state.name.value, **_clock_values(r)} for r in records]
            self.conn.execute(insert(work_order_clocks), rows if len(rows) > 1 else rows[0])

    def save_clocks(self, records: list[ClockRecord]) -> None:
        if records:
            rows = [
                {"b_work_order_id": r.work_order_id, "b_name": r.state.name.value, **_clock_values(r)} for r in records
            ]
            self.conn.execute(_CLOCK_UPDATE, rows if len(rows) > 1 else rows[0])

    def claim_due(self, now: datetime, limit: int) -> list[ClockRecord]:
        c = work_order_clocks.c
        stmt = (
            select(work_order_clocks)
            .where(c.next_fire_at.is_not(None), c.next_fire_at <= bindparam("now", type_=UTCDateTime))
            .order_by(c.next_fire_at)
            .limit(limit)
        )
        if self.conn.dialect.name == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        return [_clock(r) for r in self.conn.execute(stmt, {"now": now})]

    def breached_between(self, customer_id: int, start: datetime, end: datetime) -> list[BreachedClock]:
        c = work_order_clocks.c
        rows = self.conn.execute(
            with_number(work_order_clocks)
            .where(work_orders.c.customer_id == customer_id, c.breached_at >= start, c.breached_at < end)
            .order_by(c.breached_at)
        )
        return [BreachedClock(r.wo_number, _clock(r)) for r in rows]
