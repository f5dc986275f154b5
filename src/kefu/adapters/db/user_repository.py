"""Storage of users (with their open load, as routing sees it); their sessions and API tokens are in
token_repository.py."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, delete, func, insert, select, text, update

from kefu.adapters.db.tables import load_changes, users
from kefu.domain.org import Role, User
from kefu.domain.routing import Candidate

#: The open work orders a user handles: the folded counter plus the changes not folded yet.
USER_LOAD = (
    users.c.open_assigned
    + func.coalesce(
        select(func.sum(load_changes.c.delta))
        .where(load_changes.c.user_id == users.c.id)
        .correlate(users)
        .scalar_subquery(),
        0,
    )
).label("load")
# Routing reads only members on shift with room (the domain checks again), and only the columns it
# ranks by: a team's handful of rows from ix_users_team_id_open_assigned.
_CANDIDATES = select(
    users.c.id, USER_LOAD, users.c.capacity, users.c.on_shift, users.c.skills, users.c.languages, users.c.region
).where(
    users.c.team_id == bindparam("team_id"),
    users.c.active.is_(True),
    users.c.on_shift.is_(True),
    users.c.capacity > USER_LOAD,
    users.c.role.in_(bindparam("roles", expanding=True)),
)
_LOCK_USER = select(users.c.id).where(users.c.id == bindparam("user_id")).with_for_update()
_ROOM = select(users.c.id).where(
    users.c.id == bindparam("user_id"),
    users.c.active.is_(True),
    users.c.on_shift.is_(True),
    users.c.capacity > USER_LOAD,
)
_USERS_WITH_LOAD = select(users, USER_LOAD)
_FOLD = {
    # One statement on PostgreSQL: a reader sees either the rows or the counter they went into.
    "postgresql": text(
        "WITH moved AS (DELETE FROM load_changes WHERE id IN (SELECT id FROM load_changes ORDER BY id LIMIT :n) "
        "RETURNING user_id, delta) UPDATE users SET open_assigned = open_assigned + m.d "
        "FROM (SELECT user_id, sum(delta) AS d FROM moved GROUP BY user_id) m WHERE users.id = m.user_id"
    ),
}


def user_of_row(row: Any) -> User:
    """A user from a row of `users` (with the `load` column where the query has it)."""
    return User(
        id=row.id,
        username=row.username,
        display_name=row.display_name,
        role=Role(row.role),
        password_hash=row.password_hash,
        active=row.active,
        organisation_id=row.organisation_id,
        team_id=row.team_id,
        region=row.region,
        skills=list(row.skills),
        created_at=row.created_at,
        languages=list(row.languages),
        capacity=row.capacity,
        on_shift=row.on_shift,
        # With the changes not folded yet, where the query asked for them (not on the auth path).
        open_assigned=row.load if "load" in row._fields else row.open_assigned,
        must_change_password=row.must_change_password,
        email=row.email,
        phone=row.phone,
    )


class SqlUserRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, user: User) -> User:
        user.id = self.conn.execute(
            insert(users)
            .values(
                username=user.username,
                display_name=user.display_name,
                role=user.role.value,
                password_hash=user.password_hash,
                active=user.active,
                organisation_id=user.organisation_id,
                team_id=user.team_id,
                region=user.region,
                skills=user.skills,
                created_at=user.created_at,
                languages=user.languages,
                capacity=user.capacity,
                on_shift=user.on_shift,
                must_change_password=user.must_change_password,
                password_changed_at=user.created_at,
            )
            .returning(users.c.id)
        ).scalar_one()
        return user

    def get(self, user_id: int) -> User | None:
        row = self.conn.execute(_USERS_WITH_LOAD.where(users.c.id == user_id)).first()
        return user_of_row(row) if row else None

    def get_by_username(self, username: str) -> User | None:
        row = self.conn.execute(select(users).where(users.c.username == username)).first()
        return user_of_row(row) if row else None

    def get_many(self, ids: list[int]) -> dict[int, User]:
        if not ids:
            return {}
        return {row.id: user_of_row(row) for row in self.conn.execute(_USERS_WITH_LOAD.where(users.c.id.in_(ids)))}

    def find(
        self,
        *,
        roles: tuple[Role, ...],
        team_id: int | None = None,
        organisation_id: int | None = None,
        organisation_ids: frozenset[int] | None = None,
        include_inactive: bool = False,
    ) -> list[User]:
        query = _USERS_WITH_LOAD.where(users.c.role.in_([r.value for r in roles]))
        if not include_inactive:
            query = query.where(users.c.active.is_(True))
        if team_id is not None:
            query = query.where(users.c.team_id == team_id)
        if organisation_id is not None:
            query = query.where(users.c.organisation_id == organisation_id)
        if organisation_ids is not None:
            query = query.where(users.c.organisation_id.in_(sorted(organisation_ids)))
        return [user_of_row(r) for r in self.conn.execute(query.order_by(users.c.id))]

    def update_profile(self, user: User) -> None:
        """Store what an administrator changes: role, organisation, team, name, whether the account is
        active, and what dispatch uses (region, skills, languages, capacity, shift)."""
        self.conn.execute(
            update(users)
            .where(users.c.id == user.id)
            .values(
                role=user.role.value,
                organisation_id=user.organisation_id,
                team_id=user.team_id,
                region=user.region,
                skills=user.skills,
                languages=user.languages,
                capacity=user.capacity,
                on_shift=user.on_shift,
                display_name=user.display_name,
                active=user.active,
            )
        )

    def set_password(self, user_id: int, password_hash: str, *, at: datetime, must_change: bool) -> None:
        self.conn.execute(
            update(users)
            .where(users.c.id == user_id)
            .values(password_hash=password_hash, password_changed_at=at, must_change_password=must_change)
        )

    def set_must_change_password(self, user_id: int, must_change: bool) -> None:
        self.conn.execute(update(users).where(users.c.id == user_id).values(must_change_password=must_change))

    def candidates(self, team_id: int, roles: tuple[Role, ...]) -> list[Candidate]:
        """The active members of a team with one of these roles, as routing sees them (no password
        hashes, no JSON beyond skills and languages)."""
        rows = self.conn.execute(_CANDIDATES, {"team_id": team_id, "roles": [r.value for r in roles]})
        return [
            Candidate(r.id, r.load, r.capacity, r.on_shift, tuple(r.skills), tuple(r.languages), r.region) for r in rows
        ]

    def hold_capacity(self, user_id: int) -> bool:
        """Lock the user's row and tell whether they are on shift with room for one more work order.
        Held to the end of the transaction, so two concurrent decisions cannot both fill the last place."""
        # Lock first, then look in a statement of its own: under READ COMMITTED it sees every change
        # committed by whoever held the lock before.
        if self.conn.execute(_LOCK_USER, {"user_id": user_id}).first() is None:
            return False
        return self.conn.execute(_ROOM, {"user_id": user_id}).first() is not None

    def fold_load_changes(self, limit: int = 10_000) -> int:
        """Move appended load changes into the users' counters; returns how many were folded."""
        if self.conn.dialect.name in _FOLD:
            return self.conn.execute(_FOLD[self.conn.dialect.name], {"n": limit}).rowcount or 0
        rows = self.conn.execute(
            select(load_changes.c.id, load_changes.c.user_id, load_changes.c.delta)
            .order_by(load_changes.c.id)
            .limit(limit)
        ).all()
        if not rows:
            return 0
        sums: dict[int, int] = {}
        for r in rows:
            sums[r.user_id] = sums.get(r.user_id, 0) + r.delta
        for user_id, delta in sums.items():
            self.conn.execute(
                update(users).where(users.c.id == user_id).values(open_assigned=users.c.open_assigned + delta)
            )
        self.conn.execute(delete(load_changes).where(load_changes.c.id <= rows[-1].id))
        return len(sums)
