"""Storage of failed logins and the locks they earned (kefu.services.access.lockout)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, delete, select
from sqlalchemy.dialects import postgresql, sqlite

from kefu.adapters.db.tables import login_failures as t
from kefu.services.ports import LoginFailures


def _record(row: Row[Any]) -> LoginFailures:
    return LoginFailures(
        scope=row.scope,
        key=row.key,
        failures=row.failures,
        last_failure_at=row.last_failure_at,
        locked_until=row.locked_until,
    )


class SqlLockoutRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def get(self, scope: str, key: str) -> LoginFailures | None:
        row = self.conn.execute(select(t).where(t.c.scope == scope, t.c.key == key)).first()
        return _record(row) if row else None

    def put(self, record: LoginFailures) -> None:
        dialect = postgresql if self.conn.dialect.name == "postgresql" else sqlite
        values = {
            "scope": record.scope,
            "key": record.key,
            "failures": record.failures,
            "last_failure_at": record.last_failure_at,
            "locked_until": record.locked_until,
        }
        stmt = dialect.insert(t).values(**values)
        self.conn.execute(
            stmt.on_conflict_do_update(
                index_elements=[t.c.scope, t.c.key],
                set_={name: stmt.excluded[name] for name in ("failures", "last_failure_at", "locked_until")},
            )
        )

    def clear(self, scope: str, key: str) -> bool:
        return bool(self.conn.execute(delete(t).where(t.c.scope == scope, t.c.key == key)).rowcount)

    def locked(self, now: datetime, limit: int) -> list[LoginFailures]:
        rows = self.conn.execute(select(t).where(t.c.locked_until > now).order_by(t.c.locked_until.desc()).limit(limit))
        return [_record(row) for row in rows]
