"""What kefu's processes log passes a filter that masks phone and ID numbers, also in tracebacks;
libraries that log URLs, mail addresses or PDUs are held above those levels (kefu.logs)."""

from __future__ import annotations

import io
import logging

from kefu.logs import QUIET, RedactPersonalData, quiet_libraries, redact, uvicorn_config


def test_phone_and_id_numbers_are_masked_in_messages_and_tracebacks() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactPersonalData())
    logger = logging.getLogger("kefu.test.redaction")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("SMS to %s for %s failed", "13912345678", "GD20261130000001")
        try:
            raise ValueError("no such customer 11010519491231002X, +8613800001111")
        except ValueError:
            logger.exception("lookup failed")
    finally:
        logger.removeHandler(handler)
    out = stream.getvalue()
    assert "139****5678" in out and "GD20261130000001" in out and "13912345678" not in out
    assert "110***********002X" in out and "11010519491231002X" not in out and "138****1111" in out
    assert "Traceback" in out


def test_redaction_leaves_ids_hashes_and_numbers_of_work_orders_alone() -> None:
    text = "work order GD20261130000123, user 13, hash 13912345678abcdef, epoch 1732900000000"
    assert redact(text) == text


def test_noisy_libraries_are_held_back_here_and_under_uvicorn() -> None:
    quiet_libraries()
    assert not logging.getLogger("httpx").isEnabledFor(logging.INFO)
    assert not logging.getLogger("mail.log").isEnabledFor(logging.INFO)
    config = uvicorn_config()
    assert all(h["filters"] == ["personal_data"] for h in config["handlers"].values())
    assert config["root"]["handlers"] == ["default"] and set(QUIET) <= set(config["loggers"])
