"""Storage of password-reset codes (hashed; single use; valid until they expire or a newer one is made)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, insert, select, update

from kefu.adapters.db.tables import password_resets


class SqlPasswordResetRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, *, user_id: int, code_hash: str, created_by: int | None, at: datetime, expires_at: datetime) -> None:
        self.conn.execute(
            update(password_resets)
            .where(password_resets.c.user_id == user_id, password_resets.c.used_at.is_(None))
            .values(used_at=at)
        )
        self.conn.execute(
            insert(password_resets).values(
                user_id=user_id, code_hash=code_hash, created_by=created_by, created_at=at, expires_at=expires_at
            )
        )

    def user_of(self, code_hash: str, now: datetime) -> int | None:
        user_id: int | None = self.conn.execute(
            select(password_resets.c.user_id).where(
                password_resets.c.code_hash == code_hash,
                password_resets.c.used_at.is_(None),
                password_resets.c.expires_at > now,
            )
        ).scalar_one_or_none()
        return user_id

    def redeem(self, code_hash: str, now: datetime) -> int | None:
        # One statement: a code is used once even if sent twice at the same moment.
        user_id = self.conn.execute(
            update(password_resets)
            .where(
                password_resets.c.code_hash == code_hash,
                password_resets.c.used_at.is_(None),
                password_resets.c.expires_at > now,
            )
            .values(used_at=now)
            .returning(password_resets.c.user_id)
        ).scalar_one_or_none()
        return user_id
