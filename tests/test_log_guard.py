"""The log guard is honest: a test run that logs a phone number, an ID number or a customer's
address fails, and one that logs none passes (each run in a pytest of its own)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import ROOT

CONFTEST = (
    "from tests.support.log_guard import pytest_configure as pytest_configure\n"
    "from tests.support.log_guard import pytest_sessionfinish as pytest_sessionfinish\n"
)


def run(tmp_path: Path, logged: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "conftest.py").write_text(CONFTEST, encoding="utf-8")
    (tmp_path / "test_it.py").write_text(
        f"import logging\n\n\ndef test_it() -> None:\n    logging.getLogger('kefu.worker').info({logged!r})\n",
        encoding="utf-8",
    )
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'src'}"}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(tmp_path), str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("logged", "kind"),
    [
        ("sms to 13912345678 failed", "phone number"),
        ("customer +8613912345678 called", "phone number"),
        ("id 11010519491231002X rejected", "ID number"),
        ("visit at 广州市天河区体育西路100号", "a customer's address"),
    ],
)
def test_a_run_that_logs_personal_data_fails(tmp_path: Path, logged: str, kind: str) -> None:
    result = run(tmp_path, logged)
    assert result.returncode != 0, result.stdout
    assert "PERSONAL DATA IN THE LOGS" in result.stdout and f"kefu.worker: {kind}" in result.stdout
    assert logged not in result.stdout  # the report does not repeat it


def test_a_clean_run_passes(tmp_path: Path) -> None:
    result = run(tmp_path, "fired 3 SLA thresholds on GD20261130000001 for user 13 (hash 1a2b3c)")
    assert result.returncode == 0, result.stdout
