"""The journal that makes every loaded import show in ``shoplens status``, even when the process was killed.

An import is recorded in the app database after the warehouse has committed its files: a kill between the two
used to leave rows loaded by an import nobody listed. So each import first writes
``<home>/imports/<import-id>.json`` (its profile, files and start), rewrites it after each file's commit with the
counts so far, and removes it once the app database has the record. A journal left behind is a killed import:
the next import (holding the import lock) or ``status`` (when no import is running) records it from the counts
it holds, or, killed before its first file's journal update, from the sales rows that carry its import id; an
import that left nothing loaded is dropped.
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any

from shoplens.appdb import AppDatabase, ImportRun
from shoplens.config import Settings
from shoplens.warehouse import ImportSummary, Warehouse

JOURNAL_DIR = "imports"
_TABLES_WITH_IMPORT_ID = ("order_lines", "refunds")


def _journal_path(config: Settings, import_id: str) -> Path:
    return config.home / JOURNAL_DIR / f"{import_id}.json"


def _write(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    hidden = path.with_name(f".{path.name}.new")
    with hidden.open("w", encoding="utf-8") as out:
        json.dump(data, out, default=str)
        out.flush()
        os.fsync(out.fileno())
    os.replace(hidden, path)


class ImportJournal:
    """The journal of one running import."""

    def __init__(self, config: Settings, summary: ImportSummary, started: datetime) -> None:
        self.path = _journal_path(config, summary.import_id)
        self.base = {
            "import_id": summary.import_id,
            "profile": summary.profile,
            "files": summary.files,
            "started_at": started.isoformat(),
        }
        _write(self.path, {**self.base, "committed": None})

    def committed(self, summary: ImportSummary) -> None:
        _write(self.path, {**self.base, "committed": summary.as_dict()})

    def done(self) -> None:
        self.path.unlink(missing_ok=True)


def _run_from(entry: dict[str, Any], warehouse: Warehouse) -> ImportRun | None:
    committed = entry.get("committed")
    if committed:
        counts = {
            key: int(committed[key]) for key in ("rows_read", "rows_loaded", "rows_quarantined", "rows_duplicate")
        }
        quarantine = committed.get("quarantine_path")
    else:
        loaded = 0
        for table in _TABLES_WITH_IMPORT_ID:
            loaded += int(
                str(warehouse.scalar(f"SELECT count(*) FROM {table} WHERE import_id = ?", [entry["import_id"]]))
            )
        if not loaded:
            return None
        counts = {"rows_read": loaded, "rows_loaded": loaded, "rows_quarantined": 0, "rows_duplicate": 0}
        quarantine = None
    return ImportRun(
        import_id=str(entry["import_id"]),
        profile=str(entry["profile"]),
        files=list(entry["files"]),
        started_at=datetime.fromisoformat(str(entry["started_at"])),
        seconds=0.0,
        quarantine_path=quarantine,
        **counts,
    )


def recover_imports(config: Settings, warehouse: Warehouse) -> list[str]:
    """Record the imports that a killed process loaded but did not record; return their ids. Call it only while
    no import runs (holding the import lock, or having found it free)."""
    directory = config.home / JOURNAL_DIR
    if not directory.is_dir():
        return []
    recovered: list[str] = []
    app_db: AppDatabase | None = None
    try:
        for path in sorted(directory.glob("imp-*.json")):
            try:
                entry = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError):
                path.unlink(missing_ok=True)  # written by rename, so only damage makes one unreadable
                continue
            run = _run_from(entry, warehouse)
            if run is not None:
                app_db = app_db or AppDatabase.for_store(config)
                app_db.record_import(run)
                recovered.append(run.import_id)
            path.unlink(missing_ok=True)
    finally:
        if app_db is not None:
            app_db.close()
    return recovered
