"""A scratch DuckDB that stands in for a PostgreSQL or Spark warehouse while one file is imported.

The import pipeline validates and de-duplicates in DuckDB, whatever engine holds the store. For another
engine it works in an empty in-memory copy of the canonical tables into which :meth:`ScratchMirror.fetch`
first copies the rows of the real warehouse that the file touches (the orders it names, their lines and
fingerprints, its customers, products, feedback ids...). The pipeline's SQL then runs unchanged, and
:meth:`ScratchMirror.changes` hands back what it changed — rows new to a table, and rows that replace a
fetched one — for the warehouse to apply in bulk.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Mapping

import duckdb
import pyarrow as pa

from shoplens.schema import TABLES, Table
from shoplens.warehouse._changes import TableChange
from shoplens.warehouse._ddl import FINGERPRINT_TYPE, arrow_schema
from shoplens.warehouse._duckdb_file import ensure_schema
from shoplens.warehouse._postgres import PostgresWarehouse
from shoplens.warehouse._spark import SparkWarehouse


def _before(table: Table) -> str:
    return f'"_before_{table.name}"'


def _as_travelled(table: Table) -> str:
    """The table's columns as they travel to other engines (fingerprints as hexadecimal text: DuckDB writes
    a UHUGEINT in hexadecimal hundreds of times faster than in decimal)."""
    return ", ".join(
        f'hex("{c.name}") AS "{c.name}"' if c.sql_type == FINGERPRINT_TYPE else f'"{c.name}"' for c in table.columns
    )


def _as_stored(table: Table) -> str:
    return ", ".join(
        f'CAST(\'0x\' || "{c.name}" AS {c.sql_type}) AS "{c.name}"'
        if c.sql_type == FINGERPRINT_TYPE
        else f'CAST("{c.name}" AS {c.sql_type}) AS "{c.name}"'
        for c in table.columns
    )


class ScratchMirror:
    """The scratch DuckDB of one import into a PostgreSQL or Spark warehouse."""

    def __init__(self, remote: PostgresWarehouse | SparkWarehouse) -> None:
        self.remote = remote
        self.con = duckdb.connect()
        self.con.execute("SET enable_progress_bar = false")
        # Where the import's rows spill past its memory limit (an in-memory DuckDB has no file to spill beside).
        self._spill = tempfile.TemporaryDirectory(prefix="shoplens-scratch-")
        self.con.execute(f"SET temp_directory = '{self._spill.name}'")
        ensure_schema(self.con)
        self._fetched: set[str] = set()

    def fetch(self, table_name: str, column: str, keys_sql: str, params: Mapping[str, object], *, lower: bool) -> None:
        """Copy in the warehouse's rows of ``table_name`` whose ``column`` is one of the keys ``keys_sql`` selects
        (one column ``k``), unless already here."""
        table = TABLES[table_name]
        keys: pa.Table = self.con.sql(
            f"SELECT DISTINCT CAST(k AS VARCHAR) AS k FROM ({keys_sql}) WHERE k IS NOT NULL", params=dict(params)
        ).to_arrow_table()
        if table_name not in self._fetched:
            self.con.execute(f'CREATE TEMP TABLE {_before(table)} AS SELECT * FROM "{table.name}" LIMIT 0')
            self._fetched.add(table_name)
        if not keys.num_rows:
            return
        found = self.remote.read_rows(table_name, column, keys.column("k").combine_chunks(), lower=lower)
        if not found.num_rows:
            return
        key = ", ".join(f'"{k}"' for k in table.primary_key)
        self.con.register("_found_rows", found)
        for target in (f'"{table.name}"', _before(table)):
            self.con.execute(
                f"INSERT INTO {target} SELECT * FROM (SELECT {_as_stored(table)} FROM _found_rows) "
                f"ANTI JOIN {target} USING ({key})"
            )
        self.con.unregister("_found_rows")

    def changes(self, tables: Iterable[str]) -> list[TableChange]:
        """What the pipeline changed in these tables, relative to the rows fetched."""
        found: list[TableChange] = []
        for name in tables:
            table = TABLES[name]
            before = _before(table) if name in self._fetched else None
            changed = f'SELECT * FROM "{name}"' + (f" EXCEPT SELECT * FROM {before}" if before else "")
            rows: pa.Table = self.con.sql(f"SELECT {_as_travelled(table)} FROM ({changed})").to_arrow_table()
            if not rows.num_rows:
                continue
            rows = rows.cast(arrow_schema(table))
            replaced: pa.Table | None = None
            if before:
                key = ", ".join(f'"{k}"' for k in table.primary_key)
                self.con.register("_changed_rows", rows)
                replaced = self.con.sql(
                    f"SELECT {key} FROM _changed_rows SEMI JOIN {before} USING ({key})"
                ).to_arrow_table()
                self.con.unregister("_changed_rows")
            found.append(TableChange(name, rows, replaced))
        return found

    def reset(self) -> None:
        """Empty the scratch tables for the next file (the warehouse has moved on)."""
        for name in self._fetched:
            self.con.execute(f"DROP TABLE IF EXISTS {_before(TABLES[name])}")
        self._fetched.clear()
        for name in TABLES:
            self.con.execute(f'DELETE FROM "{name}"')

    def close(self) -> None:
        self.con.close()
        self._spill.cleanup()
