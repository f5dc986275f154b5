"""The default texts of messages to customers (admins override them per channel and language)."""

from __future__ import annotations

#: Default texts of the messages to customers, per key and locale; admins override them per channel
#: (table message_templates). Placeholders: {number}, {promised}, {status}, {window}, {url}, {name}.
DEFAULT_TEMPLATES: dict[str, dict[str, tuple[str, str]]] = {
    # key: {locale: (subject, body)}
    "acknowledged": {
        "zh_CN": (
            "您的工单 {number} 已受理",
            "您好，您反映的问题已受理，工单号 {number}。{promise}如需补充情况，请回复本消息并注明工单号。",
        ),
        "en": (
            "Your request {number} is registered",
            "Hello, we have registered your request as {number}. {promise}"
            "To add information, reply and mention the number.",
        ),
    },
    "received": {
        "zh_CN": ("工单 {number} 已收到您的补充", "您好，您的补充信息已记入工单 {number}，处理人员会尽快跟进。"),
        "en": (
            "Your message was added to {number}",
            "Hello, your message has been added to {number}; we will follow up.",
        ),
    },
    "resolved": {
        "zh_CN": ("工单 {number} 已处理完毕", "您好，工单 {number} 已处理完毕：{note} 如问题仍未解决，请回复本消息。"),
        "en": (
            "{number} is resolved",
            "Hello, {number} is resolved: {note} If the problem persists, reply to this message.",
        ),
    },
    "visit_scheduled": {
        "zh_CN": ("上门服务预约 {number}", "您好，工单 {number} 的上门服务已预约在 {window}，工程师上门前会与您联系。"),
        "en": (
            "Visit for {number}",
            "Hello, the visit for {number} is booked for {window}; the engineer will call first.",
        ),
    },
    "verification_code": {
        "zh_CN": ("验证码", "您查询工单 {number} 的验证码是 {code}，10分钟内有效。请勿告诉他人。"),
        "en": ("Verification code", "Your code to look up {number} is {code}, valid for 10 minutes. Do not share it."),
    },
}
PROMISE = {"zh_CN": "我们承诺在 {promised} 前处理完毕。", "en": "We will resolve it by {promised}. "}

#: Canned replies shipped with kefu (issue #12), per key: the category they are offered for (None:
#: every category) and their text per locale; admins edit them and add their own (keys "reply.*").
#: Placeholders: {number}, {name} (the customer), {promised}, {engineer}, {appointment}.
DEFAULT_REPLIES: dict[str, tuple[str | None, dict[str, tuple[str, str]]]] = {
    "reply.working_on_it": (
        None,
        {
            "zh_CN": (
                "工单 {number} 处理进展",
                "{name}您好，您的工单 {number} 正在处理中，我们承诺在 {promised} 前处理完毕，有进展会及时告知您。",
            ),
            "en": (
                "Progress on {number}",
                "Hello {name}, we are working on {number} and will resolve it by {promised}; "
                "we will keep you informed.",
            ),
        },
    ),
    "reply.engineer_visit": (
        None,
        {
            "zh_CN": (
                "工单 {number} 上门安排",
                "{name}您好，工单 {number} 已安排工程师 {engineer} 于 {appointment} 上门处理，请保持电话畅通。",
            ),
            "en": (
                "Visit for {number}",
                "Hello {name}, engineer {engineer} will visit for {number} at {appointment}; "
                "please keep your phone at hand.",
            ),
        },
    ),
    "reply.more_information": (
        None,
        {
            "zh_CN": (
                "工单 {number} 需要您补充信息",
                "{name}您好，为尽快处理工单 {number}，请回复本消息补充故障发生时间、地点及设备指示灯情况。",
            ),
            "en": (
                "{number}: we need more information",
                "Hello {name}, to resolve {number} quickly please reply with when and where the fault "
                "happens and what the device's lights show.",
            ),
        },
    ),
}
