"""Customers (R6): identity, tier and brand, services and devices, and how personal data is masked."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from kefu.domain.errors import ValidationFailed


class Tier(StrEnum):
    VIP = "vip"
    PREMIUM = "premium"
    STANDARD = "standard"


#: The operator's brand names mapped onto kefu's three service tiers (seed 004: complaint reply
#: VIP 8 h, 全球通 24 h, 动感地带/神州行 48 h). Keys are matched case-insensitively.
BRAND_TIERS: dict[str, Tier] = {
    "vip": Tier.VIP,
    "钻石卡": Tier.VIP,
    "金卡": Tier.VIP,
    "银卡": Tier.VIP,
    "全球通": Tier.PREMIUM,
    "gotone": Tier.PREMIUM,
    "动感地带": Tier.STANDARD,
    "m-zone": Tier.STANDARD,
    "神州行": Tier.STANDARD,
    "easyown": Tier.STANDARD,
}


def tier_for_brand(brand: str) -> Tier | None:
    return BRAND_TIERS.get(brand.strip().lower())


_MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE_RE = re.compile(r"^0\d{9,11}$")
_ID_RE = re.compile(r"^\d{17}[\dX]$")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def normalize_phone(raw: str) -> str:
    """Digits only, without the +86 country prefix; raises when it is no Chinese phone number."""
    digits = re.sub(r"[\s\-()]", "", raw.strip())
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    if not (_MOBILE_RE.match(digits) or _LANDLINE_RE.match(digits)):
        raise ValidationFailed(
            "{value} is not a valid phone number: give an 11-digit mobile number (e.g. 13812345678) "
            "or a landline with area code (e.g. 010-62345678).",
            field="phone",
            value=raw,
        )
    return digits


def id_number_check_digit(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def normalize_id_number(raw: str) -> str:
    """An 18-character resident identity number (GB 11643) with a valid check digit."""
    value = raw.strip().upper()
    if not _ID_RE.match(value) or id_number_check_digit(value[:17]) != value[17]:
        raise ValidationFailed(
            "The identity number is not valid: it needs 18 characters and a correct check digit.",
            field="id_number",
        )
    return value


def mask_phone(phone: str) -> str:
    """138****5678 for mobiles; landlines keep area code and last four digits."""
    if len(phone) == 11 and phone.startswith("1"):
        return f"{phone[:3]}****{phone[-4:]}"
    if len(phone) > 7:
        return f"{phone[:4]}{'*' * (len(phone) - 8)}{phone[-4:]}"
    return "*" * len(phone)


def mask_id_number(value: str) -> str:
    return f"{value[:3]}{'*' * (len(value) - 7)}{value[-4:]}" if len(value) > 7 else "*" * len(value)


def mask_email(value: str) -> str:
    local, _, domain = value.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


def mask_address(value: str) -> str:
    """Keep the first part (province/city/district) and hide the street and house number."""
    keep = min(len(value) // 2, 9)
    return value[:keep] + "*" * 6 if value else value


@dataclass
class Device:
    model: str
    serial: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"model": self.model, "serial": self.serial}


@dataclass
class Customer:
    id: int | None
    name: str
    phone: str | None  # None: known only by e-mail or WeChat so far (the channels register such customers)
    tier: Tier
    created_at: datetime
    brand: str | None = None
    region: str | None = None
    email: str | None = None
    address: str | None = None
    id_number: str | None = None
    services: list[str] = field(default_factory=list)
    devices: list[Device] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    wechat_openid: str | None = None
    account_number: str | None = None
    #: The organisation the customer belongs to (归属): whoever registered them. Its subtree sees the
    #: customer; other organisations only through a work order of theirs (kefu.services.access.scope).
    organisation_id: int | None = None

    @classmethod
    def register(
        cls,
        *,
        name: str,
        phone: str | None,
        at: datetime,
        tier: Tier | None = None,
        brand: str | None = None,
        region: str | None = None,
        email: str | None = None,
        address: str | None = None,
        id_number: str | None = None,
        services: list[str] | None = None,
        devices: list[Device] | None = None,
        tags: list[str] | None = None,
        wechat_openid: str | None = None,
        account_number: str | None = None,
        organisation_id: int | None = None,
    ) -> Customer:
        name = name.strip()
        wechat_openid = (wechat_openid or "").strip() or None
        account_number = (account_number or "").strip() or None
        if not (phone or "").strip() and not (email or "").strip() and wechat_openid is None:
            raise ValidationFailed("Give the customer's phone number.", field="phone")
        if not name:
            raise ValidationFailed("The customer's name must not be empty.", field="name")
        brand = (brand or "").strip() or None
        if tier is None:
            tier = (tier_for_brand(brand) if brand else None) or Tier.STANDARD
        if email is not None and email.strip() and "@" not in email:
            raise ValidationFailed("{value} is not an e-mail address.", field="email", value=email)
        return cls(
            id=None,
            name=name,
            phone=normalize_phone(phone) if phone and phone.strip() else None,
            tier=tier,
            brand=brand,
            region=(region or "").strip() or None,
            email=(email or "").strip() or None,
            address=(address or "").strip() or None,
            id_number=normalize_id_number(id_number) if id_number and id_number.strip() else None,
            services=[s.strip() for s in services or [] if s.strip()],
            devices=list(devices or []),
            tags=sorted({t.strip() for t in tags or [] if t.strip()}),
            created_at=at,
            wechat_openid=wechat_openid,
            account_number=account_number,
            organisation_id=organisation_id,
        )

    def masked(self) -> Customer:
        """A copy with personal data masked, for roles that may not see it."""
        return Customer(
            id=self.id,
            name=self.name,
            phone=mask_phone(self.phone) if self.phone else None,
            tier=self.tier,
            created_at=self.created_at,
            brand=self.brand,
            region=self.region,
            email=mask_email(self.email) if self.email else None,
            address=mask_address(self.address) if self.address else None,
            id_number=mask_id_number(self.id_number) if self.id_number else None,
            services=list(self.services),
            devices=[Device(d.model, d.serial) for d in self.devices],
            tags=list(self.tags),
            wechat_openid=self.wechat_openid,
            account_number=self.account_number,
            organisation_id=self.organisation_id,
        )

    def caller_card(self) -> Customer:
        """What someone outside the customer's organisation learns from the customer's whole phone
        number (the caller on the line): who it is and the tier that sets the time limits, masked,
        nothing of the profile or the history."""
        masked = self.masked()
        return Customer(
            id=self.id,
            name=self.name,
            phone=masked.phone,
            tier=self.tier,
            created_at=self.created_at,
            brand=self.brand,
            organisation_id=self.organisation_id,
        )


@dataclass(frozen=True)
class CustomerProfile:
    tier: Tier
    region: str | None
    agreement_id: int | None
    organisation_id: int | None = None  # whom the customer belongs to (data scope)
