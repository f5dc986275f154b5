"""Time limits (SLA): policies, the clocks they set on a work order, warnings, breaches, escalation.

A policy is chosen by its conditions (the first match in order wins) and sets a target for each of
the named clocks. A clock's life follows the work order's history:

* first_response  runs from registration until the work order leaves `new`;
* diagnosis       (faults) runs from registration until it is dispatched, put on hold or resolved;
* resolution      runs while the work order is being worked on; it stops (pauses) while `pending`
                  (waiting for the customer or parts) and while resolved; a re-open resumes it;
* customer_reply  (complaints) runs until the customer gets a visible answer or a resolution;
* hop             runs for each dispatch until the hop comes back;
* onsite          runs for each field visit from its scheduling until the engineer checks in;
* register is started by the channel features.

`ClockState.apply` moves one clock forward event by event (what the services store);
`recompute` derives the same state from the whole history at once (what an audit or a policy
change uses). Both must agree; a property test holds them to it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from enum import StrEnum

from kefu.domain.calendars import BusinessCalendar
from kefu.domain.categories import in_subtree
from kefu.domain.customers import CustomerProfile, Tier
from kefu.domain.errors import ValidationFailed
from kefu.domain.events import EventKind, WorkOrderEvent
from kefu.domain.workorders import Channel, Priority, Status, WorkOrder, WorkOrderType


class ClockName(StrEnum):
    REGISTER = "register"
    FIRST_RESPONSE = "first_response"
    DIAGNOSIS = "diagnosis"
    ONSITE = "onsite"
    RESOLUTION = "resolution"
    CUSTOMER_REPLY = "customer_reply"
    HOP = "hop"


class ClockPhase(StrEnum):
    RUNNING = "running"
    PAUSED = "paused"
    STOPPED = "stopped"


@dataclass(frozen=True)
class Facts:
    """What policy conditions look at."""

    tier: str
    type: str
    priority: str
    severity: int | None
    category: str
    region: str | None
    channel: str
    agreement_id: int | None = None

    @classmethod
    def of(cls, wo: WorkOrder, profile: CustomerProfile) -> Facts:
        """What policies and routing rules look at, of a work order and its customer."""
        return cls(
            tier=profile.tier.value,
            type=wo.type.value,
            priority=wo.priority.value,
            severity=wo.severity,
            category=wo.category,
            region=profile.region,
            channel=wo.channel.value,
            agreement_id=profile.agreement_id,
        )


@dataclass(frozen=True)
class Conditions:
    """Every non-empty condition must hold; an empty one matches anything."""

    tiers: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    priorities: tuple[str, ...] = ()
    severities: tuple[int, ...] = ()
    categories: tuple[str, ...] = ()  # subtree roots
    regions: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    agreement_ids: tuple[int, ...] = ()

    def matches(self, f: Facts) -> bool:
        return (
            (not self.tiers or f.tier in self.tiers)
            and (not self.types or f.type in self.types)
            and (not self.priorities or f.priority in self.priorities)
            and (not self.severities or f.severity in self.severities)
            and (not self.categories or any(in_subtree(f.category, root) for root in self.categories))
            and (not self.regions or f.region in self.regions)
            and (not self.channels or f.channel in self.channels)
            and (not self.agreement_ids or f.agreement_id in self.agreement_ids)
        )

    def to_dict(self) -> dict[str, list[object]]:
        """The non-empty conditions, as stored (JSON)."""
        return {name: list(getattr(self, name)) for name in _CONDITION_FIELDS if getattr(self, name)}

    @classmethod
    def from_dict(cls, data: dict[str, list[object]]) -> Conditions:
        return cls(**{name: tuple(data.get(name, ())) for name in _CONDITION_FIELDS})  # type: ignore[arg-type]

    def check(self, categories: Iterable[str]) -> Conditions:
        """Refuse values that can never match (a type typed as 故障 instead of `fault`), naming the
        condition (`conditions.types` ...) and the values it takes."""
        known: dict[str, Iterable[object]] = {
            "tiers": [t.value for t in Tier],
            "types": [t.value for t in WorkOrderType],
            "priorities": [p.value for p in Priority],
            "channels": [c.value for c in Channel],
            "severities": (1, 2, 3, 4),
            "categories": categories,
        }
        for name, allowed in known.items():
            allowed_set = set(allowed)
            listed = ", ".join(str(v) for v in sorted(allowed_set, key=str))
            if unknown := [v for v in getattr(self, name) if v not in allowed_set]:
                raise ValidationFailed(
                    "Unknown value {values} in the condition {condition}; it takes: {known}.",
                    field=f"conditions.{name}",
                    values=", ".join(str(v) for v in unknown),
                    condition=name,
                    known=listed if name != "categories" else "/api/v1/categories",
                )
        if bad := [r for r in self.regions if not r.strip() or len(r) > 50 or "\x00" in r]:
            raise ValidationFailed(
                "A region is a name of at most 50 characters: {values}.",
                field="conditions.regions",
                values=", ".join(bad),
            )
        return self


_CONDITION_FIELDS = ("tiers", "types", "priorities", "severities", "categories", "regions", "channels", "agreement_ids")


class Notify(StrEnum):
    HANDLER = "handler"
    OWNER = "owner"
    TEAM_LEAD = "team_lead"
    CENTRE_MANAGER = "centre_manager"
    HQ_QUALITY = "hq_quality"


@dataclass(frozen=True)
class EscalationLevel:
    """What happens when a clock has used `at` of its target (1.0 = the deadline)."""

    level: int
    at: float
    notify: tuple[Notify, ...] = ()
    raise_priority: bool = False
    reassign_team_id: int | None = None


@dataclass(frozen=True)
class SlaPolicy:
    id: int | None
    name: str
    position: int
    #: Minutes of working time on the calendar, per clock; or per customer tier, e.g.
    #: {"vip": 180, "*": 360} (seed 004: each hop VIP 3 h, others 6 h).
    targets: dict[ClockName, int | dict[str, int]]
    calendar: str = "24x7"
    conditions: Conditions = field(default_factory=Conditions)
    warn_at: tuple[float, ...] = (0.75,)
    escalations: tuple[EscalationLevel, ...] = ()
    active: bool = True

    def __post_init__(self) -> None:
        for name, target in self.targets.items():
            values = target.values() if isinstance(target, dict) else [target]
            if not values or any(not isinstance(v, int) or v <= 0 for v in values):
                raise ValidationFailed(
                    "The target of clock {clock} must be a positive number of minutes.",
                    field="targets",
                    clock=name.value,
                )
        if any(not 0 < f < 1 for f in self.warn_at):
            raise ValidationFailed("Warnings are fractions of the target between 0 and 1, e.g. 0.75.", field="warn_at")

    def target_for(self, name: ClockName, tier: str) -> int | None:
        target = self.targets.get(name)
        if isinstance(target, dict):
            return target.get(tier, target.get("*"))
        return target

    def targets_for(self, tier: str) -> dict[ClockName, int]:
        found = {name: self.target_for(name, tier) for name in self.targets}
        return {name: minutes for name, minutes in found.items() if minutes is not None}

    def as_data(self) -> dict[str, object]:
        """Its settings as stored and as the change log shows them (name and escalations apart)."""
        return {
            "position": self.position,
            "active": self.active,
            "calendar": self.calendar,
            "targets": {k.value: v for k, v in self.targets.items()},
            "conditions": self.conditions.to_dict(),
            "warn_at": list(self.warn_at),
        }

    def thresholds(self) -> tuple[float, ...]:
        """Every fraction of a target at which something fires, in order (1.0, the breach, always)."""
        return tuple(sorted({*self.warn_at, 1.0, *(e.at for e in self.escalations)}))


def choose_policy(policies: Iterable[SlaPolicy], facts: Facts) -> SlaPolicy | None:
    for policy in sorted(policies, key=lambda p: p.position):
        if policy.active and policy.conditions.matches(facts):
            return policy
    return None


# --- what a clock reacts to ---------------------------------------------------------------------

S = Status

#: The resolution clock runs while somebody works on the work order.
RESOLUTION_RUNS_IN = frozenset({S.NEW, S.ACCEPTED, S.IN_PROGRESS, S.DISPATCHED, S.RETURNED})
#: Moves that end the diagnosis: sent elsewhere, put on hold, solved or finished.
_DIAGNOSIS_ENDS = frozenset({S.DISPATCHED, S.PENDING, S.RESOLVED, S.CALLBACK, S.CLOSED, S.CANCELLED, S.REJECTED})
#: Moves after which the customer needs no further answer (or got the resolution).
_REPLY_ENDS = frozenset({S.RESOLVED, S.CALLBACK, S.CLOSED, S.CANCELLED, S.REJECTED})
#: Moves that end a hop: it came back, or the matter was dropped.
_HOP_ENDS = frozenset({S.RETURNED, S.CANCELLED})
#: Statuses after which nobody needs to get on site any more.
_ONSITE_ENDS = frozenset({S.RESOLVED, S.CALLBACK, S.CLOSED, S.CANCELLED, S.REJECTED})


@dataclass(frozen=True)
class Happening:
    """One fact of a work order's history, reduced to what clocks need."""

    at: datetime
    status: Status | None = None  # the status the work order moved to, if it moved
    customer_answered: bool = False  # a customer-visible answer
    onsite: bool | None = None  # True: a field visit was scheduled; False: the engineer is there (or no visit)
    #: Clocks the policy that now applies no longer has (the work order was reclassified): they stop.
    withdrawn: frozenset[ClockName] = frozenset()


