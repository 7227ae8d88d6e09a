"""Quarantine files: one CSV per import with each rejected record's row number, column and reason.

Personal columns (and any the loader names, such as free text) are replaced by ``[redacted]``, so a
quarantine file can be shared with whoever fixes the export.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import duckdb
import numpy as np

from shoplens.ingest import col, text_literal
from shoplens.warehouse._readers import StagedFile

REDACTED = "[redacted]"
FAULT_SEPARATOR = "\x1f"  # between the column and the reason in a staged row's ``_fault``


class QuarantineWriter:
    """One CSV per import: source file, row number, column, reason, and the row with personal columns redacted."""

    HEADER = ("source_file", "row", "column", "reason", "byte_offset", "values")

    def __init__(self, path: Path) -> None:
        self.path = path
        self.rows = 0
        self._handle: Any = None
        self._writer: Any = None
        self._pending: list[Sequence[object]] = []

    def add(self, rows: Sequence[Sequence[object]]) -> None:
        """Hold rows until their file's load commits."""
        self._pending.extend(rows)

    def drop_pending(self) -> None:
        self._pending = []

    def flush(self) -> None:
        rows, self._pending = self._pending, []
        if not rows:
            return
        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._handle = self.path.open("w", newline="", encoding="utf-8")
            self._writer = csv.writer(self._handle)
            self._writer.writerow(self.HEADER)
        self._writer.writerows(rows)
        self.rows += len(rows)

    def close(self) -> str | None:
        if self._handle is None:
            return None
        self._handle.close()
        return str(self.path)

    def discard(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self.path.unlink(missing_ok=True)


def source_column(expression: str | None, fallback: str) -> str:
    """The source column a field came from, when its expression is a plain column reference."""
    if expression and expression.startswith('"') and expression.endswith('"') and expression.count('"') == 2:
        return expression[1:-1]
    return fallback


def quarantine_faults(
    con: duckdb.DuckDBPyConnection,
    staged: StagedFile,
    parsed_table: str,
    redacted_columns: Iterable[str],
    writer: QuarantineWriter,
) -> int:
    """Queue the rows of ``parsed_table`` with a ``_fault``, and the reader's rejects; return how many."""
    redacted = set(redacted_columns)
    shown = ", ".join(text_literal(REDACTED) if c in redacted else "s." + col(c) for c in staged.columns)
    bad = con.execute(
        f"SELECT p.pos, split_part(p._fault, chr(31), 1), split_part(p._fault, chr(31), 2), {shown} "
        f"FROM {parsed_table} p JOIN {staged.table} s ON s.rowid = p.pos WHERE p._fault IS NOT NULL ORDER BY p.pos"
    ).fetchall()
    records = staged.record_numbers(np.array([row[0] for row in bad], dtype=np.int64))
    source = str(staged.path)
    rows: list[tuple[object, ...]] = [
        (source, int(record), row[1], row[2], None, _row_text(staged.columns, row[3:]))
        for record, row in zip(records, bad, strict=True)
    ]
    rows += [(source, r.record, r.column, r.reason, r.byte_offset, None) for r in staged.rejects]
    rows.sort(key=lambda r: int(str(r[1])))
    writer.add(rows)
    return len(bad) + len(staged.rejects)


def _row_text(columns: Sequence[str], values: Sequence[object]) -> str:
    return "; ".join(f"{c}={'' if v is None else v}" for c, v in zip(columns, values, strict=True))
