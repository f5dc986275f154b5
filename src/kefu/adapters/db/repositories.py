"""Repositories: SQL in, domain objects out. Mapping is explicit so the domain stays plain Python."""

from __future__ import annotations

import functools
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Insert,
    Select,
    String,
    bindparam,
    delete,
    exists,
    false,
    func,
    insert,
    literal_column,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from kefu.adapters.db import numbering
from kefu.adapters.db.tables import (
    auth_tokens,
    categories,
    customers,
    dispatches,
    idempotency_keys,
    load_changes,
    organisations,
    personal_data_access,
    service_agreements,
    teams,
    users,
    work_order_events,
    work_order_parties,
    work_orders,
)
from kefu.adapters.db.types import UTCDateTime
from kefu.domain.categories import Category
from kefu.domain.customers import Customer, Device, Tier
from kefu.domain.events import EventKind, WorkOrderEvent
from kefu.domain.org import Organisation, OrganisationKind, Role, Team, TeamFunction, User
from kefu.domain.routing import Candidate
from kefu.domain.workorders import Channel, Priority, Status, WorkOrder, WorkOrderType, format_number
from kefu.services.ports import CustomerFilter, CustomerProfile, WorkOrderFilter

# Statements on the hot paths (intake, reads, auth) are built once; SQLAlchemy then reuses their
# compiled form and each call only binds parameters.
_CUSTOMER_BY_ID = select(customers).where(customers.c.id == bindparam("id"))
_AGREEMENT_IN_FORCE = (
    select(service_agreements.c.id)
    .where(
        service_agreements.c.customer_id == customers.c.id,
        service_agreements.c.valid_from <= bindparam("day"),
        or_(service_agreements.c.valid_to.is_(None), service_agreements.c.valid_to >= bindparam("day")),
    )
    .order_by(service_agreements.c.valid_from.desc())
    .limit(1)
    .correlate(customers)
    .scalar_subquery()
)
_CUSTOMER_PROFILE = select(customers.c.tier, customers.c.region, _AGREEMENT_IN_FORCE.label("agreement_id")).where(
    customers.c.id == bindparam("id")
)
_CUSTOMER_INSERT = insert(customers).returning(customers.c.id)
_WO_INSERT = insert(work_orders).returning(work_orders.c.id, work_orders.c.number)


@functools.lru_cache(maxsize=8)
def _numbered_insert(number_sql: str) -> Insert:
    """The INSERT that takes its number from the day's sequence (one statement per day)."""
    number = literal_column(number_sql, String())
    return insert(work_orders).values(number=number).returning(work_orders.c.id, work_orders.c.number)


_WO_BY_NUMBER = select(work_orders).where(work_orders.c.number == bindparam("number"))
_WO_BY_ID = select(work_orders).where(work_orders.c.id == bindparam("id"))
_EVENT_INSERT = insert(work_order_events)
_EVENTS_OF = (
    select(work_order_events)
    .where(work_order_events.c.work_order_id == bindparam("id"))
    .order_by(work_order_events.c.id)
)
_CATEGORY_BY_CODE = select(categories).where(categories.c.code == bindparam("code"))
_IDEMPOTENCY_GET = select(idempotency_keys.c.request_hash, idempotency_keys.c.work_order_id).where(
    idempotency_keys.c.user_id == bindparam("user_id"), idempotency_keys.c.key == bindparam("key")
)
# A concurrent request with the same key waits for the first to commit and then inserts nothing.
_IDEMPOTENCY_CLAIM = {
    name: dialect.insert(idempotency_keys).on_conflict_do_nothing().returning(idempotency_keys.c.user_id)
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}
_USER_FOR_TOKEN = (
    select(users, auth_tokens.c.expires_at.label("token_expires_at"))
    .join(auth_tokens, auth_tokens.c.user_id == users.c.id)
    .where(
        auth_tokens.c.token_hash == bindparam("token_hash"),
        auth_tokens.c.kind == bindparam("kind"),
        auth_tokens.c.revoked_at.is_(None),
        auth_tokens.c.expires_at > bindparam("now", type_=UTCDateTime),
        users.c.active.is_(True),
    )
)


