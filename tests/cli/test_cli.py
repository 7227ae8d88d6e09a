"""Command-line conventions (DESIGN.md): every command has help and --json; bad input exits 2 with one line.

Tests that reach the warehouse run on DuckDB and on PostgreSQL (``warehouse_engine``); those that only parse
arguments, print help or list profiles never open it and run once.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import DEMO_END

from shoplens.cli import _analytics as _analytics_registered  # noqa: F401  (registers the analytics commands)
from shoplens.cli import _commands as _registered  # noqa: F401  (registers the commands)
from shoplens.cli import _events as _registered_events  # noqa: F401  (events)
from shoplens.cli import _models as _registered_models  # noqa: F401  (clv, forecast)
from shoplens.cli import _profit as _registered_profit  # noqa: F401  (profit)
from shoplens.cli import _report as _registered_report  # noqa: F401  (report)
from shoplens.cli import _suppliers as _registered_suppliers  # noqa: F401  (suppliers)
from shoplens.cli import _survey as _registered_survey  # noqa: F401  (survey)
from shoplens.cli import _targets as _registered_targets  # noqa: F401  (targets, budget, acquisition)
from shoplens.cli import _voice as _registered_voice  # noqa: F401  (voice)
from shoplens.cli import _web as _registered_web  # noqa: F401  (serve)
from shoplens.cli import app

COMMANDS = sorted(c.name or "" for c in app.registered_commands)


def test_the_commands_this_version_ships() -> None:
    assert COMMANDS == [
        "acquisition",
        "basket",
        "behaviour",
        "cohorts",
        "demo",
        "forecast",
        "funnel",
        "import",
        "kpis",
        "lifecycle",
        "products",
        "profiles",
        "profit",
        "report",
        "rfm",
        "serve",
        "sessions",
        "stage",
        "status",
        "suppliers",
    ]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_and_json(cli: Callable[..., Any], command: str) -> None:
    result = cli(command, "--help")
    assert result.exit_code == 0
    assert "--json" in result.stdout
    summary_line = result.stdout.split("\n\n")[1].strip()
    assert len(summary_line) > 20, f"{command} --help should say what the command is for"


def test_status_of_an_empty_home(cli: Callable[..., Any], tmp_path: Path, warehouse_engine: str) -> None:
    result = cli("status", "--json")
    assert result.exit_code == 0
    assert result.json() == {
        "home": str(tmp_path / "home"),
        "warehouse": None,
        "tables": {},
        "data_version": 0,
        "imports": [],
    }


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["import", "--profile", "cdnow"], "error: Missing argument 'paths'."),
        (
            ["import", "x.csv", "--profile", "nope"],
            "error: unknown profile 'nope'; choose one of: cdnow, events, feedback, ga4, generic",
        ),
        (["import", "missing.csv", "--profile", "cdnow"], "error: missing.csv: no such file"),
        (
            ["import", "README.md", "--profile", "cdnow"],
            "error: README.md: unknown file type; use .csv, .tsv, .parquet",
        ),
        (["frobnicate"], "error: No such command 'frobnicate'."),
        (["status", "--verbose"], "error: No such option: --verbose"),
        (
            ["demo", "--customers", "3"],
            "error: Invalid value for '--customers': Input should be greater than or equal to 50",
        ),
        (
            ["demo", "--customers", "50", "--no-serve", "--end-date", "2035-01-01"],
            "error: the demo store's calendar covers 2020-2030; choose an end date and days inside it "
            "(this one runs 2033-01-02 to 2035-01-01)",
        ),
        (
            ["profit", "--by", "weather", "--json"],
            "error: --by must be one of channel, cohort, first-product, first-discount-code, category",
        ),
        (["profit", "--fee-percent", "2.915"], "error: --fee-percent is 0 to 100 in steps of 0.01, not 2.915"),
        (["profit", "--shipping-cost", "free"], "error: --shipping-cost must be a number such as 2.9, not 'free'"),
        (
            ["demo", "--no-serve", "--end-date", "2025-13-01"],
            "error: Invalid value for '--end-date': Value error, '2025-13-01' does not match the formats '%Y-%m-%d'.",
        ),
    ],
)
def test_bad_input_exits_2_with_one_line(
    cli: Callable[..., Any], args: list[str], message: str, warehouse_engine: str
) -> None:
    result = cli(*args)
    assert result.exit_code == 2
    assert result.stderr.strip().startswith(message)
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_python_dash_m_entry_point(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "shoplens", "--home", str(tmp_path), "profiles", "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    names = [p["name"] for p in json.loads(done.stdout)["profiles"]]
    assert {"cdnow", "generic", "online-retail", "shopify", "woocommerce"} <= set(names)


def test_demo_imports_once_and_reruns_add_nothing(cli: Callable[..., Any], warehouse_engine: str) -> None:
    first = cli("demo", "--customers", "300", "--seed", "7", "--end-date", DEMO_END, "--no-serve", "--json")
    assert first.exit_code == 0, first.stderr
    document = first.json()
    summary, tables = document["import"], document["status"]["tables"]
    assert summary["rows_read"] == summary["rows_loaded"] > 0
    assert summary["rows_quarantined"] == 0
    assert tables["order_lines"] == summary["rows_loaded"]  # demo refunds are order-level, not lines
    assert tables["refunds"] == summary["refunds"]
    assert tables["orders"] == summary["orders"]
    assert tables["customers"] == summary["customers"]
    # The demo writes web events; `sessions` is for sources that give sessions instead (no events to derive from).
    assert min(n for name, n in tables.items() if name != "sessions") > 0, "the demo fills every other table"
    assert tables["sessions"] == 0
    where = document["status"]["warehouse"]
    assert where.startswith("postgresql://") if warehouse_engine == "postgres" else where.endswith("warehouse.duckdb")
    again = cli("demo", "--customers", "300", "--seed", "7", "--end-date", DEMO_END, "--no-serve", "--json").json()
    assert again["import"]["rows_loaded"] == 0
    assert set(again["tables_loaded"].values()) == {0}
    assert again["status"]["tables"] == tables


def test_demo_serves_its_dashboard_with_a_demo_owner(tmp_path: Path, warehouse_engine: str) -> None:
    """`make demo` ends serving the dashboard; the owner account it prints can log in."""
    import socket
    import time
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "shoplens", "--home", str(tmp_path), "demo", "--customers", "200", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        login_line = ""
        assert server.stderr is not None
        for line in server.stderr:
            if line.startswith("Dashboard login (demo only): "):
                login_line = line.strip()
                break
        email, password = login_line.removeprefix("Dashboard login (demo only): ").split(" / ")
        assert email == "owner@demo.shoplens"
        assert len(password) >= 12
        for _ in range(60):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2) as page:
                    assert page.status == 200
                    break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("the demo did not start serving within 30 s")
        from shoplens.appdb import AppDatabase
        from shoplens.web import authenticate

        db = AppDatabase(f"sqlite:///{(tmp_path / 'app.db').resolve()}")
        user = authenticate(db, email, password)
        db.close()
        assert user is not None
        assert user.role == "owner"
    finally:
        server.terminate()
        server.wait(10)
