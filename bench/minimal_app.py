"""The ceiling for a Python HTTP service here: an ASGI endpoint that does nothing but one INSERT of a
work-order-sized row (same server, same driver, same pool as kefu). Used by bench/intake.py."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime

import anyio
from sqlalchemy import text

from kefu.adapters.db.engine import make_engine

engine = make_engine(os.environ["KEFU_DATABASE_URL"])
with engine.begin() as conn:
    conn.execute(
        text(
            "CREATE TABLE IF NOT EXISTS bench_minimal (id INTEGER PRIMARY KEY, body TEXT, at TEXT)"
            if engine.dialect.name == "sqlite"
            else "CREATE TABLE IF NOT EXISTS bench_minimal (id BIGSERIAL PRIMARY KEY, body TEXT, at TIMESTAMPTZ)"
        )
    )


def insert(body: bytes) -> None:
    with engine.connect().execution_options(kefu_write=True) as conn:
        conn.execute(
            text("INSERT INTO bench_minimal (body, at) VALUES (:b, :a)"), {"b": body.decode(), "a": datetime.now(UTC)}
        )
        conn.commit()


async def app(scope, receive, send):  # type: ignore[no-untyped-def]
    if scope["type"] != "http":
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    await anyio.to_thread.run_sync(insert, body)
    payload = json.dumps({"ok": True}).encode()
    await send({"type": "http.response.start", "status": 201, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": payload})
