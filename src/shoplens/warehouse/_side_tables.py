"""The table target: a file already in a canonical table's shape (products, events, feedback, spend, calendar).

Columns are matched by name and typed by the table's own types. Such files may carry the shop's
``customer_id`` instead of ``customer_key``; it is turned into the pseudonymous key here and never stored. The
fingerprint is the table's primary key: rows whose key is already in the table are skipped, so loading the
same file twice adds nothing. These files are written by programs (the demo, another system's export), so a
bad record fails the whole file instead of being quarantined.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from shoplens.errors import InputError, MissingColumnsError
from shoplens.ingest import CsvDialect
from shoplens.schema import TABLES, Column, Table
from shoplens.warehouse._connection import Warehouse
from shoplens.warehouse._identity import adopt_vault_keys
from shoplens.warehouse._parsing import Check, customer_key_sql, fault_sql, text_sql
from shoplens.warehouse._pipeline import (
    FileCounts,
    FileLoad,
    ImportSummary,
    Pipeline,
    Plan,
    TableFile,
    new_import_id,
    scratch_for,
)
from shoplens.warehouse._quarantine import QuarantineWriter
from shoplens.warehouse._readers import StagedFile

SIDE_TABLES = ("products", "events", "feedback", "marketing_spend", "events_calendar", "inventory", "tickets")


def _required(table: Table) -> list[str]:
    return [c.name for c in table.columns if not c.nullable and c.default is None and c.name != "customer_key"]


class TableSource:
    """Files whose columns are named like the table's."""

    dialect = CsvDialect()

    def __init__(self, table: Table) -> None:
        self.table = table
        self.name = table.name

    def plan(self, path: Path, header: Sequence[str]) -> Plan:
        missing = [name for name in _required(self.table) if name not in header]
        if missing:
            raise MissingColumnsError(str(path), self.table.name, missing)
        return TableFile(self.table.name, tuple(header))


class TableTarget:
    """Rows of one canonical table, de-duplicated by its primary key."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self.name = table.name
        self.tables: tuple[str, ...] = (table.name,)
        self._with_ids = False
        self.parsed_table = "stg_table"
        self.work_tables: tuple[str, ...] = ("stg_table",)

    def parse(self, load: FileLoad, staged: StagedFile, plan: Plan) -> None:
        if not isinstance(plan, TableFile):
            raise TypeError(f"the table target reads a TableFile, not {type(plan).__name__}")
        present = set(plan.columns)
        with_keys = "customer_id" in present and "customer_key" in self.table.column_names
        self._with_ids = with_keys
        typed, checks = [], []
        for column in self.table.columns:
            raw = text_sql(f's."{column.name}"') if column.name in present else "NULL"
            if column.default is not None:
                raw = f"coalesce({raw}, {column.default})"
            if column.name == "customer_key" and with_keys:
                typed.append(f'{customer_key_sql(text_sql("s.customer_id"))} AS "customer_key"')
                typed.append(f'{text_sql("s.customer_id")} AS "customer_id"')
                continue
            value = f"TRY_CAST({raw} AS {column.sql_type})"
            typed.append(f'{value} AS "{column.name}"')
            checks.extend(_checks(column, raw, value))
        load.con.execute(
            f"CREATE OR REPLACE TEMP TABLE stg_table AS SELECT s.rowid AS pos, {fault_sql(checks)} AS _fault, "
            f"{', '.join(typed)} FROM {staged.table} s",
            load.pads if with_keys else None,
        )

    def redacted_columns(self, plan: Plan) -> set[str]:
        return set()

    def _new_rows(self) -> str:
        match = " AND ".join(f'n."{k}" = t."{k}"' for k in self.table.primary_key)
        return (
            f"SELECT * FROM stg_table n WHERE n._fault IS NULL "
            f'AND NOT EXISTS (SELECT 1 FROM "{self.table.name}" t WHERE {match})'
        )

    def split_new(self, load: FileLoad) -> FileCounts:
        if "customer_key" in self.table.column_names and self._with_ids:
            adopt_vault_keys(load, "stg_table", email_column=None)
        key = self.table.primary_key[0]
        load.existing(self.table.name, key, f'SELECT "{key}" AS k FROM stg_table WHERE _fault IS NULL')
        return FileCounts(
            valid=load.count("SELECT count(*) FROM stg_table WHERE _fault IS NULL"),
            new=load.count(f"SELECT count(*) FROM ({self._new_rows()})"),
        )

    def load(self, load: FileLoad, summary: ImportSummary) -> None:
        columns = ", ".join(f'"{c}"' for c in self.table.column_names)
        load.con.execute(f'INSERT INTO "{self.table.name}" ({columns}) SELECT {columns} FROM ({self._new_rows()})')


def _checks(column: Column, raw: str, value: str) -> list[Check]:
    checks = []
    if not column.nullable:
        checks.append(Check(f"{raw} IS NULL", column.name, f"missing {column.name.replace('_', ' ')}"))
    if column.sql_type != "VARCHAR":
        checks.append(Check(f"{raw} IS NOT NULL AND {value} IS NULL", column.name, f"not a {column.sql_type.lower()}"))
    return checks


def load_table_file(warehouse: Warehouse, table: str, path: Path, secret: bytes) -> int:
    """Append the rows of ``path`` that are new to ``table``; return how many were added."""
    if table not in SIDE_TABLES:
        raise InputError(f"cannot load {table!r} directly; choose one of: {', '.join(SIDE_TABLES)}")
    spec = TABLES[table]
    pipeline = Pipeline(warehouse, TableTarget(spec), TableSource(spec), secret=secret)
    pipeline.check_header(path)
    summary = ImportSummary(new_import_id(), table, [str(path)])
    mirror = scratch_for(warehouse)
    # Strict: a bad record fails the file before anything is queued, so this quarantine is never written.
    unused_quarantine = QuarantineWriter(path.with_name(f"{path.name}.quarantine.csv"))
    try:
        pipeline.import_file(path, summary, unused_quarantine, mirror, strict=True)
    finally:
        if mirror is not None:
            mirror.close()
    return summary.rows_loaded
