"""Field service (R13): a visit to the customer's site, from appointment to confirmation.

A visit is scheduled in a window agreed with the customer, with the tools and spare parts to carry.
The engineer checks in on site, diagnoses, repairs, runs the function test — without its result a
visit cannot be completed — has the customer confirm, cleans up and checks out. The outcome either
resolves the work order or asks for another visit.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta, tzinfo
from enum import StrEnum
from zoneinfo import ZoneInfo

from kefu.domain.errors import N_, StateConflict, ValidationFailed
from kefu.domain.events import EventKind, WorkOrderEvent
from kefu.domain.routing import Candidate

MAX_WINDOW = timedelta(hours=12)
MAX_ITEMS = 50
MAX_SIGNATURE_BYTES = 200_000
PNG_PREFIX = "data:image/png;base64,"


class VisitStatus(StrEnum):
    SCHEDULED = "scheduled"
    ON_SITE = "on_site"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


#: How a visit's status reads (msgids).
VISIT_STATUS_TEXT = {
    VisitStatus.SCHEDULED: N_("scheduled"),
    VisitStatus.ON_SITE: N_("on site"),
    VisitStatus.COMPLETED: N_("completed"),
    VisitStatus.CANCELLED: N_("cancelled"),
}


class VisitOutcome(StrEnum):
    RESOLVED = "resolved"  # fixed and confirmed: the work order is resolved
    REVISIT = "revisit"  # another visit is needed (parts to order, a second engineer ...)


def _items(values: list[str], name: str) -> list[str]:
    cleaned = [v.strip() for v in values if v.strip()]
    if len(cleaned) > MAX_ITEMS or any(len(v) > 100 for v in cleaned):
        raise ValidationFailed("List at most 50 items, each up to 100 characters.", field=name)
    return cleaned


def _optional_text(value: str | None, name: str, limit: int = 4000) -> str | None:
    text = (value or "").strip() or None
    if text is not None and len(text) > limit:
        raise ValidationFailed("The text is longer than {limit} characters.", field=name, limit=limit)
    return text


def check_signature(signature: str | None) -> str | None:
    """A signature drawn on the engineer's phone: a PNG as a data URL, at most 200 kB."""
    if not signature:
        return None
    if not signature.startswith(PNG_PREFIX):
        raise ValidationFailed(
            "The signature must be a PNG image as a data URL (data:image/png;base64,...).", field="signature"
        )
    try:
        raw = base64.b64decode(signature[len(PNG_PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        raise ValidationFailed("The signature image is not valid base64.", field="signature") from None
    if not raw.startswith(b"\x89PNG\r\n\x1a\n"):
        raise ValidationFailed(
            "The signature must be a PNG image as a data URL (data:image/png;base64,...).", field="signature"
        )
    if len(raw) > MAX_SIGNATURE_BYTES:
        raise ValidationFailed("The signature image is larger than 200 kB.", field="signature")
    return signature


@dataclass
class Visit:
    id: int | None
    work_order_id: int
    engineer_id: int
    status: VisitStatus
    window_start: datetime
    window_end: datetime
    address: str
    created_at: datetime
    created_by: int
    tools: list[str] = field(default_factory=list)
    parts: list[str] = field(default_factory=list)
    checked_in_at: datetime | None = None
    checked_out_at: datetime | None = None
    diagnosis: str | None = None
    repair_actions: str | None = None
    function_test_passed: bool | None = None
    function_test_note: str | None = None
    confirmed_by: str | None = None
    confirmed_at: datetime | None = None
    signature: str | None = None
    site_cleaned: bool | None = None
    outcome: VisitOutcome | None = None
    cancel_reason: str | None = None
    version: int = 1

    @classmethod
    def schedule(
        cls,
        *,
        work_order_id: int,
        engineer_id: int,
        window_start: datetime,
        window_end: datetime,
        address: str,
        tools: list[str],
        parts: list[str],
        actor_id: int,
        at: datetime,
    ) -> Visit:
        if window_start.tzinfo is None or window_end.tzinfo is None:
            raise ValidationFailed("The appointment window must carry a timezone.", field="window_start")
        if window_end <= window_start:
            raise ValidationFailed("The appointment window must end after it starts.", field="window_end")
        if window_end - window_start > MAX_WINDOW:
            raise ValidationFailed("An appointment window is at most 12 hours long.", field="window_end")
        if window_end <= at:
            raise ValidationFailed("The appointment window lies in the past.", field="window_start")
        place = (address or "").strip()
        if not place:
            raise ValidationFailed("Give the address of the site.", field="address")
        if len(place) > 300:
            raise ValidationFailed("The address is longer than 300 characters.", field="address")
        return cls(
            id=None,
            work_order_id=work_order_id,
            engineer_id=engineer_id,
            status=VisitStatus.SCHEDULED,
            window_start=window_start,
            window_end=window_end,
            address=place,
            created_at=at,
            created_by=actor_id,
            tools=_items(tools, "tools"),
            parts=_items(parts, "parts"),
        )

    def _event(
        self, kind: EventKind, actor_id: int, at: datetime, note: str | None = None, **data: object
    ) -> WorkOrderEvent:
        return WorkOrderEvent(
            kind=kind,
            actor_id=actor_id,
            at=at,
            note=note,
            data={"visit_id": self.id, "engineer_id": self.engineer_id, **data},
        )

    def scheduled_event(self) -> WorkOrderEvent:
        return self._event(
            EventKind.VISIT_SCHEDULED,
            self.created_by,
            self.created_at,
            window_start=self.window_start.isoformat(),
            window_end=self.window_end.isoformat(),
            tools=self.tools,
            parts=self.parts,
        )

    def _require(self, status: VisitStatus, template: str) -> None:
        if self.status is not status:
            raise StateConflict(template, id=self.id, status=VISIT_STATUS_TEXT[self.status])

    def check_in(
        self, *, actor_id: int, at: datetime, early: timedelta = timedelta(hours=2), tz: tzinfo = UTC
    ) -> WorkOrderEvent:
        """On site: refused earlier than `early` before the booked slot (`tz`: how the message shows it)."""
        self._require(VisitStatus.SCHEDULED, N_("Visit {id} is {status}; only a scheduled visit can be checked in."))
        if at < self.window_start - early:
            raise ValidationFailed(
                "Too early to check in: the visit is booked for {window}; checking in opens {minutes} minutes "
                "before the slot.",
                field="check_in",
                window=self.window_start.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
                minutes=int(early.total_seconds() // 60),
            )
        self.status, self.checked_in_at = VisitStatus.ON_SITE, at
        return self._event(EventKind.VISIT_CHECKED_IN, actor_id, at)

    def complete(
        self,
        *,
        actor_id: int,
        at: datetime,
        diagnosis: str | None,
        repair_actions: str | None,
        function_test_passed: bool | None,
        function_test_note: str | None,
        confirmed_by: str | None,
        signature: str | None,
        site_cleaned: bool | None,
        outcome: VisitOutcome,
    ) -> WorkOrderEvent:
        """Check out with the findings. The function test result is mandatory (R13); a resolving
        visit needs a passed test and the customer's confirmation."""
        self._require(VisitStatus.ON_SITE, N_("Visit {id} is {status}; check in on site before completing it."))
        if function_test_passed is None:
            raise ValidationFailed(
                "Record the function test result before completing the visit.", field="function_test_passed"
            )
        if site_cleaned is None:
            raise ValidationFailed("Say whether the site was cleaned up.", field="site_cleaned")
        diagnosis = _optional_text(diagnosis, "diagnosis")
        if diagnosis is None:
            raise ValidationFailed("Record the diagnosis (what was found on site).", field="diagnosis")
        who = _optional_text(confirmed_by, "confirmed_by", 100)
        if outcome is VisitOutcome.RESOLVED:
            if not function_test_passed:
                raise ValidationFailed(
                    "A failed function test cannot resolve the work order; choose a revisit.", field="outcome"
                )
            if who is None:
                raise ValidationFailed(
                    "A resolving visit needs the name of the customer who confirmed it.", field="confirmed_by"
                )
        self.diagnosis = diagnosis
        self.repair_actions = _optional_text(repair_actions, "repair_actions")
        self.function_test_passed = function_test_passed
        self.function_test_note = _optional_text(function_test_note, "function_test_note")
        self.confirmed_by, self.confirmed_at = who, (at if who else None)
        self.signature = check_signature(signature)
        self.site_cleaned = site_cleaned
        self.outcome = outcome
        self.status, self.checked_out_at = VisitStatus.COMPLETED, at
        return self._event(
            EventKind.VISIT_COMPLETED,
            actor_id,
            at,
            self.diagnosis,
            outcome=outcome.value,
            function_test_passed=function_test_passed,
            site_cleaned=site_cleaned,
            confirmed_by=who,
            signed=self.signature is not None,
        )

    def cancel(self, *, actor_id: int, at: datetime, reason: str) -> WorkOrderEvent:
        self._require(VisitStatus.SCHEDULED, N_("Visit {id} is {status}; only a scheduled visit can be cancelled."))
        text = _optional_text(reason, "reason")
        if text is None:
            raise ValidationFailed("Give the reason for cancelling the visit.", field="reason")
        self.status, self.cancel_reason = VisitStatus.CANCELLED, text
        return self._event(EventKind.VISIT_CANCELLED, actor_id, at, text)


# --- suggesting an engineer -----------------------------------------------------------------------

WORK_START, WORK_END = time(8, 0), time(20, 0)  # field work hours
SLOT_STEP = timedelta(minutes=30)
HORIZON_DAYS = 7


@dataclass(frozen=True)
class Suggestion:
    engineer_id: int
    skilled: bool
    local: bool
    slot_start: datetime
    slot_end: datetime
    open_assigned: int


def earliest_slot(
    busy: list[tuple[datetime, datetime]], duration: timedelta, now: datetime, tz: ZoneInfo
) -> datetime | None:
    """The first start, on the half hour within field work hours, of a free stretch of `duration`."""
    local = now.astimezone(tz)
    start = local.replace(minute=0, second=0, microsecond=0) + SLOT_STEP * (1 + local.minute // 30)
    for day in range(HORIZON_DAYS + 1):
        date_ = start.date() + timedelta(days=day)
        opens = datetime.combine(date_, WORK_START, tz)
        closes = datetime.combine(date_, WORK_END, tz)
        t = max(opens, start)
        while t + duration <= closes:
            if all(t + duration <= b_start or t >= b_end for b_start, b_end in busy):
                return t
            t += SLOT_STEP
    return None


def suggest_engineers(
    engineers: list[tuple[Candidate, list[tuple[datetime, datetime]]]],
    *,
    category: str,
    region: str | None,
    duration: timedelta,
    now: datetime,
    tz: ZoneInfo,
    limit: int = 5,
) -> list[Suggestion]:
    """Engineers who can go, best first: skilled in the category, in the customer's region, with the
    earliest free slot, the least loaded. Off-shift engineers and those at capacity are left out."""
    found = []
    for candidate, busy in engineers:
        if not candidate.available:
            continue
        slot = earliest_slot(busy, duration, now, tz)
        if slot is None:
            continue
        found.append(
            Suggestion(
                candidate.user_id,
                candidate.skilled_in(category),
                region is not None and candidate.region == region,
                slot,
                slot + duration,
                candidate.open_assigned,
            )
        )
    found.sort(key=lambda s: (not s.skilled, not s.local, s.slot_start, s.open_assigned, s.engineer_id))
    return found[:limit]
