"""Re-encrypting personal data with the newest data key (R31, R32): what `kefu keys rotate` does
after a new key was put first in KEFU_DATA_KEYS, and what encrypts ID numbers stored in clear
before encryption existed."""

from __future__ import annotations

from collections.abc import Callable

from kefu.domain.audit import AuditAction
from kefu.services import audit
from kefu.services.context import Context


def stale_id_numbers(ctx: Context) -> int:
    """How many stored ID numbers are in clear or encrypted with an older key."""
    with ctx.uow() as uow:
        return uow.customers.stale_id_numbers()


def rotate_data_keys(ctx: Context, *, batch: int = 1000, progress: Callable[[int], None] | None = None) -> int:
    """Encrypt every stored ID number with the newest key, `batch` customers per transaction (a
    housekeeping job, like the worker's ticks: a long table is not locked in one transaction).
    Idempotent: what is done is never redone, so an interrupted run continues where it stopped.
    Returns how many were re-encrypted; the run is an audit row."""
    done, after = 0, 0
    while True:
        with ctx.uow(write=True) as uow:
            count, last = uow.customers.reencrypt_id_numbers(after, batch)
            uow.commit()
        if last is None:
            break
        done, after = done + count, last
        if progress is not None:
            progress(count)
    audit.record_operator_action(
        ctx, AuditAction.KEYS_ROTATED, subject_type="customers.id_number", details={"reencrypted": done}
    )
    return done
