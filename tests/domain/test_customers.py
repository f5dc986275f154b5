from __future__ import annotations

from datetime import UTC, datetime

import pytest

from kefu.domain.customers import (
    Customer,
    Tier,
    mask_id_number,
    mask_phone,
    normalize_id_number,
    normalize_phone,
)
from kefu.domain.errors import ValidationFailed

NOW = datetime(2026, 11, 21, tzinfo=UTC)


def test_mobile_is_masked_like_138_stars_5678() -> None:
    assert mask_phone("13812345678") == "138****5678"
    assert mask_id_number("11010519491231002X") == "110***********002X"


@pytest.mark.parametrize(("raw", "digits"), [("+86 138-1234-5678", "13812345678"), ("010-62345678", "01062345678")])
def test_phone_normalisation(raw: str, digits: str) -> None:
    assert normalize_phone(raw) == digits


@pytest.mark.parametrize("raw", ["12345", "23812345678", "abc"])
def test_bad_phone_is_refused_with_the_field(raw: str) -> None:
    with pytest.raises(ValidationFailed) as err:
        normalize_phone(raw)
    assert err.value.field == "phone"


def test_identity_number_check_digit() -> None:
    assert normalize_id_number("11010519491231002x") == "11010519491231002X"
    with pytest.raises(ValidationFailed):
        normalize_id_number("110105194912310021")


@pytest.mark.parametrize(
    ("brand", "tier"),
    [
        ("全球通", Tier.PREMIUM),
        ("动感地带", Tier.STANDARD),
        ("神州行", Tier.STANDARD),
        ("钻石卡", Tier.VIP),
        ("unknown", Tier.STANDARD),
    ],
)
def test_brand_maps_onto_tier(brand: str, tier: Tier) -> None:
    assert Customer.register(name="李四", phone="13900001111", brand=brand, at=NOW).tier is tier


def test_explicit_tier_wins_over_brand() -> None:
    assert Customer.register(name="李四", phone="13900001111", brand="神州行", tier=Tier.VIP, at=NOW).tier is Tier.VIP


def test_masked_copy_hides_every_personal_field_and_keeps_the_rest() -> None:
    c = Customer.register(
        name="李四",
        phone="13900001111",
        at=NOW,
        id_number="11010519491231002X",
        email="lisi@example.com",
        address="广东省广州市天河区体育西路100号",
        region="广州",
    )
    m = c.masked()
    assert m.phone == "139****1111" and "*" in (m.id_number or "") and "*" in (m.email or "")
    assert "100号" not in (m.address or "")
    assert (m.name, m.region, m.tier) == (c.name, c.region, c.tier)
    assert c.phone == "13900001111"  # the original is untouched
