"""Shared fixtures: the real datasets, a fresh store home, an in-process CLI runner, the warehouse engine a test
runs on; the engine gap markers."""

from __future__ import annotations

import io
import json
import os
import socket
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, redirect_stderr, redirect_stdout
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
# The demo store ends yesterday by default; tests pin its last day so that their expectations hold on any day.
DEMO_END = "2025-12-30"
POSTGRES_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


# The web app computes the dashboard's answers in the background after an import; in tests that would run every
# analysis behind each app a test makes, so it is off unless a test turns it on (tests/web/test_web_warm.py).
os.environ.setdefault("SHOPLENS_WARM_PAGES", "0")

# Spark parity runs one case per question by default; the variants of a question (other grains, splits, an as-of
# day) add minutes of Spark jobs and little news, so they run with SHOPLENS_TEST_SPARK=all.
SPARK_VARIANTS = frozenset(
    {
        "spark-kpis-week-channel",
        "spark-kpis-day-window",
        "spark-kpis-quarter-country",
        "spark-kpis-month-segment",
        "spark-funnel-source",
        "spark-cohorts-quarter-channel",
        "spark-rfm-as-of",
        "spark-shifts-product-champions",
    }
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    check_gap_markers(items)
    if os.environ.get("SHOPLENS_TEST_SPARK") == "all":
        return
    variants = [item for item in items if getattr(item, "callspec", None) and item.callspec.id in SPARK_VARIANTS]
    if variants:
        config.hook.pytest_deselected(items=variants)
        items[:] = [item for item in items if item not in variants]


def pytest_runtest_call(item: pytest.Item) -> None:
    mark_known_gaps(item)


@pytest.fixture(scope="session")
def datasets() -> Path:
    if not DATASETS.is_dir():
        pytest.fail(f"the real datasets are missing at {DATASETS} (they are part of the repository)")
    return DATASETS


def build_demo_store(home: Path, *, customers: int, seed: int) -> Path:
    """`shoplens demo --customers N --seed S --no-serve` into HOME; fails the test if it does not build."""
    args = ["--home", str(home), "demo", "--customers", str(customers), "--seed", str(seed), "--no-serve", "--json"]
    args += ["--end-date", DEMO_END]
    assert not _exit_code_of(args), "the demo store builds"
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


def _exit_code_of(args: Sequence[str]) -> int:
    try:
        main(list(args))
    except SystemExit as done:
        return int(done.code or 0)
    return 0


def run_cli(home: Path, *args: str) -> CliResult:
    """``shoplens --home HOME ARGS...`` in-process, its streams captured without pytest's ``capsys`` (so that
    module-scoped fixtures can run the command line too)."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = _exit_code_of(["--home", str(home), *args])
    return CliResult(code, out.getvalue(), err.getvalue())


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> Callable[..., CliResult]:
    """Run ``shoplens --home <tmp>/home ARGS...`` in-process and capture its exit code and streams."""
    home = tmp_path / "home"

    def run(*args: str, home_dir: Path | None = None) -> CliResult:
        capsys.readouterr()
        code = _exit_code_of(["--home", str(home_dir or home), *args])
        out, err = capsys.readouterr()
        return CliResult(code, out, err)

    return run


@contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """A new, empty database on the local PostgreSQL server (its URL), dropped on leaving."""
    name = f"shoplens_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as con:
        con.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with admin.connect() as con:
            con.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database on the local server, dropped afterwards (tests marked ``postgres``)."""
    with fresh_postgres_database() as url:
        yield url


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def warehouse_engine(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The engine the store's warehouse is on for this test, the ibis way: DuckDB (the file in the home, always),
    and PostgreSQL (a fresh database through ``SHOPLENS_WAREHOUSE_URL``, ``postgres`` marker)."""
    engine = str(request.param)
    if engine == "postgres":
        monkeypatch.setenv("SHOPLENS_WAREHOUSE_URL", request.getfixturevalue("postgres_url"))
    else:
        monkeypatch.delenv("SHOPLENS_WAREHOUSE_URL", raising=False)
    return engine


CHROMIUM = Path("/usr/bin/chromium")  # Debian's chromium: no test downloads a browser
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's headless Chromium driven by Playwright (tests marked ``e2e``)."""
    if not CHROMIUM.exists():
        pytest.fail("the e2e tests need Debian's chromium at /usr/bin/chromium (apt-get install chromium)")
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield launched
        launched.close()


def fetch(home: Path, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    """The rows ``sql`` selects from the DuckDB warehouse file of the store at ``home`` (opened read-only)."""
    import duckdb

    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        return con.execute(sql, params).fetchall()


def vault_in_clear(home: Path) -> Any:
    """The vault of the store at ``home`` decrypted with its key file, as an Arrow table (hash columns dropped)."""
    import duckdb

    from shoplens.config import VaultKeySource
    from shoplens.privacy import VaultKeys, opened_vault_rows

    found = VaultKeySource(home).keys()
    assert found, "the store has a vault key"
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        sealed = con.sql("SELECT * FROM customer_pii").to_arrow_table()
    return opened_vault_rows(sealed, VaultKeys(found[0]))


def show_vault_in_clear(con: Any, home: Path) -> None:
    """Make ``customer_pii`` on the DuckDB connection ``con`` the decrypted vault (a view that hides the table), for
    tests that compare what shoplens released or kept with the values the vault holds."""
    con.register("customer_pii", vault_in_clear(home))


def fetch_clear(home: Path, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    """:func:`fetch` with ``customer_pii`` decrypted (:func:`show_vault_in_clear`)."""
    import duckdb

    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        show_vault_in_clear(con, home)
        return con.execute(sql, params).fetchall()
