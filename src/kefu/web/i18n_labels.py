"""Labels for enumerations, as msgids for the catalogues (marked with N_ for extraction)."""

from __future__ import annotations

from kefu.domain.dispatch import HOP_STATUS_TEXT
from kefu.domain.visits import VISIT_STATUS_TEXT


def N_(message: str) -> str:
    return message


STATUS = {
    "new": N_("New"),
    "accepted": N_("Accepted"),
    "rejected": N_("Rejected"),
    "cancelled": N_("Cancelled"),
    "in_progress": N_("In progress"),
    "dispatched": N_("Dispatched"),
    "returned": N_("Returned"),
    "pending": N_("Pending"),
    "resolved": N_("Resolved"),
    "callback": N_("Callback"),
    "closed": N_("Closed"),
}

# The verb on the button that makes a move, by target status.
MOVE = {
    "accepted": N_("Accept"),
    "rejected": N_("Reject"),
    "cancelled": N_("Cancel work order"),
    "in_progress": N_("Start / re-open"),
    "dispatched": N_("Dispatch"),
    "returned": N_("Mark returned"),
    "pending": N_("Wait for customer/parts"),
    "resolved": N_("Resolve"),
    "callback": N_("Call back customer"),
    "closed": N_("Close"),
}

TYPE = {
    "inquiry": N_("Inquiry"),
    "complaint": N_("Complaint"),
    "fault": N_("Fault"),
    "service_request": N_("Service request"),
    "suggestion": N_("Suggestion"),
    "praise": N_("Praise"),
}

CHANNEL = {
    "hotline": N_("Hotline"),
    "web": N_("Web"),
    "app": N_("App"),
    "email": N_("E-mail"),
    "sms": N_("SMS"),
    "wechat": N_("WeChat"),
    "store": N_("Store"),
    "monitoring": N_("Monitoring"),
}

TIER = {"vip": N_("VIP"), "premium": N_("Premium"), "standard": N_("Standard")}

SEVERITY = {
    1: N_("Level 1 (critical)"),
    2: N_("Level 2 (major)"),
    3: N_("Level 3 (moderate)"),
    4: N_("Level 4 (minor)"),
}

# What an actor did, as shown after their name on the timeline.
EVENT = {
    "created": N_("registered the work order"),
    "status_changed": N_("changed the status"),
    "note_added": N_("added a note"),
    "priority_changed": N_("changed the priority"),
    "team_changed": N_("moved it to another team"),
    "sla_applied": N_("set the time limits"),
    "sla_warning": N_("warned: time limit nearly used"),
    "sla_breached": N_("recorded a missed time limit"),
    "sla_escalated": N_("escalated"),
    "routed": N_("routed it by rule"),
    "handler_changed": N_("assigned it"),
    "hop_sent": N_("dispatched it"),
    "hop_accepted": N_("accepted the dispatch"),
    "hop_rejected": N_("rejected the dispatch (not in scope)"),
    "hop_returned": N_("returned the dispatch with a result"),
    "visit_scheduled": N_("scheduled a field visit"),
    "visit_checked_in": N_("checked in on site"),
    "visit_completed": N_("completed the field visit"),
    "visit_cancelled": N_("cancelled the field visit"),
    "checklist_step_done": N_("completed a checklist step"),
    "contact_received": N_("received a message from the customer"),
    "customer_confirmed": N_("recorded the customer's answer on the resolution"),
    "customer_rated": N_("recorded the customer's rating"),
    "linked": N_("linked it with"),
    "merged": N_("merged a duplicate"),
    "tags_changed": N_("changed the tags"),
    "file_added": N_("added a file"),
    "edited": N_("corrected"),
    "reply_queued": N_("replied to the customer"),
    "reply_delivered": N_("delivered the reply to the customer"),
    "reply_failed": N_("could not deliver the reply"),
    "call_placed": N_("called the customer"),
    "macro_applied": N_("applied the macro"),
}

#: Where a reply to the customer goes (issue #12).
REPLY_CHANNEL = {
    "sms": N_("SMS"),
    "email": N_("E-mail"),
    "wechat": N_("WeChat"),
    "portal": N_("Portal message"),
}

#: A reply's delivery state, from the outbox.
DELIVERY = {
    "queued": N_("queued"),
    "sent": N_("sent"),
    "failed": N_("failed"),
}

#: The fields of a work order and of a customer as the corrections in their histories name them.
FIELD = {
    "type": N_("Type"),
    "category": N_("Category"),
    "severity": N_("Severity"),
    "title": N_("Title"),
    "description": N_("Description"),
    "fault_time": N_("Fault time"),
    "fault_place": N_("Fault place"),
    "device": N_("Device"),
    "customer_id": N_("Customer"),
    "name": N_("Name"),
    "phone": N_("Phone"),
    "email": N_("E-mail"),
    "address": N_("Address"),
    "region": N_("Region"),
    "tier": N_("Tier"),
    "brand": N_("Brand"),
    "id_number": N_("ID number"),
    "services": N_("Services"),
    "tags": N_("Tags"),
    "merged": N_("Merged a duplicate record"),
    "merged_into_id": N_("Merged into"),
    "wechat_openid": N_("WeChat"),
    "account_number": N_("Account number"),
}

