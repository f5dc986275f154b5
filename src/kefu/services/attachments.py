"""Files uploaded to a work order (issue #12, part 8) by agents (internal, or shown to the customer)
and by customers on the portal, under the limits e-mail attachments have (kefu.domain.attachments):
each upload an event on the timeline; reading within the data scope; a vendor or partner sees the
files meant for the customer and its own people's, like the notes (kefu.services.access.scope)."""

from __future__ import annotations

from kefu.domain.attachments import WorkOrderFile, check_upload
from kefu.domain.errors import N_, NotFound, ValidationFailed
from kefu.domain.events import EventKind, WorkOrderEvent
from kefu.domain.org import Permission, User
from kefu.domain.workorders import WorkOrder
from kefu.services.access import scope
from kefu.services.access.authz import require
from kefu.services.access.scope import load_work_order
from kefu.services.access.system import system_id
from kefu.services.changes import changing, store_events
from kefu.services.context import Context
from kefu.services.ports import UnitOfWork
from kefu.services.ratelimits import Limit

#: Files a customer may add to one work order on the portal.
MAX_CUSTOMER_FILES = 20


def _event(file: WorkOrderFile) -> WorkOrderEvent:
    return WorkOrderEvent(
        kind=EventKind.FILE_ADDED,
        actor_id=file.uploaded_by,
        at=file.uploaded_at,
        visibility="customer" if file.customer_visible else "internal",
        data={
            "file_id": file.id,
            "filename": file.filename,
            "content_type": file.content_type,
            "size": file.size,
            "by_customer": file.by_customer,
        },
    )


def _index(uow: UnitOfWork, file: WorkOrderFile) -> None:
    """A file's name is searchable (internal files only by those who may read them)."""
    uow.search.put(
        file.work_order_id, "file", str(file.id), file.filename, field="more" if file.customer_visible else "internal"
    )


def upload(
    ctx: Context,
    actor: User,
    number: str,
    *,
    filename: str | None,
    content_type: str | None,
    content: bytes | None,
    customer_visible: bool = False,
) -> WorkOrderFile:
    """An agent's file on a work order in its scope (whoever may add a note may add a file). The file
    is looked at once permission and scope are checked (no answer tells an outsider about it)."""
    with changing(ctx, actor, Permission.WORKORDER_NOTE, number, None) as (uow, wo, now):
        assert wo.id is not None and actor.id is not None
        if content is None:
            raise ValidationFailed("Choose a file to upload.", field="file")
        name, kind = check_upload(filename, content_type, len(content), max_bytes=ctx.max_attachment_bytes)
        stored = uow.files.add(
            WorkOrderFile(
                id=None,
                work_order_id=wo.id,
                filename=name,
                content_type=kind,
                size=len(content),
                uploaded_at=now,
                uploaded_by=actor.id,
                by_customer=False,
                customer_visible=customer_visible,
            ),
            content,
        )
        wo.updated_at = now
        wo.record(_event(stored))
        _index(uow, stored)
    return stored


def _shown(
    ctx: Context, uow: UnitOfWork, actor: User, wo: WorkOrder, files: list[WorkOrderFile]
) -> list[WorkOrderFile]:
    if not scope.external(ctx, uow, actor):
        return files
    own = scope.visible_to(ctx, uow, actor) or frozenset()
    people = uow.users.get_many(sorted({f.uploaded_by for f in files}))
    return [
        f
        for f in files
        if f.customer_visible or (f.uploaded_by in people and people[f.uploaded_by].organisation_id in own)
    ]


def list_files(ctx: Context, actor: User, number: str) -> list[WorkOrderFile]:
    """The files of a work order in the actor's scope (without their contents), oldest first."""
    require(actor, Permission.READ)
    with ctx.uow() as uow:
        wo = load_work_order(ctx, uow, actor, number)
        return _shown(ctx, uow, actor, wo, uow.files.of_work_order(wo.id or 0))


def get_file(ctx: Context, actor: User, number: str, file_id: int) -> WorkOrderFile:
    """One file with its contents; a file of another work order, or one the actor may not see, is
    not found."""
    require(actor, Permission.READ)
    with ctx.uow() as uow:
        wo = load_work_order(ctx, uow, actor, number)
        found = uow.files.get(file_id)
        if found is None or found.work_order_id != wo.id or not _shown(ctx, uow, actor, wo, [found]):
            raise NotFound(kind=N_("Attachment"), key=file_id)
        return found


# --- the customer, on the portal (the page has checked the customer's code for this work order) ----


def customer_upload(
    ctx: Context, number: str, *, filename: str | None, content_type: str | None, content: bytes | None, address: str
) -> WorkOrderFile:
    """A customer's file (counted per address: `portal.upload.address`)."""
    ctx.rate_limits.check(Limit.PORTAL_UPLOAD_ADDRESS, address)
    if content is None:
        raise ValidationFailed("Choose a file to upload.", field="file")
    name, kind = check_upload(filename, content_type, len(content), max_bytes=ctx.max_attachment_bytes)
    with ctx.uow(write=True) as uow:
        wo = uow.work_orders.get_by_number(number)
        if wo is None or wo.id is None:
            raise NotFound(kind=N_("Work order"), key=number[:40])
        if not wo.is_open:
            raise ValidationFailed("This request is finished; files can no longer be added to it.", field="file")
        if sum(1 for f in uow.files.of_work_order(wo.id) if f.by_customer) >= MAX_CUSTOMER_FILES:
            raise ValidationFailed(
                "At most {count} files can be added here; send more by e-mail.", field="file", count=MAX_CUSTOMER_FILES
            )
        stored = uow.files.add(
            WorkOrderFile(
                id=None,
                work_order_id=wo.id,
                filename=name,
                content_type=kind,
                size=len(content),
                uploaded_at=ctx.clock.now(),
                uploaded_by=system_id(ctx, uow),
                by_customer=True,
                customer_visible=True,
            ),
            content,
        )
        wo.record(_event(stored))
        _index(uow, stored)
        store_events(ctx, uow, wo)  # as every event kefu records by itself: clocks and notifications follow
        uow.commit()
    return stored


def customer_files(ctx: Context, number: str) -> list[WorkOrderFile]:
    """The files of a work order its customer sees: theirs and those meant for them."""
    with ctx.uow() as uow:
        wo = uow.work_orders.get_by_number(number)
        if wo is None or wo.id is None:
            raise NotFound(kind=N_("Work order"), key=number[:40])
        return [f for f in uow.files.of_work_order(wo.id) if f.customer_visible]


def customer_file(ctx: Context, number: str, file_id: int) -> WorkOrderFile:
    with ctx.uow() as uow:
        wo = uow.work_orders.get_by_number(number)
        found = uow.files.get(file_id)
        if wo is None or found is None or found.work_order_id != wo.id or not found.customer_visible:
            raise NotFound(kind=N_("Attachment"), key=file_id)
        return found