def happening_of(event: WorkOrderEvent) -> Happening | None:
    """What an event of the work order's history means to clocks (None: nothing).

    The one mapping from the timeline to the clocks: the services derive every clock move from the
    events a change records (kefu.services.changes.store), and `recompute` reads the same mapping."""
    if event.kind in (EventKind.CREATED, EventKind.STATUS_CHANGED):
        return Happening(at=event.at, status=Status(event.to_status) if event.to_status else None)
    if event.kind is EventKind.REPLY_DELIVERED:
        # Only a reply handed to a channel answers the customer; a note, even one the customer may
        # read on the portal, reaches no one (issue #12).
        return Happening(at=event.at, customer_answered=True)
    if event.kind is EventKind.VISIT_SCHEDULED:
        return Happening(at=event.at, onsite=True)
    if event.kind in (EventKind.VISIT_CHECKED_IN, EventKind.VISIT_CANCELLED):
        return Happening(at=event.at, onsite=False)
    if event.kind is EventKind.SLA_APPLIED and event.data.get("withdrawn"):
        return Happening(at=event.at, withdrawn=frozenset(ClockName(n) for n in event.data["withdrawn"]))
    return None


def _wanted(name: ClockName, h: Happening, first: bool) -> ClockPhase | None:
    """The phase a clock should be in after a happening; None: this clock does not care."""
    status, answered = h.status, h.customer_answered
    if h.withdrawn:
        return ClockPhase.STOPPED if name in h.withdrawn else None
    if name is ClockName.ONSITE:
        # Runs from a visit's scheduling until the engineer checks in; each visit is a new run.
        if h.onsite is not None:
            return ClockPhase.RUNNING if h.onsite else ClockPhase.STOPPED
        return ClockPhase.STOPPED if status in _ONSITE_ENDS else None
    if h.onsite is not None:
        return None
    if status is None:  # a note, not a move: only a customer-visible answer matters, and only to one clock
        return ClockPhase.STOPPED if name is ClockName.CUSTOMER_REPLY and answered else None
    if name is ClockName.FIRST_RESPONSE:
        return ClockPhase.RUNNING if first else (ClockPhase.STOPPED if status is not S.NEW else None)
    if name is ClockName.DIAGNOSIS:
        if first:
            return ClockPhase.RUNNING
        return ClockPhase.STOPPED if status in _DIAGNOSIS_ENDS else None
    if name is ClockName.RESOLUTION:
        if status in RESOLUTION_RUNS_IN:
            return ClockPhase.RUNNING
        return ClockPhase.PAUSED if status is S.PENDING else ClockPhase.STOPPED
    if name is ClockName.CUSTOMER_REPLY:
        if first:
            return ClockPhase.RUNNING
        return ClockPhase.STOPPED if answered or status in _REPLY_ENDS else None
    if name is ClockName.HOP:
        if status is S.DISPATCHED:
            return ClockPhase.RUNNING
        return ClockPhase.STOPPED if status in _HOP_ENDS else None
    return None  # register: started by the channel features


