"""What `kefu worker` runs: due SLA thresholds, then the outbox. Each call is one transaction."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime

from kefu.domain.calendars import BusinessCalendar
from kefu.domain.events import EventKind
from kefu.domain.notifications import MAX_ATTEMPTS, Message, NotificationKind, retry_delay
from kefu.domain.org import Role, Team
from kefu.domain.replies import ReplyChannel
from kefu.domain.sla import ClockRecord, EscalationLevel, Notify, SlaPolicy
from kefu.domain.workorders import WorkOrder
from kefu.services import replies
from kefu.services.access.system import system_id
from kefu.services.context import Context
from kefu.services.notifications import making
from kefu.services.ports import Outgoing, SendFailed, UnitOfWork
from kefu.services.sla.clocks import BREACH, clock_event, setup

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TickResult:
    clocks: int  # clocks claimed
    fired: int  # thresholds fired (warnings, breaches, escalation levels)


class _Directory:
    """Teams and the people in given roles, looked up once per tick however many clocks need them."""

    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self._teams: dict[int, Team | None] = {}
        self._people: dict[tuple[Role, int | None, int | None], list[int]] = {}

    def team(self, team_id: int | None) -> Team | None:
        if team_id is None:
            return None
        if team_id not in self._teams:
            self._teams[team_id] = self.uow.org.get_team(team_id)
        return self._teams[team_id]

    def people(self, role: Role, *, team_id: int | None = None, organisation_id: int | None = None) -> list[int]:
        key = (role, team_id, organisation_id)
        if key not in self._people:
            found = self.uow.users.find(roles=(role,), team_id=team_id, organisation_id=organisation_id)
            self._people[key] = [u.id for u in found if u.id is not None]
        return self._people[key]


def tick(ctx: Context, *, limit: int = 500) -> TickResult:
    """Fire every threshold that has come due, once. Rows locked by another worker are skipped."""
    with ctx.uow(write=True) as uow:
        now = ctx.clock.now()
        records = uow.sla.claim_due(now, limit)
        if not records:
            return TickResult(0, 0)
        signer = system_id(ctx, uow)
        s = setup(ctx, uow)
        orders = uow.work_orders.get_many_by_id(sorted({r.work_order_id for r in records}))
        fired = 0
        messages: list[Message] = []
        changed: dict[int, int] = {}  # work-order id -> version read, for those whose fields change
        updated = []
        directory = _Directory(uow)
        for record in records:
            wo = orders[record.work_order_id]
            version = wo.version
            new_record, count, msgs, touched = _fire(
                ctx,
                signer,
                directory,
                s.calendar(record.calendar),
                s.thresholds_of(record),
                record,
                s.policy_of(record),
                wo,
                now,
            )
            fired += count
            messages += msgs
            updated.append(new_record)
            if touched:
                changed.setdefault(wo.id or 0, version)
        uow.sla.save_clocks(updated)
        for wo in orders.values():
            if wo.id in changed:
                if not uow.work_orders.save(wo, changed[wo.id]):
                    # Someone changed it meanwhile: roll all of this back; the next tick tries again.
                    return TickResult(0, 0)
            else:
                uow.work_orders.append_events(wo)
        uow.outbox.add(messages)
        uow.commit()
    return TickResult(len(records), fired)


def _fire(
    ctx: Context,
    signer: int,
    directory: _Directory,
    calendar: BusinessCalendar,
    thresholds: tuple[float, ...],
    record: ClockRecord,
    policy: SlaPolicy | None,
    wo: WorkOrder,
    now: datetime,
) -> tuple[ClockRecord, int, list[Message], bool]:
    state = record.state
    breached_at = record.breached_at
    messages: list[Message] = []
    touched = False
    count = 0
    while state.fired < len(thresholds):
        fraction = thresholds[state.fired]
        moment = state.moment_of(fraction, calendar)
        if moment is None or moment > now:
            break
        levels = [e for e in (policy.escalations if policy else ()) if e.at == fraction]
        if fraction < BREACH and (policy is None or fraction in policy.warn_at):
            wo.record(clock_event(signer, EventKind.SLA_WARNING, record, moment, fraction))
            if not levels:
                messages += _notify(ctx, directory, wo, (Notify.HANDLER,), "sla_warning", record, moment, urgent=False)
        if fraction == BREACH:
            breached_at = moment
            wo.record(clock_event(signer, EventKind.SLA_BREACHED, record, moment, fraction))
            if not levels:  # no escalation level says whom to tell: the handler and the first-ask owner
                messages += _notify(
                    ctx,
                    directory,
                    wo,
                    (Notify.HANDLER, Notify.OWNER),
                    "sla_breached",
                    record,
                    moment,
                    urgent=wo.priority.value == "P1",
                )
        for level in levels:
            wo.record(clock_event(signer, EventKind.SLA_ESCALATED, record, moment, fraction, level))
            touched |= _act(signer, wo, level, moment)
            urgent = fraction >= BREACH and wo.priority.value == "P1"
            template = "sla_breached" if fraction >= BREACH else "sla_warning"
            messages += _notify(
                ctx, directory, wo, level.notify, template, record, moment, urgent=urgent, level=level.level
            )
        state = replace(state, fired=state.fired + 1)
        count += 1
    new_record = replace(record, state=state, breached_at=breached_at).refreshed(calendar, thresholds)
    return new_record, count, messages, touched


def _act(signer: int, wo: WorkOrder, level: EscalationLevel, at: datetime) -> bool:
    """The escalation level's actions on the work order, signed by the system account; True if a
    field changed."""
    touched = False
    reason = f"SLA L{level.level}"
    if level.raise_priority and wo.is_open and (higher := wo.raised_priority()) is not None:
        wo.change_priority(higher, actor_id=signer, at=at, reason=reason)
        touched = True
    if level.reassign_team_id is not None and wo.team_id != level.reassign_team_id and wo.is_open:
        wo.reassign_team(level.reassign_team_id, actor_id=signer, at=at, reason=reason)
        touched = True
    return touched


def _notify(
    ctx: Context,
    directory: _Directory,
    wo: WorkOrder,
    who: tuple[Notify, ...],
    template: str,
    record: ClockRecord,
    at: datetime,
    *,
    urgent: bool,
    level: int | None = None,
) -> list[Message]:
    recipients: list[int] = []
    team = directory.team(wo.team_id)
    for target in who:
        if target is Notify.HANDLER and wo.handler_id is not None:
            recipients.append(wo.handler_id)
        elif target is Notify.OWNER:
            recipients.append(wo.owner_id)
        elif target is Notify.TEAM_LEAD and team is not None:
            recipients += directory.people(Role.SUPERVISOR, team_id=team.id)
        elif target is Notify.CENTRE_MANAGER and team is not None:
            recipients += directory.people(Role.SUPERVISOR, organisation_id=team.organisation_id)
        elif target is Notify.HQ_QUALITY:
            recipients += directory.people(Role.QUALITY)
    payload = {"clock": record.state.name.value, "at": at.isoformat(), "priority": wo.priority.value, "level": level}
    # An escalation level before the deadline is an escalation; at or past it, a breach (with its level).
    kind = (
        NotificationKind.SLA_ESCALATED
        if level is not None and template == "sla_warning"
        else NotificationKind(template)
    )
    return making.to_staff(ctx, directory.uow, wo, kind, recipients, payload, ctx.clock.now(), urgent=urgent)


def deliver_outbox(ctx: Context, *, limit: int = 500) -> int:
    """Deliver what is due: in-app messages to their recipients' inboxes
    (`kefu.services.notifications.making.deliver`), messages to customers through their channel's
    adapter (each sent one is stored as an outbound contact), and the copies of staff notifications
    by e-mail or SMS through the same adapters (no contact: they are not the customer's). What fails is
    tried again with a growing delay (`retry_delay`) and given up after MAX_ATTEMPTS.

    At least once: a message whose send succeeded but whose commit was lost goes out again — with
    the same message id, so providers that keep ids drop the repeat."""
    with ctx.uow(write=True) as uow:
        now = ctx.clock.now()
        due = uow.outbox.claim_due(now, limit)
        sent = making.deliver(uow, due, now)
        for message in (m for m in due if m.channel != "inbox"):
            assert message.id is not None
            sender = ctx.senders.get(message.channel)
            try:
                if message.channel == ReplyChannel.PORTAL.value:
                    provider_id = None  # shown on the portal from now on: handed over
                elif sender is None:
                    raise SendFailed(f"no {message.channel} adapter is configured")
                else:
                    references = message.payload.get("references") or ()
                    provider_id = sender.send(
                        Outgoing(
                            message_id=f"kefu-{message.id}",
                            channel=message.channel,
                            address=message.recipient or "",
                            subject=message.payload.get("subject") or None,
                            body=message.secret_body or str(message.payload.get("body", "")),
                            work_order_number=message.payload.get("number"),
                            in_reply_to=message.payload.get("in_reply_to") or None,
                            references=tuple(str(r) for r in references),
                        )
                    )
            except Exception as exc:  # SendFailed; anything else is an adapter's fault, kept to this message
                if not isinstance(exc, SendFailed):
                    log.exception("the %s adapter failed on outbox message %s", message.channel, message.id)
                attempts = message.attempts + 1
                error = (str(exc) if isinstance(exc, SendFailed) else f"{type(exc).__name__} in the adapter")[:500]
                last = attempts >= MAX_ATTEMPTS
                uow.outbox.mark_failed(message.id, error=error, retry_at=None if last else now + retry_delay(attempts))
                if last:
                    replies.given_up(ctx, uow, message, error, now)
                continue
            sent.append(message.id)
            if message.payload.get("staff"):
                continue  # a staff member's copy of a notification: not the customer's history
            uow.channels.add_contact(replies.contact_of(message, provider_id, now))
            replies.delivered(ctx, uow, message, provider_id, now)
        uow.outbox.mark_sent(sent, now)
        uow.commit()
    return len(sent)
