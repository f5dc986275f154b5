"""Routing and assignment: which team and agent handle a work order (R11, R16).

Rules are cached for `ctx.cache_ttl`. Choosing an agent reads the team's members with their open
load (a counter the database keeps, see migration 0004), never the open work orders themselves, and
locks the chosen agent's row so that two concurrent decisions cannot both take the last place.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from kefu.domain.customers import CustomerProfile
from kefu.domain.errors import N_, NotFound, ValidationFailed
from kefu.domain.events import EventKind
from kefu.domain.org import OrgTree, Permission, Role, Team, TeamFunction, User, at_top
from kefu.domain.routing import Decision, Reason, RoutingRule, Strategy, choose_rule, pick_agent
from kefu.domain.sla import Facts
from kefu.domain.workorders import Status, WorkOrder
from kefu.services import audit
from kefu.services.access import authz, scope
from kefu.services.access.authz import require
from kefu.services.access.system import system_id
from kefu.services.changes import changing
from kefu.services.context import Context
from kefu.services.ports import UnitOfWork

#: Who is given work orders by routing: the roles that handle them day to day.
HANDLER_ROLES = (Role.AGENT, Role.TECH_SUPPORT, Role.FIELD_ENGINEER)


def rules(ctx: Context, uow: UnitOfWork) -> list[RoutingRule]:
    return ctx.caches.routing_rules.get_or_load("all", uow.routing.rules)


def _agent_in(uow: UnitOfWork, team_id: int, strategy: Strategy, facts: Facts) -> int | None:
    candidates = uow.users.candidates(team_id, HANDLER_ROLES)
    last = uow.routing.last_assigned(team_id) if strategy is Strategy.ROUND_ROBIN else None
    while (pick := pick_agent(candidates, strategy, facts, last_user_id=last)) is not None:
        if uow.users.hold_capacity(pick.user_id):
            if strategy is Strategy.ROUND_ROBIN:
                uow.routing.set_last_assigned(team_id, pick.user_id)
            return pick.user_id
        # Filled up or went off shift since we read the team: try the next one.
        candidates = [c for c in candidates if c.user_id != pick.user_id]
    return None


def applying_to(ctx: Context, uow: UnitOfWork, wo: WorkOrder) -> list[RoutingRule]:
    """The rules that may route this work order: installation-wide ones, and those of the
    organisation that registered it or of an organisation above it."""
    tree = scope.tree(ctx, uow)
    return [
        r
        for r in rules(ctx, uow)
        if r.organisation_id is None
        or (wo.organisation_id is not None and tree.contains(r.organisation_id, wo.organisation_id))
    ]


def decide(ctx: Context, uow: UnitOfWork, wo: WorkOrder, profile: CustomerProfile) -> Decision:
    facts = Facts.of(wo, profile)
    rule = choose_rule(applying_to(ctx, uow, wo), facts)
    if rule is None:
        return Decision(None, wo.team_id, wo.handler_id, Reason.NO_RULE)
    if rule.strategy is Strategy.QUEUE:
        return Decision(rule, rule.team_id, None, Reason.INTO_QUEUE)
    # The fallback team is the generalists': anyone free there, least loaded first.
    fallback_strategy = Strategy.LEAST_LOADED if rule.strategy is Strategy.SKILL_MATCH else rule.strategy
    for team_id, strategy, reason in (
        (rule.team_id, rule.strategy, Reason.RULE),
        (rule.fallback_team_id, fallback_strategy, Reason.FALLBACK),
    ):
        if team_id is not None and (agent := _agent_in(uow, team_id, strategy, facts)) is not None:
            return Decision(rule, team_id, agent, reason)
    return Decision(rule, rule.team_id, None, Reason.QUEUED)


def route_new(ctx: Context, uow: UnitOfWork, wo: WorkOrder, profile: CustomerProfile, at: datetime) -> None:
    """At registration: if a rule matches, it decides team and handler (recorded with the rule).
    With no matching rule the work order stays with whoever registered it — unless kefu opened it
    itself (a message through a channel): then the reception team of its organisation takes it
    into its queue (the fallback, recorded as such), so that nothing waits in no queue."""
    decision = decide(ctx, uow, wo, profile) if rules(ctx, uow) else Decision(None, wo.team_id, None, Reason.NO_RULE)
    signer = system_id(ctx, uow)
    if decision.reason is Reason.NO_RULE:
        if wo.team_id is not None or wo.handler_id != signer:
            return
        team = reception_team(uow, wo.organisation_id)
        decision = Decision(None, team.id if team else None, None, Reason.DEFAULT_TEAM)
    wo.assign(
        team_id=decision.team_id,
        handler_id=decision.handler_id,
        actor_id=signer,
        at=at,
        kind=EventKind.ROUTED,
        data=decision.as_data(),
    )


def reception_team(uow: UnitOfWork, organisation_id: int | None) -> Team | None:
    """The fallback for a channel-born work order no rule routes: the (first) reception team
    (客户接待组) of the organisation it belongs to."""
    found = [
        t for t in uow.org.teams() if t.function is TeamFunction.RECEPTION and t.organisation_id == organisation_id
    ]
    return min(found, key=lambda t: t.id or 0) if found else None


def route_corrected(
    ctx: Context, uow: UnitOfWork, actor: User, wo: WorkOrder, profile: CustomerProfile, at: datetime
) -> None:
    """After a correction of what rules look at (category, type, customer): if the rule that now
    matches names another team than the one holding the work order, it goes there, recorded as
    `routed` by whoever corrected it. Not while it is away on a hop or resolved (the hop's receiver
    or the resolution decides), and not when no rule matches (it stays where it is)."""
    if not wo.is_dispatchable or wo.status is Status.DISPATCHED:
        return
    rule = choose_rule(applying_to(ctx, uow, wo), Facts.of(wo, profile))
    if rule is None or rule.team_id == wo.team_id:
        return
    decision = decide(ctx, uow, replace(wo, handler_id=None), profile)
    wo.assign(
        team_id=decision.team_id,
        handler_id=decision.handler_id,
        actor_id=actor.id or 0,
        at=at,
        kind=EventKind.ROUTED,
        data={**decision.as_data(), "corrected": True},
    )


def route_again(ctx: Context, actor: User, number: str, *, expected_version: int | None = None) -> Decision:
    """Run the routing rules again (e.g. after the rules or the shift changed)."""
    with changing(ctx, actor, Permission.WORKORDER_DISPATCH, number, expected_version) as (uow, wo, now):
        if not wo.is_open:
            raise ValidationFailed("A finished work order is not routed.", field="number")
        profile = uow.customers.profile_of(wo.customer_id, now.astimezone(ctx.timezone).date())
        assert profile is not None
        decision = decide(ctx, uow, replace(wo, handler_id=None), profile)
        if decision.reason is Reason.NO_RULE:
            raise ValidationFailed("No routing rule matches this work order; assign it by hand.", field="number")
        wo.assign(
            team_id=decision.team_id,
            handler_id=decision.handler_id,
            actor_id=actor.id or 0,
            at=now,
            kind=EventKind.ROUTED,
            data=decision.as_data(),
        )
    return decision


def assign_work_order(
    ctx: Context,
    actor: User,
    number: str,
    *,
    team_id: int | None,
    handler_id: int | None,
    reason: str | None = None,
    expected_version: int | None = None,
) -> WorkOrder:
    """Give a work order to a team and/or a person by hand (a supervisor's decision, or an agent
    taking one from the team queue). Never to someone off shift or at capacity."""
    with changing(ctx, actor, Permission.WORKORDER_DISPATCH, number, expected_version) as (uow, wo, now):
        # Only to teams and people of the organisations the actor sees (others: dispatch it to them).
        visible = scope.visible_to(ctx, uow, actor)
        team = _team(uow, team_id, visible) if team_id is not None else None
        if handler_id is not None:
            handler = uow.users.get(handler_id)
            if (
                handler is None
                or not handler.active
                or handler.role not in (*HANDLER_ROLES, Role.SUPERVISOR)
                or (visible is not None and handler.organisation_id not in visible)
            ):
                raise ValidationFailed(
                    "User {id} does not exist or does not handle work orders.", field="handler_id", id=handler_id
                )
            if team is not None and handler.team_id != team.id:
                raise ValidationFailed(
                    "{name} is not a member of that team.", field="handler_id", name=handler.display_name
                )
            if handler_id != wo.handler_id and not uow.users.hold_capacity(handler_id):
                raise ValidationFailed(
                    "{name} is off shift or has reached their capacity.", field="handler_id", name=handler.display_name
                )
            team_id = team_id if team_id is not None else handler.team_id
        elif team is None:
            raise ValidationFailed("Name a team, a person or both.", field="handler_id")
        wo.assign(team_id=team_id, handler_id=handler_id, actor_id=actor.id or 0, at=now, reason=reason)
    return scope.as_seen_by(ctx, actor, wo)


def _team(uow: UnitOfWork, team_id: int, visible: frozenset[int] | None = None) -> Team:
    team = uow.org.get_team(team_id)
    if team is None or (visible is not None and team.organisation_id not in visible):
        raise ValidationFailed("Team {id} does not exist.", field="team_id", id=team_id)
    return team


def fold_loads(ctx: Context, *, limit: int = 10_000) -> int:
    """Housekeeping for the worker: fold appended open-load changes into the users' counters, so
    that reading a load stays a counter plus a few rows."""
    with ctx.uow(write=True) as uow:
        folded = uow.users.fold_load_changes(limit)
        uow.commit()
    return folded


# --- admin ---------------------------------------------------------------------------------------


def _rule_visible(tree: OrgTree, actor: User, rule: RoutingRule) -> bool:
    """The rules that concern the actor's organisations: installation-wide ones (for the operator's
    staff), those of its subtree and those of the organisations above it."""
    own = actor.organisation_id
    if own is None:
        return False
    if at_top(actor, tree):
        return True
    if rule.organisation_id is None:
        return not tree.is_external(own)
    return tree.contains(own, rule.organisation_id) or tree.contains(rule.organisation_id, own)


def list_rules(ctx: Context, actor: User) -> list[RoutingRule]:
    require(actor, Permission.READ)
    with ctx.uow() as uow:
        tree = scope.tree(ctx, uow)
        return [r for r in uow.routing.rules() if _rule_visible(tree, actor, r)]


def _require_rule_authority(ctx: Context, uow: UnitOfWork, actor: User, rule: RoutingRule) -> None:
    """A rule that routes an organisation's work orders to teams of that organisation's subtree is
    managed within the subtree; one for every organisation, or routing between organisations, belongs
    to the top organisation's admins."""
    tree = scope.tree(ctx, uow)
    teams = [_team(uow, t) for t in (rule.team_id, rule.fallback_team_id) if t is not None]
    inside = rule.organisation_id
    if inside is not None and all(tree.contains(inside, t.organisation_id) for t in teams):
        authz.require_manages(ctx, uow, actor, Permission.ROUTING_MANAGE, inside)
    else:
        authz.require_installation(ctx, uow, actor)


