"""Search (issue #12 part 5) through the services, on SQLite and PostgreSQL: numbers, phones, names
and Chinese words; ranking; the data scope of the work-order list; masking; filters; the index kept
in step in the transaction that changes the text."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from kefu.bootstrap import Kefu
from kefu.domain.errors import ValidationFailed
from kefu.domain.org import Role, User
from kefu.domain.workorders import Channel, Status, WorkOrder, WorkOrderType
from kefu.services import search as svc
from kefu.services.channels.intake import Inbound, receive
from kefu.services.customers import NewCustomer, register_customer
from kefu.services.ports import WorkOrderFilter
from kefu.services.workorders import commands
from tests.support.factories import make_actor, new_organisation, new_team, unique_phone

SENTENCE = "我家里的宽带从昨天晚上开始一直断网，光猫红灯闪烁，重启也没用"


@dataclass
class World:
    p_agent: User  # agent of province 甲
    q_agent: User  # agent of province 丙 (a sibling: sees nothing of 甲's)
    boss: User  # supervisor at headquarters (sees both)
    p_team: int
    q_team: int


def _user(kefu: Kefu, user_id: int) -> User:
    with kefu.ctx.uow() as uow:
        user = uow.users.get(user_id)
    assert user is not None
    return user


@pytest.fixture(scope="module")
def world(app: FastAPI, kefu: Kefu) -> Iterator[World]:
    with TestClient(app, base_url="http://127.0.0.1") as client:
        admin = make_actor(kefu, Role.ADMIN)
        hq = new_organisation(client, admin, "搜索集团", "headquarters")
        p = new_organisation(client, admin, "搜索甲省", "province", hq)
        q = new_organisation(client, admin, "搜索丙省", "province", hq)
        teams = {o: new_team(client, admin, o, f"搜索组{o}", "tech_support") for o in (hq, p, q)}
        yield World(
            p_agent=_user(kefu, make_actor(kefu, Role.AGENT, teams[p]).id),
            q_agent=_user(kefu, make_actor(kefu, Role.AGENT, teams[q]).id),
            boss=_user(kefu, make_actor(kefu, Role.SUPERVISOR, teams[hq]).id),
            p_team=teams[p],
            q_team=teams[q],
        )


def _order(
    kefu: Kefu,
    actor: User,
    *,
    title: str = "宽带故障",
    description: str = SENTENCE,
    name: str = "王小明",
    phone: str | None = None,
    category: str = "broadband.no_connection",
    team_id: int | None = None,
) -> WorkOrder:
    customer = register_customer(kefu.ctx, actor, NewCustomer(name=name, phone=phone or unique_phone()))
    assert customer.id is not None
    wo, _ = commands.register_work_order(
        kefu.ctx,
        actor,
        commands.NewWorkOrder(
            customer_id=customer.id,
            type=WorkOrderType.FAULT,
            category=category,
            channel=Channel.HOTLINE,
            title=title,
            description=description,
            team_id=team_id,
        ),
    )
    return wo


def _numbers(kefu: Kefu, actor: User, q: str, flt: WorkOrderFilter | None = None) -> list[str]:
    page = svc.search(kefu.ctx, actor, q, flt or WorkOrderFilter(), limit=100)
    return [r.work_order.number for r in page.results]


def _marker() -> str:
    return "mk" + secrets.token_hex(4)


def test_chinese_words_inside_a_longer_sentence_are_found(kefu: Kefu, world: World) -> None:
    marker = _marker()
    wo = _order(kefu, world.p_agent, title=f"报修 {marker}")
    for q in (
        f"宽带 {marker}",
        f"断网 {marker}",
        f"宽带断网 {marker}",
        f"光猫 红灯 {marker}",
        f"{marker} 宽带，断网！",
    ):
        assert _numbers(kefu, world.p_agent, q) == [wo.number], q
    assert _numbers(kefu, world.p_agent, f"电视 {marker}") == []  # every word must match


def test_a_part_of_the_number_finds_the_work_order(kefu: Kefu, world: World) -> None:
    wo = _order(kefu, world.p_agent)
    assert wo.number in _numbers(kefu, world.p_agent, wo.number)
    assert wo.number in _numbers(kefu, world.p_agent, wo.number.lower())
    assert wo.number in _numbers(kefu, world.p_agent, wo.number[-6:])  # the last digits
    assert wo.number in _numbers(kefu, world.p_agent, wo.number[2:10])  # the day
    # A whole number ranks its work order first.
    assert _numbers(kefu, world.p_agent, wo.number)[0] == wo.number


def test_the_phone_whole_or_its_last_digits_finds_the_customer_masked(kefu: Kefu, world: World) -> None:
    phone = unique_phone()
    wo = _order(kefu, world.p_agent, phone=phone)
    for q in (phone, phone[-4:], phone[-7:], f"{phone[:3]}-{phone[3:7]}-{phone[7:]}", f"+86 {phone}"):
        page = svc.search(kefu.ctx, world.p_agent, q, WorkOrderFilter(), limit=100)
        found = {r.work_order.number: r for r in page.results}
        assert wo.number in found, q
        customer = found[wo.number].customer
        assert customer is not None and customer.phone == f"{phone[:3]}****{phone[-4:]}"
    assert wo.number not in _numbers(kefu, world.p_agent, phone[:4])  # not the first digits
    assert wo.number not in _numbers(kefu, world.p_agent, phone[-3:])  # too short for a phone


def test_the_customers_name_finds_their_work_orders(kefu: Kefu, world: World) -> None:
    marker = _marker()
    wo = _order(kefu, world.p_agent, name="欧阳晓岚", title=marker)
    other = _order(kefu, world.p_agent, name="张伟", title=marker)
    assert _numbers(kefu, world.p_agent, f"欧阳晓岚 {marker}") == [wo.number]
    assert _numbers(kefu, world.p_agent, f"晓岚 {marker}") == [wo.number]
    assert _numbers(kefu, world.p_agent, f"张伟 {marker}") == [other.number]


def test_better_matches_come_first(kefu: Kefu, world: World) -> None:
    marker = _marker()
    weak = _order(kefu, world.p_agent, title="咨询", description=f"顺便问一下 {marker}")
    commands.add_note(kefu.ctx, world.p_agent, weak.number, "用户说光纤可能被挖断了")
    strong = _order(kefu, world.p_agent, title=f"光纤中断 {marker}", description="光纤断了，光纤需要熔接")
    assert _numbers(kefu, world.p_agent, f"光纤 {marker}") == [strong.number, weak.number]


def test_another_organisations_work_orders_never_appear(kefu: Kefu, world: World) -> None:
    marker = _marker()
    phone = unique_phone()
    mine = _order(kefu, world.p_agent, title=f"宽带 {marker}", phone=phone)
    theirs = _order(kefu, world.q_agent, title=f"宽带 {marker}")
    assert _numbers(kefu, world.p_agent, f"宽带 {marker}") == [mine.number]
    assert _numbers(kefu, world.q_agent, f"宽带 {marker}") == [theirs.number]
    assert set(_numbers(kefu, world.boss, f"宽带 {marker}")) == {mine.number, theirs.number}
    assert _numbers(kefu, world.q_agent, mine.number) == []
    assert mine.number not in _numbers(kefu, world.q_agent, phone)
    assert _numbers(kefu, world.q_agent, mine.number[-6:]) == [] or mine.number not in _numbers(
        kefu, world.q_agent, mine.number[-6:]
    )


def test_filters_combine_with_the_words(kefu: Kefu, world: World) -> None:
    marker = _marker()
    a = _order(kefu, world.boss, title=f"宽带 {marker}", team_id=world.p_team)
    b = _order(kefu, world.boss, title=f"宽带 {marker}", category="broadband", team_id=world.q_team)
    commands.transition_work_order(kefu.ctx, world.boss, b.number, Status.ACCEPTED)
    words = f"宽带 {marker}"
    assert set(_numbers(kefu, world.boss, words)) == {a.number, b.number}
    assert _numbers(kefu, world.boss, words, WorkOrderFilter(team_id=world.p_team)) == [a.number]
    assert _numbers(kefu, world.boss, words, WorkOrderFilter(statuses=(Status.ACCEPTED.value,))) == [b.number]
    only_b = WorkOrderFilter(category="broadband", statuses=(Status.ACCEPTED.value,))
    assert _numbers(kefu, world.boss, words, only_b) == [b.number]
    assert _numbers(kefu, world.boss, words, WorkOrderFilter(category="broadband.no_connection")) == [a.number]
    after = WorkOrderFilter(created_from=a.created_at + timedelta(days=1))
    assert _numbers(kefu, world.boss, words, after) == []
    around = WorkOrderFilter(created_from=a.created_at - timedelta(days=1), created_to=a.created_at + timedelta(days=1))
    assert set(_numbers(kefu, world.boss, words, around)) == {a.number, b.number}


def test_a_note_is_searchable_as_soon_as_it_is_added(kefu: Kefu, world: World) -> None:
    marker = _marker()
    wo = _order(kefu, world.p_agent)
    assert _numbers(kefu, world.p_agent, f"{marker} 分光器") == []
    commands.add_note(kefu.ctx, world.p_agent, wo.number, f"现场检查发现分光器故障 {marker}")
    assert _numbers(kefu, world.p_agent, f"{marker} 分光器") == [wo.number]


def test_a_changed_title_is_indexed_in_the_same_transaction(kefu: Kefu, world: World) -> None:
    marker = _marker()
    wo = _order(kefu, world.p_agent)
    with kefu.ctx.uow(write=True) as uow:
        stored = uow.work_orders.get_by_number(wo.number)
        assert stored is not None
        stored.title = f"机顶盒黑屏 {marker}"
        assert uow.work_orders.save(stored, stored.version)
        hits = uow.search.find(f"机顶盒 {marker}", WorkOrderFilter(), internal=True, limit=5, offset=0)
        assert [h.work_order_id for h in hits] == [stored.id]
        uow.rollback()  # the change goes, and its index with it
    assert _numbers(kefu, world.p_agent, f"机顶盒 {marker}") == []
    with kefu.ctx.uow(write=True) as uow:
        stored = uow.work_orders.get_by_number(wo.number)
        assert stored is not None
        stored.title = f"机顶盒黑屏 {marker}"
        assert uow.work_orders.save(stored, stored.version)
        uow.commit()
    assert _numbers(kefu, world.p_agent, f"机顶盒 {marker}") == [wo.number]
    assert _numbers(kefu, world.p_agent, f"宽带故障 {marker}") == []  # the old title is gone


def test_an_inbound_message_is_searchable(kefu: Kefu, world: World) -> None:
    marker = _marker()
    result = receive(
        kefu.ctx, Inbound(channel=Channel.SMS, body=f"你好，我家电视没有信号了 {marker}", phone=unique_phone())
    )
    assert result.work_order is not None
    admin = _user(kefu, make_actor(kefu, Role.ADMIN).id)
    assert _numbers(kefu, admin, f"电视 信号 {marker}") == [result.work_order.number]


def test_reindex_rebuilds_what_is_stored(kefu: Kefu, world: World) -> None:
    marker = _marker()
    wo = _order(kefu, world.p_agent, title=f"路由器 {marker}")
    commands.add_note(kefu.ctx, world.p_agent, wo.number, f"已更换路由器电源 {marker}")
    with kefu.ctx.uow(write=True) as uow:
        uow.search.remove(wo.id or 0, "work_order", "")
        uow.commit()
    assert _numbers(kefu, world.p_agent, f"路由器 {marker}") == [wo.number]  # the note still holds it
    assert _numbers(kefu, world.p_agent, f"路由器 {marker} 电源") == [wo.number]
    assert _numbers(kefu, world.p_agent, wo.number) == []
    assert svc.reindex(kefu.ctx) >= 1
    assert _numbers(kefu, world.p_agent, wo.number)[0] == wo.number


@pytest.mark.parametrize("q", ["", "   ", "宽带\x00", "x" * 101, "！？。，", "\ud800"])
def test_a_query_that_cannot_be_searched_names_q(kefu: Kefu, world: World, q: str) -> None:
    with pytest.raises(ValidationFailed) as err:
        svc.search(kefu.ctx, world.p_agent, q, WorkOrderFilter())
    assert err.value.field == "q"


def test_bad_filters_are_refused(kefu: Kefu, world: World) -> None:
    now = kefu.ctx.clock.now()
    with pytest.raises(ValidationFailed) as err:
        svc.search(kefu.ctx, world.p_agent, "宽带", WorkOrderFilter(created_from=now, created_to=now - timedelta(1)))
    assert err.value.field == "created_from"
    with pytest.raises(ValidationFailed):
        svc.search(kefu.ctx, world.p_agent, "宽带", WorkOrderFilter(category="BAD CODE!"))
