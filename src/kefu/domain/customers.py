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
    #: Set when this record was a duplicate merged into another one (it stays for its history).
    merged_into_id: int | None = None

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
        for key, value in (
            ("name", name),
            ("brand", brand),
            ("region", region),
            ("email", email),
            ("address", address),
        ):
            if value and len(value.strip()) > _CUSTOMER_LIMITS[key]:
                raise ValidationFailed(
                    "This text is longer than {max} characters.", field=key, max=_CUSTOMER_LIMITS[key]
                )
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
            merged_into_id=self.merged_into_id,
        )

    def correct(self, changes: dict[str, object]) -> list[CustomerChange]:
        """Correct the record (R6): each field that really changes, as it was and becomes, with the
        personal data masked (what the customer's history keeps). Values are checked as at
        registration; a record merged into another is corrected there."""
        if self.merged_into_id is not None:
            raise ValidationFailed(
                "This record was merged into customer {id}; correct that one.", field="name", id=self.merged_into_id
            )
        unknown = [name for name in changes if name not in CUSTOMER_CORRECTABLE]
        if unknown:
            raise ValidationFailed("This field cannot be corrected.", field=unknown[0])
        wanted: dict[str, object] = {}
        for name, value in changes.items():
            if name in ("services", "tags"):
                items = [str(v).strip() for v in value or [] if str(v).strip()]  # type: ignore[attr-defined]
                if any(len(v) > 50 for v in items) or len(items) > 50:
                    raise ValidationFailed("Up to 50 entries of up to 50 characters each.", field=name)
                wanted[name] = sorted(set(items)) if name == "tags" else items
                continue
            text = str(value or "").strip()
            if len(text) > _CUSTOMER_LIMITS[name]:
                raise ValidationFailed(
                    "This text is longer than {max} characters.", field=name, max=_CUSTOMER_LIMITS[name]
                )
            if name == "name" and not text:
                raise ValidationFailed("The customer's name must not be empty.", field="name")
            if name == "tier":
                try:
                    wanted[name] = Tier(text)
                except ValueError:
                    raise ValidationFailed("Choose a tier.", field="tier") from None
                continue
            if name == "phone" and text:
                text = normalize_phone(text)
            if name == "email" and text and ("@" not in text or any(ch.isspace() for ch in text)):
                raise ValidationFailed("{value} is not an e-mail address.", field="email", value=text)
            if name == "id_number" and text:
                text = normalize_id_number(text)
            wanted[name] = text or None
        phone = wanted.get("phone", self.phone)
        email = wanted.get("email", self.email)
        if not phone and not email and not self.wechat_openid:
            raise ValidationFailed("Give the customer's phone number.", field="phone")
        changed = [
            CustomerChange(name, _shown(name, getattr(self, name)), _shown(name, value))
            for name, value in sorted(wanted.items(), key=lambda item: CUSTOMER_CORRECTABLE.index(item[0]))
            if getattr(self, name) != value
        ]
        for name, value in wanted.items():
            setattr(self, name, value)
        if not changed:
            raise ValidationFailed("Nothing was changed.", field=next(iter(changes), None))
        return changed

    def correct_identities(self, identities: dict[str, str]) -> list[CustomerChange]:
        """Take over identifiers of a duplicate merged into this record (only where none is kept)."""
        changed = []
        for name, value in identities.items():
            if getattr(self, name) is None:
                changed.append(CustomerChange(name, None, _shown(name, value)))
                setattr(self, name, value)
        return changed

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


#: What an agent may correct on a customer's record; the identities a channel vouches for (WeChat
#: openid, account number) and the organisation are not typed in.
CUSTOMER_CORRECTABLE = ("name", "phone", "email", "address", "region", "tier", "brand", "id_number", "services", "tags")
_CUSTOMER_LIMITS = {
    "name": 100,
    "phone": 20,
    "email": 200,
    "address": 300,
    "region": 100,
    "tier": 10,
    "brand": 50,
    "id_number": 18,
}
_MASKS = {"phone": mask_phone, "email": mask_email, "address": mask_address, "id_number": mask_id_number}


def _shown(name: str, value: object) -> str | None:
    """A field's value as the history keeps it: personal data masked, lists joined."""
    if value is None or value == []:
        return None
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    text = value.value if isinstance(value, Tier) else str(value)
    return _MASKS[name](text) if name in _MASKS else text


@dataclass(frozen=True)
class CustomerChange:
    """One corrected field of a customer's record, as the history keeps it (masked)."""

    field: str
    old: str | None
    new: str | None


@dataclass(frozen=True)
class CustomerProfile:
    tier: Tier
    region: str | None
    agreement_id: int | None
    organisation_id: int | None = None  # whom the customer belongs to (data scope)
