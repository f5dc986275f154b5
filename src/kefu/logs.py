"""Logging without personal data (R31): kefu's own log calls never name a phone number, an ID number,
an address or a message's text (a test scans every record of the test run for them). On top of
that, what the processes log goes through two guards set up here:

- libraries that would write personal data are held above the level at which they do: httpx and
  httpcore log every request's URL (a customer search carries the phone number in it), aiosmtpd logs
  each SMTP command with the mail addresses, imapclient the IMAP conversation, smpplib dumps whole
  PDUs at DEBUG, and SQLAlchemy's engine logs statements (its parameters are hidden anyway:
  `make_engine` sets hide_parameters);
- a filter on every handler masks what still looks like a mainland mobile number or an ID number,
  in the message and in the traceback of an exception, the way the screens mask them.
"""

from __future__ import annotations

import copy
import logging
import re
from typing import Any

from kefu.domain.customers import mask_id_number, mask_phone

#: Loggers held at a level above the one at which they write personal data.
QUIET = {
    "httpx": logging.WARNING,
    "httpcore": logging.WARNING,
    "mail.log": logging.WARNING,
    "mail.debug": logging.WARNING,
    "smpp": logging.INFO,
    "smpplib": logging.INFO,
    "sqlalchemy": logging.WARNING,
    "imapclient": logging.WARNING,  # logs IMAP commands and responses (addresses, subjects) at DEBUG/INFO
}

PHONE = re.compile(r"(?<![0-9A-Za-z])(?:\+?86)?(1[3-9]\d{9})(?![0-9A-Za-z])")
ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])(\d{17}[\dXx])(?![0-9A-Za-z])")


def redact(text: str) -> str:
    """Mobile numbers and ID numbers masked (138****5678, 110***********002X)."""
    text = ID_NUMBER.sub(lambda m: mask_id_number(m.group(1)), text)
    return PHONE.sub(lambda m: mask_phone(m.group(1)), text)


class RedactPersonalData(logging.Filter):
    """Masks phone and ID numbers in a record before any handler formats it."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a bad format string: keep what was given
            message = str(record.msg)
        record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def quiet_libraries() -> None:
    for name, level in QUIET.items():
        logger = logging.getLogger(name)
        if logger.level < level:
            logger.setLevel(level)


def configure(level: int = logging.INFO) -> None:
    """Logging for `kefu worker` and `kefu mail-receiver`: to stderr, guarded."""
    logging.basicConfig(level=level, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    quiet_libraries()
    for handler in logging.getLogger().handlers:
        handler.addFilter(RedactPersonalData())


def uvicorn_config() -> dict[str, Any]:
    """uvicorn's logging configuration for `kefu serve`, guarded the same way; kefu's own loggers
    (and every other) write through uvicorn's handler instead of Python's unformatted last resort."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["filters"] = {"personal_data": {"()": "kefu.logs.RedactPersonalData"}}
    for handler in config["handlers"].values():
        handler["filters"] = ["personal_data"]
    config["root"] = {"handlers": ["default"], "level": "INFO"}
    config["loggers"].update({name: {"level": logging.getLevelName(level)} for name, level in QUIET.items()})
    return config
