"""The `kefu` command line."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from kefu.bootstrap import Kefu, build
from kefu.domain.errors import DomainError
from kefu.domain.org import Role
from kefu.domain.values import MAX_ID, is_digits

app = typer.Typer(help="kefu (客服): customer-service work orders.", no_args_is_help=True, add_completion=False)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
user_app = typer.Typer(help="Users.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens.", no_args_is_help=True)
audit_app = typer.Typer(help="The audit log and its hash chains.", no_args_is_help=True)
search_app = typer.Typer(help="The search index of work orders.", no_args_is_help=True)
keys_app = typer.Typer(help="The keys that encrypt personal data at rest (KEFU_DATA_KEYS).", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(user_app, name="user")
app.add_typer(token_app, name="token")
app.add_typer(audit_app, name="audit")
app.add_typer(keys_app, name="keys")
app.add_typer(search_app, name="search")
err = Console(stderr=True)


def _kefu() -> Kefu:
    try:
        return build()
    except Exception as exc:  # settings that do not validate: say which, do not dump a traceback
        err.print(f"[red]kefu cannot start:[/red] {exc}")
        raise typer.Exit(2) from None


def _fail(exc: DomainError) -> typer.Exit:
    err.print(f"[red]Error:[/red] {exc.message}")
    return typer.Exit(1)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="address to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="port to listen on")] = 8000,
    workers: Annotated[int, typer.Option(min=1, max=64, help="server processes (PostgreSQL only)")] = 1,
) -> None:
    """Serve the pages and the API."""
    import uvicorn

    k = _kefu()
    if workers > 1 and k.engine.dialect.name == "sqlite":
        err.print("[red]Several server processes need PostgreSQL; SQLite allows one.[/red]")
        raise typer.Exit(2)
    from kefu.logs import uvicorn_config

    # No access log: URLs carry phone numbers (customer search) and the numbers of work orders.
    uvicorn.run(
        "kefu.asgi:app",
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        access_log=False,
        log_config=uvicorn_config(),
    )


@app.command()
def worker(
    once: Annotated[bool, typer.Option("--once", help="stop when nothing is due")] = False,
    batch: Annotated[int, typer.Option(min=1, max=10_000, help="clocks or messages per transaction")] = 500,
    interval: Annotated[float | None, typer.Option(help="seconds between looks when idle")] = None,
) -> None:
    """Run the SLA timers and the outbox (several workers may run side by side on PostgreSQL)."""
    import signal
    import threading

    from kefu.logs import configure
    from kefu.workers.loop import run

    configure()
    k = _kefu()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    fired = run(k.ctx, stop=stop, interval=interval or k.settings.worker_interval_seconds, batch=batch, once=once)
    typer.echo(f"worker stopped; fired {fired} SLA thresholds")


@app.command("mail-receiver")
def mail_receiver(
    listen: Annotated[str | None, typer.Option(help="host:port (default KEFU_MAIL_RECEIVER)")] = None,
) -> None:
    """Receive the centre's inbound e-mail over SMTP (point the mail server's delivery here): each
    mail becomes a contact, threaded into its work order or opening one."""
    import signal
    import threading

    from aiosmtpd.controller import Controller

    from kefu.adapters.channels.mail import MailHandler
    from kefu.logs import configure
    from kefu.services.channels.intake import receive

    configure()
    k = _kefu()
    host, _, port = (listen or k.settings.mail_receiver).rpartition(":")
    if not host or not is_digits(port) or not 0 < int(port) < 65536:
        typer.echo("The address must look like 127.0.0.1:2525.", err=True)
        raise typer.Exit(2)
    handler = MailHandler(
        lambda inbound: receive(k.ctx, inbound), max_attachment=k.settings.mail_max_attachment_mb * 2**20
    )
    controller = Controller(
        handler, hostname=host, port=int(port), data_size_limit=(k.settings.mail_max_attachment_mb + 5) * 2**20
    )
    controller.start()
    typer.echo(f"receiving mail on {host}:{port}")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    controller.stop()


@app.command("mail-poller")
def mail_poller(
    once: Annotated[bool, typer.Option(help="one round, then exit (a cron job, a test)")] = False,
) -> None:
    """Take the centre's inbound e-mail from an IMAP mailbox (KEFU_IMAP_*): each new message becomes a
    contact, threaded into its work order or opening one, and is marked seen (or moved to
    KEFU_IMAP_DONE_FOLDER) only after that is stored. Waits with IDLE where the server offers it."""
    import signal
    import threading

    from kefu.adapters.channels.imap import Mailbox, MailPoller
    from kefu.logs import configure
    from kefu.services.channels.intake import receive

    configure()
    k = _kefu()
    s = k.settings
    if not s.imap_host or not s.imap_user:
        typer.echo("Set KEFU_IMAP_HOST, KEFU_IMAP_USER and KEFU_IMAP_PASSWORD first.", err=True)
        raise typer.Exit(2)
    box = Mailbox(
        host=s.imap_host,
        port=s.imap_port,
        user=s.imap_user,
        password=s.imap_password,
        tls=s.imap_tls,
        folder=s.imap_folder,
        done_folder=s.imap_done_folder,
        poll_seconds=s.imap_poll_seconds,
        max_attachment=s.mail_max_attachment_mb * 2**20,
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    poller = MailPoller(box, lambda inbound: receive(k.ctx, inbound))
    if not once:
        typer.echo(f"polling {s.imap_folder} on {s.imap_host}:{s.imap_port}")
    done = poller.run(stop, once=once)
    if once:
        typer.echo(f"took {done.taken}, refused {done.refused}, left {done.failed}")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Migrate the schema to the newest version and add missing reference data."""
    from kefu.adapters.db.migrate import upgrade
    from kefu.services.org.reference import seed_reference_data

    k = _kefu()
    upgrade(k.engine)
    added = seed_reference_data(k.ctx)
    typer.echo(f"database at newest schema; added {added['categories']} categories, {added['teams']} teams")


