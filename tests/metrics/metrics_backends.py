"""Support for the metrics tests: the stores, importing a generated demo store, comparing results, the stores'
tables on other engines, and the UCI Online Retail lines as the importer's documented rules keep them, restated in
pandas.

DuckDB reads the warehouse file itself. PostgreSQL gets a fresh, uniquely named schema per test session
(loaded with COPY, dropped afterwards); Spark gets a local session with one database per store. Only the
columns the metrics read are copied (row fingerprints and import ids stay behind).
"""

from __future__ import annotations

import io
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa
import pytest
import yaml
from tests.conftest import ONLINE_RETAIL

from shoplens.ingest.demo import DemoFiles
from shoplens.queries import QueryRunner
from shoplens.schema import TABLES
from shoplens.warehouse import Warehouse, import_files

METRIC_TABLES = ("orders", "order_lines", "refunds", "customers", "products", "events")
SKIPPED_COLUMNS = {"row_key", "import_id"}
PG_TYPES = {"VARCHAR": "TEXT", "TIMESTAMP": "TIMESTAMP", "INTEGER": "INTEGER", "BOOLEAN": "BOOLEAN", "DATE": "DATE"}
POSTGRES = {"host": "127.0.0.1", "port": 5432, "user": "postgres", "dbname": "test"}


def import_demo_orders(warehouse: Warehouse, files: DemoFiles, *, secret: bytes, quarantine_dir: Path) -> None:
    """The orders of a generated demo store imported with the mapping written beside them."""
    mapping = yaml.safe_load(files.mapping_path.read_text())
    import_files(
        warehouse,
        [files.orders_path],
        profile_name="generic",
        secret=secret,
        quarantine_dir=quarantine_dir,
        mapping=mapping,
    )


def online_retail_lines() -> pd.DataFrame:
    """The raw UCI Online Retail lines the importer keeps, by its documented rules (README), independently of it.

    A-invoices, negative prices and zero prices on sales are quarantined; C-invoices are refunds (``refund``); a
    line is worth |quantity| x price rounded half up to the cent (``cents``).
    """
    raw = pd.read_parquet(ONLINE_RETAIL)
    cancelled = raw["InvoiceNo"].str.startswith("C")
    quarantined = raw["InvoiceNo"].str.startswith("A") | (raw["UnitPrice"] < 0) | (~cancelled & (raw["UnitPrice"] == 0))
    good = raw[~quarantined].copy()
    price_ten_thousandths = (good["UnitPrice"] * 10_000).round().astype("int64")
    # |quantity| x price in 1/10,000 of a pound, rounded half up to the penny.
    good["cents"] = (good["Quantity"].abs() * price_ten_thousandths + 50) // 100
    good["refund"] = good["InvoiceNo"].str.startswith("C")
    return good


def columns(table: str) -> list[tuple[str, str]]:
    return [(c.name, c.sql_type) for c in TABLES[table].columns if c.name not in SKIPPED_COLUMNS]


def _select(cols: list[tuple[str, str]]) -> str:
    return ", ".join(f'"{name}"' for name, _ in cols)


def read_tables(warehouse: Path) -> dict[str, pa.Table]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {
            name: con.sql(f"SELECT {_select(columns(name))} FROM {name}").to_arrow_table() for name in METRIC_TABLES
        }