#: The timeline as the customer reads it in the portal.
CUSTOMER_EVENT = {
    "created": N_("Request registered"),
    "contact_received": N_("Your message was added"),
    "note_added": N_("Message from customer service"),
    "visit_scheduled": N_("Visit booked"),
    "visit_completed": N_("Engineer's visit completed"),
    "customer_confirmed": N_("You answered whether it is solved"),
    "customer_rated": N_("You rated the service"),
    "file_added": N_("A file was added"),
}

HOP_STATUS = {status.value: text for status, text in HOP_STATUS_TEXT.items()}

ROUTING_REASON = {
    "rule": N_("assigned in the rule's team"),
    "fallback": N_("assigned in the fallback team"),
    "queued": N_("nobody free: waits in the team queue"),
    "no_rule": N_("no rule matched"),
    "into_queue": N_("into the team queue: whoever takes it first"),
    "default_team": N_("no rule matched: the reception team's queue (fallback)"),
}

VISIT_STATUS = {status.value: text for status, text in VISIT_STATUS_TEXT.items()}

VISIT_OUTCOME = {"resolved": N_("fixed and confirmed"), "revisit": N_("revisit needed")}

ID_METHOD = {
    "id_card_reader": N_("ID card reader"),
    "face_match": N_("face match"),
    "id_card_and_service_password": N_("ID card and service password"),
    "police_certificate": N_("police certificate"),
}

CLOCK = {
    "register": N_("Registration"),
    "first_response": N_("First response"),
    "diagnosis": N_("Diagnosis"),
    "onsite": N_("On-site arrival"),
    "resolution": N_("Resolution"),
    "customer_reply": N_("Reply to customer"),
    "hop": N_("Dispatch hop"),
}

CLOCK_STATE = {
    "not_started": N_("not started"),
    "running": N_("running"),
    "warned": N_("nearly due"),
    "paused": N_("paused"),
    "met": N_("met"),
    "breached": N_("missed"),
}

TEAM_FUNCTION = {
    "reception": N_("Reception"),
    "tech_support": N_("Technical support"),
    "field_repair": N_("Field repair"),
    "quality": N_("Quality feedback"),
}

STRATEGY = {
    "least_loaded": N_("least loaded"),
    "round_robin": N_("in turn"),
    "skill_match": N_("skilled in the category"),
    "queue": N_("into the team queue (nobody picked)"),
}

ROLE = {
    "agent": N_("agent"),
    "tech_support": N_("technical support engineer"),
    "field_engineer": N_("field engineer"),
    "quality": N_("quality inspector"),
    "supervisor": N_("supervisor"),
    "admin": N_("administrator"),
    "auditor": N_("auditor"),
}

# Why personal data was shown unmasked (kefu.domain.audit.UnmaskReason).
UNMASK_REASON = {
    "identity_verified": N_("Identity verified"),
    "customer_request": N_("At the customer's request"),
    "field_visit": N_("Field visit"),
    "complaint_handling": N_("Complaint handling"),
    "legal_request": N_("Legal request"),
}

# What an audit row records (kefu.domain.audit.AuditAction).
AUDIT_ACTION = {
    "customer.changed": N_("Customer record corrected"),
    "customer.merged": N_("Duplicate customer merged"),
    "login.succeeded": N_("Signed in"),
    "login.failed": N_("Failed sign-in"),
    "logout": N_("Signed out"),
    "sessions.ended": N_("Sessions ended"),
    "login.unlocked": N_("Login lock lifted"),
    "password.changed": N_("Password changed"),
    "password.reset": N_("Password reset"),
    "two_factor.changed": N_("Two-factor sign-in changed"),
    "user.created": N_("User created"),
    "user.changed": N_("User changed"),
    "user.role_changed": N_("Role or permissions changed"),
    "token.issued": N_("API token issued"),
    "token.revoked": N_("API token revoked"),
    "setting.changed": N_("Setting changed"),
    "personal_data.unmasked": N_("Personal data shown"),
    "data.exported": N_("Data exported"),
    "audit.read": N_("Audit log read"),
    "keys.rotated": N_("Encryption keys rotated"),
    "backup.created": N_("Backup made"),
    "backup.restored": N_("Backup restored"),
    "events.sealed": N_("Work-order events sealed"),
}

# How the system account (kefu acting by itself: channels, the portal, time limits) is named on pages.
SYSTEM_ACCOUNT = N_("System")

# Messages to customers (kefu.domain.message_texts.DEFAULT_TEMPLATES), as the template admin names them.
MESSAGE_TEMPLATE = {
    "acknowledged": N_("Work order registered (number and promised time)"),
    "received": N_("Customer's message added"),
    "resolved": N_("Work order resolved"),
    "visit_scheduled": N_("Visit booked"),
    "verification_code": N_("Portal verification code"),
}

# The language a message template is written in.
LANGUAGE = {"zh_CN": N_("Chinese"), "en": N_("English")}

# The conditions of routing rules and time-limit policies (kefu.domain.sla.Conditions).
CONDITION = {
    "tiers": N_("Customer tiers"),
    "types": N_("Types"),
    "priorities": N_("Priorities"),
    "severities": N_("Severities"),
    "categories": N_("Categories"),
    "regions": N_("Regions"),
    "channels": N_("Channels"),
    "agreement_ids": N_("Service agreements"),
}
