"""Storage of the audit log, and the reads that verify the hash chains (the audit log's, each work
order's events', and the seals that fix the events up to an id).

Audit rows are written when the unit of work commits (`flush`), after everything else the use case
did: the chain's head is taken under a lock (PostgreSQL: a transaction-level advisory lock; SQLite has
one writer anyway) that is therefore always the last lock a transaction takes and is held only until
its commit — no deadlock with the rows the use case changed, and no long wait behind it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection, func, insert, select, text, tuple_

from kefu.adapters.db.tables import audit_log, users, work_order_events, work_orders
from kefu.adapters.db.workorder_repository import event_of
from kefu.domain.audit import (
    GENESIS,
    AuditAction,
    AuditEntry,
    AuditFilter,
    AuditRecord,
    ChainLink,
    audit_content,
    chained,
    event_content,
)

#: pg_advisory_xact_lock key of the audit chain's head ("kefu" + 1).
AUDIT_LOCK = 0x6B656675_00000001
_BATCH = 5000


def _record(row: Any) -> AuditRecord:
    return AuditRecord(
        id=row.id,
        seq=row.seq,
        entry=AuditEntry(
            action=AuditAction(row.action),
            at=row.at,
            actor_id=row.actor_id,
            subject_type=row.subject_type,
            subject_id=row.subject_id,
            customer_id=row.customer_id,
            reason=row.reason,
            origin=row.origin,
            details=dict(row.details or {}),
        ),
        prev_hash=row.prev_hash,
        hash=row.hash,
    )


def _event_link(row: Any) -> ChainLink:
    content = event_content(row.work_order_id, row.seq, event_of(row))
    return ChainLink("work_order_events", row.id, row.seq, row.prev_hash, row.hash, content)


class SqlAuditRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.pending: list[AuditEntry] = []

    def add(self, entry: AuditEntry) -> None:
        """Kept until the unit of work commits; then chained and written (`flush`)."""
        self.pending.append(entry)

    def hold_chain(self) -> None:
        """Wait for the chain's head and keep it until the transaction ends (SQLite: the write
        transaction holds it already)."""
        if self.conn.dialect.name == "postgresql":
            self.conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": AUDIT_LOCK})

    def flush(self) -> None:
        if not self.pending:
            return
        self.hold_chain()
        if self.conn.dialect.name == "sqlite" and not self.conn.get_execution_options().get("kefu_write"):
            # A read transaction cannot safely become a writer on SQLite (its snapshot may be stale).
            raise RuntimeError("audit rows are written by units of work opened with write=True")
        last = self.conn.execute(select(audit_log.c.seq, audit_log.c.hash).order_by(audit_log.c.seq.desc()).limit(1))
        head = last.first()
        seq, prev = (int(head.seq), str(head.hash)) if head else (0, GENESIS)
        rows = chained((audit_content(n, e) for n, e in enumerate(self.pending, start=seq + 1)), prev)
        self.conn.execute(insert(audit_log), rows[0] if len(rows) == 1 else rows)
        self.pending.clear()

    def find(self, flt: AuditFilter, limit: int) -> list[AuditRecord]:
        a = audit_log.c
        query = select(audit_log).order_by(a.id.desc()).limit(limit)
        if flt.start is not None:
            query = query.where(a.at >= flt.start)
        if flt.end is not None:
            query = query.where(a.at < flt.end)
        if flt.actor_id is not None:
            query = query.where(a.actor_id == flt.actor_id)
        if flt.actions:
            query = query.where(a.action.in_([x.value for x in flt.actions]))
        if flt.subject_type is not None:
            query = query.where(a.subject_type == flt.subject_type)
        if flt.subject_id is not None:
            query = query.where(a.subject_id == flt.subject_id)
        if flt.customer_id is not None:
            query = query.where(a.customer_id == flt.customer_id)
        if flt.before_id is not None:
            query = query.where(a.id < flt.before_id)
        if flt.actor_organisation_ids is not None:
            staff = select(users.c.id).where(users.c.organisation_id.in_(sorted(flt.actor_organisation_ids)))
            query = query.where(a.actor_id.in_(staff))
        return [_record(row) for row in self.conn.execute(query)]

    def last(self, action: AuditAction) -> AuditRecord | None:
        a = audit_log.c
        row = self.conn.execute(
            select(audit_log).where(a.action == action.value).order_by(a.id.desc()).limit(1)
        ).first()
        return _record(row) if row else None

    # --- verification -------------------------------------------------------------------------------

    def sizes(self) -> int:
        """Audit rows and work-order events together (what a verification walks)."""
        count = select(func.count()).select_from
        return int(
            self.conn.execute(count(audit_log)).scalar_one() + self.conn.execute(count(work_order_events)).scalar_one()
        )

    def chain(self, after_seq: int, limit: int) -> list[tuple[AuditRecord, ChainLink]]:
        """Audit rows after `after_seq` in chain order, each with what its hash covers."""
        a = audit_log.c
        rows = self.conn.execute(select(audit_log).where(a.seq > after_seq).order_by(a.seq).limit(limit))
        out = []
        for row in rows:
            record = _record(row)
            link = ChainLink(
                "audit_log", row.id, row.seq, row.prev_hash, row.hash, audit_content(row.seq, record.entry)
            )
            out.append((record, link))
        return out

    def event_counts(self, after_work_order_id: int, limit: int) -> list[tuple[int, int]]:
        """(work-order id, the number of events it records) in id order."""
        w = work_orders.c
        rows = self.conn.execute(
            select(w.id, w.event_seq).where(w.id > after_work_order_id).order_by(w.id).limit(limit)
        )
        return [(int(r.id), int(r.event_seq)) for r in rows]

    def event_links(self, first_work_order_id: int, last_work_order_id: int) -> Iterator[tuple[int, ChainLink]]:
        """(work-order id, link) of these work orders' events, by work order and seq."""
        e = work_order_events.c
        after: tuple[int, int] = (first_work_order_id - 1, 2**31)
        while True:
            rows = self.conn.execute(
                select(work_order_events)
                .where(tuple_(e.work_order_id, e.seq) > tuple_(*after), e.work_order_id <= last_work_order_id)
                .order_by(e.work_order_id, e.seq)
                .limit(_BATCH)
            ).all()
            for row in rows:
                yield int(row.work_order_id), _event_link(row)
            if len(rows) < _BATCH:
                return
            after = (rows[-1].work_order_id, rows[-1].seq)

    def events_outside(self, known_last_work_order_id: int) -> int | None:
        """The id of an event whose work order lies beyond the ones walked (None: there is none)."""
        e = work_order_events.c
        return self.conn.execute(
            select(e.id).where(e.work_order_id > known_last_work_order_id).order_by(e.id).limit(1)
        ).scalar()

    def event_hashes(self, from_id: int, through_id: int) -> Iterator[tuple[int, str]]:
        """(id, hash) of the events with from_id < id <= through_id, in id order."""
        e = work_order_events.c
        after = from_id
        while True:
            rows = self.conn.execute(
                select(e.id, e.hash).where(e.id > after, e.id <= through_id).order_by(e.id).limit(_BATCH)
            ).all()
            for row in rows:
                yield int(row.id), str(row.hash)
            if len(rows) < _BATCH:
                return
            after = rows[-1].id

    # --- seals --------------------------------------------------------------------------------------

    def event_horizon(self) -> tuple[int, int | None]:
        """(the highest event id now, a marker of the transactions that may still be adding lower
        ids). On PostgreSQL the marker is the next transaction id: once every transaction older than
        it has ended (`horizon_passed`), no event below that id can still appear. SQLite has one
        writer at a time, so no marker is needed."""
        top = self.conn.execute(select(func.coalesce(func.max(work_order_events.c.id), 0))).scalar_one()
        if self.conn.dialect.name != "postgresql":
            return int(top), None
        marker = self.conn.execute(text("SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint")).scalar_one()
        return int(top), int(marker)

    def horizon_passed(self, marker: int | None) -> bool:
        if marker is None or self.conn.dialect.name != "postgresql":
            return True
        oldest = self.conn.execute(text("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")).scalar_one()
        return int(oldest) >= marker
