"""The shape of every change to one work order: permission, scoped load, version check, then
store with optimistic locking and commit, all in one transaction."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Protocol, TypeVar

from kefu.domain.errors import ConcurrentUpdate, NotFound
from kefu.domain.events import WorkOrderEvent
from kefu.domain.org import Permission, User
from kefu.domain.workorders import Status, WorkOrder
from kefu.services.access.authz import require
from kefu.services.access.scope import load_work_order, load_work_order_by_id
from kefu.services.context import Context
from kefu.services.notifications import making
from kefu.services.ports import UnitOfWork
from kefu.services.sla import clocks


def check_version(work_order: WorkOrder, expected_version: int | None) -> None:
    if expected_version is not None and expected_version != work_order.version:
        raise ConcurrentUpdate(number=work_order.number, current=work_order.version, expected=expected_version)


def move(
    ctx: Context, work_order: WorkOrder, to: Status, *, actor_id: int, at: datetime, note: str | None = None
) -> WorkOrderEvent:
    """Move a work order along its lifecycle under this installation's re-open window (the one
    place that passes it); the clocks follow when the change is stored."""
    return work_order.move_to(to, actor_id=actor_id, at=at, note=note, reopen_window=ctx.reopen_window)


def store(ctx: Context, uow: UnitOfWork, work_order: WorkOrder, *, actor_id: int | None = None) -> None:
    """Save a changed work order: its clocks follow the events it records (one place derives them,
    `kefu.services.sla.clocks.follow`), then the row and the events are saved with optimistic
    locking — a concurrent commit since we read the row means 409, not overwrite. The staff are told
    what the events call for (`kefu.services.notifications.making.follow`; never `actor_id`, who
    made the change)."""
    clocks.follow(ctx, uow, work_order)
    making.follow(ctx, uow, work_order, actor_id=actor_id)
    current = work_order.version
    if not uow.work_orders.save(work_order, current):
        fresh = uow.work_orders.get_by_number(work_order.number)
        raise ConcurrentUpdate(number=work_order.number, current=fresh.version if fresh else "?", expected=current)


def store_events(ctx: Context, uow: UnitOfWork, work_order: WorkOrder) -> None:
    """Save events kefu itself records on a work order without changing its fields (a reply's
    delivery): the clocks and the staff's notifications follow them as in `store`, the events join the
    timeline, and the row keeps its version, so no agent's concurrent change is refused for it (the
    clock rows are locked)."""
    clocks.follow(ctx, uow, work_order)
    making.follow(ctx, uow, work_order)
    uow.work_orders.append_events(work_order)
    assert work_order.id is not None
    uow.work_orders.set_next_due(work_order.id, work_order.next_due_at)


@contextmanager
def changing(
    ctx: Context, actor: User, permission: Permission, number: str, expected_version: int | None
) -> Iterator[tuple[UnitOfWork, WorkOrder, datetime]]:
    """One change to one work order: permission, load, version check; on leaving, store with
    optimistic locking and commit (nothing is stored if the block raises)."""
    require(actor, permission)
    assert actor.id is not None
    with ctx.uow(write=True) as uow:
        work_order = load_work_order(ctx, uow, actor, number)
        check_version(work_order, expected_version)
        yield uow, work_order, ctx.clock.now()
        store(ctx, uow, work_order, actor_id=actor.id)
        uow.commit()


class Part(Protocol):
    """Something that belongs to one work order and is changed with it: a hop, a visit."""

    @property
    def work_order_id(self) -> int: ...
    @property
    def version(self) -> int: ...


P = TypeVar("P", bound=Part)


class PartRepository(Protocol[P]):
    def get(self, part_id: int, /) -> P | None: ...
    def save(self, part: P, expected_version: int, /) -> bool: ...


@contextmanager
def changing_part(
    ctx: Context,
    actor: User,
    permission: Permission,
    kind: str,
    part_id: int,
    repository: Callable[[UnitOfWork], PartRepository[P]],
    expected_version: int | None,
    check: Callable[[P], None],
) -> Iterator[tuple[UnitOfWork, P, WorkOrder, datetime]]:
    """One change to a part of a work order and to the work order (its timeline) together: both are
    stored with optimistic locking and committed, or neither. `check` refuses actors who may see
    the work order but not change this part. Out of the actor's scope is "does not exist"."""
    require(actor, permission)
    with ctx.uow(write=True) as uow:
        parts = repository(uow)
        part = parts.get(part_id)
        work_order = load_work_order_by_id(ctx, uow, actor, part.work_order_id) if part else None
        if part is None or work_order is None:
            raise NotFound(kind=kind, key=part_id)
        check(part)
        if expected_version is not None and expected_version != part.version:
            raise ConcurrentUpdate(number=work_order.number, current=part.version, expected=expected_version)
        version = part.version
        yield uow, part, work_order, ctx.clock.now()
        if not parts.save(part, version):
            raise ConcurrentUpdate(number=work_order.number, current="?", expected=version)
        store(ctx, uow, work_order, actor_id=actor.id)
        uow.commit()
