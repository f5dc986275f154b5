"""Run Alembic migrations programmatically (used by `kefu db upgrade` and the tests)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

#: The migrations ship inside the package (kefu/migrations), so an installed kefu needs no checkout.
MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"
#: Names of new revision files: date, revision id, slug (alembic.ini in the checkout says the same).
FILE_TEMPLATE = "%(year)d%(month).2d%(day).2d_%(rev)s_%(slug)s"


def alembic_config() -> Config:
    """Alembic's configuration, built here rather than read from an alembic.ini; the database comes
    from the caller (see _run) or kefu's settings (see migrations/env.py)."""
    cfg = Config()
    # set_main_option interpolates: a literal % is written %%.
    cfg.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
    cfg.set_main_option("file_template", FILE_TEMPLATE.replace("%", "%%"))
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    _run(engine, command.upgrade, revision)


def downgrade(engine: Engine, revision: str = "base") -> None:
    _run(engine, command.downgrade, revision)


def _run(engine: Engine, step: Callable[[Config, str], None], revision: str) -> None:
    """One transaction for the migrations. On SQLite, foreign keys are off meanwhile: a batch
    migration rebuilds a table (copy, drop, rename), and dropping a table others refer to would
    fail; what the migration leaves is checked before they go back on."""
    cfg = alembic_config()
    with engine.connect() as conn:
        raw = conn.connection.driver_connection if conn.dialect.name == "sqlite" else None
        if raw is not None:
            raw.execute("PRAGMA foreign_keys=OFF")  # outside any transaction, where SQLite honours it
        try:
            with conn.begin():
                cfg.attributes["connection"] = conn
                step(cfg, revision)
                if raw is not None and (broken := conn.exec_driver_sql("PRAGMA foreign_key_check").all()):
                    raise RuntimeError(f"the migration left rows that break foreign keys: {broken[:5]}")
        finally:
            if raw is not None:
                raw.execute("PRAGMA foreign_keys=ON")
