"""The daily sequence part of work-order numbers (GD + YYYYMMDD + 6 digits).

PostgreSQL: one SEQUENCE per day (`wo_seq_YYYYMMDD`). nextval takes no row lock, so concurrent
creates do not queue behind each other until COMMIT as they would on a counter row. The price is
that a rolled-back create leaves a gap in the day's numbers, which is acceptable for ticket numbers.
SQLite: a counter row per day in `work_order_sequences` (SQLite runs one writer at a time anyway).
"""

from __future__ import annotations

import contextlib
from datetime import date, datetime

from sqlalchemy import Connection, Engine, select, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import DBAPIError

from kefu.adapters.db.tables import work_order_sequences

_known: set[tuple[str, str]] = set()  # (database, sequence) pairs this process has made sure of


def _sequence_name(day: date) -> str:
    return f"wo_seq_{day:%Y%m%d}"


def _ensure_pg_sequence(engine: Engine, day: date) -> str:
    name = _sequence_name(day)
    key = (engine.url.render_as_string(hide_password=True), name)
    if key in _known:
        return name
    # DDL in its own autocommit connection, so the caller's transaction is never aborted by a race.
    # A new sequence starts after any number of that day already given out (a counter row or a
    # stored work order, e.g. from a bulk load or an older kefu).
    with (
        engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn,
        contextlib.suppress(DBAPIError),  # another process created it at the same moment
    ):
        prefix = f"GD{day:%Y%m%d}"
        used = conn.execute(
            text(
                "SELECT GREATEST("
                "(SELECT last_value FROM work_order_sequences WHERE day = :day), "
                "(SELECT CAST(SUBSTRING(MAX(number), 11) AS integer) FROM work_orders "
                " WHERE number BETWEEN :low AND :high), 0)"
            ),
            {"day": day, "low": prefix + "000000", "high": prefix + "999999"},
        ).scalar_one()
        conn.execute(
            text(
                f"CREATE SEQUENCE IF NOT EXISTS {name} AS integer MINVALUE 1 MAXVALUE 999999 "
                f"START WITH {int(used or 0) + 1}"
            )
        )
    _known.add(key)
    return name


def number_sql(conn: Connection, day: date) -> str | None:
    """On PostgreSQL, the SQL expression that numbers a work order inside its INSERT (saves a
    round trip); None where the number has to be taken first with `next_in_day`."""
    if conn.dialect.name != "postgresql":
        return None
    name = _ensure_pg_sequence(conn.engine, day)
    return f"'GD{day:%Y%m%d}' || lpad(nextval('{name}')::text, 6, '0')"


def next_in_day(conn: Connection, day: date) -> int:
    if conn.dialect.name == "postgresql":
        name = _ensure_pg_sequence(conn.engine, day)
        return int(conn.execute(text(f"SELECT nextval('{name}')")).scalar_one())
    stmt = (
        sqlite.insert(work_order_sequences)
        .values(day=day, last_value=1)
        .on_conflict_do_update(
            index_elements=[work_order_sequences.c.day], set_={"last_value": work_order_sequences.c.last_value + 1}
        )
        .returning(work_order_sequences.c.last_value)
    )
    return int(conn.execute(stmt).scalar_one())


def last_values(engine: Engine) -> dict[str, int]:
    """The last number given out per day, as {"YYYYMMDD": n}."""
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            rows = conn.execute(
                text(
                    "SELECT sequencename, last_value FROM pg_sequences "
                    "WHERE schemaname = current_schema() AND sequencename LIKE 'wo\\_seq\\_%'"
                )
            )
            return {r.sequencename[7:]: int(r.last_value) for r in rows if r.last_value is not None}
        return {r.day.strftime("%Y%m%d"): r.last_value for r in conn.execute(select(work_order_sequences))}


def advance_to(engine: Engine, last: dict[str, int]) -> None:
    """Make sure the next number of each day comes after `last[day]` (used after bulk loads)."""
    current = last_values(engine)
    with engine.begin() as conn:
        for day_text, value in last.items():
            if current.get(day_text, 0) >= value:
                continue
            day = datetime.strptime(day_text, "%Y%m%d").date()  # noqa: DTZ007 - a calendar day, not a moment
            if engine.dialect.name == "postgresql":
                name = _ensure_pg_sequence(engine, day)
                conn.execute(text(f"SELECT setval('{name}', {int(value)})"))
            elif day_text in current:
                conn.execute(
                    work_order_sequences.update().where(work_order_sequences.c.day == day).values(last_value=value)
                )
            else:
                conn.execute(work_order_sequences.insert().values(day=day, last_value=value))
