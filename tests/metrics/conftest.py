"""Fixtures for the metrics tests: the real UCI Online Retail store and a small demo store, on every engine.

``uci`` and ``demo`` are imported once per session into DuckDB warehouses. ``engine`` is parametrised like
ibis' ``con`` fixture: DuckDB always, PostgreSQL under the ``postgres`` marker, Spark under the ``spark``
marker; each engine holds copies of both stores, and ``runner_for(store)`` gives a QueryRunner over one.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from datetime import date
from pathlib import Path

import pytest
from metrics_backends import RunnerFor, Store, import_demo_orders, postgres_schemas, spark_databases
from tests.conftest import DEMO_END, import_online_retail

from shoplens.ingest.demo import generate_demo_store
from shoplens.queries import QueryRunner
from shoplens.warehouse import Warehouse, load_table_file

UCI_TIMEZONE = "Europe/London"  # the UCI file's times are UK local time
DEMO_TIMEZONE = "Asia/Hong_Kong"
SECRET = b"metrics-tests-secret-0123456789abcdef"


@pytest.fixture(scope="session")
def uci(tmp_path_factory: pytest.TempPathFactory, datasets: Path) -> Store:
    return Store("uci", import_online_retail(tmp_path_factory.mktemp("uci"), SECRET), UCI_TIMEZONE)


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Store:
    home = tmp_path_factory.mktemp("demo")
    files = generate_demo_store(home / "export", customers=1500, seed=11, end=date.fromisoformat(DEMO_END))
    with Warehouse(home / "warehouse.duckdb") as warehouse:
        import_demo_orders(warehouse, files, secret=SECRET, quarantine_dir=home / "quarantine")
        for table, path in (("products", files.products_path), ("events", files.events_path)):
            assert path is not None
            load_table_file(warehouse, table, path, SECRET)
    return Store("demo", home, DEMO_TIMEZONE)


def _duckdb_runner(store: Store) -> QueryRunner:
    import duckdb
    import ibis

    backend = ibis.duckdb.from_connection(duckdb.connect(str(store.warehouse), read_only=True))
    return QueryRunner.over(backend, store_timezone=store.timezone)


@pytest.fixture(scope="session")
def duckdb_runner() -> RunnerFor:
    return _duckdb_runner


class Engines:
    """Each engine's copy of both stores, loaded on first use and dropped at the end of the session."""

    def __init__(self, uci: Store, demo: Store) -> None:
        self.stores = {"uci": uci.warehouse, "demo": demo.warehouse}
        self.exits = ExitStack()
        self.loaded: dict[str, RunnerFor] = {"duckdb": _duckdb_runner}

    def runner_for(self, name: str) -> RunnerFor:
        if name not in self.loaded:
            if name == "postgres":
                backends = self.exits.enter_context(postgres_schemas(self.stores))
                self.loaded[name] = lambda store: QueryRunner.over(backends[store.name], store_timezone=store.timezone)
            else:
                pytest.importorskip(
                    "pyspark", reason="Spark tests need: pip install 'ibis-framework[pyspark]' 'pyspark<4.1'"
                )
                found = self.exits.enter_context(spark_databases(self.stores))

                def spark_runner(store: Store) -> QueryRunner:
                    backend, database = found[store.name]
                    return QueryRunner.over(backend, store_timezone=store.timezone, database=database)

                self.loaded[name] = spark_runner
        return self.loaded[name]


@pytest.fixture(scope="session")
def engines(uci: Store, demo: Store) -> Iterator[Engines]:
    found = Engines(uci, demo)
    with found.exits:
        yield found


POSTGRES = pytest.param("postgres", marks=pytest.mark.postgres)
SPARK = pytest.param("spark", marks=[pytest.mark.spark, pytest.mark.slow])


@pytest.fixture(params=["duckdb", POSTGRES, SPARK])
def engine(request: pytest.FixtureRequest, engines: Engines) -> tuple[str, RunnerFor]:
    """(engine name, runner_for(store)): DuckDB always, PostgreSQL and Spark under their markers."""
    return request.param, engines.runner_for(request.param)


@pytest.fixture(params=["duckdb", POSTGRES])
def sql_engine(request: pytest.FixtureRequest, engines: Engines) -> tuple[str, RunnerFor]:
    """Like ``engine`` without Spark, for suites on real data where Spark's seconds per query add minutes; such a
    suite runs one of its tests on ``engine`` so that Spark still answers the same definition."""
    return request.param, engines.runner_for(request.param)


@pytest.fixture(params=[POSTGRES, SPARK])
def other_engine(request: pytest.FixtureRequest, engines: Engines) -> tuple[str, RunnerFor]:
    """Like ``engine`` without DuckDB, for tests that compare an engine with DuckDB."""
    return request.param, engines.runner_for(request.param)
