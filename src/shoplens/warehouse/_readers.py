"""Read a source file into a DuckDB staging table of text columns, keeping every record accounted for.

CSV is read by DuckDB itself (fast, parallel) with its rejects table switched on, so a record that
cannot be parsed (wrong number of fields, a stray quote, bad UTF-8, a line too long) is not lost: it
comes back as a :class:`Reject` with its record number. Parquet columns are cast to text so every
format goes through the same validation (nested ones as JSON text, as from a JSON-lines file). JSON-lines
files are parsed line by line.

Record numbers count data records from 1 (the header is not a record); a quoted field that spans
several lines still makes one record. Lines above the header that a dialect skips (a report's title) are
not records either.
"""

from __future__ import annotations

import csv
import gzip
import io
import itertools
import json
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from shoplens.errors import UnreadableFileError
from shoplens.ingest import CsvDialect, text_literal
from shoplens.warehouse._records import ReadLimits, RecordMap, clean_csv, open_text_bytes

_READ_FORMATS = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "csv",
    ".parquet": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}
_CSV_ERRORS = {
    "MISSING COLUMNS": "too few fields",
    "TOO MANY COLUMNS": "too many fields",
    "UNQUOTED VALUE": "stray or unterminated quote",
    "INVALID ENCODING": "text is not valid in the file's encoding",
    "INVALID UNICODE": "text is not valid in the file's encoding",
    "LINE SIZE OVER MAXIMUM": "record longer than the line size limit",
}
MAX_LINE_BYTES = 4 * 1024 * 1024  # of a header line
DELIMITER_CANDIDATES = (",", ";", "\t", "|")
HEADER_SEARCH_LINES = 10  # where a header below a report's title lines is looked for


@dataclass(frozen=True)
class Reject:
    """A record the reader could not parse at all."""

    record: int
    reason: str
    column: str | None = None
    byte_offset: int | None = None


@dataclass
class StagedFile:
    """A source file loaded into ``table`` (text columns in file order, insertion order = file order)."""

    path: Path
    table: str
    columns: list[str]
    rows_staged: int
    rejects: list[Reject] = field(default_factory=list)
    empty_records: int = 0  # lines with nothing on them: skipped, not records read
    # For a CSV read through the record pass: the original numbers of the copy DuckDB read, and the copy's
    # ordinals of the records DuckDB rejected (``rejects`` hold original numbers).
    record_map: RecordMap | None = None
    copy_rejects: list[int] = field(default_factory=list)

    @property
    def rows_read(self) -> int:
        return self.rows_staged + len(self.rejects)

    def record_numbers(self, positions: np.ndarray) -> np.ndarray:
        """File record numbers (1-based) of staged rows given their 0-based positions in the table.

        Staged rows fill, in order, the record numbers (of the copy DuckDB read) that no reject took.
        """
        numbers = self.copy_rejects if self.record_map is not None else [r.record for r in self.rejects]
        taken = np.sort(np.fromiter(numbers, dtype=np.int64, count=len(numbers)))
        good_before_reject = taken - np.arange(1, len(taken) + 1)
        ordinal = positions.astype(np.int64) + 1
        copied = ordinal + np.searchsorted(good_before_reject, ordinal, side="left")
        return copied if self.record_map is None else self.record_map.original(copied)