def _password(from_stdin: bool) -> str:
    """A password typed at a hidden prompt (twice), or the first line of stdin: never from argv,
    where every user of the machine sees it in the process list and the shell keeps it in history."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    password: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True, err=True)
    return password


@user_app.command("create")
def user_create(
    username: Annotated[str, typer.Option(help="login name")],
    role: Annotated[Role, typer.Option(help="role")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="read the password from the first line of stdin (no prompt)")
    ] = False,
    must_change: Annotated[
        bool, typer.Option("--must-change", help="the first login leads to choosing a new password")
    ] = False,
    display_name: Annotated[str | None, typer.Option(help="name shown on screens")] = None,
    team: Annotated[int | None, typer.Option(min=1, max=MAX_ID, help="team id")] = None,
) -> None:
    """Create a user; the password is asked at a hidden prompt (twice) or read from stdin."""
    from kefu.services.access.accounts import NewUser, create_user

    k = _kefu()
    new = NewUser(
        username=username,
        role=role,
        password=_password(password_stdin),
        display_name=display_name,
        team_id=team,
        must_change_password=must_change,
    )
    try:
        user = create_user(k.ctx, new)
    except DomainError as exc:
        raise _fail(exc) from None
    typer.echo(f"created user {user.username} (id {user.id}, role {user.role.value})")


@user_app.command("locks")
def user_locks() -> None:
    """List the accounts and addresses locked now by failed logins (and until when)."""
    from kefu.services.access.lockout import locked_now

    k = _kefu()
    found = locked_now(k.ctx)
    for lock in found:
        until = lock.locked_until.astimezone(k.ctx.timezone).strftime("%Y-%m-%d %H:%M:%S") if lock.locked_until else ""
        typer.echo(f"{lock.scope}\t{lock.key}\t{lock.failures} failures\tlocked until {until}")
    if not found:
        typer.echo("nothing is locked")


@user_app.command("unlock")
def user_unlock(
    scope: Annotated[str, typer.Argument(help="account or address")],
    key: Annotated[str, typer.Argument(help="the username or the IP address")],
) -> None:
    """Lift a lock from an account or an address and forget its failed logins."""
    from kefu.services.access.lockout import unlock

    k = _kefu()
    try:
        unlock(k.ctx, scope, key)
    except DomainError as exc:
        raise _fail(exc) from None
    typer.echo(f"unlocked {scope} {key}")


@user_app.command("reset-password")
def user_reset_password(
    username: Annotated[str, typer.Option(help="whose password")],
    must_change: Annotated[
        bool, typer.Option("--must-change", help="refuse the current password until a new one is set; end sessions")
    ] = False,
) -> None:
    """Print a one-time code with which the user sets a new password at /password/reset."""
    from kefu.services.access.passwords import issue_password_reset

    k = _kefu()
    try:
        reset = issue_password_reset(k.ctx, None, username, must_change_at_login=must_change)
    except DomainError as exc:
        raise _fail(exc) from None
    until = reset.expires_at.astimezone(k.settings.tz).strftime("%Y-%m-%d %H:%M %Z")
    typer.echo(f"reset code for {reset.username}: {reset.code}")
    typer.echo(f"they set a new password at /password/reset?code={reset.code} (valid once, until {until})")


@user_app.command("reset-2fa")
def user_reset_two_factor(username: Annotated[str, typer.Option(help="whose second factor")]) -> None:
    """Remove a user's second factor (a lost phone) and end their sessions; they enrol again."""
    from kefu.services.access.two_factor import reset_two_factor

    k = _kefu()
    try:
        reset_two_factor(k.ctx, None, username)
    except DomainError as exc:
        raise _fail(exc) from None
    typer.echo(f"two-factor login of {username} reset; their sessions ended")


