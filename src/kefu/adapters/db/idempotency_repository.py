"""Storage of idempotency keys: a repeated registration with the same key gets the first answer."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, bindparam, select
from sqlalchemy.dialects import postgresql, sqlite

from kefu.adapters.db.tables import idempotency_keys
from kefu.services.ports import IdempotentRequest

_IDEMPOTENCY_GET = select(idempotency_keys.c.request_hash, idempotency_keys.c.work_order_id).where(
    idempotency_keys.c.user_id == bindparam("user_id"), idempotency_keys.c.key == bindparam("key")
)
# A concurrent request with the same key waits for the first to commit and then inserts nothing.
_IDEMPOTENCY_CLAIM = {
    name: dialect.insert(idempotency_keys).on_conflict_do_nothing().returning(idempotency_keys.c.user_id)
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}


class SqlIdempotencyRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def get(self, user_id: int, key: str) -> IdempotentRequest | None:
        row = self.conn.execute(_IDEMPOTENCY_GET, {"user_id": user_id, "key": key}).first()
        return IdempotentRequest(row.request_hash, row.work_order_id) if row else None

    def claim(self, *, user_id: int, key: str, request_hash: str, work_order_id: int, at: datetime) -> bool:
        stmt = _IDEMPOTENCY_CLAIM[self.conn.dialect.name]
        row = self.conn.execute(
            stmt,
            {
                "user_id": user_id,
                "key": key,
                "request_hash": request_hash,
                "work_order_id": work_order_id,
                "created_at": at,
            },
        ).first()
        return row is not None