def file_format(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in (".gz", ".zst"):
        suffixes = suffixes[:-1]
    fmt = _READ_FORMATS.get(suffixes[-1]) if suffixes else None
    if fmt is None:
        raise UnreadableFileError(f"{path}: unknown file type; use .csv, .tsv, .parquet or .jsonl (optionally .gz)")
    return fmt


def _text_encoding(dialect: CsvDialect, transcoded_from: str | None) -> str:
    return "utf-8" if transcoded_from else dialect.encoding


def read_csv_header(path: Path, dialect: CsvDialect) -> tuple[list[str], str, int]:
    """The header's column names, the delimiter (detected when the dialect leaves it open) and how many lines
    above the header are skipped (a report's title and date range, found by ``dialect.header_with``)."""
    try:
        handle, transcoded_from = open_text_bytes(path)
        with handle:
            heads = [handle.readline(MAX_LINE_BYTES) for _ in range(HEADER_SEARCH_LINES if dialect.header_with else 1)]
    except UnreadableFileError as exc:
        raise UnreadableFileError(f"{path}: {exc}") from None
    except (OSError, EOFError) as exc:
        raise UnreadableFileError(f"{path}: cannot read ({exc})") from None
    encoding = _text_encoding(dialect, transcoded_from)
    first: tuple[list[str], str, int] | None = None
    for above, raw in enumerate(heads):
        try:
            line = raw.decode(encoding).lstrip("\ufeff").rstrip("\r\n")
        except (UnicodeDecodeError, LookupError):
            if first is not None:  # a data line below the first: that first line is the header
                break
            raise UnreadableFileError(f"{path}: the header is not valid {dialect.encoding} text") from None
        if above == 0 and not line.strip():
            raise UnreadableFileError(f"{path}: the file is empty or has no header line")
        delimiter = dialect.delimiter or max(DELIMITER_CANDIDATES, key=line.count)
        names = _unique_names(next(csv.reader(io.StringIO(line), delimiter=delimiter), []))
        first = first or (names, delimiter, 0)
        if set(dialect.header_with) <= set(names):
            return names, delimiter, above
    if first is None:
        raise UnreadableFileError(f"{path}: the file is empty or has no header line")
    return first


def _unique_names(names: Sequence[str]) -> list[str]:
    out: list[str] = []
    seen: set[str] = set()
    for i, raw in enumerate(names, start=1):
        name = raw.strip() or f"column_{i}"
        base, n = name, 2
        while name in seen:
            name, n = f"{base}_{n}", n + 1
        seen.add(name)
        out.append(name)
    return out


def read_header(path: Path, dialect: CsvDialect) -> list[str] | None:
    """The column names of a CSV or Parquet file without reading its rows (None for JSON-lines)."""
    if not path.is_file():
        raise UnreadableFileError(f"{path}: no such file")
    fmt = file_format(path)
    if fmt == "csv":
        return read_csv_header(path, dialect)[0]
    if fmt == "parquet":
        try:
            return [str(name) for name in pq.read_schema(path).names]
        except (OSError, pa.ArrowException) as exc:
            raise UnreadableFileError(f"{path}: cannot read as Parquet ({str(exc).splitlines()[0][:160]})") from None
    return None


def peek_columns(path: Path, dialect: CsvDialect, *, lines: int = 20) -> list[str]:
    """The column names of a file, for telling what kind of export it is: a CSV or Parquet file's header, or
    the keys of the first JSON objects of a JSON-lines file (an empty list when none can be read)."""
    header = read_header(path, dialect)
    if header is not None:
        return header
    keys: dict[str, None] = {}
    try:
        handle, transcoded_from = open_text_bytes(path)
        with handle:
            for raw in itertools.islice(handle, lines):
                try:
                    value = json.loads(raw.decode(_text_encoding(dialect, transcoded_from)))
                except (UnicodeDecodeError, json.JSONDecodeError):
                    continue
                if isinstance(value, dict):
                    keys.update(dict.fromkeys(str(k) for k in value))
    except UnreadableFileError as exc:
        raise UnreadableFileError(f"{path}: {exc}") from None
    except (OSError, EOFError) as exc:
        raise UnreadableFileError(f"{path}: cannot read ({exc})") from None
    return list(keys)


def stage_file(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    table: str,
    dialect: CsvDialect,
    limits: ReadLimits | None = None,
) -> StagedFile:
    """Load ``path`` into the temporary table ``table``; never raises for bad records, only for bad files."""
    if not path.is_file():
        raise UnreadableFileError(f"{path}: no such file")
    fmt = file_format(path)
    if fmt == "csv" and path.suffix.lower() != ".zst":
        return _stage_csv_records(con, path, table, dialect, limits or ReadLimits())
    if fmt == "csv":
        return _stage_csv(con, path, table, dialect)
    if fmt == "parquet":
        return _stage_parquet(con, path, table)
    return _stage_jsonl(con, path, table, dialect)


def _stage_csv(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    table: str,
    dialect: CsvDialect,
    *,
    max_line_bytes: int = MAX_LINE_BYTES,
    header: tuple[list[str], int] | None = None,
    shown: Path | None = None,
) -> StagedFile:
    if header is None:
        columns, delimiter, above = read_csv_header(path, dialect)
    else:
        (columns, above), delimiter = header, dialect.delimiter or ","
    spec = "{" + ", ".join(f"{text_literal(c)}: 'VARCHAR'" for c in columns) + "}"
    rejects_table, rejects_scan = f"{table}_rejects", f"{table}_scans"
    encoding = {"utf8": "utf-8", "latin1": "latin-1", "iso-8859-1": "latin-1"}.get(
        dialect.encoding.lower().replace("_", "-"), dialect.encoding.lower()
    )
    sql = (
        f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT * FROM read_csv({text_literal(str(path))}, "
        f"columns={spec}, header=true, skip={above}, auto_detect=false, delim={text_literal(delimiter)}, quote='\"', "
        f"escape='\"', encoding={text_literal(encoding)}, strict_mode=true, ignore_errors=true, "
        f"store_rejects=true, rejects_table={text_literal(rejects_table)}, "
        f"rejects_scan={text_literal(rejects_scan)}, max_line_size={max_line_bytes})"
    )
    try:
        con.execute(sql)
    except duckdb.Error as exc:
        message = str(exc).splitlines()[0][:160].replace(str(path), str(shown or path))
        raise UnreadableFileError(f"{shown or path}: cannot read as CSV ({message})") from None
    errors = con.execute(
        f"SELECT line, error_type, column_name, line_byte_position FROM {rejects_table} ORDER BY line, column_idx"
    ).fetchall()
    rejects = [
        Reject(
            record=int(line) - 1 - above,  # rejects count lines from the top of the file
            reason=_CSV_ERRORS.get(str(kind), str(kind).lower()),
            column=name if name in columns else None,
            byte_offset=int(offset) if offset is not None else None,
        )
        for line, group in itertools.groupby(errors, key=lambda row: row[0])
        for kind, name, offset in [next(group)[1:]]
    ]
    staged = _count(con, table)
    con.execute(f"DROP TABLE IF EXISTS {rejects_table}; DROP TABLE IF EXISTS {rejects_scan}")
    return StagedFile(path, table, columns, staged, rejects)


def _stage_csv_records(
    con: duckdb.DuckDBPyConnection, path: Path, table: str, dialect: CsvDialect, limits: ReadLimits
) -> StagedFile:
    """A CSV file through the record pass (see ``_records``), then DuckDB's reader over the pass's copy."""
    columns, delimiter, above = read_csv_header(path, dialect)
    with tempfile.TemporaryDirectory(prefix="shoplens-import-") as scratch:
        copy = Path(scratch) / "records.csv"
        try:
            source, transcoded_from = open_text_bytes(path, limits)
            with source, copy.open("wb", buffering=1024 * 1024) as out:
                cleaned = clean_csv(
                    source, out, skip_lines=above, columns=len(columns), delimiter=delimiter, limits=limits
                )
        except UnreadableFileError as exc:
            raise UnreadableFileError(f"{path}: {exc}") from None
        except (OSError, EOFError) as exc:
            raise UnreadableFileError(f"{path}: cannot read ({exc})") from None
        copied_dialect = CsvDialect(delimiter, _text_encoding(dialect, transcoded_from))
        staged = _stage_csv(
            con,
            copy,
            table,
            copied_dialect,
            max_line_bytes=limits.max_record_bytes + 1024,
            header=(columns, 0),
            shown=path,
        )
    mapping = cleaned.record_map
    copy_rejects = [r.record for r in staged.rejects]
    originals = mapping.original(np.array(copy_rejects, dtype=np.int64))
    rejects = [
        Reject(int(number), r.reason, r.column, None) for number, r in zip(originals, staged.rejects, strict=True)
    ]
    rejects += [Reject(r.record, r.reason, None, r.byte_offset) for r in cleaned.rejects]
    rejects.sort(key=lambda r: r.record)
    return StagedFile(path, table, columns, staged.rows_staged, rejects, cleaned.empty_records, mapping, copy_rejects)


def _stage_parquet(con: duckdb.DuckDBPyConnection, path: Path, table: str) -> StagedFile:
    try:
        described = con.execute(f"DESCRIBE SELECT * FROM read_parquet({text_literal(str(path))})").fetchall()
    except duckdb.Error as exc:
        raise UnreadableFileError(f"{path}: cannot read as Parquet ({str(exc).splitlines()[0][:160]})") from None
    columns = [str(row[0]) for row in described]
    # Nested values (structs, lists, maps) become JSON text, as they do from a JSON-lines file.
    select = ", ".join(
        f'{"to_json" if _nested(str(sql_type)) else ""}("{c}")::VARCHAR AS "{c}"'
        for c, sql_type in ((str(row[0]).replace('"', '""'), row[1]) for row in described)
    )
    con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT {select} FROM read_parquet({text_literal(str(path))})")
    return StagedFile(path, table, columns, _count(con, table))


def _nested(sql_type: str) -> bool:
    return sql_type.endswith("]") or sql_type.startswith(("STRUCT", "MAP", "UNION"))


def _stage_jsonl(con: duckdb.DuckDBPyConnection, path: Path, table: str, dialect: CsvDialect) -> StagedFile:
    records: list[dict[str, Any]] = []
    rejects: list[Reject] = []
    columns: dict[str, None] = {}
    opener = gzip.open if path.suffix.lower() == ".gz" else open
    with opener(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                rejects.append(Reject(number, "empty line"))
                continue
            try:
                value = json.loads(raw.decode(dialect.encoding))
            except UnicodeDecodeError:
                rejects.append(Reject(number, "text is not valid in the file's encoding"))
                continue
            except json.JSONDecodeError:
                rejects.append(Reject(number, "not valid JSON"))
                continue
            if not isinstance(value, dict):
                rejects.append(Reject(number, "not a JSON object"))
                continue
            columns.update(dict.fromkeys(value))
            records.append(value)
    if not records and not rejects:
        raise UnreadableFileError(f"{path}: the file is empty")
    names = list(columns)
    if not names:
        raise UnreadableFileError(f"{path}: no line is a JSON object")
    arrow = pa.table({name: pa.array([_as_text(r.get(name)) for r in records], type=pa.string()) for name in names})
    con.register(f"{table}_arrow", arrow)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT * FROM {table}_arrow")
    con.unregister(f"{table}_arrow")
    return StagedFile(path, table, names, len(records), rejects)


def _as_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    row = con.execute(f"SELECT count(*) FROM {table}").fetchone()
    return int(row[0]) if row else 0