@token_app.command("create")
def token_create(
    username: Annotated[str, typer.Option(help="the user the token acts as")],
    name: Annotated[str, typer.Option(help="what the token is for")] = "kefu token create",
    days: Annotated[
        int | None, typer.Option(min=1, max=3650, help="valid for this many days (default KEFU_TOKEN_DAYS)")
    ] = None,
    read_only: Annotated[bool, typer.Option("--read-only", help="may only read (GET)")] = False,
) -> None:
    """Print a new API token on stdout (nothing else; its expiry goes to stderr): shown only this once."""
    from kefu.services.access.tokens import create_api_token

    k = _kefu()
    try:
        issued = create_api_token(k.ctx, username, name=name, days=days, read_only=read_only)
    except DomainError as exc:
        raise _fail(exc) from None
    sys.stdout.write(issued.token + "\n")
    until = issued.credential.expires_at.astimezone(k.settings.tz).strftime("%Y-%m-%d %H:%M %Z")
    err.print(f"token {issued.credential.id} ({name}) valid until {until}; shown only this once")


@token_app.command("list")
def token_list(username: Annotated[str | None, typer.Option(help="only this user's tokens")] = None) -> None:
    """The API tokens that are not revoked (expired ones of the last 30 days included); never their secrets."""
    from rich.table import Table

    from kefu.services.access.accounts import find_user, usernames
    from kefu.services.access.tokens import list_api_tokens

    k = _kefu()
    try:
        owner = find_user(k.ctx, username) if username else None
        found = list_api_tokens(k.ctx, None, user_id=owner.id if owner else None)
        names = usernames(k.ctx, [t.user_id for t in found])
    except DomainError as exc:
        raise _fail(exc) from None
    table = Table("id", "user", "name", "may", "valid until", "last used")
    now = k.ctx.clock.now()
    for t in found:
        until = t.expires_at.astimezone(k.settings.tz).strftime("%Y-%m-%d %H:%M")
        used = t.last_seen_at.astimezone(k.settings.tz).strftime("%Y-%m-%d %H:%M") if t.last_seen_at else "never"
        table.add_row(
            str(t.id),
            names.get(t.user_id, str(t.user_id)),
            t.name or "",
            "read" if t.scopes == "read" else "read, write",
            until + (" (expired)" if t.expires_at <= now else ""),
            used,
        )
    Console().print(table)


@token_app.command("revoke")
def token_revoke(
    token_id: Annotated[int, typer.Argument(min=1, max=MAX_ID, help="the token's id (see `kefu token list`)")],
) -> None:
    """Revoke an API token: it stops working at once here and within KEFU_CACHE_SECONDS in running servers."""
    from kefu.services.access.tokens import revoke_api_token

    k = _kefu()
    try:
        revoked = revoke_api_token(k.ctx, None, token_id)
    except DomainError as exc:
        raise _fail(exc) from None
    typer.echo(f"token {revoked.id} ({revoked.name or ''}) revoked")


