"""Storage of field visits and of the checklists of work orders."""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from kefu.adapters.db.tables import checklist_steps, visits
from kefu.adapters.db.workorder_queries import insert_part, save_part, with_number
from kefu.domain.checklists import ChecklistStep
from kefu.domain.visits import Visit, VisitOutcome, VisitStatus
from kefu.services.ports import NumberedVisit

_VISIT_FIELDS = [f.name for f in fields(Visit) if f.name not in ("id", "version")]


def _visit(row: Any) -> Visit:
    values = {name: getattr(row, name) for name in _VISIT_FIELDS}
    values["status"] = VisitStatus(row.status)
    values["outcome"] = VisitOutcome(row.outcome) if row.outcome else None
    values["tools"], values["parts"] = list(row.tools), list(row.parts)
    return Visit(id=row.id, version=row.version, **values)


class SqlVisitRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, visit: Visit) -> Visit:
        visit.id = insert_part(self.conn, visits, visit, _VISIT_FIELDS)
        return visit

    def get(self, visit_id: int) -> Visit | None:
        row = self.conn.execute(select(visits).where(visits.c.id == visit_id)).first()
        return _visit(row) if row else None

    def save(self, visit: Visit, expected_version: int) -> bool:
        return save_part(self.conn, visits, visit, _VISIT_FIELDS, expected_version)

    def of_work_order(self, work_order_id: int) -> list[Visit]:
        rows = self.conn.execute(select(visits).where(visits.c.work_order_id == work_order_id).order_by(visits.c.id))
        return [_visit(r) for r in rows]

    def of_engineers(
        self, engineer_ids: list[int], start: datetime, end: datetime, *, include_done: bool = True
    ) -> list[NumberedVisit]:
        """Visits of these engineers whose window overlaps [start, end), in time order, with the
        work-order number."""
        if not engineer_ids:
            return []
        v = visits.c
        query = with_number(visits).where(v.engineer_id.in_(engineer_ids), v.window_start < end, v.window_end > start)
        if not include_done:
            query = query.where(v.status.in_((VisitStatus.SCHEDULED.value, VisitStatus.ON_SITE.value)))
        return [NumberedVisit(_visit(r), r.wo_number) for r in self.conn.execute(query.order_by(v.window_start, v.id))]


class SqlChecklistRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def steps(self, work_order_id: int) -> list[ChecklistStep]:
        c = checklist_steps.c
        rows = self.conn.execute(select(checklist_steps).where(c.work_order_id == work_order_id).order_by(c.position))
        return [ChecklistStep(r.position, r.code, r.done_at, r.done_by, dict(r.data)) for r in rows]

    def add(self, work_order_id: int, steps: list[ChecklistStep]) -> None:
        if steps:
            self.conn.execute(
                insert(checklist_steps),
                [
                    {
                        "work_order_id": work_order_id,
                        "position": s.position,
                        "code": s.code,
                        "done_at": s.done_at,
                        "done_by": s.done_by,
                        "data": s.data,
                    }
                    for s in steps
                ],
            )

    def save(self, work_order_id: int, step: ChecklistStep) -> None:
        c = checklist_steps.c
        self.conn.execute(
            update(checklist_steps)
            .where(c.work_order_id == work_order_id, c.position == step.position)
            .values(done_at=step.done_at, done_by=step.done_by, data=step.data)
        )