ONE_SHOT = frozenset({ClockName.FIRST_RESPONSE, ClockName.DIAGNOSIS, ClockName.CUSTOMER_REPLY})
#: Clocks that start afresh with each new run: every hop, every visit.
RESTARTING = frozenset({ClockName.HOP, ClockName.ONSITE})


def clock_names_for(work_order_type: str, targets: dict[ClockName, int], *, visited: bool = False) -> list[ClockName]:
    """The clocks a work order has: `diagnosis` for faults only (a complaint or an inquiry has nothing
    to diagnose within the hour), `customer_reply` for complaints, `onsite` once a visit was scheduled.
    Both the stored clocks and `recompute` take their list from here."""
    always = (ClockName.FIRST_RESPONSE, ClockName.RESOLUTION, ClockName.HOP)
    names: list[ClockName] = [n for n in always if n in targets]
    if work_order_type == "fault" and ClockName.DIAGNOSIS in targets:
        names.insert(1, ClockName.DIAGNOSIS)
    if work_order_type == "complaint" and ClockName.CUSTOMER_REPLY in targets:
        names.append(ClockName.CUSTOMER_REPLY)
    if visited and ClockName.ONSITE in targets:
        names.append(ClockName.ONSITE)
    return names


@dataclass(frozen=True)
class ClockState:
    """One clock of one work order, as stored."""

    name: ClockName
    target: timedelta
    phase: ClockPhase = ClockPhase.STOPPED
    elapsed: timedelta = timedelta(0)  # working time used before `running_since`
    running_since: datetime | None = None
    started_at: datetime | None = None
    stopped_at: datetime | None = None
    fired: int = 0  # how many thresholds of the policy have fired
    laps: int = 0  # completed runs (hops); the elapsed time restarts with each new hop

    def apply(self, h: Happening, calendar: BusinessCalendar, *, first: bool = False) -> ClockState:
        """The state after one happening of the work order's history."""
        wanted = _wanted(self.name, h, first)
        if wanted is None or (self.name in ONE_SHOT and self.stopped_at is not None):
            return self
        if wanted is ClockPhase.RUNNING:
            if self.name in RESTARTING and self.started_at is not None and self.phase is not ClockPhase.RUNNING:
                # Each dispatch is a new hop with a fresh clock for the new receiver.
                return replace(
                    self,
                    phase=ClockPhase.RUNNING,
                    elapsed=timedelta(0),
                    running_since=h.at,
                    started_at=h.at,
                    stopped_at=None,
                    fired=0,
                    laps=self.laps + 1,
                )
            if self.phase is ClockPhase.RUNNING:
                return self
            return replace(
                self, phase=ClockPhase.RUNNING, running_since=h.at, started_at=self.started_at or h.at, stopped_at=None
            )
        if self.phase is ClockPhase.RUNNING:
            assert self.running_since is not None
            used = self.elapsed + calendar.between(self.running_since, h.at)
            return replace(
                self,
                phase=wanted,
                elapsed=used,
                running_since=None,
                stopped_at=h.at if wanted is ClockPhase.STOPPED else None,
            )
        if self.phase is ClockPhase.PAUSED and wanted is ClockPhase.STOPPED:
            return replace(self, phase=ClockPhase.STOPPED, stopped_at=h.at)
        return self

    def used(self, calendar: BusinessCalendar, now: datetime) -> timedelta:
        if self.phase is ClockPhase.RUNNING and self.running_since is not None:
            return self.elapsed + calendar.between(self.running_since, now)
        return self.elapsed

    def due_at(self, calendar: BusinessCalendar) -> datetime | None:
        """The deadline while the clock runs; None while it is paused or stopped."""
        return self.moment_of(1.0, calendar)

    def moment_of(self, fraction: float, calendar: BusinessCalendar) -> datetime | None:
        if self.phase is not ClockPhase.RUNNING or self.running_since is None:
            return None
        return calendar.add(self.running_since, self.target * fraction - self.elapsed)

    def breached(self, calendar: BusinessCalendar, now: datetime) -> bool:
        return self.used(calendar, now) > self.target

    def next_fire_at(self, thresholds: Sequence[float], calendar: BusinessCalendar) -> datetime | None:
        if self.fired >= len(thresholds):
            return None
        return self.moment_of(thresholds[self.fired], calendar)

    def remaining(self, calendar: BusinessCalendar, now: datetime) -> timedelta:
        return self.target - self.used(calendar, now)


