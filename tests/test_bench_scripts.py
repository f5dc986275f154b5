"""The benchmark scripts still start: each answers --help (their imports follow the code they
measure; a moved module must not leave a benchmark that nobody can run)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"
#: Not scripts: modules a benchmark serves with uvicorn.
SERVED = {"minimal_app.py", "unchained_app.py"}


@pytest.mark.parametrize("script", sorted(p.name for p in BENCH.glob("*.py") if p.name not in SERVED))
def test_the_benchmark_answers_help(script: str) -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH / script), "--help"], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "usage" in done.stdout.lower()
