"""The shape of every change to one work order: permission, scoped load, version check, then
store with optimistic locking and commit, all in one transaction."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from kefu.domain.errors import ConcurrentUpdate
from kefu.domain.org import Permission, User
from kefu.domain.workorders import WorkOrder
from kefu.services.authz import require
from kefu.services.ports import Context, UnitOfWork
from kefu.services.scope import load_work_order


def check_version(work_order: WorkOrder, expected_version: int | None) -> None:
    if expected_version is not None and expected_version != work_order.version:
        raise ConcurrentUpdate(number=work_order.number, current=work_order.version, expected=expected_version)


def store(uow: UnitOfWork, work_order: WorkOrder) -> None:
    """Save with optimistic locking: a concurrent commit since we read the row means 409, not overwrite."""
    current = work_order.version
    if not uow.work_orders.save(work_order, current):
        fresh = uow.work_orders.get_by_number(work_order.number)
        raise ConcurrentUpdate(
            number=work_order.number, current=fresh.version if fresh else "?", expected=current
        )


@contextmanager
def changing(ctx: Context, actor: User, permission: Permission, number: str,
              expected_version: int | None) -> Iterator[tuple[UnitOfWork, WorkOrder, datetime]]:
    """One change to one work order: permission, load, version check; on leaving, store with
    optimistic locking and commit (nothing is stored if the block raises)."""
    require(actor, permission)
    assert actor.id is not None
    with ctx.uow(write=True) as uow:
        work_order = load_work_order(ctx, uow, actor, number)
        check_version(work_order, expected_version)
        yield uow, work_order, ctx.clock.now()
        store(uow, work_order)
        uow.commit()
