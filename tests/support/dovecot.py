"""A real IMAP server for the tests: Dovecot (Debian's dovecot-imapd, which .ci/run installs) on a
free port of 127.0.0.1, with a generated configuration, one passwd-file user and maildirs in a
temporary directory; stopped (by its own process id) when the test is done."""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.peers import free_port

INSTALL = "apt-get update && apt-get install -y dovecot-imapd"


@dataclass(frozen=True)
class Dovecot:
    port: int
    user: str
    password: str
    directory: Path

    @property
    def log(self) -> str:
        path = self.directory / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""


def dovecot_binary() -> str | None:
    return shutil.which("dovecot") or (path if os.path.exists(path := "/usr/sbin/dovecot") else None)


def _config(d: Path, port: int, uid: int, gid: int, internal: str | None) -> str:
    users = "" if internal is None else f"default_internal_user = {internal}\ndefault_login_user = {internal}\n"
    return f"""base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
{users}protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
mail_location = maildir:{d}/mail/%u
first_valid_uid = 1
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0666
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {d}/users
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={d}/mail/%u
}}
"""


@contextmanager
def dovecot() -> Iterator[Dovecot]:
    binary = dovecot_binary()
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail(f"Dovecot is missing: {INSTALL} (.ci/run installs it)")
        pytest.skip(f"Dovecot is not installed here: {INSTALL}")
    # Dovecot's own users (login, internal) must reach the directory: not under a 0700 pytest tree.
    d = Path(tempfile.mkdtemp(prefix="kefu-dovecot-"))
    d.chmod(0o755)
    if os.geteuid() == 0:
        uid = gid = 65534  # nobody: Dovecot refuses mail access as root
        internal = None  # the packaged dovecot and dovenull users
    else:
        uid, gid = os.getuid(), os.getgid()
        internal = pwd.getpwuid(uid).pw_name
    (d / "mail").mkdir()
    (d / "state").mkdir()
    if os.geteuid() == 0:
        os.chown(d / "mail", uid, gid)
    user, password = "kefu", secrets.token_hex(8)
    (d / "users").write_text(f"{user}:{{PLAIN}}{password}\n")
    port = free_port()
    (d / "dovecot.conf").write_text(_config(d, port, uid, gid, internal))
    process = subprocess.Popen(
        [binary, "-F", "-c", str(d / "dovecot.conf")], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
    )
    server = Dovecot(port, user, password, d)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"Dovecot did not start: {server.log}") from None
                time.sleep(0.1)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        shutil.rmtree(d, ignore_errors=True)
