"""The first records of an export as the import would read them, and which of them it would quarantine and why.

The preview runs the pipeline's own steps (stage, then the target's parse and rule checks) over a copy of the
file's first records in a DuckDB of its own, so it needs no warehouse and changes nothing. What it cannot tell
is what needs the stored rows: duplicates, and conflicts with an order stored from another file; the import
finds those.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from shoplens.errors import UnreadableFileError
from shoplens.ingest import CsvDialect
from shoplens.privacy import VaultKeys
from shoplens.warehouse._import_files import import_target
from shoplens.warehouse._pipeline import STAGED_TABLE, FileLoad, ProfileSource, get_profile
from shoplens.warehouse._quarantine import FAULT_SEPARATOR, REDACTED
from shoplens.warehouse._readers import file_format, read_csv_header, stage_file
from shoplens.warehouse._records import ReadLimits, open_text_bytes

PREVIEW_RECORDS = 10
_NO_SECRET = b"preview: no key is stored"


@dataclass(frozen=True)
class PreviewRow:
    """One record of the preview: its record number, its values as read (personal columns redacted, as in the
    quarantine file), and why the import would quarantine it (None: it would be loaded, or found a duplicate)."""

    record: int
    values: dict[str, str | None]
    column: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class FilePreview:
    columns: list[str]
    rows: list[PreviewRow]

    @property
    def quarantined(self) -> list[PreviewRow]:
        return [row for row in self.rows if row.reason is not None]


def preview_file(
    path: Path,
    profile_name: str,
    mapping: Mapping[str, object] | None = None,
    *,
    records: int = PREVIEW_RECORDS,
    limits: ReadLimits | None = None,
) -> FilePreview:
    """The first ``records`` records of ``path`` read with ``profile_name`` (and ``mapping``), each with the fault
    that would quarantine it. Raises what the import would raise for the file (wrong columns, a bad mapping)."""
    profile = get_profile(profile_name)
    source = ProfileSource(profile, mapping)
    target = import_target(profile.target)
    with tempfile.TemporaryDirectory(prefix="shoplens-preview-") as scratch:
        head = _head_copy(path, Path(scratch), source.dialect, records)
        with duckdb.connect() as con:
            staged = stage_file(con, head, STAGED_TABLE, source.dialect, limits)
            staged.path = path
            plan = source.plan(path, staged.columns)
            load = FileLoad(con, None, "preview", profile.name, _NO_SECRET, _no_vault)
            target.parse(load, staged, plan)
            redacted = target.redacted_columns(plan)
            columns = ", ".join(f's."{c}"' for c in (name.replace('"', '""') for name in staged.columns))
            found = con.execute(
                f"SELECT p.pos, p._fault, {columns} FROM {target.parsed_table} p "
                f"JOIN {STAGED_TABLE} s ON s.rowid = p.pos ORDER BY p.pos"
            ).fetchall()
    numbers = staged.record_numbers(np.array([row[0] for row in found], dtype=np.int64))
    rows: dict[int, PreviewRow] = {}
    for number, row in zip(numbers, found, strict=True):
        values = {
            c: REDACTED if c in redacted else None if v is None else str(v)
            for c, v in zip(staged.columns, row[2:], strict=True)
        }
        column, reason = str(row[1]).split(FAULT_SEPARATOR, 1) if row[1] is not None else (None, None)
        if int(number) not in rows or rows[int(number)].reason is None:  # a record of several items: its first fault
            rows[int(number)] = PreviewRow(int(number), values, column, reason)
    for reject in staged.rejects:
        rows[reject.record] = PreviewRow(reject.record, {}, reject.column, reject.reason)
    return FilePreview(staged.columns, [rows[n] for n in sorted(rows) if n <= records])


def _no_vault() -> VaultKeys:
    raise UnreadableFileError("a preview writes no personal data")


def _head_copy(path: Path, directory: Path, dialect: CsvDialect, records: int) -> Path:
    """A copy of the header and the first ``records`` records of ``path`` (uncompressed) in ``directory``."""
    fmt = file_format(path)
    name = path.name.removesuffix(".gz").removesuffix(".GZ")
    head = directory / (name if Path(name).suffix else f"{name}.csv")
    if fmt == "parquet":
        try:
            batches = pq.ParquetFile(path).iter_batches(batch_size=records)
            first = next(batches, None)
            schema = pq.read_schema(path)
        except (OSError, pa.ArrowException) as exc:
            raise UnreadableFileError(
                f"{path.name}: cannot read as Parquet ({str(exc).splitlines()[0][:160]})"
            ) from None
        pq.write_table(pa.Table.from_batches([first] if first is not None else [], schema=schema), head)
        return head
    lines_above = read_csv_header(path, dialect)[2] + 1 if fmt == "csv" else 0
    wanted = lines_above + records + 1  # one record more: a last record cut short would read as a bad one
    handle, _ = open_text_bytes(path)
    with handle, head.open("wb") as out:
        if fmt != "csv":
            for _, line in zip(range(wanted), handle, strict=False):
                out.write(line)
            return head
        quotes, complete = 0, 0
        while complete < wanted and (line := handle.readline(4 * 1024 * 1024)):
            out.write(line)
            quotes += line.count(b'"')
            if quotes % 2 == 0:  # a record ends at a line end outside quotes
                complete += 1
    return head
