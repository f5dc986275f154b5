"""An adapter that fails in a way it should not (a bug, a library's exception) costs the one message,
not the outbox: the others are delivered in the same round, the faulty one is retried later with the
reason — on SQLite and PostgreSQL."""

from __future__ import annotations

import secrets
from dataclasses import replace

from sqlalchemy import select

from kefu.adapters.db.tables import outbox
from kefu.bootstrap import Kefu
from kefu.domain.notifications import Message
from kefu.services.ports import Outgoing
from kefu.services.sla.timers import deliver_outbox


class Flaky:
    """An SMS adapter that breaks on one address."""

    def __init__(self, bad: str) -> None:
        self.bad = bad
        self.sent: list[str] = []

    def send(self, message: Outgoing) -> str | None:
        if message.address == self.bad:
            raise RuntimeError("adapter bug")
        self.sent.append(message.address)
        return None


def test_one_faulty_message_does_not_hold_up_the_others(kefu: Kefu) -> None:
    good, bad = f"139{secrets.randbelow(10**8):08d}", f"138{secrets.randbelow(10**8):08d}"
    now = kefu.ctx.clock.now()
    with kefu.ctx.uow(write=True) as uow:
        ids = {
            to: uow.outbox.add_one(
                Message("sms", "staff:copy", now, now, {"body": "测试", "staff": True}, recipient=to)
            )
            for to in (bad, good)
        }
        uow.commit()
    adapter = Flaky(bad)
    ctx = replace(kefu.ctx, senders={**kefu.ctx.senders, "sms": adapter})
    deliver_outbox(ctx)  # no exception escapes
    assert good in adapter.sent
    with kefu.engine.connect() as conn:
        rows = {r.id: r for r in conn.execute(select(outbox).where(outbox.c.id.in_(list(ids.values()))))}
    assert rows[ids[good]].sent_at is not None
    faulty = rows[ids[bad]]
    assert faulty.sent_at is None and faulty.attempts == 1 and "RuntimeError" in (faulty.last_error or "")
