"""What makes a notification to staff, and whom it reaches.

`follow` reads the events a change records (called by `kefu.services.changes.store` and by
`open_work_order`, in the change's own transaction, like the clocks) and `to_staff` turns a kind and
its candidate recipients into outbox messages: never to the one who acted, only to active users who
may see the work order (data scope), one in-app message each, and the copies by e-mail or SMS that a
recipient chose for this kind (to the address on their account). The time-limit worker
(`kefu.services.sla.timers`) calls `to_staff` for warnings, breaches and escalations. The worker's
outbox delivery hands the in-app messages to `deliver` (their recipients' inboxes)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from kefu.domain.events import EventKind, WorkOrderEvent
from kefu.domain.notifications import (
    KIND_LABELS,
    CopyChannel,
    Message,
    NotificationKind,
    mentioned_usernames,
)
from kefu.domain.org import Role, User
from kefu.domain.workorders import Priority, WorkOrder
from kefu.services.access import scope
from kefu.services.context import Context
from kefu.services.ports import UnitOfWork

#: Who answers for work sent to a team: its handlers and supervisors (kefu.services.dispatch.routing
#: has the same handler roles).
TEAM_ROLES = (Role.AGENT, Role.TECH_SUPPORT, Role.FIELD_ENGINEER, Role.SUPERVISOR)
HOP_ANSWERS = {
    EventKind.HOP_ACCEPTED: "accepted",
    EventKind.HOP_REJECTED: "rejected",
    EventKind.HOP_RETURNED: "returned",
}


def to_staff(
    ctx: Context,
    uow: UnitOfWork,
    wo: WorkOrder,
    kind: NotificationKind,
    recipients: Iterable[int | None],
    payload: dict[str, Any],
    now: datetime,
    *,
    urgent: bool,
    actor_id: int | None = None,
) -> list[Message]:
    """The outbox messages of one notification about `wo`: one in-app message per recipient (each
    named once; not the actor; only active users who may see `wo`), and the copies each chose."""
    ids = [i for i in dict.fromkeys(recipients) if i is not None and i != actor_id]
    if not ids or wo.id is None:
        return []
    people = uow.users.get_many(ids)
    sees = _Sees(ctx, uow, wo)
    reached = [u for i in ids if (u := people.get(i)) is not None and u.active and sees(u)]
    if not reached:
        return []
    release = ctx.quiet_hours.release(now, urgent=urgent) if ctx.quiet_hours else now
    body = {"number": wo.number, **payload}
    chosen = uow.notifications.preferences([u.id for u in reached if u.id is not None])
    messages = []
    for user in reached:
        assert user.id is not None
        messages.append(
            Message(
                channel="inbox",
                template=kind.value,
                created_at=now,
                deliver_after=release,
                payload=body,
                recipient_user_id=user.id,
                work_order_id=wo.id,
                urgent=urgent,
            )
        )
        for channel in sorted(c for k, c in chosen.get(user.id, set()) if k is kind):
            address = user.email if channel is CopyChannel.EMAIL else user.phone
            if address:
                messages.append(_copy(ctx, wo, kind, channel, address, user.id, body, now, urgent))
    return messages


def _copy(
    ctx: Context,
    wo: WorkOrder,
    kind: NotificationKind,
    channel: CopyChannel,
    address: str,
    user_id: int,
    payload: dict[str, Any],
    now: datetime,
    urgent: bool,
) -> Message:
    """A copy by e-mail or SMS, in the installation's language: the kind and the number, no text of
    the work order (it leaves kefu; personal data stays inside). It goes out at once, quiet hours or
    not: whoever asked for copies is on call. It is no contact with a customer: the outbox delivery
    sends it and records nothing on the customer's history."""
    label = ctx.gettext(KIND_LABELS[kind])
    text = ctx.gettext("{kind}: work order {number}. Open kefu to see it.").format(kind=label, number=wo.number)
    return Message(
        channel=channel.value,
        template=kind.value,
        created_at=now,
        deliver_after=now,
        payload={**payload, "subject": f"[kefu] {label} {wo.number}", "body": text, "staff": True},
        recipient_user_id=user_id,
        recipient=address,
        work_order_id=wo.id,
        urgent=urgent,
    )


class _Sees:
    """Whether a user may see `wo`: the data-scope rule of every read (`scope.visible_to`, turned into
    SQL by storage), asked of the database once per distinct scope (a team's people share one)."""

    def __init__(self, ctx: Context, uow: UnitOfWork, wo: WorkOrder) -> None:
        self.ctx, self.uow, self.wo = ctx, uow, wo
        self.known: dict[frozenset[int], bool] = {}

    def __call__(self, user: User) -> bool:
        visible = scope.visible_to(self.ctx, self.uow, user)
        if visible is None or self.wo.organisation_id in visible:
            return True
        if visible not in self.known:
            self.known[visible] = self.uow.work_orders.get_by_id(self.wo.id or 0, visible_to=visible) is not None
        return self.known[visible]


