"""Service-request workflows (R17): ordered steps a work order of some kind must go through.

Each step is done in order, by someone, at a time, with what the step asks to record. A work order
with an unfinished checklist cannot be resolved. SIM card replacement (补换卡, seed 004) ships here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from kefu.domain.errors import N_, StateConflict, ValidationFailed
from kefu.domain.events import EventKind, WorkOrderEvent


@dataclass(frozen=True)
class StepField:
    name: str
    choices: tuple[str, ...] = ()  # empty: free text
    pattern: str | None = None
    hint: str = ""


@dataclass(frozen=True)
class StepTemplate:
    code: str
    label: str  # msgid (English); zh_CN in the catalogues
    fields: tuple[StepField, ...] = ()


#: How identity may be verified for a SIM replacement (实名制: the ID card is checked).
ID_METHODS = ("id_card_reader", "face_match", "id_card_and_service_password", "police_certificate")

CHECKLISTS: dict[str, tuple[StepTemplate, ...]] = {
    "sim_number.replacement": (
        StepTemplate("identity_verified", N_("Identity verified"), (StepField("method", choices=ID_METHODS),)),
        StepTemplate("old_card_deactivated", N_("Old card deactivated")),
        StepTemplate(
            "new_card_issued",
            N_("New card issued"),
            (StepField("iccid", pattern=r"^89\d{17,18}$", hint="19-20 digits starting with 89"),),
        ),
        StepTemplate("number_restored", N_("Number restored on the new card")),
        StepTemplate("customer_informed", N_("Customer informed")),
    ),
}


def template_for(category: str) -> tuple[StepTemplate, ...]:
    return CHECKLISTS.get(category, ())


@dataclass
class ChecklistStep:
    position: int
    code: str
    done_at: datetime | None = None
    done_by: int | None = None
    data: dict[str, str] = field(default_factory=dict)

    @property
    def done(self) -> bool:
        return self.done_at is not None


def new_checklist(category: str) -> list[ChecklistStep]:
    return [ChecklistStep(position=i, code=t.code) for i, t in enumerate(template_for(category), start=1)]


def complete_step(
    category: str, steps: list[ChecklistStep], code: str, *, actor_id: int, at: datetime, data: Mapping[str, str]
) -> tuple[ChecklistStep, WorkOrderEvent]:
    """Mark the next step done. Steps go in order; each records what its template asks for."""
    templates = {t.code: t for t in template_for(category)}
    step = next((s for s in steps if s.code == code), None)
    if step is None or code not in templates:
        raise ValidationFailed("This work order has no checklist step {code}.", field="step", code=code)
    if step.done:
        raise StateConflict("Step {code} was already done.", code=code)
    pending = next(s for s in steps if not s.done)
    if pending is not step:
        raise StateConflict("Do step {expected} first; the steps go in order.", expected=pending.code)
    recorded: dict[str, str] = {}
    for f in templates[code].fields:
        value = str(data.get(f.name, "")).strip()
        if not value:
            raise ValidationFailed("Step {code} needs {name}.", field=f.name, code=code, name=f.name)
        if f.choices and value not in f.choices:
            raise ValidationFailed(
                "{name} must be one of: {choices}.", field=f.name, name=f.name, choices=", ".join(f.choices)
            )
        if f.pattern and not re.match(f.pattern, value):
            raise ValidationFailed("{name} is not valid ({hint}).", field=f.name, name=f.name, hint=f.hint)
        recorded[f.name] = value
    unknown = set(data) - {f.name for f in templates[code].fields}
    if unknown:
        raise ValidationFailed(
            "Step {code} records no {names}.", field="data", code=code, names=", ".join(sorted(unknown))
        )
    step.done_at, step.done_by, step.data = at, actor_id, recorded
    event = WorkOrderEvent(
        kind=EventKind.CHECKLIST_STEP_DONE,
        actor_id=actor_id,
        at=at,
        data={"step": code, "position": step.position, **recorded},
    )
    return step, event


def unfinished(steps: list[ChecklistStep]) -> list[str]:
    return [s.code for s in steps if not s.done]