@app.command()
def backup(
    file: Annotated[Path, typer.Argument(help="where to write the backup (not overwritten without --force)")],
    force: Annotated[bool, typer.Option("--force", help="overwrite FILE if it exists")] = False,
) -> None:
    """Write a consistent snapshot of the whole database to FILE while kefu keeps running: a SQLite
    database file, or a pg_dump archive for PostgreSQL. Readable by its owner only; keep the data
    keys (KEFU_DATA_KEYS) separately: the ID numbers in it are encrypted with them."""
    from kefu.adapters.db.backup import BackupError
    from kefu.adapters.db.backup import backup as take
    from kefu.domain.audit import AuditAction
    from kefu.services.audit import record_operator_action

    k = _kefu()

    def starting() -> None:  # recorded as the snapshot starts, so that the backup holds its own record
        record_operator_action(k.ctx, AuditAction.BACKUP_CREATED, subject_type="database", details={"file": file.name})

    try:
        fmt = take(k.engine, file, force=force, starting=starting)
    except BackupError as exc:
        err.print(f"[red]Backup failed:[/red] {exc}")
        raise typer.Exit(1) from None
    typer.echo(f"backup written to {file} ({fmt}, {file.stat().st_size} bytes)")


@app.command()
def restore(
    file: Annotated[Path, typer.Argument(help="a file written by `kefu backup`")],
    force: Annotated[bool, typer.Option("--force", help="replace everything in a database that is not empty")] = False,
) -> None:
    """Load a backup into the database of KEFU_DATABASE_URL, which must be empty unless --force.
    Stop `kefu serve` and the workers first; afterwards run `kefu db upgrade` and `kefu audit verify`."""
    from kefu.adapters.db.backup import BackupError
    from kefu.adapters.db.backup import restore as load
    from kefu.domain.audit import AuditAction
    from kefu.services.audit import record_operator_action

    k = _kefu()
    try:
        load(k.engine, file, force=force)
    except BackupError as exc:
        err.print(f"[red]Restore refused:[/red] {exc}")
        raise typer.Exit(1) from None
    record_operator_action(k.ctx, AuditAction.BACKUP_RESTORED, subject_type="database", details={"file": file.name})
    typer.echo(f"restored {file}; next: kefu db upgrade, then kefu audit verify")


@audit_app.command("verify")
def audit_verify(
    anchor: Annotated[
        list[str] | None,
        typer.Option(help="SEQ:HASH of an audit row printed by an earlier run (kept outside the database)"),
    ] = None,
) -> None:
    """Walk the audit log's chain, every work order's event chain and the seals: report the first
    edited, inserted or deleted row and exit 1, or print a one-line summary and exit 0."""
    from kefu.services.audit import chain_sizes, verify_chains

    anchors: dict[int, str] = {}
    for value in anchor or []:
        seq, _, digest = value.partition(":")
        if not seq.isdigit() or len(digest) != 64:
            err.print(f"[red]--anchor must look like 1234:<64 hex digits>, not {value!r}[/red]")
            raise typer.Exit(2)
        anchors[int(seq)] = digest.lower()
    k = _kefu()
    with _progress() as progress:
        task = progress.add_task("verifying", total=chain_sizes(k.ctx))
        result = verify_chains(k.ctx, anchors=anchors, progress=lambda n: progress.advance(task, n))
    if not result.intact:
        for problem in result.problems:
            typer.echo(f"TAMPERED {problem}")
        raise typer.Exit(1)
    head = f"{result.head[0]}:{result.head[1]}" if result.head else "none"
    typer.echo(
        f"intact: {result.audit_rows} audit rows, {result.events} events of {result.work_orders} work orders, "
        f"{result.seals} seals (events sealed through id {result.sealed_through}); head {head}"
    )


@audit_app.command("seal")
def audit_seal() -> None:
    """Seal the work-order events into the audit chain now (the worker does it every 10 minutes)."""
    from kefu.services.audit import seal_events

    seal = seal_events(_kefu().ctx, force=True)
    if seal is None:
        typer.echo("nothing to seal yet (no new events, or a transaction older than the last seal still runs)")
    else:
        ids = f"ids {seal.from_id + 1}-{seal.through_id}"
        typer.echo(f"sealed {seal.events} events ({ids}); the next seal ends at id {seal.next_through_id}")


