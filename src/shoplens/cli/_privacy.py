"""``shoplens privacy``: what the store holds on one person, read through their pseudonymous key."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from typing import Annotated, Any

import ibis
import typer

from shoplens.appdb import AppDatabase, customer_rows, erase_customer_rows
from shoplens.cli._app import JsonOption, app, settings
from shoplens.cli._output import emit_json, stdout
from shoplens.config import Settings
from shoplens.errors import InputError
from shoplens.ingest import customer_key, email_identity
from shoplens.privacy import PERSONAL_COLUMNS, VAULT_KEY, VAULT_TABLE, audit_sink, erased_key
from shoplens.schema import TABLES
from shoplens.warehouse import (
    connect,
    erase_from_quarantine,
    erase_many_from_warehouse,
    exact_columns,
    warehouse_exists,
)

privacy_app = typer.Typer(
    name="privacy",
    help="A person's data: everything held on one customer, found by their e-mail's keyed hash.",
    no_args_is_help=True,
)
app.add_typer(privacy_app)

EmailOption = Annotated[str, typer.Option("--email", help="The customer's e-mail address (case and spaces ignored).")]
# Tables that carry a customer's key, and the one (order lines) that belongs to them through their orders.
_KEYED_TABLES = tuple(name for name, table in TABLES.items() if VAULT_KEY in table.column_names)


# Exports that may hold a person: they name people, and an erasure cannot reach a file once written.
_PEOPLE_EXPORTS = ("survey.contacts_export", "campaign.audience_export")


def identity_of(email: str) -> str:
    found = email_identity(email)
    if found is None:
        raise InputError("--email: that is not an e-mail address")
    return found


def _rows(table: ibis.Table) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = table.to_pyarrow().to_pylist()
    return rows


def held_on(backend: ibis.BaseBackend, key: str) -> dict[str, list[dict[str, Any]]]:
    """Every warehouse row that carries ``key`` (the vault row included), and the lines of those orders.

    Every table of the schema exists in a warehouse that was ever written (it is created with all of them)."""
    held = {
        name: _rows(exact_columns(backend.table(name).filter(ibis._[VAULT_KEY] == key), name)) for name in _KEYED_TABLES
    }
    order_ids = [row["order_id"] for row in held["orders"]]
    lines = backend.table("order_lines")
    held["order_lines"] = _rows(lines.filter(lines.order_id.isin(order_ids))) if order_ids else []
    return held


@privacy_app.command("export")
def export_command(ctx: typer.Context, email: EmailOption, as_json: JsonOption = False) -> None:
    """Everything the warehouse holds on the customer with this e-mail, the vault row included.

    Prints {"customer_key", "found", "tables": {table: [rows]}, "app_database": {table: [rows]}}: the warehouse's
    rows and the app database's (survey invitations, responses and their answers, campaign membership, loyalty
    entries, consent records); an e-mail the store does not know answers found=false with no rows (exit 0). Each
    call is written to the audit log under the customer's key, never the e-mail.
    """
    config = settings(ctx)
    secret = config.store_secret()
    key = customer_key(secret, identity_of(email))
    held: dict[str, list[dict[str, Any]]] = {}
    if warehouse_exists(config):
        with connect(config, read_only=True) as warehouse:
            held = held_on(warehouse.backend, key)
    database = AppDatabase.for_store(config)
    try:
        app_rows = customer_rows(database, key)
        found = any(held.values()) or bool(app_rows)
        row_count = sum(map(len, held.values())) + sum(map(len, app_rows.values()))
        entry = audit_sink(database, actor="cli", secret=secret)(
            "privacy.export", {"customer_key": key, "found": found, "rows": row_count}
        )
    finally:
        database.close()
    document = {"customer_key": key, "found": found, "tables": held, "app_database": app_rows, "audit_entry": entry.id}
    if as_json:
        emit_json(document)
        return
    if not found:
        stdout.print("the store holds nothing on that e-mail")
        return
    for name, rows in [*held.items(), *app_rows.items()]:
        if rows:
            stdout.print(f"{name}: {len(rows):,} row(s)")
    stdout.print(f"the vault ({VAULT_TABLE}) row is included; use --json for every value")


@dataclass
class Erasure:
    """What erasing some people removed or unlinked: rows per warehouse table and app table, quarantined rows."""

    warehouse: dict[str, int] = field(default_factory=dict)
    app_database: dict[str, int] = field(default_factory=dict)
    quarantine_rows: int = 0


def erase_people(
    config: Settings, database: AppDatabase, keys: list[str], *, identifiers: list[str] | None = None
) -> Erasure:
    """Erase the people with these keys: each one's vault row is deleted and the rest of their warehouse rows
    move to a fresh random key of their own with free text cleared (one change for all); quarantined rows naming
    any of their identifiers (those in the vault, and ``identifiers`` given, such as a typed e-mail) are dropped;
    their app database rows are deleted; the result caches are cleared. Nothing is written to the audit log: the
    caller records what it did once."""
    erased = Erasure()
    if not keys:
        return erased
    if warehouse_exists(config):
        with connect(config) as warehouse:
            vault = warehouse.backend.table(VAULT_TABLE)
            held = _rows(vault.filter(vault[VAULT_KEY].isin(keys)))  # only the vault rows: their identifiers
            found = [str(row[c]) for row in held for c in PERSONAL_COLUMNS if row.get(c)]
            erased.warehouse = erase_many_from_warehouse(warehouse, {key: erased_key() for key in keys})
        erased.quarantine_rows = erase_from_quarantine(config.quarantine_dir, [*(identifiers or []), *found])
    shutil.rmtree(config.cache_dir, ignore_errors=True)
    for key in keys:
        for table, count in erase_customer_rows(database, key).items():
            erased.app_database[table] = erased.app_database.get(table, 0) + count
    return erased


@privacy_app.command("erase")
def erase_command(
    ctx: typer.Context,
    email: EmailOption,
    yes: Annotated[bool, typer.Option("--yes", help="Confirm: erasing cannot be undone.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Erase one person: their vault row, their free text, every trace that links the rest to them.

    The vault row (e-mail, name, phone, address, the shop's id) is deleted; their orders, refunds, events, reviews
    and tickets stay for the shop's accounts under a fresh random key that nothing links back, with review texts,
    ticket subjects and refund reasons cleared. Their rows in the app database (survey invitations and answers,
    campaign membership, loyalty points) are deleted, quarantined rows naming them are dropped and the result
    caches are cleared. The audit log records the erasure under their old pseudonymous key (proof that the request
    was met), never the e-mail. Contact exports written earlier are listed: delete those files too.
    """
    if not yes:
        raise InputError("erasing cannot be undone: add --yes to confirm")
    config = settings(ctx)
    secret = config.store_secret()
    identity = identity_of(email)
    key = customer_key(secret, identity)
    database = AppDatabase.for_store(config)
    try:
        erased = erase_people(config, database, [key], identifiers=[identity])
        warehouse_rows, app_rows, quarantined = erased.warehouse, erased.app_database, erased.quarantine_rows
        exports = [
            {"audit_entry": row.id, "at": row.at.isoformat(), "action": row.action}
            for row in database.audit_rows()
            if row.action in _PEOPLE_EXPORTS
        ]
        found = bool(warehouse_rows or app_rows or quarantined)
        entry = audit_sink(database, actor="cli", secret=secret)(
            "privacy.erase",
            {
                "customer_key": key,
                "found": found,
                "warehouse": warehouse_rows,
                "app": app_rows,
                "quarantine": quarantined,
            },
        )
    finally:
        database.close()
    document = {
        "customer_key": key,
        "found": found,
        "warehouse": warehouse_rows,
        "app_database": app_rows,
        "quarantine_rows": quarantined,
        "earlier_contact_exports": exports,
        "audit_entry": entry.id,
    }
    if as_json:
        emit_json(document)
        return
    if not found:
        stdout.print("the store holds nothing on that e-mail; the request is recorded in the audit log")
        return
    for name, count in {**warehouse_rows, **app_rows}.items():
        stdout.print(f"{name}: {count:,} row(s) erased or unlinked")
    stdout.print(f"quarantine: {quarantined:,} row(s) dropped; result caches cleared")
    if exports:
        stdout.print(f"{len(exports)} contact export(s) written earlier may hold this person: delete those files too")
