"""The test databases: SQLite files, and PostgreSQL databases created next to KEFU_TEST_DATABASE_URL.

Without that variable the PostgreSQL half is skipped locally and fails in CI (CI=true), where it must run.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

PG_URL = os.environ.get("KEFU_TEST_DATABASE_URL")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
PG_EXAMPLE = "KEFU_TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test"


@dataclass
class Database:
    backend: str
    url: str


def report_header() -> str:
    if PG_URL:
        return f"PostgreSQL tests: on ({make_url(PG_URL).render_as_string(hide_password=True)})"
    return f"PostgreSQL tests: SKIPPED - set {PG_EXAMPLE} to run them"


def require_pg() -> str:
    if PG_URL:
        return PG_URL
    if IN_CI:
        pytest.fail("CI must run the PostgreSQL tests: KEFU_TEST_DATABASE_URL is not set")
    pytest.skip(f"PostgreSQL half skipped: set {PG_EXAMPLE}")


def _admin_engine(url: str) -> Engine:
    return create_engine(make_url(url).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")


def create_pg_database(prefix: str) -> str:
    url = require_pg()
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = _admin_engine(url)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(url).set(drivername="postgresql+psycopg", database=name).render_as_string(hide_password=False)


def drop_pg_database(url: str) -> None:
    name = make_url(url).database
    admin = _admin_engine(require_pg())
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@contextmanager
def empty_database(backend: str, directory: Path, prefix: str) -> Iterator[str]:
    """The URL of a new, empty database: a file in `directory`, or a PostgreSQL database dropped after."""
    if backend == "sqlite":
        yield f"sqlite:///{directory / f'{prefix}.db'}"
        return
    url = create_pg_database(prefix)
    try:
        yield url
    finally:
        drop_pg_database(url)
