"""The configurable tree of work-order categories, e.g. `broadband.no_connection`.

Codes are dotted paths; a child's code starts with its parent's code. The tree lives in the
database and is edited by admins; SEED_TREE is what a new installation starts with.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kefu.domain.errors import ValidationFailed

CODE_RE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")


@dataclass(frozen=True)
class Category:
    code: str
    label_zh: str
    label_en: str
    active: bool = True
    sort: int = 0

    @property
    def parent_code(self) -> str | None:
        head, _, _ = self.code.rpartition(".")
        return head or None

    @property
    def depth(self) -> int:
        return self.code.count(".")

    def label(self, locale: str) -> str:
        return self.label_en if locale.startswith("en") else self.label_zh


def validate_code(code: str) -> str:
    if not CODE_RE.match(code):
        raise ValidationFailed(
            "{code} is not a category code: use lower-case words joined by dots, e.g. broadband.no_connection.",
            field="category",
            code=code,
        )
    return code


def in_subtree(code: str, root: str) -> bool:
    return code == root or code.startswith(root + ".")


# (code, 中文, English); top level first, then its children.
SEED_TREE: list[tuple[str, str, str]] = [
    ("mobile_network", "移动网络", "Mobile network"),
    ("mobile_network.no_signal", "无信号", "No signal"),
    ("mobile_network.weak_signal", "信号弱", "Weak signal"),
    ("mobile_network.call_drop", "通话掉线", "Dropped calls"),
    ("mobile_network.call_quality", "通话质量差", "Poor call quality"),
    ("mobile_network.slow_data", "上网慢", "Slow mobile data"),
    ("mobile_network.no_data", "无法上网", "No mobile data"),
    ("mobile_network.volte", "VoLTE/高清通话", "VoLTE calling"),
    ("mobile_network.roaming", "漫游故障", "Roaming fault"),
    ("broadband", "宽带", "Broadband"),
    ("broadband.no_connection", "无法连接", "No connection"),
    ("broadband.slow_speed", "网速慢", "Slow speed"),
    ("broadband.intermittent", "频繁掉线", "Intermittent drops"),
    ("broadband.installation", "装机", "Installation"),
    ("broadband.relocation", "移机", "Relocation"),
    ("broadband.modem_fault", "光猫故障", "Modem (ONT) fault"),
    ("broadband.iptv", "IPTV/互联网电视", "IPTV"),
    ("broadband.wifi", "家庭Wi-Fi", "Home Wi-Fi"),
    ("fixed_line", "固定电话", "Fixed line"),
    ("fixed_line.no_dial_tone", "无拨号音", "No dial tone"),
    ("fixed_line.noise", "杂音", "Line noise"),
    ("fixed_line.cannot_call_out", "无法呼出", "Cannot call out"),
    ("fixed_line.cannot_receive", "无法呼入", "Cannot receive calls"),
    ("fixed_line.line_damage", "线路损坏", "Line damage"),
    ("billing", "计费账务", "Billing"),
    ("billing.disputed_charge", "费用争议", "Disputed charge"),
    ("billing.bill_explanation", "账单解释", "Bill explanation"),
    ("billing.payment_not_credited", "缴费未到账", "Payment not credited"),
    ("billing.refund", "退费", "Refund"),
    ("billing.invoice", "发票", "Invoice"),
    ("billing.arrears_suspension", "欠费停机", "Suspended for arrears"),
    ("plans", "套餐资费", "Plans and tariffs"),
    ("plans.inquiry", "套餐查询", "Plan inquiry"),
    ("plans.change", "套餐变更", "Plan change"),
    ("plans.data_allowance", "流量使用", "Data allowance"),
    ("plans.unsubscribe", "退订", "Unsubscribe"),
    ("plans.contract", "合约到期", "Contract terms"),
    ("devices", "终端", "Devices"),
    ("devices.handset_fault", "手机故障", "Handset fault"),
    ("devices.settings", "手机设置", "Device settings"),
    ("devices.warranty", "保修", "Warranty"),
    ("devices.data_card", "上网卡/上网本", "Data card / netbook"),
    ("devices.set_top_box", "机顶盒", "Set-top box"),
    ("sim_number", "SIM卡与号码", "SIM and number"),
    ("sim_number.replacement", "补换卡", "SIM replacement"),
    ("sim_number.number_porting", "携号转网", "Number porting"),
    ("sim_number.suspension", "停复机", "Suspend / restore"),
    ("sim_number.real_name", "实名登记", "Real-name registration"),
    ("sim_number.cancellation", "销户", "Account cancellation"),
    ("value_added", "增值业务", "Value-added services"),
    ("value_added.unsolicited_subscription", "不知情定制", "Unsolicited subscription"),
    ("value_added.sp_charges", "SP扣费", "Third-party (SP) charges"),
    ("value_added.ringtone", "彩铃", "Ring-back tones"),
    ("value_added.cloud_storage", "云盘", "Cloud storage"),
    ("value_added.spam_sms", "垃圾短信", "Spam SMS"),
    ("value_added.fraud_calls", "诈骗电话", "Fraud calls"),
    ("marketing", "营销活动", "Marketing"),
    ("marketing.promotion_terms", "活动规则", "Promotion terms"),
    ("marketing.gift_not_received", "礼品未到", "Gift not received"),
    ("marketing.misleading_sales", "误导销售", "Misleading sales"),
    ("marketing.points", "积分", "Loyalty points"),
    ("service_attitude", "服务质量", "Service quality"),
    ("service_attitude.hotline_agent", "热线服务", "Hotline agent"),
    ("service_attitude.store_staff", "营业厅服务", "Store staff"),
    ("service_attitude.field_engineer", "装维人员", "Field engineer"),
    ("service_attitude.waiting_time", "等待时间长", "Long waiting time"),
    ("service_attitude.repeated_complaint", "重复投诉", "Repeated complaint"),
    ("general", "综合", "General"),
    ("general.unclassified", "待分类", "To be classified"),
]


def seed_categories() -> list[Category]:
    return [Category(code=c, label_zh=zh, label_en=en, sort=i) for i, (c, zh, en) in enumerate(SEED_TREE)]
