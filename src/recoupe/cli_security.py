"""Security commands: ``users`` (accounts and API tokens), ``audit`` (the tamper-evident
log) and ``datasets mark``. They act on the workspace folder directly, as its operator."""

from __future__ import annotations

import getpass
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import click

from recoupe.cli_common import emit, json_option, settings_of
from recoupe.config import Settings
from recoupe.security.audit import AuditLog
from recoupe.security.identity import SCOPES, Identities
from recoupe.security.reader import ROLES
from recoupe.services.accounts import open_identities


def operator() -> str:
    """The audit name of whoever runs a command on the workspace folder."""
    return f"os:{getpass.getuser()}"


@contextmanager
def identities(settings: Settings) -> Iterator[Identities]:
    found = open_identities(settings)
    try:
        yield found
    finally:
        found.close()


def audit_log(settings: Settings) -> AuditLog:
    settings.workspace.mkdir(parents=True, exist_ok=True)
    return AuditLog(settings.workspace / "audit.db")


def audit_local(
    settings: Settings,
    action: str,
    *,
    datasets: Sequence[str] = (),
    query: str | None = None,
    results: int | None = None,
) -> None:
    """Record a command run on the workspace folder, under the operating-system user."""
    log = audit_log(settings)
    try:
        log.append(
            actor=operator(),
            origin="local",
            action=action,
            datasets=datasets,
            query=query,
            results=results,
        )
    finally:
        log.close()


@click.group()
def users() -> None:
    """Accounts, clearances and API tokens (administrators)."""


@users.command("add")
@click.argument("login")
@click.option("--role", "roles", multiple=True, required=True, type=click.Choice(ROLES))
@click.option("--clearance", required=True, help="Level: NP, DR, S, TS or the full name.")
@click.option("--compartment", "compartments", multiple=True, help="A compartment held.")
@click.option("--name", "display_name", help="Display name.")
@click.option("--password", is_flag=True, help="Ask for a password (for browser login).")
@click.option(
    "--ldap", "directory", is_flag=True, help="Check the password against the LDAP directory."
)
@json_option
@click.pass_context
def users_add(
    ctx: click.Context,
    login: str,
    roles: tuple[str, ...],
    clearance: str,
    compartments: tuple[str, ...],
    display_name: str | None,
    password: bool,
    directory: bool,
    as_json: bool,
) -> None:
    """Create an account with its roles, clearance level and compartments.

    Browser login takes a local password (``--password``, asked twice) or the account's
    password in the LDAP directory (``--ldap``, with ``RECOUPE_LDAP_URL`` set)."""
    settings = settings_of(ctx)
    secret = None
    if password:
        secret = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    with identities(settings) as ids:
        user = ids.add_user(
            login,
            roles=roles,
            clearance=clearance,
            compartments=compartments,
            password=secret,
            display_name=display_name,
            directory=directory,
        )
    audit_local(settings, "users add", query=f"{login} {sorted(roles)} {user.clearance}")
    data = user.to_dict()
    emit(data, as_json, lambda: click.echo(f"User {login} created: {data}"))


@users.command("list")
@json_option
@click.pass_context
def users_list(ctx: click.Context, as_json: bool) -> None:
    """List accounts."""
    with identities(settings_of(ctx)) as ids:
        items = [u.to_dict() for u in ids.users()]

    def text() -> None:
        for u in items:
            comps = ",".join(u["compartments"]) or "-"  # type: ignore[arg-type]
            state = " (disabled)" if u["disabled"] else ""
            click.echo(f"{u['login']:<20} {u['clearance']:<4} {comps:<20} {u['roles']}{state}")

    emit(items, as_json, text)


@users.command("token")
@click.argument("login")
@click.option("--days", default=90, show_default=True, type=click.IntRange(1, 366))
@click.option("--scope", "scopes", multiple=True, type=click.Choice(SCOPES))
@click.option("--label", help="What the token is for.")
@click.pass_context
def users_token(
    ctx: click.Context, login: str, days: int, scopes: tuple[str, ...], label: str | None
) -> None:
    """Print a new API token for LOGIN on stdout (shown once; only its hash is kept)."""
    settings = settings_of(ctx)
    with identities(settings) as ids:
        token = ids.issue_token(login, days=days, scopes=scopes or None, label=label)
    audit_local(settings, "users token", query=f"{login} {days} days")
    click.echo(token)
    if sys.stderr.isatty():
        click.echo(f"Token for {login}, valid {days} days; keep it secret.", err=True)


@users.command("revoke")
@click.argument("token_id")
@click.pass_context
def users_revoke(ctx: click.Context, token_id: str) -> None:
    """Revoke an API token by its id (the part after ``rcp_``)."""
    settings = settings_of(ctx)
    with identities(settings) as ids:
        ids.revoke_token(token_id)
    audit_local(settings, "users revoke", query=token_id)
    click.echo(f"Token {token_id} revoked")


@users.command("disable")
@click.argument("login")
@click.pass_context
def users_disable(ctx: click.Context, login: str) -> None:
    """Disable an account and revoke all its tokens."""
    settings = settings_of(ctx)
    with identities(settings) as ids:
        ids.disable(login)
    audit_local(settings, "users disable", query=login)
    click.echo(f"User {login} disabled")


@click.group()
def audit() -> None:
    """The audit log: every access, in an append-only hash chain."""


@audit.command("verify")
@json_option
@click.pass_context
def audit_verify(ctx: click.Context, as_json: bool) -> None:
    """Check the chain; exit 1 naming the first bad event if it was edited, cut or
    reordered."""
    log = audit_log(settings_of(ctx))
    try:
        verdict = log.verify()
    finally:
        log.close()
    data: dict[str, object] = {
        "ok": verdict.ok,
        "events": verdict.events,
        "first_bad": verdict.first_bad,
        "reason": verdict.reason,
    }
    emit(data, as_json, lambda: click.echo(verdict.reason, err=not verdict.ok))
    if not verdict.ok:
        sys.exit(1)


@audit.command("export")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@json_option
@click.pass_context
def audit_export(ctx: click.Context, out: Path, as_json: bool) -> None:
    """Write every event as JSON lines, with their hashes, for an external archive."""
    settings = settings_of(ctx)
    log = audit_log(settings)
    try:
        count = log.export(out)
    finally:
        log.close()
    audit_local(settings, "audit export", results=count)
    data = {"file": str(out), "events": count}
    emit(data, as_json, lambda: click.echo(f"Wrote {count:,} audit events to {out}"))


COMMANDS = (users, audit)
