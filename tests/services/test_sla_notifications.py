"""Time-limit notifications on SQLite and PostgreSQL: a warning tells the handler; the escalation
levels tell whom they name as `sla_escalated` before the deadline and `sla_breached` (with the level)
at and after it; HQ quality hears of the third level only where it may see the work order."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from kefu.app import create_app
from kefu.bootstrap import Kefu
from kefu.domain.clock import FixedClock
from kefu.domain.customers import Tier
from kefu.domain.notifications import NotificationFilter, NotificationKind
from kefu.domain.org import Role, User
from kefu.domain.workorders import Channel, WorkOrderType
from kefu.services.customers import NewCustomer, register_customer
from kefu.services.notifications import inbox
from kefu.services.sla.timers import deliver_outbox, tick
from kefu.services.workorders import commands
from tests.support.databases import Database
from tests.support.factories import make_actor, new_organisation, new_team, new_user, unique_phone
from tests.support.kefus import make_kefu


@pytest.fixture
def timed(database: Database, kefu: Kefu) -> Iterator[tuple[Kefu, FixedClock]]:
    clock = FixedClock(datetime.now(UTC).replace(microsecond=0))
    k = make_kefu(database.url, clock=clock, quiet_hours="")
    yield k, clock
    k.engine.dispose()


def _told(k: Kefu, user: User, number: str) -> list[tuple[NotificationKind | None, object]]:
    while deliver_outbox(k.ctx):
        pass
    page = inbox.list_notifications(k.ctx, user, NotificationFilter(), limit=200)
    return sorted(((n.kind, n.payload.get("level")) for n in page.items if n.number == number), key=str)


def _register(
    k: Kefu, agent: User, *, tier: Tier, type: WorkOrderType, category: str, region: str | None = None
) -> str:
    customer = register_customer(
        k.ctx, agent, NewCustomer(name="孙女士", phone=unique_phone(), tier=tier, region=region)
    )
    assert customer.id is not None
    wo, _ = commands.register_work_order(
        k.ctx,
        agent,
        commands.NewWorkOrder(
            customer_id=customer.id,
            type=type,
            category=category,
            channel=Channel.HOTLINE,
            title="测试",
            description="时限",
        ),
    )
    return wo.number


def test_warnings_escalations_and_breaches_reach_whom_the_levels_name_within_scope(
    timed: tuple[Kefu, FixedClock],
) -> None:
    k, clock = timed
    c = TestClient(create_app(k), base_url="http://127.0.0.1")
    admin = make_actor(k, Role.ADMIN)
    p = new_organisation(c, admin, "丙省", "province")
    q = new_organisation(c, admin, "丁省", "province")
    team = new_team(c, admin, p, "丙省接待组", "reception")
    agent = new_user(k, Role.AGENT, team_id=team)
    lead = new_user(k, Role.SUPERVISOR, team_id=team)
    hq_quality = new_user(k, Role.QUALITY)  # the top organisation: sees every province
    far_quality = new_user(k, Role.QUALITY, organisation_id=q)  # another province: sees none of P's

    number = _register(k, agent, tier=Tier.VIP, type=WorkOrderType.COMPLAINT, category="billing.disputed_charge")
    clock.advance(timedelta(minutes=23))  # 75 % of the 30-minute first response: level 1
    tick(k.ctx)
    escalated = (NotificationKind.SLA_ESCALATED, 1)
    assert escalated in _told(k, agent, number) and escalated in _told(k, lead, number)
    clock.advance(timedelta(minutes=8))  # past the deadline: level 2 (the owner, the centre's managers)
    tick(k.ctx)
    assert (NotificationKind.SLA_BREACHED, 2) in _told(k, agent, number)
    clock.advance(timedelta(minutes=15))  # 150 %: level 3, HQ quality
    tick(k.ctx)
    assert (NotificationKind.SLA_BREACHED, 3) in _told(k, hq_quality, number)
    assert _told(k, far_quality, number) == []

    # A plain warning (a policy without escalation levels) tells the handler, and nobody outside.
    region = f"丙区{unique_phone()[-6:]}"
    policy = {
        "name": f"只预警{region}",
        "position": 0,
        "conditions": {"regions": [region]},
        "targets": {"first_response": 60},
        "warn_at": [0.5],
    }
    assert c.post("/api/v1/sla/policies", headers=admin.headers, json=policy).status_code == 201
    plain = _register(
        k, agent, tier=Tier.STANDARD, type=WorkOrderType.FAULT, category="broadband.no_connection", region=region
    )
    clock.advance(timedelta(minutes=31))
    tick(k.ctx)
    assert _told(k, agent, plain) == [(NotificationKind.SLA_WARNING, None)]
    assert _told(k, lead, plain) == [] and _told(k, far_quality, plain) == []
