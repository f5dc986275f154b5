"""Storage of page sessions and API tokens (by the SHA-256 of their secret, never the secret)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update

from kefu.adapters.db.tables import auth_tokens, second_factors, users
from kefu.adapters.db.types import UTCDateTime
from kefu.adapters.db.user_repository import user_of_row
from kefu.services.ports import Credential, TokenGrant

_VALID = (auth_tokens.c.revoked_at.is_(None), auth_tokens.c.expires_at > bindparam("now", type_=UTCDateTime))

# Built once: every authenticated request that misses the cache asks it.
_USER_FOR_TOKEN = (
    select(
        users,
        auth_tokens.c.id.label("token_id"),
        auth_tokens.c.expires_at.label("token_expires_at"),
        auth_tokens.c.scopes,
        auth_tokens.c.stage,
        auth_tokens.c.last_seen_at,
        second_factors.c.enabled_at.label("factor_enabled_at"),
    )
    .join(auth_tokens, auth_tokens.c.user_id == users.c.id)
    .outerjoin(second_factors, second_factors.c.user_id == users.c.id)
    .where(
        auth_tokens.c.token_hash == bindparam("token_hash"),
        auth_tokens.c.kind == bindparam("kind"),
        *_VALID,
        users.c.active.is_(True),
    )
)
_CREDENTIAL = select(
    auth_tokens.c.id,
    auth_tokens.c.user_id,
    auth_tokens.c.kind,
    auth_tokens.c.label,
    auth_tokens.c.scopes,
    auth_tokens.c.created_at,
    auth_tokens.c.expires_at,
    auth_tokens.c.last_seen_at,
    auth_tokens.c.user_agent,
    auth_tokens.c.address,
)


def _credential(row: Any) -> Credential:
    return Credential(
        id=row.id,
        user_id=row.user_id,
        kind=row.kind,
        name=row.label,
        scopes=row.scopes,
        created_at=row.created_at,
        expires_at=row.expires_at,
        last_seen_at=row.last_seen_at,
        user_agent=row.user_agent,
        address=row.address,
    )


class SqlTokenRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(
        self,
        *,
        user_id: int,
        token_hash: str,
        kind: str,
        label: str | None,
        at: datetime,
        expires_at: datetime,
        scopes: str | None = None,
        stage: str | None = None,
        user_agent: str | None = None,
        address: str | None = None,
    ) -> int:
        token_id: int = self.conn.execute(
            insert(auth_tokens)
            .values(
                user_id=user_id,
                token_hash=token_hash,
                kind=kind,
                label=label,
                created_at=at,
                expires_at=expires_at,
                scopes=scopes,
                stage=stage,
                user_agent=user_agent,
                address=address,
                last_seen_at=at if kind == "session" else None,
            )
            .returning(auth_tokens.c.id)
        ).scalar_one()
        return token_id

    def user_for(self, token_hash: str, kind: str, now: datetime) -> TokenGrant | None:
        row = self.conn.execute(_USER_FOR_TOKEN, {"token_hash": token_hash, "kind": kind, "now": now}).first()
        if row is None:
            return None
        return TokenGrant(
            user=user_of_row(row),
            expires_at=row.token_expires_at,
            token_id=row.token_id,
            scopes=row.scopes,
            stage=row.stage,
            last_seen_at=row.last_seen_at,
            two_factor=row.factor_enabled_at is not None,
        )

    def get(self, token_id: int, now: datetime) -> Credential | None:
        row = self.conn.execute(_CREDENTIAL.where(auth_tokens.c.id == token_id, *_VALID), {"now": now}).first()
        return _credential(row) if row else None

    def of_users(self, user_ids: list[int] | None, kind: str, *, valid_after: datetime) -> list[Credential]:
        query = _CREDENTIAL.where(
            auth_tokens.c.kind == kind,
            auth_tokens.c.revoked_at.is_(None),
            auth_tokens.c.expires_at > valid_after,
            # Sessions half-way through their login are nobody's business yet.
            auth_tokens.c.stage.is_(None),
        )
        if user_ids is not None:
            query = query.where(auth_tokens.c.user_id.in_(user_ids))
        return [_credential(r) for r in self.conn.execute(query.order_by(auth_tokens.c.id.desc()).limit(1000))]

    def touch(self, token_id: int, at: datetime) -> None:
        self.conn.execute(update(auth_tokens).where(auth_tokens.c.id == token_id).values(last_seen_at=at))

    def set_stage(self, token_id: int, stage: str | None, *, expires_at: datetime) -> None:
        self.conn.execute(
            update(auth_tokens)
            .where(auth_tokens.c.id == token_id)
            .values(stage=stage, expires_at=expires_at, failed_codes=0)
        )

    def count_failed_code(self, token_id: int) -> int:
        count: int = self.conn.execute(
            update(auth_tokens)
            .where(auth_tokens.c.id == token_id)
            .values(failed_codes=auth_tokens.c.failed_codes + 1)
            .returning(auth_tokens.c.failed_codes)
        ).scalar_one()
        return count

    def revoke(self, token_hash: str, at: datetime) -> None:
        self.conn.execute(
            update(auth_tokens)
            .where(auth_tokens.c.token_hash == token_hash, auth_tokens.c.revoked_at.is_(None))
            .values(revoked_at=at)
        )

    def revoke_of_user(
        self, user_id: int, kind: str, at: datetime, *, ids: list[int] | None = None, keep: int | None = None
    ) -> list[str]:
        query = (
            update(auth_tokens)
            .where(
                auth_tokens.c.user_id == user_id,
                auth_tokens.c.kind == kind,
                auth_tokens.c.revoked_at.is_(None),
                auth_tokens.c.expires_at > at,
            )
            .values(revoked_at=at)
            .returning(auth_tokens.c.token_hash)
        )
        if ids is not None:
            query = query.where(auth_tokens.c.id.in_(ids))
        if keep is not None:
            query = query.where(auth_tokens.c.id != keep)
        return list(self.conn.execute(query).scalars())
