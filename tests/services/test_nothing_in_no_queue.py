"""Nothing lands in no queue (issue #12, part 4), on SQLite and PostgreSQL: a message from an unknown
number opens a work order in the reception team's "to classify" queue (the shipped routing rule),
counted with its age; with the rule switched off the reception team takes it as the fallback, and
the decision is on the timeline; correcting its category routes it on and moves its time limits."""

from __future__ import annotations

import secrets

from kefu.bootstrap import Kefu
from kefu.domain.events import EventKind
from kefu.domain.org import OrgTree, Role, TeamFunction
from kefu.domain.routing import RoutingRule, Strategy
from kefu.domain.sla import Conditions
from kefu.domain.workorders import Channel, Status
from kefu.services import workspace
from kefu.services.channels import intake
from kefu.services.dispatch import routing
from kefu.services.org import admin as org_admin
from kefu.services.org.reference import TO_CLASSIFY_RULE
from kefu.services.workorders import commands, corrections, queries
from tests.support.factories import new_user, unique_phone


def _reception(kefu: Kefu) -> int:
    with kefu.ctx.uow() as uow:
        top = OrgTree(uow.org.organisations()).top_id
        team = routing.reception_team(uow, top)
    assert team is not None and team.id is not None
    return team.id


def _routed(kefu: Kefu, number: str) -> list[dict[str, object]]:
    with kefu.ctx.uow() as uow:
        wo = uow.work_orders.get_by_number(number)
        assert wo is not None and wo.id is not None
        return [e.data for e in uow.work_orders.history(wo.id) if e.kind is EventKind.ROUTED]


def test_an_sms_from_an_unknown_number_waits_in_the_reception_queue_to_classify(kefu: Kefu) -> None:
    reception = _reception(kefu)
    receptionist = new_user(kefu, Role.AGENT, team_id=reception)
    got = intake.receive(kefu.ctx, intake.Inbound(channel=Channel.SMS, body="宽带断了三天了", phone=unique_phone()))
    assert got.opened and got.work_order is not None
    wo = got.work_order
    assert wo.team_id == reception and wo.handler_id is None  # in the team's queue, nobody's yet
    [decision] = _routed(kefu, wo.number)
    assert (
        decision["rule"] == TO_CLASSIFY_RULE and decision["reason"] == "into_queue" and decision["team_id"] == reception
    )
    queues = {q.key: q for q in workspace.queues(kefu.ctx, receptionist)}
    assert queues["to_classify"].count >= 1 and queues["to_classify"].oldest_at is not None
    assert queues["unassigned"].count >= 1 and queues["unassigned"].oldest_at is not None
    flt = workspace.queue_filter(receptionist, "to_classify", kefu.ctx.clock.now())
    assert flt is not None
    assert wo.number in [w.number for w in queries.list_work_orders(kefu.ctx, receptionist, flt, limit=200)]


def test_without_a_matching_rule_the_reception_team_takes_it_and_the_timeline_says_so(kefu: Kefu) -> None:
    admin = new_user(kefu, Role.ADMIN)
    rule = next(r for r in routing.list_rules(kefu.ctx, admin) if r.name == TO_CLASSIFY_RULE)
    assert rule.strategy is Strategy.QUEUE and rule.id is not None
    routing.set_rule_active(kefu.ctx, admin, rule.id, False)
    try:
        got = intake.receive(
            kefu.ctx,
            intake.Inbound(channel=Channel.WECHAT, body="充值没到账", wechat_openid=f"o{secrets.token_hex(8)}"),
        )
    finally:
        routing.set_rule_active(kefu.ctx, admin, rule.id, True)
    assert got.work_order is not None
    assert got.work_order.team_id == _reception(kefu) and got.work_order.handler_id is None
    [decision] = _routed(kefu, got.work_order.number)
    assert decision["reason"] == "default_team" and decision["rule"] is None


def test_correcting_the_category_routes_it_on_and_moves_its_time_limits(kefu: Kefu) -> None:
    admin = new_user(kefu, Role.ADMIN)
    assert admin.organisation_id is not None
    team = org_admin.add_team(
        kefu.ctx,
        admin,
        organisation_id=admin.organisation_id,
        name=f"计费{secrets.token_hex(3)}",
        function=TeamFunction.TECH_SUPPORT,
    )
    assert team.id is not None
    # Only channel-born work orders of this category: no other test's registrations are affected.
    routing.save_rule(
        kefu.ctx,
        admin,
        RoutingRule(
            None,
            f"账单争议{secrets.token_hex(3)}",
            5,
            team.id,
            strategy=Strategy.QUEUE,
            conditions=Conditions(categories=("billing.refund",), channels=("sms",)),
        ),
    )
    receptionist = new_user(kefu, Role.AGENT, team_id=_reception(kefu))
    got = intake.receive(kefu.ctx, intake.Inbound(channel=Channel.SMS, body="多扣了我 50 元话费", phone=unique_phone()))
    assert got.work_order is not None
    number = got.work_order.number
    before = {c.name: c for c in queries.get_work_order(kefu.ctx, receptionist, number)[1]}
    commands.transition_work_order(kefu.ctx, receptionist, number, Status.ACCEPTED)
    fixed = corrections.edit_work_order(
        kefu.ctx, receptionist, number, {"category": "billing.refund", "type": "complaint"}
    )
    assert fixed.team_id == team.id and fixed.handler_id is None and fixed.category == "billing.refund"
    routed = _routed(kefu, number)
    assert routed[-1]["team_id"] == team.id and routed[-1]["corrected"] is True
    after = {c.name: c for c in queries.get_work_order(kefu.ctx, admin, number)[1]}
    assert set(after) - set(before) == {"customer_reply"}  # a complaint's reply clock now runs
