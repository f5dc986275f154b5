"""Storage of second factors: TOTP secrets (sealed by the services before they get here) and
recovery codes (hashed)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, delete, func, insert, or_, select, update

from kefu.adapters.db.tables import recovery_codes, second_factors
from kefu.services.ports import SecondFactor


class SqlSecondFactorRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def get(self, user_id: int) -> SecondFactor | None:
        row = self.conn.execute(select(second_factors).where(second_factors.c.user_id == user_id)).first()
        if row is None:
            return None
        return SecondFactor(
            user_id=row.user_id,
            sealed_secret=row.secret,
            created_at=row.created_at,
            enabled_at=row.enabled_at,
            last_step=row.last_step,
        )

    def begin(self, user_id: int, sealed_secret: str, at: datetime) -> None:
        self.remove(user_id)
        self.conn.execute(insert(second_factors).values(user_id=user_id, secret=sealed_secret, created_at=at))

    def enable(self, user_id: int, at: datetime) -> None:
        self.conn.execute(update(second_factors).where(second_factors.c.user_id == user_id).values(enabled_at=at))

    def claim_step(self, user_id: int, step: int) -> bool:
        # One statement: of two requests with the same code at once, one wins.
        result = self.conn.execute(
            update(second_factors)
            .where(
                second_factors.c.user_id == user_id,
                or_(second_factors.c.last_step.is_(None), second_factors.c.last_step < step),
            )
            .values(last_step=step)
        )
        return result.rowcount == 1

    def remove(self, user_id: int) -> bool:
        self.conn.execute(delete(recovery_codes).where(recovery_codes.c.user_id == user_id))
        return self.conn.execute(delete(second_factors).where(second_factors.c.user_id == user_id)).rowcount == 1

    def replace_recovery_codes(self, user_id: int, code_hashes: list[str], at: datetime) -> None:
        self.conn.execute(delete(recovery_codes).where(recovery_codes.c.user_id == user_id))
        self.conn.execute(
            insert(recovery_codes), [{"user_id": user_id, "code_hash": h, "created_at": at} for h in code_hashes]
        )

    def use_recovery_code(self, user_id: int, code_hash: str, at: datetime) -> bool:
        result = self.conn.execute(
            update(recovery_codes)
            .where(
                recovery_codes.c.user_id == user_id,
                recovery_codes.c.code_hash == code_hash,
                recovery_codes.c.used_at.is_(None),
            )
            .values(used_at=at)
        )
        return result.rowcount == 1

    def recovery_codes_left(self, user_id: int) -> int:
        left: int = self.conn.execute(
            select(func.count())
            .select_from(recovery_codes)
            .where(recovery_codes.c.user_id == user_id, recovery_codes.c.used_at.is_(None))
        ).scalar_one()
        return left