def save_rule(ctx: Context, actor: User, rule: RoutingRule) -> RoutingRule:
    """Add a rule (no id) or replace one; the next decision uses it (in this process at once). Both
    the rule as it was and as it becomes must be the actor's to manage."""
    require(actor, Permission.ROUTING_MANAGE)
    with ctx.uow(write=True) as uow:
        before = next((r for r in uow.routing.rules() if r.id == rule.id), None) if rule.id is not None else None
        if rule.id is not None and (before is None or not _rule_visible(scope.tree(ctx, uow), actor, before)):
            raise NotFound(kind=N_("Routing rule"), key=rule.id)
        if rule.organisation_id is not None and uow.org.get_organisation(rule.organisation_id) is None:
            raise ValidationFailed(
                "Organisation {id} does not exist.", field="organisation_id", id=rule.organisation_id
            )
        if before is not None:
            _require_rule_authority(ctx, uow, actor, before)
        _require_rule_authority(ctx, uow, actor, rule)
        if uow.routing.name_taken(rule.name, rule.id):
            raise ValidationFailed("A routing rule named {name} exists already.", field="name", name=rule.name)
        rule.conditions.check(c.code for c in uow.categories.all())
        saved = uow.routing.save_rule(rule, actor_id=actor.id or 0, at=ctx.clock.now())
        audit.record_setting_change(
            ctx, uow, actor, "routing_rule", saved.name, before.as_data() if before else None, saved.as_data()
        )
        uow.commit()
    ctx.caches.clear_organisation()
    return saved


def set_rule_active(ctx: Context, actor: User, rule_id: int, active: bool) -> RoutingRule:
    """Switch a rule off or on again (the same checks as changing it)."""
    rule = next((r for r in list_rules(ctx, actor) if r.id == rule_id), None)
    if rule is None:
        raise NotFound(kind=N_("Routing rule"), key=rule_id)
    return save_rule(ctx, actor, replace(rule, active=active))


def visible_team(ctx: Context, uow: UnitOfWork, actor: User, team_id: int) -> Team:
    """A team whose queue `actor` may look at: one of the organisations in their scope."""
    team = uow.org.get_team(team_id)
    allowed = scope.visible_to(ctx, uow, actor)
    if team is None or (allowed is not None and team.organisation_id not in allowed):
        raise NotFound(kind=N_("Team"), key=team_id)
    return team
