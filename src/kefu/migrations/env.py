"""Alembic environment: kefu's settings give the URL; a caller may hand over a connection instead."""

from __future__ import annotations

from alembic import context

from kefu.adapters.db.engine import make_engine
from kefu.adapters.db.tables import SQLITE_FTS_TABLES, metadata
from kefu.config import Settings

config = context.config
target_metadata = metadata


def _ours(name: str | None, kind: str, _: object) -> bool:
    """Autogenerate leaves SQLite's FTS5 search tables alone (made by 0011_search, not in tables.py)."""
    return not (kind == "table" and name in SQLITE_FTS_TABLES)


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(
            connection=connection, target_metadata=target_metadata, render_as_batch=True, include_name=_ours
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    url = config.attributes.get("url") or Settings().database_url
    engine = make_engine(url)
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True, include_name=_ours)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("kefu migrations run online only: use `kefu db upgrade`.")
run_migrations()
