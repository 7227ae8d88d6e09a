"""Shared fixtures: the real datasets, a fresh store home, and an in-process CLI runner; the engine gap markers."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from engine_gaps import check_gap_markers, mark_known_gaps
from shoplens.cli import main

REPO = Path(__file__).resolve().parents[1]
DATASETS = REPO / "datasets"  # real published data, shipped with the repository (datasets/SOURCES.md)
FIXTURES = Path(__file__).parent / "fixtures"
ONLINE_RETAIL = DATASETS / "online_retail" / "online_retail.parquet"
CDNOW_SAMPLE = DATASETS / "cdnow" / "CDNOW_sample.csv.gz"
CDNOW_MASTER = DATASETS / "cdnow" / "CDNOW_master.csv.gz"
POSTGRES_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    check_gap_markers(items)


def pytest_runtest_call(item: pytest.Item) -> None:
    mark_known_gaps(item)


@pytest.fixture(scope="session")
def datasets() -> Path:
    if not DATASETS.is_dir():
        pytest.fail(f"the real datasets are missing at {DATASETS} (they are part of the repository)")
    return DATASETS


def build_demo_store(home: Path, *, customers: int, seed: int) -> Path:
    """`shoplens demo --customers N --seed S --no-serve` into HOME; fails the test if it does not build."""
    exit_code: object = 0
    try:
        main(["--home", str(home), "demo", "--customers", str(customers), "--seed", str(seed), "--no-serve", "--json"])
    except SystemExit as done:
        exit_code = done.code
    assert not exit_code, "the demo store builds"
    return home


def import_online_retail(home: Path, secret: bytes) -> Path:
    """The real UCI Online Retail file imported into a warehouse under ``home`` with the given store secret."""
    from shoplens.warehouse import Warehouse, import_files

    with Warehouse(home / "warehouse.duckdb") as warehouse:
        import_files(
            warehouse, [ONLINE_RETAIL], profile_name="online-retail", secret=secret, quarantine_dir=home / "quarantine"
        )
    return home


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> Callable[..., CliResult]:
    """Run ``shoplens --home <tmp>/home ARGS...`` in-process and capture its exit code and streams."""
    home = tmp_path / "home"

    def run(*args: str, home_dir: Path | None = None) -> CliResult:
        capsys.readouterr()
        try:
            main(["--home", str(home_dir or home), *args])
            code = 0
        except SystemExit as done:
            code = int(done.code or 0)
        out, err = capsys.readouterr()
        return CliResult(code, out, err)

    return run


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database on the local server, dropped afterwards (tests marked ``postgres``)."""
    name = f"shoplens_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as con:
        con.execute(text(f'CREATE DATABASE "{name}"'))
    yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    with admin.connect() as con:
        con.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()
