"""Storage of customers. ID numbers are encrypted here on the way in and decrypted on the way
out (kefu.adapters.data_protection); nothing above this module sees ciphertext."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, func, insert, or_, select, update

from kefu.adapters.data_protection import DataKeys
from kefu.adapters.db.search_repository import SqlSearchRepository
from kefu.adapters.db.tables import calls, contacts, customer_changes, customers, service_agreements
from kefu.adapters.db.workorder_queries import customer_in_scope
from kefu.domain.customers import Customer, CustomerChange, CustomerProfile, Device, Tier
from kefu.services.ports import CustomerFilter, RecordedChange

# Statements on the hot paths (intake, reads) are built once; SQLAlchemy then reuses their compiled
# form and each call only binds parameters.
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
_CUSTOMER_PROFILE = select(
    customers.c.tier, customers.c.region, _AGREEMENT_IN_FORCE.label("agreement_id"), customers.c.organisation_id
).where(customers.c.id == bindparam("id"))
_CUSTOMER_INSERT = insert(customers).returning(customers.c.id)


#: The field name authenticated with an ID number's ciphertext.
ID_NUMBER = "customers.id_number"


def _customer(row: Any, keys: DataKeys) -> Customer:
    return Customer(
        id=row.id,
        name=row.name,
        phone=row.phone,
        tier=Tier(row.tier),
        brand=row.brand,
        region=row.region,
        email=row.email,
        address=row.address,
        id_number=keys.decrypt(row.id_number, ID_NUMBER) if row.id_number else None,
        services=list(row.services),
        devices=[Device(model=d["model"], serial=d.get("serial")) for d in row.devices],
        tags=list(row.tags),
        created_at=row.created_at,
        wechat_openid=row.wechat_openid,
        account_number=row.account_number,
        organisation_id=row.organisation_id,
        merged_into_id=row.merged_into_id,
    )


class SqlCustomerRepository:
    def __init__(self, conn: Connection, keys: DataKeys) -> None:
        self.conn = conn
        self.keys = keys

    def add(self, customer: Customer) -> Customer:
        values = {
            "name": customer.name,
            "phone": customer.phone,
            "tier": customer.tier.value,
            "brand": customer.brand,
            "region": customer.region,
            "email": customer.email,
            "address": customer.address,
            "id_number": self.keys.encrypt(customer.id_number, ID_NUMBER) if customer.id_number else None,
            "services": customer.services,
            "devices": [d.as_dict() for d in customer.devices],
            "tags": customer.tags,
            "created_at": customer.created_at,
            "wechat_openid": customer.wechat_openid,
            "account_number": customer.account_number,
            "organisation_id": customer.organisation_id,
        }
        customer.id = self.conn.execute(_CUSTOMER_INSERT, values).scalar_one()
        return customer

    def save(self, customer: Customer) -> None:
        """Store a corrected record (every field an agent may correct, and the merge mark)."""
        assert customer.id is not None
        self.conn.execute(
            update(customers)
            .where(customers.c.id == customer.id)
            .values(
                name=customer.name,
                phone=customer.phone,
                tier=customer.tier.value,
                brand=customer.brand,
                region=customer.region,
                email=customer.email,
                address=customer.address,
                id_number=self.keys.encrypt(customer.id_number, ID_NUMBER) if customer.id_number else None,
                services=customer.services,
                tags=customer.tags,
                wechat_openid=customer.wechat_openid,
                account_number=customer.account_number,
                merged_into_id=customer.merged_into_id,
            )
        )
        # Their work orders are found by the customer's name and phone: the index follows (search_repository).
        SqlSearchRepository(self.conn).index_customer(customer.id)

    def lock(self, customer_id: int) -> None:
        """Hold the customer's row until commit (two merges of the same records wait for each other)."""
        query = select(customers.c.id).where(customers.c.id == customer_id)
        if self.conn.dialect.name == "postgresql":
            query = query.with_for_update()
        self.conn.execute(query)

    def add_changes(
        self, customer_id: int, changes: list[CustomerChange], *, actor_id: int, at: datetime, reason: str | None
    ) -> None:
        if changes:
            self.conn.execute(
                insert(customer_changes),
                [
                    {
                        "customer_id": customer_id,
                        "actor_id": actor_id,
                        "at": at,
                        "field": c.field,
                        "old_value": c.old,
                        "new_value": c.new,
                        "reason": reason,
                    }
                    for c in changes
                ],
            )

    def changes_of(self, customer_id: int, limit: int) -> list[RecordedChange]:
        c = customer_changes.c
        rows = self.conn.execute(
            select(customer_changes).where(c.customer_id == customer_id).order_by(c.id.desc()).limit(limit)
        )
        return [
            RecordedChange(
                actor_id=r.actor_id,
                at=r.at,
                change=CustomerChange(r.field, r.old_value, r.new_value),
                reason=r.reason,
            )
            for r in rows
        ]

    def move_contacts(self, from_id: int, to_id: int) -> int:
        """Contacts, calls and earlier merges of a merged record become the survivor's; how many
        contacts moved."""
        moved = self.conn.execute(
            update(contacts).where(contacts.c.customer_id == from_id).values(customer_id=to_id)
        ).rowcount
        self.conn.execute(update(calls).where(calls.c.customer_id == from_id).values(customer_id=to_id))
        # Records merged into the merged one earlier now stand for the survivor too (one step, always).
        self.conn.execute(update(customers).where(customers.c.merged_into_id == from_id).values(merged_into_id=to_id))
        return int(moved or 0)

    def get(self, customer_id: int, *, visible_to: frozenset[int] | None = None) -> Customer | None:
        if visible_to is None:
            row = self.conn.execute(_CUSTOMER_BY_ID, {"id": customer_id}).first()
        else:
            query = select(customers).where(customers.c.id == customer_id, customer_in_scope(visible_to))
            row = self.conn.execute(query).first()
        return _customer(row, self.keys) if row else None

    def profile_of(self, customer_id: int, day: date) -> CustomerProfile | None:
        row = self.conn.execute(_CUSTOMER_PROFILE, {"id": customer_id, "day": day}).first()
        return CustomerProfile(Tier(row.tier), row.region, row.agreement_id, row.organisation_id) if row else None

    def get_many(self, ids: list[int]) -> dict[int, Customer]:
        if not ids:
            return {}
        rows = self.conn.execute(select(customers).where(customers.c.id.in_(ids)))
        return {row.id: _customer(row, self.keys) for row in rows}

    def search(self, flt: CustomerFilter, limit: int) -> list[Customer]:
        query = select(customers).order_by(customers.c.id.desc()).limit(limit)
        if flt.phone:
            query = query.where(customers.c.phone.startswith(flt.phone, autoescape=True))
        if flt.name:
            query = query.where(customers.c.name.startswith(flt.name, autoescape=True))
        if flt.before_id is not None:
            query = query.where(customers.c.id < flt.before_id)
        if flt.visible_to is not None:
            query = query.where(customer_in_scope(flt.visible_to))
        return [_customer(row, self.keys) for row in self.conn.execute(query)]

    def stale_id_numbers(self) -> int:
        """How many stored ID numbers are not encrypted with the newest key."""
        c = customers.c
        query = select(func.count()).where(
            c.id_number.is_not(None), ~c.id_number.startswith(self.keys.current_prefix())
        )
        return int(self.conn.execute(query).scalar_one())

    def reencrypt_id_numbers(self, after_id: int, limit: int) -> tuple[int, int | None]:
        """Encrypt with the newest key the ID numbers of up to `limit` customers after `after_id`
        that are in clear or under an older key: (how many, the last customer id looked at, None
        when there are no more)."""
        c = customers.c
        rows = self.conn.execute(
            select(c.id, c.id_number)
            .where(c.id > after_id, c.id_number.is_not(None), ~c.id_number.startswith(self.keys.current_prefix()))
            .order_by(c.id)
            .limit(limit)
        ).all()
        if not rows:
            return 0, None
        self.conn.execute(
            update(customers).where(c.id == bindparam("row_id")).values(id_number=bindparam("sealed")),
            [
                {"row_id": r.id, "sealed": self.keys.encrypt(self.keys.decrypt(r.id_number, ID_NUMBER), ID_NUMBER)}
                for r in rows
            ],
        )
        return len(rows), int(rows[-1].id)
