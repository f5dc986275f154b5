"""Routing: which team gets a new work order, and which agent in it.

Rules are tried in order; the first whose conditions match names the team and how to choose an
agent in it. Nobody who is off shift or at capacity is ever chosen. When the team has no one who
fits, the rule's fallback team is tried (its generalists: anyone free, least loaded first);
when that has no one either, the work order waits in the
team's queue unassigned. Every decision says which rule made it and why (R11, R16).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from kefu.domain.categories import in_subtree
from kefu.domain.errors import ValidationFailed
from kefu.domain.sla import Conditions, Facts


class Strategy(StrEnum):
    LEAST_LOADED = "least_loaded"  # fewest open work orders now
    ROUND_ROBIN = "round_robin"  # in turn
    SKILL_MATCH = "skill_match"  # only agents skilled in the category; least loaded among them
    QUEUE = "queue"  # nobody is picked: it waits in the team's queue until someone takes it


@dataclass(frozen=True)
class RoutingRule:
    id: int | None
    name: str
    position: int
    team_id: int
    strategy: Strategy = Strategy.LEAST_LOADED
    conditions: Conditions = field(default_factory=Conditions)
    fallback_team_id: int | None = None
    active: bool = True
    #: Whose work orders the rule routes: those registered in this organisation or below it. None:
    #: every organisation's (an installation-wide rule, for the top organisation's admins).
    organisation_id: int | None = None

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise ValidationFailed("The rule needs a name.", field="name")
        if self.fallback_team_id is not None and self.fallback_team_id == self.team_id:
            raise ValidationFailed("The fallback team must differ from the rule's team.", field="fallback_team_id")

    def as_data(self) -> dict[str, object]:
        """Its settings as stored and as the change log shows them (the name apart)."""
        return {
            "position": self.position,
            "active": self.active,
            "conditions": self.conditions.to_dict(),
            "team_id": self.team_id,
            "strategy": self.strategy.value,
            "fallback_team_id": self.fallback_team_id,
            "organisation_id": self.organisation_id,
        }


def choose_rule(rules: Iterable[RoutingRule], facts: Facts) -> RoutingRule | None:
    for rule in sorted(rules, key=lambda r: (r.position, r.id or 0)):
        if rule.active and rule.conditions.matches(facts):
            return rule
    return None


@dataclass(frozen=True)
class Candidate:
    """An agent of a team as routing sees them."""

    user_id: int
    open_assigned: int
    capacity: int
    on_shift: bool
    skills: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    region: str | None = None

    @property
    def available(self) -> bool:
        return self.on_shift and self.open_assigned < self.capacity

    def skilled_in(self, category: str) -> bool:
        return any(in_subtree(category, root) for root in self.skills)


def pick_agent(
    candidates: Sequence[Candidate],
    strategy: Strategy,
    facts: Facts,
    *,
    last_user_id: int | None = None,
    language: str | None = None,
) -> Candidate | None:
    """The agent to give the work order to, or None when nobody in the team fits."""
    if strategy is Strategy.QUEUE:
        return None
    free = [c for c in candidates if c.available]
    if strategy is Strategy.SKILL_MATCH:
        free = [c for c in free if c.skilled_in(facts.category)]
    if not free:
        return None
    if strategy is Strategy.ROUND_ROBIN:
        ordered = sorted(free, key=lambda c: c.user_id)
        after = [c for c in ordered if last_user_id is not None and c.user_id > last_user_id]
        return (after or ordered)[0]

    def rank(c: Candidate) -> tuple[int, int, int, int]:
        # Least loaded first; among equals, speaking the customer's language, then the same region.
        speaks = 0 if language is None or language in c.languages else 1
        local = 0 if facts.region is None or c.region == facts.region else 1
        return (c.open_assigned, speaks, local, c.user_id)

    return min(free, key=rank)


class Reason(StrEnum):
    RULE = "rule"  # the rule's team had someone who fits
    FALLBACK = "fallback"  # nobody fits in the rule's team; the fallback team had someone
    QUEUED = "queued"  # nobody fits in either: the work order waits in the team queue
    NO_RULE = "no_rule"  # no rule matched: it stays with the team that registered it
    INTO_QUEUE = "into_queue"  # the rule's strategy is `queue`: whoever in the team takes it first
    #: No rule matched a work order kefu opened itself (a channel's): the reception team's queue.
    DEFAULT_TEAM = "default_team"


@dataclass(frozen=True)
class Decision:
    rule: RoutingRule | None
    team_id: int | None
    handler_id: int | None
    reason: Reason

    def as_data(self) -> dict[str, object]:
        return {
            "rule_id": self.rule.id if self.rule else None,
            "rule": self.rule.name if self.rule else None,
            "strategy": self.rule.strategy.value if self.rule else None,
            "team_id": self.team_id,
            "handler_id": self.handler_id,
            "reason": self.reason.value,
        }