@keys_app.command("new")
def keys_new() -> None:
    """Print a new data key (only on stdout): put it first in KEFU_DATA_KEYS, then `kefu keys rotate`."""
    from kefu.adapters.data_protection import new_key

    sys.stdout.write(new_key() + "\n")


@keys_app.command("rotate")
def keys_rotate(
    batch: Annotated[int, typer.Option(min=1, max=100_000, help="customers per transaction")] = 1000,
) -> None:
    """Re-encrypt every stored ID number with the newest key of KEFU_DATA_KEYS (and encrypt any
    stored in clear). Safe to interrupt and run again; afterwards the older keys may go."""
    from kefu.services.data_keys import rotate_data_keys, stale_id_numbers

    k = _kefu()
    with _progress() as progress:
        task = progress.add_task("re-encrypting ID numbers", total=stale_id_numbers(k.ctx))
        done = rotate_data_keys(k.ctx, batch=batch, progress=lambda n: progress.advance(task, n))
    typer.echo(f"re-encrypted {done} ID numbers with key {k.keys.newest}")


@search_app.command("reindex")
def search_reindex(
    batch: Annotated[int, typer.Option(min=1, max=10_000, help="work orders per transaction")] = 500,
) -> None:
    """Rebuild the search index of every work order from what is stored (after an upgrade that did
    not index existing work orders, or to repair it). Safe to interrupt and run again, while kefu runs."""
    from kefu.services.search import reindex

    k = _kefu()
    with _progress() as progress:
        task = progress.add_task("indexing work orders", total=None)
        done = reindex(k.ctx, batch=batch, progress=lambda n: progress.advance(task, n))
    typer.echo(f"indexed {done} work orders")


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), console=err
    )


@app.command("demo-data")
def demo_data(
    customers: Annotated[int, typer.Option(min=1, help="customers to generate")] = 2_000,
    work_orders: Annotated[int, typer.Option("--work-orders", min=0, help="work orders to generate")] = 10_000,
    seed: Annotated[int, typer.Option(help="random seed: the same seed gives the same data")] = 1,
    if_empty: Annotated[bool, typer.Option("--if-empty", help="do nothing if work orders exist")] = False,
) -> None:
    """Load realistic demo customers and work orders spread over the last 90 days."""
    from kefu.demo.loader import load_demo

    k = _kefu()
    with _progress() as progress:
        result = load_demo(
            k, customers=customers, work_orders=work_orders, seed=seed, if_empty=if_empty, progress=progress
        )
    typer.echo(result)


@app.command("first-run")
def first_run() -> None:
    """What `make run` does before serving: migrate, demo data on an empty database, the admin user."""
    from kefu.adapters.db.migrate import upgrade
    from kefu.demo.loader import load_demo
    from kefu.services.access.accounts import ensure_admin
    from kefu.services.access.demo import demo_accounts, demo_password
    from kefu.services.org.reference import seed_reference_data

    k = _kefu()
    upgrade(k.engine)
    seed_reference_data(k.ctx)
    progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=err)
    with progress:
        typer.echo(load_demo(k, customers=500, work_orders=3_000, seed=1, if_empty=True, progress=progress))
    demo = demo_password(k.settings.secret_key)
    if people := demo_accounts(k.ctx, demo):
        typer.echo("")
        typer.echo("Demo people (also listed on the login page while KEFU_DEMO=1, as `make run` sets it):")
        for person in people:
            typer.echo(f"  {person.username:<12} {person.role.value:<15} {person.display_name}")
        typer.echo(f"  password of each: {demo}")
        typer.echo("  (supervisors are asked to set up two-factor login at their first login)")
    password = ensure_admin(k.ctx)
    if password:
        typer.echo("")
        typer.echo("=" * 60)
        typer.echo("  admin user created. Log in at http://127.0.0.1:8000 with")
        typer.echo("  username: admin")
        typer.echo(f"  password: {password}")
        typer.echo("  (shown only this once)")
        typer.echo("=" * 60)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
