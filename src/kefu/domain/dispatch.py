"""Dispatch hops (派单): a work order sent to another team or organisation, and the answer.

A hop goes from a sender (the party working on the work order) to a receiver (a team, or an
organisation whose reception decides). The receiver accepts it, rejects it as out of its scope (the
hop goes back to the sender, who passes it on elsewhere), or returns it with a result (回单). A
receiver may pass the matter on: the new hop's parent is the hop it received, so results travel
back along the chain, hop by hop, to the party facing the customer (seed 004, R14). The first-ask
owner keeps the work order throughout (R15).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from kefu.domain.errors import N_, StateConflict, ValidationFailed
from kefu.domain.events import EventKind, WorkOrderEvent

MAX_TEXT = 4000


class HopStatus(StrEnum):
    PENDING = "pending"  # sent, nobody at the receiver has taken it yet
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    RETURNED = "returned"


ACTIVE_HOP_STATUSES = frozenset({HopStatus.PENDING, HopStatus.ACCEPTED})

#: How a hop's status reads (msgids; the pages and error messages use them).
HOP_STATUS_TEXT = {
    HopStatus.PENDING: N_("waiting to be accepted"),
    HopStatus.ACCEPTED: N_("accepted"),
    HopStatus.REJECTED: N_("rejected"),
    HopStatus.RETURNED: N_("returned"),
}


def _text(value: str | None, field: str, when_empty: str) -> str:
    text = (value or "").strip()
    if not text:
        raise ValidationFailed(when_empty, field=field)
    if len(text) > MAX_TEXT:
        raise ValidationFailed("The text is longer than 4,000 characters.", field=field)
    return text


@dataclass
class Dispatch:
    id: int | None
    work_order_id: int
    parent_id: int | None
    sender_user_id: int
    sender_org_id: int
    sender_team_id: int | None
    receiver_org_id: int
    receiver_team_id: int | None
    instruction: str
    status: HopStatus
    created_at: datetime
    deadline_at: datetime | None = None
    accepted_at: datetime | None = None
    accepted_by: int | None = None
    answered_at: datetime | None = None
    answered_by: int | None = None
    answer: str | None = None  # the reason of a rejection or the result of a return
    version: int = 1

    @classmethod
    def send(
        cls,
        *,
        work_order_id: int,
        parent_id: int | None,
        sender_user_id: int,
        sender_org_id: int,
        sender_team_id: int | None,
        receiver_org_id: int,
        receiver_team_id: int | None,
        instruction: str,
        at: datetime,
        deadline_at: datetime | None,
    ) -> Dispatch:
        text = _text(instruction, "instruction", N_("Give an instruction for the receiver (what to check or do)."))
        if receiver_team_id is not None and receiver_team_id == sender_team_id:
            raise ValidationFailed("A work order cannot be dispatched to the team that sends it.", field="to_team_id")
        if receiver_team_id is None and receiver_org_id == sender_org_id:
            raise ValidationFailed("Within your own organisation, name the team to dispatch to.", field="to_team_id")
        return cls(
            id=None,
            work_order_id=work_order_id,
            parent_id=parent_id,
            sender_user_id=sender_user_id,
            sender_org_id=sender_org_id,
            sender_team_id=sender_team_id,
            receiver_org_id=receiver_org_id,
            receiver_team_id=receiver_team_id,
            instruction=text,
            status=HopStatus.PENDING,
            created_at=at,
            deadline_at=deadline_at,
        )

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_HOP_STATUSES

    def overdue(self, now: datetime) -> bool:
        """Still waiting for its answer after its deadline."""
        return self.is_active and self.deadline_at is not None and self.deadline_at < now

    def move_deadline(self, deadline_at: datetime) -> None:
        """The work order's hop time limit changed (e.g. its priority): the deadline follows it."""
        if not self.is_active:
            raise StateConflict(
                N_("Dispatch {id} is {status}; its deadline no longer moves."),
                id=self.id,
                status=HOP_STATUS_TEXT[self.status],
            )
        self.deadline_at = deadline_at

    def _event(
        self, kind: EventKind, actor_id: int, at: datetime, note: str | None = None, **data: object
    ) -> WorkOrderEvent:
        return WorkOrderEvent(
            kind=kind,
            actor_id=actor_id,
            at=at,
            note=note,
            data={
                "dispatch_id": self.id,
                "parent_id": self.parent_id,
                "from_org": self.sender_org_id,
                "from_team": self.sender_team_id,
                "to_org": self.receiver_org_id,
                "to_team": self.receiver_team_id,
                **data,
            },
        )

    def sent_event(self) -> WorkOrderEvent:
        deadline = self.deadline_at.isoformat() if self.deadline_at else None
        return self._event(
            EventKind.HOP_SENT, self.sender_user_id, self.created_at, self.instruction, deadline_at=deadline
        )

    def _require(self, allowed: frozenset[HopStatus], template: str) -> None:
        if self.status not in allowed:
            raise StateConflict(template, id=self.id, status=HOP_STATUS_TEXT[self.status])

    def accept(self, *, actor_id: int, at: datetime) -> WorkOrderEvent:
        self._require(
            frozenset({HopStatus.PENDING}),
            N_("Dispatch {id} is {status}; only a dispatch waiting to be accepted can be accepted."),
        )
        self.status, self.accepted_at, self.accepted_by = HopStatus.ACCEPTED, at, actor_id
        return self._event(EventKind.HOP_ACCEPTED, actor_id, at)

    def reject(self, *, actor_id: int, at: datetime, reason: str) -> WorkOrderEvent:
        """Out of the receiver's scope: back to the sender with the reason."""
        self._require(ACTIVE_HOP_STATUSES, N_("Dispatch {id} is {status}; it has been answered already."))
        self.answer = _text(reason, "reason", N_("Give the reason why this is not in your scope."))
        self.status, self.answered_at, self.answered_by = HopStatus.REJECTED, at, actor_id
        return self._event(EventKind.HOP_REJECTED, actor_id, at, self.answer)

    def return_result(self, *, actor_id: int, at: datetime, result: str) -> WorkOrderEvent:
        """Answered (回单): the result goes back to the sender."""
        self._require(
            frozenset({HopStatus.ACCEPTED}),
            N_("Dispatch {id} is {status}; accept it before returning it with a result."),
        )
        self.answer = _text(
            result, "result", N_("Give the result: what was found and done, what to tell the customer.")
        )
        self.status, self.answered_at, self.answered_by = HopStatus.RETURNED, at, actor_id
        return self._event(EventKind.HOP_RETURNED, actor_id, at, self.answer)