@contextmanager
def postgres_schemas(stores: dict[str, Path]) -> Iterator[dict[str, Any]]:
    """One schema per store (``<session>_<store>``) with its tables; yields ibis backends; drops them after."""
    import ibis
    import psycopg

    session = f"shoplens_metrics_{uuid.uuid4().hex[:10]}"
    backends: dict[str, Any] = {}
    with psycopg.connect(**POSTGRES, autocommit=True) as pg:
        try:
            for store, warehouse in stores.items():
                schema = f"{session}_{store}"
                pg.execute(f'CREATE SCHEMA "{schema}"')
                with duckdb.connect(str(warehouse), read_only=True) as source:
                    for name in METRIC_TABLES:
                        cols = columns(name)
                        pg.execute(f'CREATE TABLE "{schema}"."{name}" ({_pg_columns(cols)})')
                        text = io.StringIO()
                        frame = source.sql(f"SELECT {_select(cols)} FROM {name}").df()
                        frame.to_csv(text, index=False, header=False)
                        with pg.cursor().copy(f'COPY "{schema}"."{name}" FROM STDIN (FORMAT csv)') as copy:
                            copy.write(text.getvalue())
                backends[store] = ibis.postgres.connect(
                    host=POSTGRES["host"],
                    port=POSTGRES["port"],
                    user=POSTGRES["user"],
                    database=POSTGRES["dbname"],
                    schema=schema,
                )
            yield backends
        finally:
            for backend in backends.values():
                backend.disconnect()
            for store in stores:
                pg.execute(f'DROP SCHEMA IF EXISTS "{session}_{store}" CASCADE')


def _pg_columns(cols: list[tuple[str, str]]) -> str:
    def pg_type(sql_type: str) -> str:
        if sql_type.startswith("DECIMAL"):
            return sql_type.replace("DECIMAL", "NUMERIC")
        return PG_TYPES[sql_type]

    return ", ".join(f'"{name}" {pg_type(sql_type)}' for name, sql_type in cols)


@contextmanager
def spark_databases(stores: dict[str, Path]) -> Iterator[dict[str, tuple[Any, str]]]:
    """A local Spark session with one database per store; yields (ibis backend, database) per store."""
    import ibis
    from pyspark.sql import SparkSession

    # Tables are written under spark.sql.warehouse.dir, by default ./spark-warehouse of the checkout.
    tables_dir = tempfile.TemporaryDirectory(prefix="shoplens-spark-")
    spark = (
        SparkSession.builder.master("local[2]")
        .appName("shoplens-metrics-tests")
        .config("spark.sql.warehouse.dir", tables_dir.name)
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .getOrCreate()
    )
    backend = ibis.pyspark.connect(spark)
    session = f"shoplens_metrics_{uuid.uuid4().hex[:10]}"
    try:
        found: dict[str, tuple[Any, str]] = {}
        for store, warehouse in stores.items():
            database = f"{session}_{store}"
            spark.sql(f"CREATE DATABASE {database}")
            for name, table in read_tables(warehouse).items():
                spark.createDataFrame(table).write.saveAsTable(f"{database}.{name}")
            found[store] = (backend, database)
        yield found
    finally:
        for store in stores:
            spark.sql(f"DROP DATABASE IF EXISTS {session}_{store} CASCADE")
        spark.stop()
        tables_dir.cleanup()


@dataclass(frozen=True)
class Store:
    name: str
    home: Path
    timezone: str

    @property
    def warehouse(self) -> Path:
        return self.home / "warehouse.duckdb"


RunnerFor = Callable[[Store], QueryRunner]


class ResultsDifferError(AssertionError):
    """An engine answered a query differently from DuckDB: the exception a parity gap marker names."""


def same(expected: Any, got: Any, *, path: str = "", tolerance: float = 2e-6) -> None:
    """Assert two results are equal: exactly for ints, money, dates and text; floats to ``tolerance``."""
    if isinstance(expected, dict):
        assert isinstance(got, dict), path
        assert list(expected) == list(got), f"{path}: keys differ"
        for key in expected:
            same(expected[key], got[key], path=f"{path}.{key}", tolerance=tolerance)
    elif isinstance(expected, list):
        assert isinstance(got, list), path
        assert len(expected) == len(got), f"{path}: lengths differ"
        for index, (a, b) in enumerate(zip(expected, got, strict=True)):
            same(a, b, path=f"{path}[{index}]", tolerance=tolerance)
    elif isinstance(expected, float) and isinstance(got, (float, int)):
        assert got == pytest.approx(expected, abs=tolerance, rel=1e-9), path
    else:
        assert expected == got, f"{path}: {expected!r} != {got!r}"