def start_clocks(
    names: Iterable[ClockName], targets: dict[ClockName, int], at: datetime, calendar: BusinessCalendar
) -> dict[ClockName, ClockState]:
    registered = Happening(at=at, status=Status.NEW)
    clocks = {}
    for name in names:
        clock = ClockState(name=name, target=timedelta(minutes=targets[name]))
        clocks[name] = clock.apply(registered, calendar, first=True)
    return clocks


def recompute(
    name: ClockName, target_minutes: int, history: Sequence[Happening], calendar: BusinessCalendar
) -> ClockState:
    """A clock's state from the whole history at once: the running intervals, summed.

    Independent of `ClockState.apply` on purpose, so each checks the other.
    """
    target = timedelta(minutes=target_minutes)
    if not history:
        return ClockState(name=name, target=target)
    intervals: list[list[datetime | None]] = []
    phase = ClockPhase.STOPPED
    started: datetime | None = None
    stopped: datetime | None = None
    laps = 0
    for i, h in enumerate(history):
        wanted = _wanted(name, h, i == 0)
        if wanted is None or (name in ONE_SHOT and stopped is not None):
            continue
        if wanted is ClockPhase.RUNNING:
            if name in RESTARTING and started is not None and phase is not ClockPhase.RUNNING:
                intervals, started, laps = [], None, laps + 1
            if phase is ClockPhase.RUNNING:
                continue
            intervals.append([h.at, None])
            started, stopped, phase = started or h.at, None, ClockPhase.RUNNING
        elif phase is ClockPhase.RUNNING:
            intervals[-1][1] = h.at
            phase, stopped = wanted, (h.at if wanted is ClockPhase.STOPPED else None)
        elif phase is ClockPhase.PAUSED and wanted is ClockPhase.STOPPED:
            phase, stopped = ClockPhase.STOPPED, h.at
    elapsed = sum((calendar.between(a, b) for a, b in intervals if a is not None and b is not None), timedelta(0))
    running_since = intervals[-1][0] if intervals and intervals[-1][1] is None else None
    return ClockState(
        name=name,
        target=target,
        phase=phase,
        elapsed=elapsed,
        running_since=running_since,
        started_at=started,
        stopped_at=stopped,
        laps=laps,
    )


