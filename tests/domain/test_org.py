"""The permission model in the domain: the organisation tree, roles ranked by their permissions, who
manages what, and whose work orders a user sees."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from kefu.domain.org import (
    SYSTEM_USERNAME,
    Organisation,
    OrganisationKind,
    OrgTree,
    Role,
    User,
    manages,
    manages_user,
    may_place,
    role_covers,
    runs_installation,
    visible_organisations,
    visible_staff,
)

K = OrganisationKind
TREE = OrgTree(
    [
        Organisation(1, "集团", K.HEADQUARTERS),
        Organisation(2, "甲省", K.PROVINCE, parent_id=1),
        Organisation(3, "甲省乙市", K.CITY, parent_id=2),
        Organisation(4, "丙省", K.PROVINCE, parent_id=1),
        Organisation(5, "厂商", K.VENDOR),
        Organisation(6, "旧省", K.PROVINCE),  # added without a parent: hangs under the top
        Organisation(7, "厂商分部", K.VENDOR, parent_id=5),
    ]
)


def user(role: Role, organisation_id: int | None, *, name: str = "someone", active: bool = True) -> User:
    return User(
        id=None,
        username=name,
        display_name=name,
        role=role,
        password_hash="!",
        created_at=datetime(2026, 11, 30, tzinfo=UTC),
        organisation_id=organisation_id,
        active=active,
    )


def test_the_tree_has_one_top_and_parentless_organisations_hang_under_it() -> None:
    assert TREE.top_id == 1
    assert TREE.subtree(1) == frozenset({1, 2, 3, 4, 5, 6, 7})
    assert TREE.subtree(2) == frozenset({2, 3})
    assert TREE.subtree(5) == frozenset({5, 7})
    assert TREE.contains(1, 6) and TREE.contains(2, 3) and not TREE.contains(3, 2) and not TREE.contains(4, 3)
    assert TREE.subtree(99) == frozenset()


def test_roles_are_ranked_by_their_permissions() -> None:
    assert role_covers(Role.ADMIN, Role.ADMIN) and role_covers(Role.ADMIN, Role.SUPERVISOR)
    assert role_covers(Role.SUPERVISOR, Role.SUPERVISOR) and role_covers(Role.SUPERVISOR, Role.FIELD_ENGINEER)
    assert role_covers(Role.SUPERVISOR, Role.QUALITY) and role_covers(Role.ADMIN, Role.AUDITOR)
    assert not role_covers(Role.SUPERVISOR, Role.AUDITOR)  # auditors read the audit log, supervisors do not
    assert not role_covers(Role.SUPERVISOR, Role.ADMIN)
    assert not role_covers(Role.AGENT, Role.FIELD_ENGINEER)  # engineers see personal data, agents do not
    assert not role_covers(Role.AUDITOR, Role.AGENT)


@pytest.mark.parametrize(
    ("organisation_id", "target", "expected"),
    [
        (1, 4, True),  # the HQ manages every province
        (1, 5, True),  # and the vendors hanging under it
        (2, 3, True),  # a province its cities
        (2, 2, True),
        (2, 4, False),  # not a sibling
        (3, 2, False),  # nor upwards
        (5, 7, True),  # a vendor its own branch
        (5, 1, False),  # never the operator
        (5, 2, False),
    ],
)
def test_management_is_granted_within_the_subtree(organisation_id: int, target: int, expected: bool) -> None:
    assert manages(user(Role.SUPERVISOR, organisation_id), target, TREE) is expected


def test_an_operator_organisation_below_a_vendor_stays_out_of_the_vendors_reach() -> None:
    tree = OrgTree([*TREE.by_id.values(), Organisation(8, "误挂省", K.PROVINCE, parent_id=5)])
    assert tree.contains(5, 8)
    assert not manages(user(Role.ADMIN, 5), 8, tree)


def test_nobody_edits_those_above_or_the_system_account() -> None:
    supervisor = user(Role.SUPERVISOR, 1)
    assert manages_user(supervisor, user(Role.AGENT, 3), TREE)
    assert not manages_user(supervisor, user(Role.ADMIN, 3), TREE)
    assert not manages_user(user(Role.ADMIN, 1), user(Role.ADMIN, 1, name=SYSTEM_USERNAME), TREE)
    assert not manages_user(user(Role.SUPERVISOR, 2, active=False), user(Role.AGENT, 3), TREE)
    assert may_place(supervisor, Role.SUPERVISOR, 4, TREE) and not may_place(supervisor, Role.ADMIN, 4, TREE)
    assert not may_place(user(Role.ADMIN, 2), Role.AGENT, 4, TREE)


def test_settings_of_every_organisation_belong_to_the_top_organisations_admins() -> None:
    assert runs_installation(user(Role.ADMIN, 1), TREE)
    assert not runs_installation(user(Role.SUPERVISOR, 1), TREE)
    assert not runs_installation(user(Role.ADMIN, 2), TREE)
    assert not runs_installation(user(Role.ADMIN, 5), TREE)


def test_what_work_orders_each_sees() -> None:
    assert visible_organisations(user(Role.ADMIN, 1), TREE) is None
    assert visible_organisations(user(Role.AUDITOR, 1), TREE) is None
    assert visible_organisations(user(Role.AGENT, 1), TREE) == frozenset({1, 2, 3, 4, 6})  # no vendor's own
    assert visible_organisations(user(Role.ADMIN, 2), TREE) == frozenset(
        {2, 3}
    )  # admins outside the top: their subtree
    assert visible_organisations(user(Role.ADMIN, 5), TREE) == frozenset({5})  # a vendor: itself, whatever the role
    assert visible_organisations(user(Role.AGENT, None), TREE) == frozenset()


def test_whose_people_each_sees() -> None:
    assert visible_staff(user(Role.AGENT, 1), TREE) is None
    assert visible_staff(user(Role.SUPERVISOR, 2), TREE) == frozenset({2, 3})
    assert visible_staff(user(Role.ADMIN, 5), TREE) == frozenset({5, 7})