def _customer(row: Any) -> Customer:
    return Customer(
        id=row.id,
        name=row.name,
        phone=row.phone,
        tier=Tier(row.tier),
        brand=row.brand,
        region=row.region,
        email=row.email,
        address=row.address,
        id_number=row.id_number,
        services=list(row.services),
        devices=[Device(model=d["model"], serial=d.get("serial")) for d in row.devices],
        tags=list(row.tags),
        created_at=row.created_at,
        wechat_openid=row.wechat_openid,
        account_number=row.account_number,
    )


class SqlCustomerRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, customer: Customer) -> Customer:
        values = {
            "name": customer.name,
            "phone": customer.phone,
            "tier": customer.tier.value,
            "brand": customer.brand,
            "region": customer.region,
            "email": customer.email,
            "address": customer.address,
            "id_number": customer.id_number,
            "services": customer.services,
            "devices": [d.as_dict() for d in customer.devices],
            "tags": customer.tags,
            "created_at": customer.created_at,
            "wechat_openid": customer.wechat_openid,
            "account_number": customer.account_number,
        }
        customer.id = self.conn.execute(_CUSTOMER_INSERT, values).scalar_one()
        return customer

    def get(self, customer_id: int) -> Customer | None:
        row = self.conn.execute(_CUSTOMER_BY_ID, {"id": customer_id}).first()
        return _customer(row) if row else None

    def profile_of(self, customer_id: int, day: date) -> CustomerProfile | None:
        row = self.conn.execute(_CUSTOMER_PROFILE, {"id": customer_id, "day": day}).first()
        return CustomerProfile(Tier(row.tier), row.region, row.agreement_id) if row else None

    def get_many(self, ids: list[int]) -> dict[int, Customer]:
        if not ids:
            return {}
        rows = self.conn.execute(select(customers).where(customers.c.id.in_(ids)))
        return {row.id: _customer(row) for row in rows}

    def search(self, flt: CustomerFilter, limit: int) -> list[Customer]:
        query = select(customers).order_by(customers.c.id.desc()).limit(limit)
        if flt.phone:
            query = query.where(customers.c.phone.startswith(flt.phone, autoescape=True))
        if flt.name:
            query = query.where(customers.c.name.startswith(flt.name, autoescape=True))
        if flt.before_id is not None:
            query = query.where(customers.c.id < flt.before_id)
        return [_customer(row) for row in self.conn.execute(query)]

    def log_personal_data_access(self, *, user_id: int, customer_id: int, at: datetime, purpose: str) -> None:
        self.conn.execute(
            insert(personal_data_access).values(user_id=user_id, customer_id=customer_id, at=at, purpose=purpose)
        )


_WO_MUTABLE = (
    "type",
    "category",
    "channel",
    "priority",
    "severity",
    "title",
    "description",
    "status",
    "handler_id",
    "team_id",
    "updated_at",
    "fault_time",
    "fault_place",
    "device",
    "promised_at",
    "resolved_at",
    "closed_at",
    "reopen_count",
    "next_due_at",
)


def _work_order(row: Any) -> WorkOrder:
    return WorkOrder(
        id=row.id,
        number=row.number,
        customer_id=row.customer_id,
        type=WorkOrderType(row.type),
        category=row.category,
        channel=Channel(row.channel),
        priority=Priority(row.priority),
        severity=row.severity,
        title=row.title,
        description=row.description,
        status=Status(row.status),
        owner_id=row.owner_id,
        handler_id=row.handler_id,
        team_id=row.team_id,
        created_by=row.created_by,
        created_at=row.created_at,
        updated_at=row.updated_at,
        fault_time=row.fault_time,
        fault_place=row.fault_place,
        device=row.device,
        promised_at=row.promised_at,
        resolved_at=row.resolved_at,
        closed_at=row.closed_at,
        reopen_count=row.reopen_count,
        version=row.version,
        organisation_id=row.organisation_id,
        next_due_at=row.next_due_at,
    )


