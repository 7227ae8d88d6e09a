"""``shoplens audit``: check and read the tamper-evident audit log."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from shoplens.appdb import AppDatabase
from shoplens.cli._app import JsonOption, app, settings
from shoplens.cli._output import emit_json, stderr, stdout
from shoplens.config import Settings
from shoplens.privacy import read_audit_head, recent_audit, record_audit, verify_audit

audit_app = typer.Typer(
    name="audit",
    help=(
        "The audit log: every data export and other sensitive action, chained with a keyed hash (HMAC with the "
        "store secret) so that editing or deleting an entry shows."
    ),
    no_args_is_help=True,
)
app.add_typer(audit_app)


def audit_entry(config: Settings, action: str, details: dict[str, Any]) -> int:
    """Write one entry as the person at the shell (``details``: keys and counts, nothing personal); its id."""
    secret = config.store_secret()
    database = AppDatabase.for_store(config)
    try:
        return record_audit(database, actor="cli", action=action, details=details, secret=secret).id
    finally:
        database.close()


@audit_app.command("verify")
def verify_command(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Check every entry's hash and its link to the entry before.

    Prints {"ok", "entries", "first_bad_entry"} and, when not ok, "problem"; exits 0 when the chain checks (also
    when it is empty) and 1 when it does not, naming the first entry that was edited, or that follows a deleted
    one. Every append also writes the chain's head (newest id and hash) to audit.head in the store's home, so
    cutting off the newest entries shows too: the log then ends before its head.
    """
    config = settings(ctx)
    secret = config.store_secret()  # creates the home (and its secret) on a fresh store
    database = AppDatabase.for_store(config)
    try:
        head = read_audit_head(database.audit_head) if database.audit_head is not None else None
        verdict = verify_audit(database, secret=secret, head=head)
    finally:
        database.close()
    if as_json:
        emit_json(verdict.as_dict())
    elif verdict.ok:
        stdout.print(f"audit log ok: {verdict.entries:,} entries, every hash and link checks")
        if head is None and verdict.entries:
            stdout.print("no head is kept yet (the next entry writes it): a cut-off end cannot be checked")
    else:
        stdout.print(f"audit log NOT ok: {verdict.problem} ({verdict.entries:,} entries)")
    if not verdict.ok:
        stderr.print(f"error: {verdict.problem}", markup=False)
        raise typer.Exit(1)


@audit_app.command("list")
def list_command(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option("--limit", min=1, max=10_000, help="How many of the newest entries.")] = 20,
    as_json: JsonOption = False,
) -> None:
    """Show the newest entries, newest first (run `shoplens audit verify` to know they are untouched)."""
    config = settings(ctx)
    config.ensure_home()
    database = AppDatabase.for_store(config)
    try:
        entries = recent_audit(database, limit=limit)
    finally:
        database.close()
    if as_json:
        emit_json({"entries": [entry.as_dict() for entry in entries]})
        return
    if not entries:
        stdout.print("the audit log is empty")
        return
    table = Table("id", "at (UTC)", "actor", "action", "details")
    for entry in entries:
        details = ", ".join(f"{key}={value}" for key, value in sorted(entry.details.items()) if key != "datasets")
        table.add_row(str(entry.id), entry.as_dict()["at"], entry.actor, entry.action, details)
    stdout.print(table)
