"""The package is self-contained: a wheel of this checkout, installed into a fresh virtualenv, migrates a
new SQLite database and serves from a directory that is not the checkout.

No network: the wheel is built with the setuptools of the running environment (no build isolation) and
installed without dependencies; the fresh virtualenv reaches the dependencies through a .pth file naming
this environment's site-packages. Directories named in a .pth file are added as they are, their own .pth
files are not read, so the editable install of the checkout does not leak in (asserted below).
"""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import sysconfig
import time
import urllib.error
import urllib.request
import venv
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT

PACKAGE = ROOT / "src" / "kefu"
VENDOR = ("kefu/web/static/vendor/htmx.min.js", "kefu/web/static/vendor/echarts.min.js")


def _env(**extra: str) -> dict[str, str]:
    """The environment of the subprocesses: nothing that points back at the checkout or this environment."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV") and not key.startswith("KEFU_")
    }
    return env | {"NO_COLOR": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INPUT": "1"} | extra


def _run(args: list[str | Path], cwd: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    r = subprocess.run(args, cwd=cwd, env=_env(**extra), capture_output=True, text=True, timeout=120, check=False)
    assert r.returncode == 0, f"{args} failed:\n{r.stdout}\n{r.stderr}"
    return r


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel of the checkout, built from a copy of it (so that setuptools' build/ and egg-info stay out
    of the checkout, and files an earlier build left in build/ cannot slip into the wheel)."""
    missing = [name for name in VENDOR if not (ROOT / "src" / name).exists()]
    assert not missing, f"{missing} are missing: `make assets` installs them (make test does)"
    import setuptools

    assert int(setuptools.__version__.split(".")[0]) >= 77, "setuptools>=77 builds kefu: `make dev` installs it"
    tmp = tmp_path_factory.mktemp("wheel")
    source = tmp / "source"
    shutil.copytree(ROOT / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    pip_wheel = [sys.executable, "-m", "pip", "wheel", "-v", "--no-deps", "--no-build-isolation", "--no-index"]
    r = _run([*pip_wheel, "-w", tmp / "dist", source], cwd=tmp)
    assert "SetuptoolsDeprecationWarning" not in r.stdout + r.stderr, r.stdout + r.stderr
    (built,) = (tmp / "dist").glob("kefu-*.whl")
    return built


@pytest.fixture(scope="module")
def fresh_venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new virtualenv with the wheel installed, and this environment's packages for its dependencies."""
    home = tmp_path_factory.mktemp("venv") / "venv"
    venv.EnvBuilder(with_pip=False, symlinks=os.name != "nt").create(home)
    python = home / "bin" / "python"
    _run([sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index", wheel], cwd=home)
    # After installing: pip must not see (nor offer to uninstall) this environment's editable kefu.
    site = Path(_run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], cwd=home).stdout.strip())
    ours = dict.fromkeys([sysconfig.get_path("purelib"), sysconfig.get_path("platlib")])
    (site / "kefu_test_dependencies.pth").write_text("".join(f"{path}\n" for path in ours))
    return home


def test_the_wheel_holds_every_file_of_the_package(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert set(VENDOR) <= names, "the npm assets are missing from the wheel"
    assert {"kefu/migrations/env.py", "kefu/migrations/script.py.mako"} <= names
    assert any(name.startswith("kefu/migrations/versions/") for name in names)
    source = {
        path.relative_to(ROOT / "src").as_posix()
        for path in PACKAGE.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }
    assert source - names == set(), "files of src/kefu that the wheel leaves out"


def test_the_installed_kefu_migrates_and_serves_outside_the_checkout(fresh_venv: Path, tmp_path: Path) -> None:
    from alembic.script import ScriptDirectory

    from kefu.adapters.db.migrate import alembic_config

    cwd = tmp_path / "elsewhere"
    cwd.mkdir()
    python, kefu = fresh_venv / "bin" / "python", fresh_venv / "bin" / "kefu"
    where = _run([python, "-c", "import alembic, kefu.migrations; print(kefu.__file__)"], cwd=cwd).stdout.strip()
    assert Path(where).is_relative_to(fresh_venv), f"kefu imported from {where}, not from the installed wheel"

    db = tmp_path / "data" / "kefu.db"
    url = f"sqlite:///{db}"
    r = _run([kefu, "db", "upgrade"], cwd=cwd, KEFU_DATABASE_URL=url)
    assert "database at newest schema" in r.stdout
    with sqlite3.connect(db) as conn:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        (version,) = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    assert {"alembic_version", "work_orders", "work_order_events", "customers"} <= tables
    assert version == ScriptDirectory.from_config(alembic_config()).get_current_head()

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [kefu, "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=cwd,
            env=_env(KEFU_DATABASE_URL=url),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # 127.0.0.1 never via a proxy

    def get(path: str) -> tuple[int, str]:
        request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Accept-Language": "zh-CN"})
        with opener.open(request, timeout=5) as response:
            return response.status, response.read().decode()

    try:
        deadline = time.monotonic() + 30
        while True:
            assert server.poll() is None, f"kefu serve exited:\n{log.read_text()}"
            assert time.monotonic() < deadline, f"/healthz did not answer within 30 s:\n{log.read_text()}"
            try:
                if get("/healthz")[0] == 200:
                    break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.2)
        status, page = get("/login")  # a template, translated from its .po
        assert status == 200 and "登录" in page
        assert get("/static/vendor/htmx.min.js")[0] == 200
        assert get("/static/kefu.css")[0] == 200
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    assert list(cwd.iterdir()) == [], "with KEFU_DATABASE_URL set, kefu writes nothing into its working directory"