def _event(row: Any) -> WorkOrderEvent:
    return WorkOrderEvent(
        id=row.id,
        work_order_id=row.work_order_id,
        kind=EventKind(row.kind),
        actor_id=row.actor_id,
        at=row.at,
        from_status=row.from_status,
        to_status=row.to_status,
        note=row.note,
        visibility=row.visibility,
        data=dict(row.data or {}),
    )


def _work_order_values(wo: WorkOrder) -> dict[str, Any]:
    values = {name: getattr(wo, name) for name in _WO_MUTABLE}
    for name in ("type", "channel", "priority", "status"):
        values[name] = values[name].value
    return values


class SqlWorkOrderRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, work_order: WorkOrder, *, day: date) -> WorkOrder:
        values = _work_order_values(work_order)
        values.update(
            customer_id=work_order.customer_id,
            owner_id=work_order.owner_id,
            created_by=work_order.created_by,
            created_at=work_order.created_at,
            version=work_order.version,
            organisation_id=work_order.organisation_id,
        )
        stmt: Insert = _WO_INSERT
        if work_order.number:
            values["number"] = work_order.number
        elif (number_sql := numbering.number_sql(self.conn, day)) is not None:
            stmt = _numbered_insert(number_sql)
        else:
            values["number"] = format_number(day, numbering.next_in_day(self.conn, day))
        row = self.conn.execute(stmt, values).one()
        work_order.id, work_order.number = row.id, row.number
        self._flush_events(work_order)
        return work_order

    def _flush_events(self, work_order: WorkOrder) -> None:
        if not work_order.events:
            return
        rows = [
            {
                "work_order_id": work_order.id,
                "kind": e.kind.value,
                "actor_id": e.actor_id,
                "at": e.at,
                "from_status": e.from_status,
                "to_status": e.to_status,
                "note": e.note,
                "visibility": e.visibility,
                "data": e.data,
            }
            for e in work_order.events
        ]
        # One event (the usual case) as a plain execute: executemany has a fixed cost of its own.
        self.conn.execute(_EVENT_INSERT, rows[0] if len(rows) == 1 else rows)
        work_order.events.clear()

    def get_by_number(self, number: str, *, visible_to: frozenset[int] | None = None) -> WorkOrder | None:
        if visible_to is None:
            row = self.conn.execute(_WO_BY_NUMBER, {"number": number}).first()
        else:
            row = self.conn.execute(
                select(work_orders).where(work_orders.c.number == number, _visible_to(visible_to))
            ).first()
        return _work_order(row) if row else None

    def get_by_id(self, work_order_id: int, *, visible_to: frozenset[int] | None = None) -> WorkOrder | None:
        if visible_to is None:
            row = self.conn.execute(_WO_BY_ID, {"id": work_order_id}).first()
        else:
            row = self.conn.execute(
                select(work_orders).where(work_orders.c.id == work_order_id, _visible_to(visible_to))
            ).first()
        return _work_order(row) if row else None

    def get_many_by_id(self, ids: list[int], *, visible_to: frozenset[int] | None = None) -> dict[int, WorkOrder]:
        if not ids:
            return {}
        query = select(work_orders).where(work_orders.c.id.in_(ids))
        if visible_to is not None:
            query = query.where(_visible_to(visible_to))
        return {row.id: _work_order(row) for row in self.conn.execute(query)}

    def append_events(self, work_order: WorkOrder) -> None:
        self._flush_events(work_order)

    def save(self, work_order: WorkOrder, expected_version: int) -> bool:
        result = self.conn.execute(
            update(work_orders)
            .where(work_orders.c.id == work_order.id, work_orders.c.version == expected_version)
            .values({**_work_order_values(work_order), "version": expected_version + 1})
        )
        if result.rowcount != 1:
            return False
        work_order.version = expected_version + 1
        self._flush_events(work_order)
        return True

    def find(self, flt: WorkOrderFilter, limit: int) -> list[WorkOrder]:
        return [_work_order(row) for row in self.conn.execute(self._filtered(select(work_orders), flt).limit(limit))]

    @staticmethod
    def _filtered(query: Select[Any], flt: WorkOrderFilter) -> Select[Any]:
        c = work_orders.c
        conditions: list[Any] = []
        if flt.statuses:
            # Sorted, so "all open statuses" is the very predicate of the partial indexes.
            conditions.append(c.status.in_(sorted(flt.statuses)))
        if flt.priorities:
            conditions.append(c.priority.in_(flt.priorities))
        if flt.types:
            conditions.append(c.type.in_(flt.types))
        if flt.category:
            conditions.append(or_(c.category == flt.category, c.category.startswith(flt.category + ".")))
        if flt.owner_id is not None:
            conditions.append(c.owner_id == flt.owner_id)
        if flt.team_id is not None:
            conditions.append(c.team_id == flt.team_id)
        if flt.customer_id is not None:
            conditions.append(c.customer_id == flt.customer_id)
        if flt.created_from is not None:
            conditions.append(c.created_at >= flt.created_from)
        if flt.created_to is not None:
            conditions.append(c.created_at < flt.created_to)
        if flt.before_id is not None:
            conditions.append(c.id < flt.before_id)
        if flt.visible_to is not None:
            conditions.append(_visible_to(flt.visible_to))
        if flt.handler_id is not None:
            conditions.append(c.handler_id == flt.handler_id)
        if flt.unassigned:
            conditions.append(c.handler_id.is_(None))
        if flt.dispatched_to_team is not None:
            d = dispatches.c
            conditions.append(
                exists().where(
                    d.work_order_id == c.id,
                    d.receiver_team_id == flt.dispatched_to_team,
                    d.status.in_(("accepted", "pending")),
                )
            )
        if flt.due_before is not None:
            conditions.append(c.next_due_at < flt.due_before)
        return query.where(*conditions).order_by(c.id.desc())

    def set_next_due(self, work_order_id: int, due: datetime | None) -> None:
        """For a rebuild of clocks outside a change of the work order (its version stays)."""
        self.conn.execute(update(work_orders).where(work_orders.c.id == work_order_id).values(next_due_at=due))

    def history(self, work_order_id: int) -> list[WorkOrderEvent]:
        return [_event(row) for row in self.conn.execute(_EVENTS_OF, {"id": work_order_id})]


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