@dataclass(frozen=True)
class ServiceAgreement:
    """An enterprise customer's service agreement (R33): its own targets and the credit owed per
    started hour by which a commitment was missed, in fen."""

    id: int | None
    customer_id: int
    name: str
    targets: dict[ClockName, int]
    compensation_fen_per_hour: int
    valid_from: date
    valid_to: date | None = None
    calendar: str | None = None

    def __post_init__(self) -> None:
        if self.compensation_fen_per_hour < 0:
            raise ValidationFailed("The compensation must not be negative.", field="compensation_fen_per_hour")
        if self.valid_to is not None and self.valid_to < self.valid_from:
            raise ValidationFailed("The agreement ends before it begins.", field="valid_to")
        if any(m <= 0 for m in self.targets.values()):
            raise ValidationFailed("Targets are positive numbers of minutes.", field="targets")

    def credit_for(self, late: timedelta) -> int:
        """Money owed for a commitment missed by `late`: every started hour counts."""
        if late <= timedelta(0):
            return 0
        hours = -(-late // timedelta(hours=1))
        return int(hours) * self.compensation_fen_per_hour


@dataclass(frozen=True)
class ClockRecord:
    """A clock as stored with a work order: its state and what it was set by."""

    work_order_id: int
    state: ClockState
    calendar: str
    policy_id: int | None = None
    agreement_id: int | None = None
    due_at: datetime | None = None
    next_fire_at: datetime | None = None
    breached_at: datetime | None = None

    def refreshed(self, calendar: BusinessCalendar, thresholds: Sequence[float]) -> ClockRecord:
        """Deadline and next firing time recomputed from the state."""
        return replace(
            self, due_at=self.state.due_at(calendar), next_fire_at=self.state.next_fire_at(thresholds, calendar)
        )
