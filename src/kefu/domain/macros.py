"""Macros: a named set of actions an agent applies to a work order in one click (one transaction).

A macro may send a canned reply, add tags, set the priority, give the work order to a team and move
it along its lifecycle — in that order, so "resolved, and tell the customer" reads the reply before
the move. Supervisors and admins keep the macros of their organisation; everyone in that
organisation and below it may apply them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kefu.domain.errors import ValidationFailed
from kefu.domain.workorders import Priority, Status

MAX_NAME = 100
MAX_TAGS = 10


@dataclass(frozen=True)
class Macro:
    id: int | None
    organisation_id: int
    name: str
    #: The canned reply to send (its code), on the channel the customer is answered on by default.
    reply_template: str | None = None
    tags: tuple[str, ...] = field(default=())
    priority: Priority | None = None
    team_id: int | None = None
    status: Status | None = None
    #: An internal note written with the other actions (why the macro was applied, what comes next).
    note: str | None = None
    active: bool = True

    def __post_init__(self) -> None:
        name = self.name.strip()
        if not name or len(name) > MAX_NAME or not name.isprintable():
            raise ValidationFailed(
                "The macro needs a name of 1 to {max} printable characters.", field="name", max=MAX_NAME
            )
        object.__setattr__(self, "name", name)
        if len(self.tags) > MAX_TAGS:
            raise ValidationFailed("A macro adds at most {max} tags.", field="tags", max=MAX_TAGS)
        if len(set(self.tags)) != len(self.tags):
            raise ValidationFailed("A tag is named twice.", field="tags")
        note = (self.note or "").strip() or None
        if note is not None and (len(note) > 2_000 or "\x00" in note):
            raise ValidationFailed("The note must be at most 2,000 characters, without NUL.", field="note")
        object.__setattr__(self, "note", note)
        if self.status is Status.DISPATCHED:
            raise ValidationFailed(
                "A macro cannot dispatch: a dispatch needs a receiver and an instruction.", field="status"
            )
        if not self.actions:
            raise ValidationFailed("The macro does nothing: choose at least one action.", field="actions")

    @property
    def actions(self) -> tuple[str, ...]:
        """The kinds of action it takes, in the order it takes them."""
        kinds = (
            ("reply", self.reply_template is not None),
            ("tags", bool(self.tags)),
            ("priority", self.priority is not None),
            ("team", self.team_id is not None),
            ("note", self.note is not None),
            ("status", self.status is not None),
        )
        return tuple(kind for kind, present in kinds if present)

    def as_data(self) -> dict[str, object]:
        """Its actions as stored and as the change log shows them (the name apart)."""
        return {
            "organisation_id": self.organisation_id,
            "active": self.active,
            "reply_template": self.reply_template,
            "tags": list(self.tags),
            "priority": self.priority.value if self.priority else None,
            "team_id": self.team_id,
            "status": self.status.value if self.status else None,
            "note": self.note,
        }
