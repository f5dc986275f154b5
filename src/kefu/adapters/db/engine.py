"""Engine construction for SQLite (WAL, foreign keys, immediate write transactions) and PostgreSQL.
Both hide the parameters of statements from logs and error messages: they are phone numbers,
addresses and messages (an error's message ends up in a log)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url


def make_engine(url: str, *, pool_size: int = 10, echo: bool = False) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, echo=echo)
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    # No pre-ping (it costs a round trip per checkout); connections are recycled after 30 minutes, and
    # one broken by a server restart fails its transaction, which then changed nothing.
    return create_engine(
        url, pool_size=pool_size, max_overflow=pool_size, echo=echo, pool_recycle=1800, hide_parameters=True
    )


def _sqlite_engine(url: str, *, echo: bool) -> Engine:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url, echo=echo, hide_parameters=True, connect_args={"timeout": 30, "check_same_thread": False}
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event decide how a transaction starts (see below).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # A write transaction takes the write lock up front, so two writers queue instead of
        # failing with "database is locked" when a read lock would have to be upgraded.
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("kefu_write") else "BEGIN")

    return engine
