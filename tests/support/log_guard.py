"""Every log record of the test session, written to a file and read at the end: a phone number, an
ID number or a test customer's address in any record fails the run (R31: no personal data in logs).

Loggers are kept at the levels kefu keeps them in production (kefu.logs.quiet_libraries: libraries
known to log URLs, mail addresses or PDUs are held above that level); everything else is captured
from DEBUG up, before any redaction, so the test sees what kefu's own log calls say.
tests/test_log_guard.py proves the guard fails a run that logs a phone number.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
from pathlib import Path

import pytest

from kefu.logs import quiet_libraries

#: Patterns of personal data; the boundaries keep ids, hashes and work-order numbers out.
PERSONAL = {
    "phone number": re.compile(r"(?<![0-9A-Za-z])(?:\+?86)?1[3-9]\d{9}(?!\d)"),
    "ID number": re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])"),
}
#: The addresses of the tests' customers (their streets: the rest is common to many).
ADDRESSES = ("体育西路100号", "中山五路9号", "天河路385号", "科技园路1号", "天河区天河路1号", "幸福路 8 号")

_state: dict[str, object] = {}


def findings(path: Path) -> list[str]:
    """What is wrong in the log file: one line per record, naming the logger and what it held
    (the value itself is not repeated)."""
    return personal_data_in(path.read_text(encoding="utf-8").split("\x1e"))


def personal_data_in(records: list[str]) -> list[str]:
    """The records (logger name first) that hold personal data, and what kind."""
    out = []
    for record in records:
        kinds = [kind for kind, pattern in PERSONAL.items() if pattern.search(record)]
        kinds += ["a customer's address" for address in ADDRESSES if address in record]
        if kinds:
            logger = record.strip().split(" ", 1)[0]
            out.append(f"{logger}: {', '.join(sorted(set(kinds)))}")
    return out


def pytest_configure(config: pytest.Config) -> None:
    handle, name = tempfile.mkstemp(prefix="kefu-test-log-", suffix=".txt")  # readable by its owner only
    os.close(handle)
    handler = logging.FileHandler(name, encoding="utf-8")
    handler.setLevel(logging.DEBUG)
    # One record per \x1e-separated block, tracebacks included.
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s\x1e"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    quiet_libraries()
    _state.update(path=Path(name), handler=handler)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    handler = _state.get("handler")
    path = _state.get("path")
    if not isinstance(handler, logging.Handler) or not isinstance(path, Path):
        return
    logging.getLogger().removeHandler(handler)
    handler.close()
    found = findings(path)
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if found:
        if reporter is not None:
            reporter.write_line(f"PERSONAL DATA IN THE LOGS ({len(found)} records; all records in {path}):", red=True)
            for line in found[:20]:
                reporter.write_line(f"  {line}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    else:
        path.unlink()
