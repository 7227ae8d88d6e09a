"""``shoplens privacy``: what the store holds on one person, read through their pseudonymous key."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from typing import Annotated, Any

import ibis
import typer

from shoplens.appdb import AppDatabase, customer_rows, erase_customer_rows
from shoplens.cli._app import JsonOption, app, settings
from shoplens.cli._output import emit_json, stdout
from shoplens.config import Settings, vault_key_bytes
from shoplens.errors import InputError
from shoplens.ingest import customer_key, email_identity
from shoplens.privacy import (
    VAULT_KEY,
    VAULT_TABLE,
    VaultKeys,
    audit_sink,
    erased_key,
    identifiers_of,
    opened_vault_rows,
)
from shoplens.schema import TABLES
from shoplens.warehouse import (
    connect,
    erase_from_quarantine,
    erase_many_from_warehouse,
    exact_columns,
    key_of_email,
    rotate_vault_key,
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


def person_key(config: Settings, email: str) -> str:
    """The customer key of the person with this e-mail: the keyed hash of the e-mail, as the importer keys
    customers, or the key the vault holds the e-mail under (a customer first known by the shop's id)."""
    secret = config.store_secret()
    identity = identity_of(email)
    if not warehouse_exists(config):
        return customer_key(secret, identity)
    with connect(config, read_only=True) as warehouse:
        return key_of_email(warehouse.backend, secret, identity)


def _rows(table: ibis.Table) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = table.to_pyarrow().to_pylist()
    return rows


def held_on(backend: ibis.BaseBackend, key: str, vault_keys: VaultKeys) -> dict[str, list[dict[str, Any]]]:
    """Every warehouse row that carries ``key`` (the vault row included, decrypted), and the lines of those orders.

    Every table of the schema exists in a warehouse that was ever written (it is created with all of them)."""
    held = {
        name: _rows(exact_columns(backend.table(name).filter(ibis._[VAULT_KEY] == key), name))
        for name in _KEYED_TABLES
        if name != VAULT_TABLE
    }
    vault = backend.table(VAULT_TABLE)
    sealed = vault.filter(vault[VAULT_KEY] == key).to_pyarrow()
    held[VAULT_TABLE] = opened_vault_rows(sealed, vault_keys).to_pylist() if sealed.num_rows else []
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
    identity = identity_of(email)
    key = customer_key(secret, identity)
    held: dict[str, list[dict[str, Any]]] = {}
    if warehouse_exists(config):
        with connect(config, read_only=True) as warehouse:  # one opening: the key is found where the rows are read
            key = key_of_email(warehouse.backend, secret, identity)
            held = held_on(warehouse.backend, key, warehouse.vault_keys())
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
            found = [value for row in held for value in identifiers_of(row, warehouse.vault_keys())]
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
    key = person_key(config, email)
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


@privacy_app.command("rotate-key")
def rotate_key_command(
    ctx: typer.Context,
    new_key_env: Annotated[
        str | None,
        typer.Option(
            "--new-key-env",
            help="With a vault key from the environment (SHOPLENS_VAULT_KEY_ENV): the variable holding the new key.",
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Encrypt every vault row again under a new key, and retire the old one.

    With the key file in the home, a new random key replaces it once every row is re-encrypted; the warehouse file
    is written anew so no old ciphertext stays on disk. With a key from a key service, give the new key in
    --new-key-env and point SHOPLENS_VAULT_KEY_ENV at that variable afterwards. Prints {"rows_reencrypted",
    "key_id", "audit_entry"}; the audit log records the counts only.
    """
    config = settings(ctx)
    secret = config.store_secret()
    source = config.vault_key_source()
    new_key = None
    if new_key_env is not None:
        text = os.environ.get(new_key_env)
        if not text:
            raise InputError(f"--new-key-env: the environment variable {new_key_env} is not set")
        new_key = vault_key_bytes(text, f"in the environment variable {new_key_env}")
    if not warehouse_exists(config):
        raise InputError("the store has no warehouse yet: import data first")
    with connect(config) as warehouse:
        rotation = rotate_vault_key(warehouse, source, new_key)
    rows, key_id = rotation.rows_reencrypted, rotation.key_id
    database = AppDatabase(config.app_database_url)
    try:
        entry = audit_sink(database, actor="cli", secret=secret)(
            "privacy.rotate_key", {"rows_reencrypted": rows, "key_id": key_id}
        )
    finally:
        database.close()
    if as_json:
        emit_json({"rows_reencrypted": rows, "key_id": key_id, "audit_entry": entry.id})
        return
    stdout.print(f"re-encrypted {rows:,} vault row(s) under key {key_id}; the old key is retired")
