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
    tls_port: int  # IMAPS (implicit TLS); `port` offers STARTTLS too
    certificate: Path  # the server's self-signed certificate, for the client to trust

    @property
    def log(self) -> str:
        path = self.directory / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""


def dovecot_binary() -> str | None:
    return shutil.which("dovecot") or (path if os.path.exists(path := "/usr/sbin/dovecot") else None)


def _self_signed(d: Path) -> Path:
    """A certificate for 127.0.0.1, made here (no network, no openssl binary)."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    (d / "key.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    (d / "key.pem").chmod(0o600)
    (d / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return d / "cert.pem"


def _config(d: Path, port: int, tls_port: int, uid: int, gid: int, internal: str | None) -> str:
    users = "" if internal is None else f"default_internal_user = {internal}\ndefault_login_user = {internal}\n"
    return f"""base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
{users}protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <{d}/cert.pem
ssl_key = <{d}/key.pem
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
    address = 127.0.0.1
    port = {tls_port}
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
    port, tls_port = free_port(), free_port()
    certificate = _self_signed(d)
    (d / "dovecot.conf").write_text(_config(d, port, tls_port, uid, gid, internal))
    process = subprocess.Popen(
        [binary, "-F", "-c", str(d / "dovecot.conf")], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
    )
    server = Dovecot(port, user, password, d, tls_port, certificate)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                socket.create_connection(("127.0.0.1", tls_port), timeout=0.5).close()
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
