"""The unit of work: one connection, one transaction, the repositories bound to it. Only it commits."""

from __future__ import annotations

from typing import Self

from sqlalchemy import Connection, Engine

from kefu.adapters.db.repositories import (
    SqlCategoryRepository,
    SqlCustomerRepository,
    SqlIdempotencyRepository,
    SqlOrgRepository,
    SqlTokenRepository,
    SqlUserRepository,
    SqlWorkOrderRepository,
)


class SqlUnitOfWork:
    customers: SqlCustomerRepository
    work_orders: SqlWorkOrderRepository
    users: SqlUserRepository
    tokens: SqlTokenRepository
    categories: SqlCategoryRepository
    org: SqlOrgRepository
    idempotency: SqlIdempotencyRepository

    def __init__(self, engine: Engine, *, write: bool = False) -> None:
        self.engine = engine
        self.write = write
        self._conn: Connection | None = None

    def __enter__(self) -> Self:
        conn = self.engine.connect()
        if self.write:
            conn = conn.execution_options(kefu_write=True)
        conn.begin()
        self._conn = conn
        self.customers = SqlCustomerRepository(conn)
        self.work_orders = SqlWorkOrderRepository(conn)
        self.users = SqlUserRepository(conn)
        self.tokens = SqlTokenRepository(conn)
        self.categories = SqlCategoryRepository(conn)
        self.org = SqlOrgRepository(conn)
        self.idempotency = SqlIdempotencyRepository(conn)
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._conn is not None
        try:
            if self._conn.in_transaction():
                self._conn.rollback()
        finally:
            self._conn.close()
            self._conn = None

    def commit(self) -> None:
        assert self._conn is not None
        self._conn.commit()

    def rollback(self) -> None:
        assert self._conn is not None
        self._conn.rollback()


class UnitOfWorkFactory:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def __call__(self, *, write: bool = False) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine, write=write)
