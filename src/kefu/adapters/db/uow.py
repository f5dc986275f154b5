"""The unit of work: one connection, one transaction, the repositories bound to it. Only it commits."""

from __future__ import annotations

import threading
import weakref
from typing import Self

from sqlalchemy import Connection, Engine

from kefu.adapters.data_protection import DataKeys
from kefu.adapters.db.attachment_repository import SqlFileRepository
from kefu.adapters.db.audit_repository import SqlAuditRepository
from kefu.adapters.db.category_repository import SqlCategoryRepository
from kefu.adapters.db.channel_repository import SqlChannelRepository
from kefu.adapters.db.customer_repository import SqlCustomerRepository
from kefu.adapters.db.dispatch_repository import SqlDispatchRepository
from kefu.adapters.db.idempotency_repository import SqlIdempotencyRepository
from kefu.adapters.db.lockout_repository import SqlLockoutRepository
from kefu.adapters.db.macro_repository import SqlMacroRepository
from kefu.adapters.db.notification_repository import SqlNotificationRepository
from kefu.adapters.db.org_repository import SqlOrgRepository
from kefu.adapters.db.outbox_repository import SqlOutboxRepository
from kefu.adapters.db.password_repository import SqlPasswordResetRepository
from kefu.adapters.db.reply_repository import SqlReplyRepository
from kefu.adapters.db.routing_repository import SqlRoutingRepository
from kefu.adapters.db.search_repository import SqlSearchRepository
from kefu.adapters.db.sla_repository import SqlSlaRepository
from kefu.adapters.db.tag_repository import SqlTagRepository
from kefu.adapters.db.token_repository import SqlTokenRepository
from kefu.adapters.db.two_factor_repository import SqlSecondFactorRepository
from kefu.adapters.db.user_repository import SqlUserRepository
from kefu.adapters.db.visit_repository import SqlChecklistRepository, SqlVisitRepository
from kefu.adapters.db.workorder_repository import SqlWorkOrderRepository
from kefu.adapters.db.workspace_repository import SqlWorkspaceRepository

_write_locks: weakref.WeakKeyDictionary[Engine, threading.Lock] = weakref.WeakKeyDictionary()
_locks_guard = threading.Lock()


def _sqlite_write_lock(engine: Engine) -> threading.Lock | None:
    """SQLite has one writer at a time. Queueing writers of this process on a lock is fair and
    immediate, where SQLite's own busy handler makes waiting writers sleep up to 100 ms per try."""
    if engine.dialect.name != "sqlite":
        return None
    with _locks_guard:
        return _write_locks.setdefault(engine, threading.Lock())


class SqlUnitOfWork:
    customers: SqlCustomerRepository
    work_orders: SqlWorkOrderRepository
    search: SqlSearchRepository
    users: SqlUserRepository
    tokens: SqlTokenRepository
    second_factors: SqlSecondFactorRepository
    password_resets: SqlPasswordResetRepository
    categories: SqlCategoryRepository
    org: SqlOrgRepository
    idempotency: SqlIdempotencyRepository
    sla: SqlSlaRepository
    outbox: SqlOutboxRepository
    notifications: SqlNotificationRepository
    dispatches: SqlDispatchRepository
    visits: SqlVisitRepository
    checklists: SqlChecklistRepository
    routing: SqlRoutingRepository
    macros: SqlMacroRepository
    channels: SqlChannelRepository
    workspace: SqlWorkspaceRepository
    audit: SqlAuditRepository
    lockouts: SqlLockoutRepository
    tags: SqlTagRepository
    files: SqlFileRepository
    replies: SqlReplyRepository

    def __init__(self, engine: Engine, keys: DataKeys, *, write: bool = False, snapshot: bool = False) -> None:
        self.engine = engine
        self.keys = keys
        self.write = write
        self.snapshot = snapshot
        self._conn: Connection | None = None

    def __enter__(self) -> Self:
        self._lock = _sqlite_write_lock(self.engine) if self.write else None
        if self._lock is not None:
            self._lock.acquire()
        try:
            return self._open()
        except BaseException:
            if self._lock is not None:
                self._lock.release()
            raise

    def _open(self) -> Self:
        conn = self.engine.connect()
        if self.write:
            conn = conn.execution_options(kefu_write=True)
        if self.snapshot and conn.dialect.name == "postgresql":
            # One consistent view for a long read (SQLite's read transaction is one already).
            conn = conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
        conn.begin()
        self._conn = conn
        self.customers = SqlCustomerRepository(conn, self.keys)
        self.work_orders = SqlWorkOrderRepository(conn)
        self.search = self.work_orders.search
        self.users = SqlUserRepository(conn)
        self.tokens = SqlTokenRepository(conn)
        self.second_factors = SqlSecondFactorRepository(conn)
        self.password_resets = SqlPasswordResetRepository(conn)
        self.categories = SqlCategoryRepository(conn)
        self.org = SqlOrgRepository(conn)
        self.idempotency = SqlIdempotencyRepository(conn)
        self.sla = SqlSlaRepository(conn)
        self.outbox = SqlOutboxRepository(conn, self.keys)
        self.notifications = SqlNotificationRepository(conn)
        self.dispatches = SqlDispatchRepository(conn)
        self.visits = SqlVisitRepository(conn)
        self.checklists = SqlChecklistRepository(conn)
        self.routing = SqlRoutingRepository(conn)
        self.macros = SqlMacroRepository(conn)
        self.channels = SqlChannelRepository(conn)
        self.workspace = SqlWorkspaceRepository(conn)
        self.audit = SqlAuditRepository(conn)
        self.lockouts = SqlLockoutRepository(conn)
        self.tags = SqlTagRepository(conn)
        self.files = SqlFileRepository(conn)
        self.replies = SqlReplyRepository(conn)
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._conn is not None
        try:
            if self._conn.in_transaction():
                self._conn.rollback()
        finally:
            self._conn.close()
            self._conn = None
            if self._lock is not None:
                self._lock.release()

    def commit(self) -> None:
        """Write the audit rows the use case recorded (last, see SqlAuditRepository), then commit."""
        assert self._conn is not None
        self.audit.flush()
        self._conn.commit()

    def rollback(self) -> None:
        assert self._conn is not None
        self.audit.pending.clear()
        self._conn.rollback()


class UnitOfWorkFactory:
    def __init__(self, engine: Engine, keys: DataKeys) -> None:
        self.engine = engine
        self.keys = keys

    def __call__(self, *, write: bool = False, snapshot: bool = False) -> SqlUnitOfWork:
        """`write`: the use case changes something; `snapshot`: a long read that needs one
        consistent view of the database (verifying the audit chains)."""
        return SqlUnitOfWork(self.engine, self.keys, write=write, snapshot=snapshot)
