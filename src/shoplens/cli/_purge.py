"""``shoplens privacy purge``: remove what the store has kept longer than its retention settings allow."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer

from shoplens.appdb import AppDatabase
from shoplens.cli._app import JsonOption, settings
from shoplens.cli._output import emit_json, stdout
from shoplens.cli._privacy import erase_people, privacy_app
from shoplens.config import Settings
from shoplens.privacy import inactive_customers, record_audit
from shoplens.warehouse import connect, delete_older_than, rewrite_file, warehouse_exists

# Web events and the sessions built from them, by the time column the limit is measured on.
WEB_EVENT_TABLES = (("events", "at"), ("sessions", "started_at"))


def _old_files(directory: Path, pattern: str, cutoff: datetime) -> list[Path]:
    if not directory.is_dir():
        return []
    moment = cutoff.timestamp()
    return sorted(path for path in directory.rglob(pattern) if path.is_file() and path.stat().st_mtime < moment)


def _old_rows(config: Settings, cutoff: datetime) -> dict[str, int]:
    if not warehouse_exists(config):
        return {name: 0 for name, _ in WEB_EVENT_TABLES}
    moment = cutoff.astimezone(UTC).replace(tzinfo=None)
    with connect(config, read_only=True) as warehouse:
        counts = {}
        for name, column in WEB_EVENT_TABLES:
            table = warehouse.backend.table(name)
            counts[name] = int(table.filter(table[column] < moment).count().execute())
        return counts


def _inactive(config: Settings, cutoff: datetime) -> list[str]:
    if not warehouse_exists(config):
        return []
    with connect(config, read_only=True) as warehouse:
        return inactive_customers(warehouse.backend, cutoff)


@privacy_app.command("purge")
def purge_command(
    ctx: typer.Context,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count what would go; remove nothing.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Remove what is older than its retention limit, and say how much went per kind.

    Limits (days, from the environment: SHOPLENS_RETENTION_CUSTOMER_DAYS=1095, _QUARANTINE_DAYS=90,
    _CACHE_DAYS=30, _WEB_EVENT_DAYS=395 by default): customers whose last activity (first sighting, order, web
    session or event, review, ticket) is older are erased as `privacy erase` erases a person (vault row deleted,
    the rest unlinked under a fresh key, free text cleared, their app rows deleted); quarantine files and result
    cache files not written for longer are deleted; web events and sessions older are deleted (with a web-event
    limit shorter than the customer limit, a customer last seen on the web counts as inactive once those events
    are gone). One audit entry records the counts; a dry run writes none. Prints {"dry_run", "retention_days",
    "cutoffs", "removed": {"customers", "quarantine_files", "cache_files", "events", "sessions"}, "audit_entry"}.
    """
    config = settings(ctx)
    config.ensure_home()
    now = datetime.now(UTC)
    days = config.retention()
    cutoffs = {kind: now - timedelta(days=limit) for kind, limit in days.items()}
    quarantine = _old_files(config.quarantine_dir, "*.csv", cutoffs["quarantine"])
    caches = _old_files(config.cache_dir, "*", cutoffs["cache"])
    customers = _inactive(config, cutoffs["customers"])
    events = _old_rows(config, cutoffs["web_events"])
    removed: dict[str, int] = {
        "customers": len(customers),
        "quarantine_files": len(quarantine),
        "cache_files": len(caches),
        **events,
    }
    document: dict[str, Any] = {
        "dry_run": dry_run,
        "retention_days": days,
        "cutoffs": {kind: moment.isoformat() for kind, moment in cutoffs.items()},
        "removed": removed,
    }
    if not dry_run:
        document.update(_purge(config, quarantine, caches, customers, cutoffs["web_events"], removed))
    if as_json:
        emit_json(document)
        return
    verb = "would remove" if dry_run else "removed"
    for kind, count in removed.items():
        stdout.print(f"{kind}: {verb} {count:,} (kept {days[_KIND[kind]]:,} days)")


_KIND = {
    "customers": "customers",
    "quarantine_files": "quarantine",
    "cache_files": "cache",
    "events": "web_events",
    "sessions": "web_events",
}


def _purge(
    config: Settings,
    quarantine: list[Path],
    caches: list[Path],
    customers: list[str],
    events_cutoff: datetime,
    removed: dict[str, int],
) -> dict[str, Any]:
    # Files first: erasing customers rewrites the quarantine files it scrubs, which would make them look new.
    for path in [*quarantine, *caches]:
        path.unlink(missing_ok=True)
    if warehouse_exists(config):
        with connect(config) as warehouse:
            for name, column in WEB_EVENT_TABLES:
                removed[name] = delete_older_than(warehouse, name, column, events_cutoff)
            rewrite_file(warehouse)  # no freed block keeps the deleted events
    database = AppDatabase.for_store(config)
    try:
        erased = erase_people(config, database, customers)
        entry = record_audit(
            database,
            actor="cli",
            action="privacy.purge",
            details={
                "removed": removed,
                "retention_days": config.retention(),
                "erased_rows": {"warehouse": erased.warehouse, "app": erased.app_database},
                "quarantine_rows": erased.quarantine_rows,
            },
            secret=config.store_secret(),
        )
    finally:
        database.close()
    return {"erased_rows": {"warehouse": erased.warehouse, "app": erased.app_database}, "audit_entry": entry.id}
