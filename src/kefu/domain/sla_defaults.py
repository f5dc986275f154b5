"""The time limits a new installation starts with (R9, R22, seed 004, 电信条例 Art. 33). Editable.

All shipped policies count natural time (24×7), as operators' complaint and repair limits do; the
`office` calendar (08:30–12:00, 13:30–18:00 on Chinese working days, 调休 included) is there for
policies that count working hours. Documented in docs/SLA.md.
"""

from __future__ import annotations

from dataclasses import replace

from kefu.domain.sla import ClockName, Conditions, EscalationLevel, Notify, SlaPolicy

C = ClockName
NETWORK = ("mobile_network", "broadband", "fixed_line")
HOP = {"vip": 3 * 60, "*": 6 * 60}  # each dispatch hop: VIP 3 h, others 6 h (seed 004)

CALENDARS: list[tuple[str, str, list[list[str]], bool]] = [
    ("24x7", "Asia/Shanghai", [], False),
    ("office", "Asia/Shanghai", [["08:30", "12:00"], ["13:30", "18:00"]], True),
]

ESCALATION = (
    EscalationLevel(1, 0.75, notify=(Notify.HANDLER, Notify.TEAM_LEAD)),
    EscalationLevel(2, 1.0, notify=(Notify.OWNER, Notify.CENTRE_MANAGER), raise_priority=True),
    EscalationLevel(3, 1.5, notify=(Notify.HQ_QUALITY,)),
)

BASE: dict[ClockName, int | dict[str, int]] = {
    C.REGISTER: 5,
    C.FIRST_RESPONSE: 30,
    C.DIAGNOSIS: 60,
    C.ONSITE: 24 * 60,
    C.HOP: HOP,
}


def _policy(
    position: int, name: str, resolution: int | dict[str, int], conditions: Conditions, **extra: int | dict[str, int]
) -> SlaPolicy:
    targets: dict[ClockName, int | dict[str, int]] = {**BASE, C.RESOLUTION: resolution}
    targets.update({ClockName(k): v for k, v in extra.items()})
    return SlaPolicy(
        id=None,
        name=name,
        position=position,
        targets=targets,
        calendar="24x7",
        conditions=conditions,
        warn_at=(0.75,),
        escalations=ESCALATION,
    )


def default_policies() -> list[SlaPolicy]:
    fault = ("fault",)
    return [
        _policy(
            10,
            "一级网络故障 4小时 / Level-1 network fault 4 h",
            4 * 60,
            Conditions(types=fault, severities=(1,), categories=NETWORK),
        ),
        _policy(
            20,
            "二级网络故障 8小时 / Level-2 network fault 8 h",
            8 * 60,
            Conditions(types=fault, severities=(2,), categories=NETWORK),
        ),
        _policy(
            30,
            "用户线路故障（城市）48小时 / Line fault, urban 48 h",
            48 * 60,
            Conditions(types=fault, categories=("broadband", "fixed_line")),
        ),
        _policy(
            40,
            "三级网络故障 24小时 / Level-3 network fault 24 h",
            24 * 60,
            Conditions(types=fault, severities=(3,), categories=NETWORK),
        ),
        _policy(
            50,
            "四级网络故障 72小时 / Level-4 network fault 72 h",
            72 * 60,
            Conditions(types=fault, severities=(4,), categories=NETWORK),
        ),
        _policy(
            60,
            "投诉答复 VIP 8小时、全球通 24小时、其他 48小时 / Complaint reply by tier",
            {"vip": 8 * 60, "premium": 24 * 60, "*": 48 * 60},
            Conditions(types=("complaint",)),
            customer_reply={"vip": 8 * 60, "premium": 24 * 60, "*": 48 * 60},
        ),
        # Rural line repair (72 h) needs the operator's own list of rural service areas: shipped
        # inactive; put the regions in and switch it on.
        replace(
            _policy(
                25,
                "用户线路故障（农村）72小时 / Line fault, rural 72 h",
                72 * 60,
                Conditions(types=fault, categories=("broadband", "fixed_line"), regions=("(农村地区)",)),
            ),
            active=False,
        ),
        _policy(1000, "默认 48小时 / Default 48 h", 48 * 60, Conditions()),
    ]
