"""``shoplens privacy``: what the store holds on one person, read through their pseudonymous key."""

from __future__ import annotations

from typing import Annotated, Any

import ibis
import typer

from shoplens.appdb import AppDatabase
from shoplens.cli._app import JsonOption, app, settings
from shoplens.cli._output import emit_json, stdout
from shoplens.ingest import customer_key
from shoplens.privacy import VAULT_KEY, VAULT_TABLE, audit_sink
from shoplens.schema import TABLES
from shoplens.warehouse import connect, warehouse_exists

privacy_app = typer.Typer(
    name="privacy",
    help="A person's data: everything held on one customer, found by their e-mail's keyed hash.",
    no_args_is_help=True,
)
app.add_typer(privacy_app)

EmailOption = Annotated[str, typer.Option("--email", help="The customer's e-mail address (case and spaces ignored).")]
# Tables that carry a customer's key, and the one (order lines) that belongs to them through their orders.
_KEYED_TABLES = tuple(name for name, table in TABLES.items() if VAULT_KEY in table.column_names)


def _rows(table: ibis.Table) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = table.to_pyarrow().to_pylist()
    return rows


def held_on(backend: ibis.BaseBackend, key: str) -> dict[str, list[dict[str, Any]]]:
    """Every warehouse row that carries ``key`` (the vault row included), and the lines of those orders.

    Every table of the schema exists in a warehouse that was ever written (it is created with all of them)."""
    held = {name: _rows(backend.table(name).filter(ibis._[VAULT_KEY] == key)) for name in _KEYED_TABLES}
    order_ids = [row["order_id"] for row in held["orders"]]
    lines = backend.table("order_lines")
    held["order_lines"] = _rows(lines.filter(lines.order_id.isin(order_ids))) if order_ids else []
    return held


@privacy_app.command("export")
def export_command(ctx: typer.Context, email: EmailOption, as_json: JsonOption = False) -> None:
    """Everything the warehouse holds on the customer with this e-mail, the vault row included.

    Prints {"customer_key", "found", "tables": {table: [rows]}}; an e-mail the store does not know answers
    found=false with no rows (exit 0). Each call is written to the audit log under the customer's key, never
    the e-mail.
    """
    config = settings(ctx)
    secret = config.store_secret()
    key = customer_key(secret, email.strip().lower())
    held: dict[str, list[dict[str, Any]]] = {}
    if warehouse_exists(config):
        with connect(config, read_only=True) as warehouse:
            held = held_on(warehouse.backend, key)
    found = any(held.values())
    database = AppDatabase(config.app_database_url)
    try:
        entry = audit_sink(database, actor="cli", secret=secret)(
            "privacy.export", {"customer_key": key, "found": found, "rows": sum(map(len, held.values()))}
        )
    finally:
        database.close()
    document = {"customer_key": key, "found": found, "tables": held, "audit_entry": entry.id}
    if as_json:
        emit_json(document)
        return
    if not found:
        stdout.print("the store holds nothing on that e-mail")
        return
    for name, rows in held.items():
        if rows:
            stdout.print(f"{name}: {len(rows):,} row(s)")
    stdout.print(f"the vault ({VAULT_TABLE}) row is included; use --json for every value")
