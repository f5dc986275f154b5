"""Deterministic, realistic demo data: Chinese customers and work orders spread over 90 days.

Pure Python and independent of storage; `kefu.demo.bulk` loads what this yields.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from kefu.domain.categories import SEED_TREE
from kefu.domain.customers import id_number_check_digit
from kefu.domain.workorders import TRANSITIONS, Status

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志红玉兰文斌宇浩然欣怡子轩雨涵梓萱俊杰"
CITIES = [
    ("广州", "440100"),
    ("深圳", "440300"),
    ("佛山", "440600"),
    ("东莞", "441900"),
    ("珠海", "440400"),
    ("汕头", "440500"),
    ("惠州", "441300"),
    ("中山", "442000"),
    ("江门", "440700"),
    ("湛江", "440800"),
]
DISTRICTS = ["天河区", "越秀区", "南山区", "福田区", "禅城区", "南城街道", "香洲区", "龙湖区", "惠城区", "石岐街道"]
ROADS = ["中山路", "建设路", "人民路", "解放路", "文明路", "新港路", "滨江路", "朝阳路"]
BRANDS = [("钻石卡", 0.02), ("金卡", 0.03), ("全球通", 0.25), ("动感地带", 0.35), ("神州行", 0.35)]
PHONES = ["华为 Mate 60", "小米 14", "OPPO Reno 11", "vivo X100", "iPhone 15", "荣耀 Magic6", "中兴 Axon 50"]
SERVICES = [
    "5G畅享套餐 128元",
    "4G飞享套餐 38元",
    "家庭宽带 300M",
    "家庭宽带 1000M",
    "魔百和IPTV",
    "固定电话",
    "和彩云",
    "视频彩铃",
    "流量包 30GB",
]
CHANNEL_WEIGHTS = [("hotline", 55), ("app", 15), ("web", 8), ("wechat", 10), ("sms", 3), ("email", 2), ("store", 7)]

# Per top-level category: which work-order types it brings, and the wording customers use.
TOPICS: dict[str, dict[str, Any]] = {
    "mobile_network": {
        "types": ["fault", "complaint"],
        "texts": [
            "客户反映在{place}家中{symptom}，已持续{days}天，重启手机无效。",
            "客户称{place}附近{symptom}，影响正常工作，要求尽快处理。",
            "客户投诉{place}地铁站内{symptom}，多次反映未解决。",
        ],
    },
    "broadband": {
        "types": ["fault", "service_request", "complaint"],
        "texts": [
            "客户家中宽带{symptom}，光猫LOS灯{light}，已按指导重启无效，需要上门检查。",
            "客户反映晚上八点后宽带{symptom}，测速仅{speed}M，签约{plan}。",
            "客户申请{symptom}，地址：{place}，希望周末上门。",
        ],
    },
    "fixed_line": {
        "types": ["fault"],
        "texts": [
            "客户固话{symptom}，家中有老人需要紧急联系，请优先处理。",
            "客户反映固话{symptom}，话机已更换仍无改善。",
        ],
    },
    "billing": {
        "types": ["complaint", "inquiry"],
        "texts": [
            "客户对本月账单有疑问：{symptom}，金额{amount}元，要求解释并核实。",
            "客户称{symptom}，已提供缴费凭证，要求{days}天内处理。",
        ],
    },
    "plans": {
        "types": ["inquiry", "service_request"],
        "texts": ["客户咨询{symptom}，想了解是否有更合适的套餐。", "客户申请{symptom}，要求下月生效。"],
    },
    "devices": {
        "types": ["fault", "inquiry"],
        "texts": [
            "客户的{device}{symptom}，购机{days}天，要求检测。",
            "客户咨询{device}{symptom}问题，已指导客户操作。",
        ],
    },
    "sim_number": {
        "types": ["service_request"],
        "texts": ["客户申请{symptom}，已提醒携带身份证原件到营业厅办理。", "客户来电办理{symptom}，需核验身份。"],
    },
    "value_added": {
        "types": ["complaint"],
        "texts": ["客户投诉{symptom}，称从未订购，要求退费并取消。", "客户反映近期频繁收到{symptom}，要求处理。"],
    },
    "marketing": {
        "types": ["complaint", "inquiry"],
        "texts": ["客户参加营业厅活动，反映{symptom}，要求兑现承诺。", "客户称办理业务时{symptom}，要求给予说法。"],
    },
    "service_attitude": {
        "types": ["complaint", "praise", "suggestion"],
        "texts": [
            "客户对{symptom}不满意，称态度生硬，要求道歉。",
            "客户来电表扬{symptom}，服务热情周到。",
            "客户建议改进{symptom}，减少等待时间。",
        ],
    },
}

FINAL_STATUS_BY_AGE = [  # (max age in days, [(status, weight)])
    (2, [("new", 15), ("accepted", 20), ("in_progress", 30), ("dispatched", 15), ("pending", 10), ("resolved", 10)]),
    (
        10,
        [
            ("in_progress", 10),
            ("dispatched", 8),
            ("pending", 7),
            ("resolved", 15),
            ("callback", 10),
            ("closed", 45),
            ("cancelled", 5),
        ],
    ),
    (91, [("closed", 88), ("cancelled", 5), ("rejected", 2), ("resolved", 3), ("callback", 2)]),
]

# A typical path from `new` to each final status (every step is in TRANSITIONS).
PATHS: dict[str, list[str]] = {
    "new": [],
    "accepted": ["accepted"],
    "rejected": ["rejected"],
    "cancelled": ["accepted", "cancelled"],
    "in_progress": ["accepted", "in_progress"],
    "dispatched": ["accepted", "in_progress", "dispatched"],
    "pending": ["accepted", "in_progress", "pending"],
    "resolved": ["accepted", "in_progress", "resolved"],
    "callback": ["accepted", "in_progress", "resolved", "callback"],
    "closed": ["accepted", "in_progress", "resolved", "callback", "closed"],
}
for _final, _path in PATHS.items():
    _prev = Status.NEW
    for _step in _path:
        assert Status(_step) in TRANSITIONS[_prev], (_final, _step)
        _prev = Status(_step)


@dataclass
class DemoCustomer:
    id: int
    name: str
    phone: str
    tier: str
    brand: str
    region: str
    address: str
    id_number: str
    services: list[str]
    devices: list[dict[str, Any]]
    tags: list[str]
    created_at: datetime


@dataclass
class DemoWorkOrder:
    id: int
    number: str
    customer_id: int
    type: str
    category: str
    channel: str
    priority: str
    severity: int | None
    title: str
    description: str
    status: str
    owner_id: int
    team_id: int | None
    created_at: datetime
    updated_at: datetime
    fault_place: str | None
    device: str | None
    resolved_at: datetime | None
    closed_at: datetime | None
    events: list[dict[str, Any]] = field(default_factory=list)


def _weighted(rng: random.Random, pairs: list[tuple[str, int]] | list[tuple[str, float]]) -> str:
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


def _tier(brand: str) -> str:
    return {"钻石卡": "vip", "金卡": "vip", "全球通": "premium"}.get(brand, "standard")


def customers(n: int, *, seed: int, first_id: int, now: datetime) -> Iterator[DemoCustomer]:
    rng = random.Random(f"customers-{seed}")
    for i in range(n):
        city, code = rng.choice(CITIES)
        brand = _weighted(rng, BRANDS)
        born = datetime(1950, 1, 1, tzinfo=UTC) + timedelta(days=rng.randrange(0, 365 * 55))
        first17 = f"{code}{born:%Y%m%d}{rng.randrange(0, 1000):03d}"
        yield DemoCustomer(
            id=first_id + i,
            name=rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2)))),
            phone=f"1{rng.choice('3578')}{rng.randrange(0, 10)}{first_id + i:08d}"[-11:],
            tier=_tier(brand),
            brand=brand,
            region=city,
            address=(
                f"广东省{city}市{rng.choice(DISTRICTS)}{rng.choice(ROADS)}{rng.randrange(1, 300)}号"
                f"{rng.randrange(1, 30)}栋{rng.randrange(101, 2800)}"
            ),
            id_number=first17 + id_number_check_digit(first17),
            services=rng.sample(SERVICES, rng.randrange(1, 4)),
            devices=[{"model": rng.choice(PHONES), "serial": f"SN{rng.randrange(10**9, 10**10)}"}],
            tags=(["高价值"] if brand in ("钻石卡", "金卡") else []) + (["敏感客户"] if rng.random() < 0.03 else []),
            created_at=now - timedelta(days=rng.randrange(90, 3000)),
        )


def work_orders(
    m: int,
    *,
    seed: int,
    first_id: int,
    customer_ids: list[int],
    customer_tiers: dict[int, str],
    agent_ids: list[int],
    team_ids: list[int],
    now: datetime,
    days: int = 90,
    tz: Any = UTC,
    first_sequence: dict[str, int] | None = None,
) -> Iterator[DemoWorkOrder]:
    """m work orders in creation order over the last `days` days (ids grow with time)."""
    rng = random.Random(f"work-orders-{seed}")
    leaves = [(c, zh) for c, zh, _ in SEED_TREE if "." in c and c.split(".")[0] in TOPICS]
    start = now - timedelta(days=days)
    step = (now - start) / max(m, 1)
    sequences: dict[str, int] = dict(first_sequence or {})
    for i in range(m):
        created = start + step * i + timedelta(seconds=rng.random() * step.total_seconds())
        day = created.astimezone(tz).strftime("%Y%m%d")
        sequences[day] = sequences.get(day, 0) + 1
        code, leaf_zh = rng.choice(leaves)
        topic = TOPICS[code.split(".")[0]]
        wo_type = rng.choice(topic["types"])
        customer_id = rng.choice(customer_ids)
        severity = rng.choices([1, 2, 3, 4], weights=[1, 4, 45, 50])[0] if wo_type == "fault" else None
        priority = f"P{severity}" if severity else ("P2" if customer_tiers.get(customer_id) == "vip" else "P3")
        city = rng.choice(CITIES)[0]
        text = rng.choice(topic["texts"]).format(
            place=f"{city}{rng.choice(DISTRICTS)}",
            symptom=leaf_zh,
            days=rng.randrange(1, 15),
            light=rng.choice(["红灯闪烁", "常亮红色", "不亮"]),
            speed=rng.randrange(1, 20),
            plan=rng.choice(["300M", "500M", "1000M"]),
            amount=rng.randrange(5, 500),
            device=rng.choice(PHONES),
        )
        age_days = (now - created).total_seconds() / 86400
        final = next(_weighted(rng, choices) for limit, choices in FINAL_STATUS_BY_AGE if age_days <= limit)
        owner = rng.choice(agent_ids)
        events: list[dict[str, Any]] = [
            {
                "kind": "created",
                "actor_id": owner,
                "at": created,
                "from_status": None,
                "to_status": "new",
                "note": None,
                "data": {"channel": "demo"},
            }
        ]
        at, prev = created, "new"
        resolved_at = closed_at = None
        for step_status in PATHS[final]:
            at = min(at + timedelta(minutes=rng.randrange(2, 600)), now)
            note = {"rejected": "重复工单，已合并处理", "cancelled": "客户来电撤销"}.get(step_status)
            events.append(
                {
                    "kind": "status_changed",
                    "actor_id": owner,
                    "at": at,
                    "from_status": prev,
                    "to_status": step_status,
                    "note": note,
                    "data": {},
                }
            )
            prev = step_status
            if step_status == "resolved":
                resolved_at = at
            if step_status == "closed":
                closed_at = at
        if rng.random() < 0.4:
            at = min(at + timedelta(minutes=rng.randrange(1, 60)), now)
            events.append(
                {
                    "kind": "note_added",
                    "actor_id": owner,
                    "at": at,
                    "from_status": None,
                    "to_status": None,
                    "note": "已电话联系客户说明处理进度。",
                    "visibility": "internal",
                    "data": {},
                }
            )
        yield DemoWorkOrder(
            id=first_id + i,
            number=f"GD{day}{sequences[day]:06d}",
            customer_id=customer_id,
            type=wo_type,
            category=code,
            channel=_weighted(rng, CHANNEL_WEIGHTS),
            priority=priority,
            severity=severity,
            title=f"{leaf_zh}（{city}）",
            description=text,
            status=final,
            owner_id=owner,
            team_id=rng.choice(team_ids) if team_ids else None,
            created_at=created,
            updated_at=at,
            fault_place=f"{city}{rng.choice(DISTRICTS)}" if wo_type == "fault" else None,
            device=rng.choice(PHONES) if code.startswith("devices") else None,
            resolved_at=resolved_at,
            closed_at=closed_at,
            events=events,
        )