def _visible_to(organisation_ids: frozenset[int]) -> Any:
    """Data scope, the one place it is written: owned by one of these organisations, or dispatched
    to one of them. An empty set sees nothing."""
    if not organisation_ids:
        return false()
    ids = sorted(organisation_ids)
    c = work_orders.c
    return or_(
        c.organisation_id.in_(ids),
        c.id.in_(select(work_order_parties.c.work_order_id).where(work_order_parties.c.organisation_id.in_(ids))),
    )


def _user(row: Any) -> User:
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
            )
            .returning(users.c.id)
        ).scalar_one()
        return user

    def get(self, user_id: int) -> User | None:
        row = self.conn.execute(_USERS_WITH_LOAD.where(users.c.id == user_id)).first()
        return _user(row) if row else None

    def get_by_username(self, username: str) -> User | None:
        row = self.conn.execute(select(users).where(users.c.username == username)).first()
        return _user(row) if row else None

    def get_many(self, ids: list[int]) -> dict[int, User]:
        if not ids:
            return {}
        return {row.id: _user(row) for row in self.conn.execute(_USERS_WITH_LOAD.where(users.c.id.in_(ids)))}

    def find(
        self,
        *,
        roles: tuple[Role, ...],
        team_id: int | None = None,
        organisation_id: int | None = None,
        organisation_ids: frozenset[int] | None = None,
    ) -> list[User]:
        query = _USERS_WITH_LOAD.where(users.c.active.is_(True), users.c.role.in_([r.value for r in roles]))
        if team_id is not None:
            query = query.where(users.c.team_id == team_id)
        if organisation_id is not None:
            query = query.where(users.c.organisation_id == organisation_id)
        if organisation_ids is not None:
            query = query.where(users.c.organisation_id.in_(sorted(organisation_ids)))
        return [_user(r) for r in self.conn.execute(query.order_by(users.c.id))]

    def update_profile(self, user: User) -> None:
        """Store what dispatch uses: organisation, team, region, skills, languages, capacity, shift."""
        self.conn.execute(
            update(users)
            .where(users.c.id == user.id)
            .values(
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


class SqlTokenRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(
        self, *, user_id: int, token_hash: str, kind: str, label: str | None, at: datetime, expires_at: datetime
    ) -> None:
        self.conn.execute(
            insert(auth_tokens).values(
                user_id=user_id, token_hash=token_hash, kind=kind, label=label, created_at=at, expires_at=expires_at
            )
        )

    def user_for(self, token_hash: str, kind: str, now: datetime) -> tuple[User, datetime] | None:
        row = self.conn.execute(_USER_FOR_TOKEN, {"token_hash": token_hash, "kind": kind, "now": now}).first()
        return (_user(row), row.token_expires_at) if row else None

    def revoke(self, token_hash: str, at: datetime) -> None:
        self.conn.execute(
            update(auth_tokens)
            .where(auth_tokens.c.token_hash == token_hash, auth_tokens.c.revoked_at.is_(None))
            .values(revoked_at=at)
        )


class SqlCategoryRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    @staticmethod
    def _category(row: Any) -> Category:
        return Category(code=row.code, label_zh=row.label_zh, label_en=row.label_en, active=row.active, sort=row.sort)

    def get(self, code: str) -> Category | None:
        row = self.conn.execute(_CATEGORY_BY_CODE, {"code": code}).first()
        return self._category(row) if row else None

    def all(self) -> list[Category]:
        rows = self.conn.execute(select(categories).order_by(categories.c.sort, categories.c.code))
        return [self._category(row) for row in rows]

    def add(self, category: Category) -> None:
        self.conn.execute(
            insert(categories).values(
                code=category.code,
                label_zh=category.label_zh,
                label_en=category.label_en,
                active=category.active,
                sort=category.sort,
            )
        )

    def set_active(self, code: str, active: bool) -> None:
        self.conn.execute(update(categories).where(categories.c.code == code).values(active=active))


def _organisation(r: Any) -> Organisation:
    return Organisation(id=r.id, name=r.name, kind=OrganisationKind(r.kind), parent_id=r.parent_id, region=r.region)


class SqlOrgRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add_organisation(self, org: Organisation) -> Organisation:
        org.id = self.conn.execute(
            insert(organisations)
            .values(name=org.name, kind=org.kind.value, parent_id=org.parent_id, region=org.region)
            .returning(organisations.c.id)
        ).scalar_one()
        return org

    def add_team(self, team: Team) -> Team:
        team.id = self.conn.execute(
            insert(teams)
            .values(organisation_id=team.organisation_id, name=team.name, function=team.function.value)
            .returning(teams.c.id)
        ).scalar_one()
        return team

    def organisations(self) -> list[Organisation]:
        return [_organisation(r) for r in self.conn.execute(select(organisations).order_by(organisations.c.id))]

    @staticmethod
    def _team(r: Any) -> Team:
        return Team(id=r.id, organisation_id=r.organisation_id, name=r.name, function=TeamFunction(r.function))

    def teams(self) -> list[Team]:
        return [self._team(r) for r in self.conn.execute(select(teams).order_by(teams.c.id))]

    def get_team(self, team_id: int) -> Team | None:
        row = self.conn.execute(select(teams).where(teams.c.id == team_id)).first()
        return self._team(row) if row else None

    def get_organisation(self, organisation_id: int) -> Organisation | None:
        row = self.conn.execute(select(organisations).where(organisations.c.id == organisation_id)).first()
        return _organisation(row) if row else None


class SqlIdempotencyRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def get(self, user_id: int, key: str) -> tuple[str, int] | None:
        row = self.conn.execute(_IDEMPOTENCY_GET, {"user_id": user_id, "key": key}).first()
        return (row.request_hash, row.work_order_id) if row else None

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
