"""The worker loop: SLA timers, then the outbox, then (every 10 minutes) a seal of the work-order
events into the audit chain, again and again. Several may run on PostgreSQL."""

from __future__ import annotations

import logging
import threading

from kefu.services.audit import seal_events
from kefu.services.context import Context
from kefu.services.dispatch.routing import fold_loads
from kefu.services.sla.timers import deliver_outbox, tick

log = logging.getLogger("kefu.worker")


def run(ctx: Context, *, stop: threading.Event, interval: float = 5.0, batch: int = 500, once: bool = False) -> int:
    """Work until `stop` is set (or, with `once`, until nothing is due). Returns the thresholds fired.

    A batch is one transaction: if the process dies in the middle, nothing of that batch is kept
    and the rows it had claimed go to the next worker.
    """
    fired = 0
    while not stop.is_set():
        try:
            result = tick(ctx, limit=batch)
            delivered = deliver_outbox(ctx, limit=batch)
            fold_loads(ctx)
            seal_events(ctx)
        except Exception:  # a bad row or a lost connection must not end the worker
            log.exception("worker tick failed; retrying in %.0f s", interval)
            stop.wait(interval)
            continue
        fired += result.fired
        busy = result.clocks == batch or delivered == batch
        if result.fired or delivered:
            log.info(
                "fired %d SLA thresholds on %d clocks, delivered %d messages", result.fired, result.clocks, delivered
            )
        if once and not busy:
            break
        if not busy:
            stop.wait(interval)
    return fired


class EmbeddedWorker:
    """The worker as a thread inside `kefu serve` (the single-process SQLite set-up of `make run`)."""

    def __init__(self, ctx: Context, interval: float) -> None:
        self.stop = threading.Event()
        self.thread = threading.Thread(
            target=run, args=(ctx,), kwargs={"stop": self.stop, "interval": interval}, name="kefu-worker", daemon=True
        )

    def start(self) -> None:
        self.thread.start()

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=30)
