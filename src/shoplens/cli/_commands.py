"""Sub-commands for getting data in and seeing what is there: import, profiles, status, demo."""

from __future__ import annotations

import json
import os
import secrets
from contextlib import suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
import yaml
from rich.table import Table

from shoplens.appdb import AppDatabase, ImportRun
from shoplens.cli._app import JsonOption, app, settings
from shoplens.cli._consent import seed_platform_consent
from shoplens.cli._import_journal import ImportJournal, recover_imports
from shoplens.cli._output import emit_json, stderr, stdout, tracked_job
from shoplens.config import Settings
from shoplens.errors import MappingError, UnreadableFileError, WarehouseError
from shoplens.ingest import registered_profiles
from shoplens.privacy import record_audit
from shoplens.warehouse import (
    ImportSummary,
    ReadLimits,
    connect,
    detect_profile,
    import_files,
    import_lock,
    import_running,
    load_table_file,
    new_import_id,
    warehouse_exists,
)

PROFILE_HELP = "Source profile: " + ", ".join(sorted(registered_profiles())) + ". See `shoplens profiles`."


def _read_mapping(path: Path | None) -> dict[str, Any] | None:
    if path is None:
        return None
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UnreadableFileError(f"{path}: cannot read mapping ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise MappingError(f"{path}: not valid YAML{where}") from None
    if not isinstance(loaded, dict):
        raise MappingError(f"{path}: a mapping file must be a YAML mapping with a 'columns' section")
    return loaded


def run_import(config: Settings, paths: list[Path], profile: str, mapping: dict[str, Any] | None) -> ImportSummary:
    """Import into the store at ``config.home`` and log the run in the app database, with the platform's marketing
    flags that are new or changed as consent records."""
    config.ensure_home()
    started = datetime.now(UTC)
    names = ", ".join(path.name for path in paths)
    limits = ReadLimits(
        max_record_bytes=config.import_max_record_bytes,
        max_expansion=config.import_max_expansion,
        max_decompressed_bytes=config.import_max_decompressed_bytes,
        memory_limit_bytes=config.import_memory_limit_bytes,
    )
    import_id = new_import_id()
    with (
        import_lock(config.home, wait_seconds=config.import_wait_seconds, notify=lambda text: stderr.print(text)),
        connect(config) as warehouse,
        tracked_job(config, "import", f"import {names} ({profile} profile)") as progress,
    ):
        recover_imports(config, warehouse)
        journal = ImportJournal(config, ImportSummary(import_id, profile, [str(p) for p in paths]), started)
        summary = import_files(
            warehouse,
            paths,
            profile_name=profile,
            secret=config.store_secret(),
            quarantine_dir=config.quarantine_dir,
            mapping=mapping,
            import_id=import_id,
            progress=progress,
            limits=limits,
            on_commit=journal.committed,
        )
    foreign = [code for code in summary.currencies if code.upper() != config.currency.upper()]
    if foreign:
        summary.warnings.append(
            f"amounts in {', '.join(foreign)} are kept as given, not converted to the store's {config.currency}"
        )
    app_db = AppDatabase.for_store(config)
    app_db.record_import(
        ImportRun(
            import_id=summary.import_id,
            profile=summary.profile,
            files=summary.files,
            started_at=started,
            seconds=summary.seconds,
            rows_read=summary.rows_read,
            rows_loaded=summary.rows_loaded,
            rows_quarantined=summary.rows_quarantined,
            rows_duplicate=summary.rows_duplicate,
            quarantine_path=summary.quarantine_path,
        )
    )
    try:
        seed_platform_consent(config, app_db, profile=summary.profile)
    finally:
        app_db.close()
    journal.done()
    return summary


def _show_summary(summary: ImportSummary) -> None:
    table = Table(title=f"import {summary.import_id} ({summary.profile})", show_header=False)
    for label, value in (
        ("rows read", summary.rows_read),
        ("loaded", summary.rows_loaded),
        ("quarantined", summary.rows_quarantined),
        ("already in the warehouse", summary.rows_duplicate),
        ("orders in the files", summary.orders),
        ("customers in the files", summary.customers),
        ("refunds in the files", summary.refunds),
        ("guest order lines", summary.guest_rows),
        ("new orders / new customers", f"{summary.orders_new} / {summary.customers_new}"),
        ("seconds", summary.seconds),
    ):
        table.add_row(label, f"{value:,}" if isinstance(value, int) else str(value))
    stdout.print(table)
    for warning in summary.warnings:
        stdout.print(f"Note: {warning}")
    if summary.quarantine_path:
        stdout.print(f"Quarantined rows, with record number and reason: {summary.quarantine_path}")


@app.command("import")
def import_command(
    ctx: typer.Context,
    paths: Annotated[list[Path], typer.Argument(help="Export files: .csv/.tsv/.parquet/.jsonl, optionally .gz.")],
    profile: Annotated[str | None, typer.Option("--profile", "-p", help=PROFILE_HELP)] = None,
    mapping: Annotated[
        Path | None, typer.Option("--mapping", help="YAML column mapping (required by --profile generic).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Load store exports into the warehouse.

    Bad rows go to <home>/quarantine/<import-id>.csv with their record number and reason; re-importing
    the same or an overlapping export adds only rows not already loaded. Personal data (names, e-mails,
    phones, addresses) goes to the vault only; analytics see pseudonymous customer keys.

    Without --profile the kind of export is told from the file's columns, and the summary says which
    profile was chosen ("profile").

    Examples:
      shoplens import online_retail.parquet --profile online-retail --json
      shoplens import orders_export_1.csv products_export_1.csv   (each kind in its own command)
      shoplens import events.csv --profile events --mapping events.yaml
    """
    if profile is None:
        chosen = detect_profile(paths)
        profile = chosen.name
        if not as_json:
            stderr.print(f"Reading {', '.join(p.name for p in paths)} as a {profile} export ({chosen.description}).")
    summary = run_import(settings(ctx), paths, profile, _read_mapping(mapping))
    if as_json:
        emit_json(summary.as_dict())
    else:
        _show_summary(summary)


@app.command("profiles")
def profiles_command(as_json: JsonOption = False) -> None:
    """List the source profiles `shoplens import --profile` accepts."""
    rows = [
        {
            "name": p.name,
            "description": p.description,
            "required_columns": list(p.required),
            "recognised_by": [list(s) for s in (p.signatures or ((p.required,) if p.required else ()))],
            "target": p.target,
            "needs_mapping": p.needs_mapping,
        }
        for p in sorted(registered_profiles().values(), key=lambda p: p.name)
    ]
    if as_json:
        emit_json({"profiles": rows})
        return
    table = Table("profile", "what it reads")
    for row in rows:
        table.add_row(str(row["name"]), str(row["description"]))
    stdout.print(table)


STATUS_CACHE = ".status.json"


def store_status(config: Settings) -> dict[str, Any]:
    """What the store holds. During an import (which holds the DuckDB file for writing, so no other process can
    open it) the figures are those of the last status taken, marked ``"import_running": true``."""
    if not warehouse_exists(config):
        return {"home": str(config.home), "warehouse": None, "tables": {}, "data_version": 0, "imports": []}
    running = import_running(config.home)
    try:
        status = _warehouse_status(config, recover=not running)
    except WarehouseError:
        cached = _cached_status(config) if running else None
        if cached is None:
            raise
        status = cached
    status["import_running"] = running
    status["imports"] = _recent_imports(config)
    return status


def _warehouse_status(config: Settings, *, recover: bool) -> dict[str, Any]:
    with connect(config, read_only=True) as warehouse:
        if recover:
            recover_imports(config, warehouse)
        counts, version, location = warehouse.row_counts(), warehouse.data_version, warehouse.location
        orders = warehouse.backend.table("orders")
        span = orders.aggregate(first=orders.ordered_at.min(), last=orders.ordered_at.max())
        first, last = (
            None if pd.isna(value) else value.to_pydatetime() for value in warehouse.backend.execute(span).iloc[0]
        )
        identity = guest_orders_joined(warehouse.backend)
    status = {
        "home": str(config.home),
        "warehouse": location,
        "tables": counts,
        "data_version": version,
        "first_order": first,
        "last_order": last,
        **identity,
    }
    with suppress(OSError):
        handle = os.open(config.home / STATUS_CACHE, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(status, out, default=str)
    return status


def _cached_status(config: Settings) -> dict[str, Any] | None:
    try:
        status: dict[str, Any] = json.loads((config.home / STATUS_CACHE).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    for key in ("first_order", "last_order"):
        if status.get(key):
            status[key] = datetime.fromisoformat(status[key])
    return status


def _recent_imports(config: Settings) -> list[dict[str, Any]]:
    app_db = AppDatabase.for_store(config)
    imports = [
        {
            "import_id": r.import_id,
            "profile": r.profile,
            "rows_loaded": r.rows_loaded,
            "rows_quarantined": r.rows_quarantined,
        }
        for r in app_db.recent_imports(5)
    ]
    app_db.close()
    return imports


def guest_orders_joined(backend: Any) -> dict[str, int | None]:
    """Guest checkouts (orders placed without an account) whose customer also has an account, joined by the
    normalised e-mail; None for a warehouse from before accounts were told apart (it upgrades on its next
    import)."""
    orders, customers = backend.table("orders"), backend.table("customers")
    if "is_guest" not in orders.columns or "has_account" not in customers.columns:
        return {"guest_orders": None, "guest_orders_joined": None}
    guests = orders.filter(orders.is_guest)
    accounts = customers.filter(customers.has_account).select("customer_key")
    joined = guests.semi_join(accounts, guests.customer_key == accounts.customer_key)
    return {"guest_orders": int(guests.count().execute()), "guest_orders_joined": int(joined.count().execute())}


def _show_status(status: dict[str, Any]) -> None:
    if status["warehouse"] is None:
        stdout.print(f"No warehouse in {status['home']} yet. Try: shoplens demo, or shoplens import FILE --profile P")
        return
    stdout.print(f"Warehouse: {status['warehouse']} (data version {status['data_version']})")
    if status.get("import_running"):
        stdout.print("An import is running: these figures are from before it started.")
    if status.get("first_order"):
        stdout.print(f"Orders from {status['first_order']:%Y-%m-%d} to {status['last_order']:%Y-%m-%d}")
    if status.get("guest_orders"):
        stdout.print(
            f"Guest orders: {status['guest_orders']:,}, of which {status['guest_orders_joined']:,} joined to a "
            "customer's account by e-mail"
        )
    table = Table("table", "rows")
    for name, count in status["tables"].items():
        table.add_row(name, f"{count:,}")
    stdout.print(table)


@app.command("status")
def status_command(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Show what the warehouse holds: rows per table, date range and the latest imports."""
    status = store_status(settings(ctx))
    if as_json:
        emit_json(status)
    else:
        _show_status(status)


@app.command("demo")
def demo_command(
    ctx: typer.Context,
    customers: Annotated[int, typer.Option("--customers", min=50, max=5_000_000, help="Customers to generate.")] = 5000,
    seed: Annotated[int, typer.Option("--seed", help="Same seed, same store (byte for byte).")] = 0,
    serve: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Serve the dashboard afterwards on 127.0.0.1 (Ctrl-C stops).")
    ] = True,
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port of the dashboard.")] = 8000,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the export files here (default <home>/demo-export).")
    ] = None,
    lines: Annotated[
        int | None,
        typer.Option(
            "--lines", min=1, help="Generate exactly this many order lines (e.g. 10000000); ignores --customers."
        ),
    ] = None,
    no_events: Annotated[bool, typer.Option("--no-events", help="Skip web sessions (for very large stores).")] = False,
    end_date: Annotated[
        datetime | None,
        typer.Option(
            "--end-date",
            formats=["%Y-%m-%d"],
            help="Last day of orders (YYYY-MM-DD; default: yesterday in the store's time zone).",
        ),
    ] = None,
    export_only: Annotated[
        bool, typer.Option("--export-only", help="Only write the export files; do not import them.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Generate a realistic demo store and import it, as a shop owner would import their own exports.

    Writes the export files to <home>/demo-export/ (orders.csv plus products, web events, reviews,
    marketing spend, an events calendar, daily stock and support tickets), imports orders.csv with the
    generic profile and its mapping, and loads the other tables. Running it again on the same home adds nothing.

    Large files for benchmarks: shoplens demo --lines 10000000 --no-events --export-only --out DIR
    """
    from shoplens.ingest.demo import default_end, generate_demo_store

    config = settings(ctx)
    end = end_date.date() if end_date is not None else default_end(config.timezone)
    out_dir = out or config.ensure_home() / "demo-export"
    with tracked_job(config, "demo", f"build a demo store of {customers:,} customers") as progress:
        files = generate_demo_store(
            out_dir,
            customers=customers,
            seed=seed,
            end=end,
            max_order_lines=lines,
            with_events=not no_events,
            progress=progress,
        )
    if export_only:
        written = {
            "export_dir": str(out_dir),
            "end_date": end.isoformat(),
            "orders": files.orders,
            "order_lines": files.order_lines,
            "customers": files.customers,
            "events": files.events,
            "feedback": files.feedback,
        }
        if as_json:
            emit_json(written)
        else:
            stdout.print(f"Wrote {files.order_lines:,} order lines ({files.orders:,} orders) to {out_dir}")
        return
    summary = run_import(config, [files.orders_path], "generic", _read_mapping(files.mapping_path))
    side = {
        "products": files.products_path,
        "events": files.events_path,
        "feedback": files.feedback_path,
        "marketing_spend": files.marketing_spend_path,
        "events_calendar": files.events_calendar_path,
        "inventory": files.inventory_path,
        "tickets": files.tickets_path,
    }
    loaded: dict[str, int] = {}
    with connect(config) as warehouse:
        secret = config.store_secret()
        for table, path in side.items():
            if path is not None:
                loaded[table] = load_table_file(warehouse, table, path, secret)
    status = store_status(config)
    document = {
        "export_dir": str(out_dir),
        "end_date": end.isoformat(),
        "import": summary.as_dict(),
        "tables_loaded": loaded,
        "status": status,
    }
    if as_json:
        emit_json(document)
    else:
        _show_summary(summary)
        _show_status(status)
    if serve:
        _serve_demo(ctx, config, port)


DEMO_OWNER = "owner@demo.shoplens"


def _serve_demo(ctx: typer.Context, config: Settings, port: int) -> None:
    """Serve the dashboard of the demo store, with an owner account made up for it on the first run."""
    from shoplens.cli._web import serve_command
    from shoplens.web import add_user, list_users

    app_db = AppDatabase.for_store(config)
    try:
        if not list_users(app_db):
            password = secrets.token_urlsafe(12)
            owner = add_user(app_db, DEMO_OWNER, password, "owner")
            record_audit(
                app_db,
                actor="cli",
                action="account.user_add",
                details={"user_id": owner.user_id, "role": owner.role},
                secret=config.store_secret(),
            )
            stderr.print(f"Dashboard login (demo only): {DEMO_OWNER} / {password}", markup=False)
        else:
            stderr.print("Log in to the dashboard with an account of this store (shoplens user list).")
    finally:
        app_db.close()
    serve_command(ctx, host="127.0.0.1", port=port, as_json=False)
