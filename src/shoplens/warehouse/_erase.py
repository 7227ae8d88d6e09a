"""Erasing a person from the warehouse and the quarantine files (the rule of what is cleared is the privacy layer's,
:data:`shoplens.privacy.ERASED_TEXT`).

In the warehouse the vault row is deleted; every other row carrying the person's key moves to a fresh key
(``erased_key``) with its free text cleared, in one change (one transaction where the engine has them), so sales
totals stay right and nothing links the rows back. A DuckDB file is then written anew, so that no freed block keeps
the deleted bytes (PostgreSQL's VACUUM reclaims them in its own time). In the quarantine files every rejected row
naming any of the person's identifiers (e-mail, the shop's customer id, phone, name, address) as a value is dropped.
"""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from shoplens.privacy import ERASED_TEXT, VAULT_KEY, VAULT_TABLE
from shoplens.schema import TABLES
from shoplens.warehouse._changes import TableChange
from shoplens.warehouse._connection import Warehouse
from shoplens.warehouse._duckdb_file import DuckDBFile

KEYED_TABLES = tuple(name for name, table in TABLES.items() if VAULT_KEY in table.column_names)
VALUES_SEPARATOR = "; "


def erase_from_warehouse(warehouse: Warehouse, key: str, *, new_key: str) -> dict[str, int]:
    """Rows of ``key`` per table that were deleted (the vault) or moved to ``new_key`` (the rest)."""
    return erase_many_from_warehouse(warehouse, {key: new_key})


def erase_many_from_warehouse(warehouse: Warehouse, new_keys: Mapping[str, str]) -> dict[str, int]:
    """Erase several people in one change: each key's rows are deleted (the vault) or moved to its own fresh key
    in ``new_keys`` (the rest); rows per table, all people together."""
    changes, counts = [], {}
    asked = ibis.memtable({"erased_key": list(new_keys)}, schema={"erased_key": "string"})
    for name in KEYED_TABLES:
        table = warehouse.backend.table(name)
        held = table.semi_join(asked, table[VAULT_KEY] == asked.erased_key)
        found = exact_columns(held, name).to_pyarrow()
        if not found.num_rows:
            continue
        counts[name] = found.num_rows
        replaced = found.select(list(TABLES[name].primary_key))
        if name == VAULT_TABLE:
            changes.append(TableChange(name, found.slice(0, 0), replaced))
            continue
        fresh = [new_keys[str(old)] for old in found.column(VAULT_KEY).to_pylist()]
        moved = found.set_column(found.schema.get_field_index(VAULT_KEY), VAULT_KEY, pa.array(fresh, pa.string()))
        for column in ERASED_TEXT.get(name, ()):
            index = moved.schema.get_field_index(column)
            moved = moved.set_column(index, column, pa.nulls(moved.num_rows, moved.schema.field(column).type))
        changes.append(TableChange(name, moved, replaced))
    warehouse.apply_changes(changes)
    if isinstance(warehouse.store, DuckDBFile):
        warehouse.store.rewrite()  # freed blocks would still hold the deleted bytes
    return counts


def delete_older_than(warehouse: Warehouse, name: str, column: str, cutoff: datetime) -> int:
    """Delete the rows of table ``name`` whose ``column`` is before ``cutoff`` (UTC); how many went."""
    table = warehouse.backend.table(name)
    moment = ibis.literal(cutoff.astimezone(UTC).replace(tzinfo=None), type="timestamp")
    old = table.filter(table[column] < moment).select(*TABLES[name].primary_key).to_pyarrow()
    if old.num_rows:
        warehouse.apply_changes([TableChange(name, exact_columns(table, name).limit(0).to_pyarrow(), old)])
    return int(old.num_rows)


def rewrite_file(warehouse: Warehouse) -> None:
    """Write a DuckDB file anew, so that no freed block keeps deleted bytes (other engines reclaim in their time)."""
    if isinstance(warehouse.store, DuckDBFile):
        warehouse.store.rewrite()


def exact_columns(table: ir.Table, name: str) -> ir.Table:
    """``table`` with its 128-bit fingerprints as text: Arrow has no unsigned 128-bit type and would wrap the large
    ones into negative decimals; every engine reads the text back into the column exactly."""
    wide = [column.name for column in TABLES[name].columns if column.sql_type == "UHUGEINT"]
    return table.mutate(**{column: table[column].cast("string") for column in wide}) if wide else table


def erase_from_quarantine(directory: Path, identifiers: Iterable[str]) -> int:
    """Drop every quarantined row with one of ``identifiers`` (compared without case) among its values; return
    how many were dropped. Files are rewritten in place, atomically."""
    wanted = {value.strip().lower() for value in identifiers if value and value.strip()}
    if not wanted or not directory.is_dir():
        return 0
    dropped = 0
    for path in sorted(directory.glob("*.csv")):
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
        if not rows:
            continue
        kept = [rows[0]] + [row for row in rows[1:] if not _names_any(row, wanted)]
        if len(kept) == len(rows):
            continue
        dropped += len(rows) - len(kept)
        handle_fd, temporary = tempfile.mkstemp(dir=directory, suffix=".tmp")
        with os.fdopen(handle_fd, "w", newline="", encoding="utf-8") as out:
            csv.writer(out).writerows(kept)
        os.replace(temporary, path)
    return dropped


def _names_any(row: list[str], wanted: set[str]) -> bool:
    for field in row:
        for part in field.split(VALUES_SEPARATOR):
            value = part.split("=", 1)[1] if "=" in part else part
            if value.strip().lower() in wanted:
                return True
    return False