def follow(
    ctx: Context,
    uow: UnitOfWork,
    wo: WorkOrder,
    events: Sequence[WorkOrderEvent] | None = None,
    *,
    actor_id: int | None = None,
    opening: bool = False,
) -> None:
    """Inside a change: the notifications its events make (default: the work order's pending
    events), written to the outbox in the same transaction. `actor_id`: who made the change;
    `opening`: the work order is being registered (its routing into a queue tells nobody)."""
    messages: list[Message] = []
    now = ctx.clock.now()
    urgent = wo.priority is Priority.P1
    for event in wo.events if events is None else events:
        acted = {actor_id, event.actor_id}  # the system signs some events on the actor's behalf
        for kind, recipients, payload in _made_by(ctx, uow, wo, event, opening):
            told = [r for r in recipients if r not in acted]
            messages += to_staff(ctx, uow, wo, kind, told, payload, now, urgent=urgent)
    uow.outbox.add(messages)


def _made_by(
    ctx: Context, uow: UnitOfWork, wo: WorkOrder, e: WorkOrderEvent, opening: bool
) -> list[tuple[NotificationKind, list[int | None], dict[str, Any]]]:
    """The notifications one event makes: (kind, candidate recipients, payload)."""
    data = e.data
    if e.kind is EventKind.HOP_SENT:
        payload = {"dispatch_id": data.get("dispatch_id"), "status": "pending", "deadline_at": data.get("deadline_at")}
        return [(NotificationKind.DISPATCHED, _receivers(uow, data.get("to_team"), data.get("to_org")), payload)]
    if e.kind in HOP_ANSWERS:
        hop = uow.dispatches.get(int(data.get("dispatch_id") or 0))
        payload = {"dispatch_id": data.get("dispatch_id"), "status": HOP_ANSWERS[e.kind]}
        return [(NotificationKind.HOP_ANSWERED, [hop.sender_user_id] if hop else [], payload)]
    if e.kind is EventKind.VISIT_SCHEDULED:  # a field visit booked for an engineer is theirs
        payload = {"visit_id": data.get("visit_id"), "window_start": data.get("window_start")}
        return [(NotificationKind.ASSIGNED, [data.get("engineer_id")], payload)]
    if e.kind in (EventKind.HANDLER_CHANGED, EventKind.ROUTED, EventKind.TEAM_CHANGED):
        return _placed(uow, e, opening)
    if e.kind is EventKind.NOTE_ADDED and e.visibility == "internal" and e.note:
        author = uow.users.get(e.actor_id)
        named = [u for name in mentioned_usernames(e.note) if (u := uow.users.get_by_username(name)) is not None]
        # A vendor's or partner's user reads only the internal notes of its own people (scope.shown_history).
        readers = [
            u.id
            for u in named
            if not scope.external(ctx, uow, u) or (author is not None and author.organisation_id == u.organisation_id)
        ]
        return [(NotificationKind.MENTION, readers, {"by": author.display_name} if author is not None else {})]
    if e.kind is EventKind.CONTACT_RECEIVED:
        payload = {"channel": data.get("channel")}
        handler = uow.users.get(wo.handler_id) if wo.handler_id is not None else None
        if handler is not None and handler.active:
            return [(NotificationKind.CUSTOMER_REPLIED, [handler.id], payload)]
        # Nobody handles it (a work order born of a message is the system account's): its team's supervisors.
        return [(NotificationKind.CUSTOMER_REPLIED, _supervisors(uow, wo.team_id), payload)]
    return []


def _placed(
    uow: UnitOfWork, e: WorkOrderEvent, opening: bool
) -> list[tuple[NotificationKind, list[int | None], dict[str, Any]]]:
    """Assigned to someone (they are told), or moved into a team's queue (its supervisors are told;
    a new work order routed into a queue tells nobody: the queue shows and counts it)."""
    data = e.data
    if e.kind is EventKind.TEAM_CHANGED:
        team, handler, before = data.get("to"), None, data.get("from")
    else:
        team, handler, before = data.get("team_id"), data.get("handler_id"), data.get("from_team")
    if handler is not None:
        if handler == data.get("from_handler"):
            return []
        return [(NotificationKind.ASSIGNED, [handler], {"team_id": team})]
    if team is None or team == before or opening:
        return []
    return [(NotificationKind.DISPATCHED, _supervisors(uow, team), {"team_id": team})]


def _receivers(uow: UnitOfWork, team_id: object, organisation_id: object) -> list[int | None]:
    if isinstance(team_id, int):
        return [u.id for u in uow.users.find(roles=TEAM_ROLES, team_id=team_id)]
    if isinstance(organisation_id, int):  # an organisation's reception decides who takes it
        return [u.id for u in uow.users.find(roles=(Role.SUPERVISOR,), organisation_id=organisation_id)]
    return []


def _supervisors(uow: UnitOfWork, team_id: object) -> list[int | None]:
    if not isinstance(team_id, int):
        return []
    return [u.id for u in uow.users.find(roles=(Role.SUPERVISOR,), team_id=team_id)]


def deliver(uow: UnitOfWork, due: list[Message], now: datetime) -> list[int]:
    """Inside the outbox delivery: the in-app messages among `due` into their recipients'
    inboxes; the ids of those delivered."""
    inbox = [m for m in due if m.channel == "inbox"]
    uow.notifications.add(inbox, now)
    return [m.id for m in inbox if m.id is not None]
