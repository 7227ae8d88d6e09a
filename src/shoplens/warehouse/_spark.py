"""A warehouse in Spark: a local session (``spark://local``), a standalone cluster (``spark://host:port``) or a
Spark Connect server (``sc://host:port``).

The canonical tables are Parquet tables in one database. A local session keeps them under
``<home>/spark-warehouse`` and registers them again on every start (its catalog lives only as long as the
process). Spark has no transactions over plain Parquet tables: a file's changes are appended table by table,
and the data version is bumped last, so a reader that saw the new version sees every change.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import ibis
import pyarrow as pa

from shoplens.errors import WarehouseError
from shoplens.schema import TABLES
from shoplens.warehouse._changes import TableChange
from shoplens.warehouse._ddl import META_TABLE, EngineName, arrow_schema, create_table_sql, upgrade_sql

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

LOCAL = "spark://local"
REMOTE_DATABASE = "shoplens"


def _session(url: str) -> SparkSession:
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise WarehouseError(f"{url} needs pyspark: pip install 'shoplens[spark]'") from None
    if url.startswith("sc://"):
        return SparkSession.builder.remote(url).getOrCreate()
    master = "local[2]" if url == LOCAL else url
    session = (
        SparkSession.builder.master(master)
        .appName("shoplens")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    # A session of its own: its current database is this store's, whatever other stores the process opens.
    return session.newSession()


class SparkWarehouse:
    """An open Spark warehouse."""

    engine: EngineName = "spark"

    def __init__(self, url: str, home: Path, *, read_only: bool = False) -> None:
        self.url = url
        self.local = url == LOCAL
        self.root = (home / "spark-warehouse").resolve()
        try:
            self.spark = _session(url)
        except WarehouseError:
            raise
        except Exception as exc:  # the JVM's errors come as many types; each is one reason not to go on
            raise WarehouseError(f"cannot start Spark for {url}: {str(exc).strip().splitlines()[0][:200]}") from None
        digest = hashlib.sha256(str(self.root).encode()).hexdigest()[:12]
        self.database = f"shoplens_{digest}" if self.local else REMOTE_DATABASE
        if read_only and self.local and not (self.root / META_TABLE).exists():
            raise WarehouseError(
                f"no warehouse at {self.root}; import data first (shoplens import ... or shoplens demo)"
            )
        self._register_tables()
        self._backend: ibis.BaseBackend | None = None

    def _location(self, name: str) -> str | None:
        return str(self.root / name) if self.local else None

    def _register_tables(self) -> None:
        location = f" LOCATION '{self.root}'" if self.local else ""
        self.spark.sql(f"CREATE DATABASE IF NOT EXISTS {self.database}{location}")
        self.spark.catalog.setCurrentDatabase(self.database)
        existing = {t.name for t in self.spark.catalog.listTables(self.database)}
        for table in TABLES.values():
            if table.name in existing:
                present = [c.name for c in self.spark.catalog.listColumns(f"{self.database}.{table.name}")]
                for statement in upgrade_sql(table, "spark", present):
                    self.spark.sql(statement)
            self.spark.sql(create_table_sql(table, "spark", location=self._location(table.name)))
        meta_location = self._location(META_TABLE)
        self.spark.sql(
            f"CREATE TABLE IF NOT EXISTS {META_TABLE} (key STRING, value STRING) USING parquet"
            + (f" LOCATION '{meta_location}'" if meta_location else "")
        )
        if not self.spark.table(META_TABLE).count():
            self.spark.sql(f"INSERT INTO {META_TABLE} VALUES ('data_version', '0')")

    @property
    def backend(self) -> ibis.BaseBackend:
        if self._backend is None:
            self._backend = ibis.pyspark.connect(self.spark)
        return self._backend

    def describe(self) -> str:
        return f"{self.url} (database {self.database})"

    def data_version(self) -> int:
        rows = self.spark.sql(f"SELECT value FROM {META_TABLE} WHERE key = 'data_version'").collect()
        return int(rows[0][0]) if rows else 0

    def change_token(self) -> str:
        return f"spark:{self.data_version()}"

    def row_counts(self) -> dict[str, int]:
        return {name: int(self.spark.table(name).count()) for name in TABLES}

    def _arrow(self, frame: object, table_name: str) -> pa.Table:
        arrow: pa.Table = frame.toArrow()  # type: ignore[attr-defined]
        schema = arrow_schema(TABLES[table_name])
        columns = [arrow.column(f.name).cast(f.type) for f in schema]
        return pa.Table.from_arrays(columns, schema=schema)

    def read_rows(self, table_name: str, column: str, keys: pa.Array, *, lower: bool = False) -> pa.Table:
        """The rows of a table whose ``column`` (lower-cased with ``lower``) is one of ``keys``, all columns."""
        from pyspark.sql import functions

        wanted = self.spark.createDataFrame(pa.table({"_wanted_key": keys}))
        value = functions.lower(functions.col(column)) if lower else functions.col(column)
        rows = self.spark.table(table_name).join(wanted, value == wanted["_wanted_key"], "left_semi")
        return self._arrow(rows, table_name)

    def _write(self, table_name: str, rows: pa.Table, *, overwrite: bool) -> None:
        target = self.spark.table(table_name)
        frame = self.spark.createDataFrame(rows.select(TABLES[table_name].column_names), schema=target.schema)
        frame.write.insertInto(table_name, overwrite=overwrite)

    def apply(self, changes: Sequence[TableChange]) -> None:
        """Replace and append rows table by table, then bump the data version."""
        for change in changes:
            table = TABLES[change.table]
            if change.replaced is not None and change.replaced.num_rows:
                # Plain Parquet tables cannot delete rows: the table is written again without the replaced ones.
                current = self._arrow(self.spark.table(table.name), table.name)
                keys = ", ".join(f'"{k}"' for k in table.primary_key)
                with duckdb.connect() as scratch:
                    scratch.register("current_rows", current)
                    scratch.register("replaced_keys", change.replaced.select(list(table.primary_key)))
                    scratch.register("new_rows", change.rows.select(table.column_names))
                    kept = scratch.sql(
                        f"SELECT * FROM current_rows ANTI JOIN replaced_keys USING ({keys}) "
                        "UNION ALL SELECT * FROM new_rows"
                    ).to_arrow_table()
                self._write(table.name, kept, overwrite=True)
            elif change.rows.num_rows:
                self._write(table.name, change.rows, overwrite=False)
        version = self.data_version() + 1
        self.spark.sql(f"INSERT OVERWRITE TABLE {META_TABLE} VALUES ('data_version', '{version}')")

    def close(self) -> None:
        # The Spark context is the process's (starting one takes seconds): it stays up for the next warehouse,
        # and stops with the process. Disconnecting the Ibis backend would stop it.
        self._backend = None
