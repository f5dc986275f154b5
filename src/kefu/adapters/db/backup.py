"""Backups (R32): a consistent snapshot of the whole database in one file, and its restore.

- SQLite: the online backup API copies the database page by page under one read transaction, while
  kefu keeps running; the backup is itself a SQLite database.
- PostgreSQL: pg_dump (custom format) reads everything in one snapshot of its own, while kefu keeps
  running; pg_restore loads it in one transaction (all or nothing). Both programs come with the
  PostgreSQL client tools (`apt-get install postgresql-client`), of at least the server's version.

A backup file is created readable by its owner only: it holds the customers' personal data (their
ID numbers encrypted with the data keys, which are not in it — keep the keys, separately, as well).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

from sqlalchemy import Engine, inspect
from sqlalchemy.engine import URL, make_url

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_MAGIC = b"PGDMP"


_MISSING = "{program} is not installed: apt-get install postgresql-client (of at least the server's version)"


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why and what to do."""


def backup(engine: Engine, target: Path, *, force: bool = False, starting: Callable[[], None] = lambda: None) -> str:
    """Write a consistent snapshot of the database to `target`; returns its format. `starting` is
    called once the backup can be made, just before the snapshot is taken (kefu records the backup
    in the audit log then, so that the backup holds its own record)."""
    if target.exists() and not force:
        raise BackupError(f"{target} exists already; choose another file or pass --force to overwrite it")
    if engine.dialect.name != "sqlite" and shutil.which("pg_dump") is None:
        raise BackupError(_MISSING.format(program="pg_dump"))
    starting()
    partial = target.with_name(target.name + ".partial")
    os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))
    try:
        if engine.dialect.name == "sqlite":
            with _sqlite(engine.url, readonly=True) as source, closing(sqlite3.connect(partial)) as copy:
                source.backup(copy)
            fmt = "sqlite"
        else:
            _run("pg_dump", engine.url, "--format=custom", f"--file={partial}")
            fmt = "pg_dump"
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    return fmt


def restore(engine: Engine, source: Path, *, force: bool = False) -> None:
    """Load a backup into the database, which must be empty (no tables) unless `force`: then
    everything in it is replaced. Stop kefu (serve, workers) first."""
    if not source.is_file():
        raise BackupError(f"{source} is not a file")
    with source.open("rb") as fh:
        head = fh.read(16)
    sqlite = engine.dialect.name == "sqlite"
    if sqlite and not head.startswith(SQLITE_MAGIC):
        raise BackupError(f"{source} is not a SQLite backup; the database to restore into is SQLite")
    if not sqlite and not head.startswith(PG_MAGIC):
        raise BackupError(f"{source} is not a PostgreSQL (pg_dump) backup; the database to restore into is PostgreSQL")
    tables = inspect(engine).get_table_names()
    engine.dispose()  # no connection of ours may hold the database while it is replaced
    if tables and not force:
        raise BackupError(
            f"the database is not empty ({len(tables)} tables); restore into an empty database, "
            "or pass --force to replace everything in it"
        )
    if sqlite:
        with closing(sqlite3.connect(source)) as backup_db, _sqlite(engine.url, readonly=False) as target:
            backup_db.backup(target)
        return
    options = ["--no-owner", "--no-privileges", "--single-transaction", "--exit-on-error"]
    if force:
        options += ["--clean", "--if-exists"]
    _run("pg_restore", engine.url, *options, str(source))


class _sqlite:
    """A plain sqlite3 connection to the database file of `url` (closed on exit)."""

    def __init__(self, url: URL, *, readonly: bool) -> None:
        database = url.database
        if not database or database == ":memory:":
            raise BackupError("an in-memory SQLite database has nothing to back up or restore into")
        path = Path(database).resolve()
        self.conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True) if readonly else sqlite3.connect(path)

    def __enter__(self) -> sqlite3.Connection:
        return self.conn

    def __exit__(self, *exc: object) -> None:
        self.conn.close()


def _run(program: str, url: URL, *args: str) -> None:
    """Run pg_dump or pg_restore on the database of `url`; the password goes in the environment
    (PGPASSWORD), never on the command line where other users of the machine could read it."""
    found = shutil.which(program)
    if found is None:
        raise BackupError(_MISSING.format(program=program))
    target = make_url(url).set(drivername="postgresql", password=None)
    env = {**os.environ, "PGPASSWORD": url.password or "", "PGCONNECT_TIMEOUT": "10"}
    result = subprocess.run(  # noqa: S603 - the program found on PATH, our own arguments
        [found, *args, f"--dbname={target.render_as_string(hide_password=False)}"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise BackupError(f"{program} failed: {result.stderr.strip()[-2000:]}")
