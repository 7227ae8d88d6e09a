"""Small stores built row by row, where every answer can be checked by hand, and the command line on them.

An empty store, one customer, one day, only guests, refunds larger than sales: a clear answer or a clear
error (exit 2, one line), never a crash, never NaN printed as a number.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal
from itertools import count
from pathlib import Path
from typing import Any

import pytest

from shoplens.queries import BackendSource, KpiQuery, Query, QueryRunner, Result, RfmQuery, RfmResult
from shoplens.warehouse import Warehouse

COMMANDS = ["kpis", "rfm", "cohorts", "stage", "funnel", "basket", "lifecycle", "behaviour", "products"]
Order = tuple[str, str | None, str, str]  # order id, customer key, UTC time, net amount
Refund = tuple[str, str | None, str, str]  # order id, customer key, UTC time, amount


def build_store(home: Path, orders: Sequence[Order], refunds: Sequence[Refund] = ()) -> Path:
    """A warehouse with these orders (one line of one unit each) and refunds."""
    keys = count(1)
    with Warehouse(home / "warehouse.duckdb") as warehouse:
        con = warehouse.con
        for order_id, customer, at, net in orders:
            con.execute(
                "INSERT INTO orders (order_id, customer_key, ordered_at, channel, device, gross, discount, net) "
                "VALUES (?, ?, ?, 'web', 'mobile', ?, 0, ?)",
                [order_id, customer, datetime.fromisoformat(at), Decimal(net), Decimal(net)],
            )
            con.execute(
                "INSERT INTO order_lines (order_id, line_no, product_id, quantity, unit_price, amount, row_key) "
                "VALUES (?, 1, 'P1', 1, ?, ?, ?)",
                [order_id, Decimal(net), Decimal(net), next(keys)],
            )
        for order_id, customer, at, amount in refunds:
            con.execute(
                "INSERT INTO refunds (refund_id, order_id, customer_key, amount, refunded_at, row_key) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [f"R{next(keys)}", order_id, customer, Decimal(amount), datetime.fromisoformat(at), next(keys)],
            )
        customers = {(c, at) for _, c, at, _ in sorted(orders, key=lambda o: o[2]) if c is not None}
        for customer in {c for c, _ in customers}:
            con.execute("INSERT INTO customers (customer_key, country) VALUES (?, 'HK')", [customer])
        warehouse.bump_data_version()
    return home


def run(home: Path, query: Query, zone: str = "UTC") -> Result:
    """Run ``query`` through the runner the CLI uses, caching in ``<home>/cache``."""
    with Warehouse(home / "warehouse.duckdb", read_only=True) as warehouse:
        runner = QueryRunner(
            BackendSource(warehouse.backend, data_version=warehouse.data_version),
            store_timezone=zone,
            cache_dir=home / "cache",
        )
        return runner.run(query)


def no_nan(text: str) -> None:
    assert "NaN" not in text
    assert "Infinity" not in text
    json.loads(text)


@pytest.mark.parametrize("command", COMMANDS)
def test_no_store_yet_is_bad_input(cli: Callable[..., Any], command: str) -> None:
    result = cli(command, "--json")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.strip().startswith("error: no store in ")
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("command", COMMANDS)
def test_empty_store_is_bad_input_with_one_line(cli: Callable[..., Any], tmp_path: Path, command: str) -> None:
    home = build_store(tmp_path / "empty", [])
    result = cli(command, "--json", home_dir=home)
    assert result.exit_code == 2, result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    expected = "no web session events" if command == "funnel" else "the warehouse has no orders yet"
    assert expected in result.stderr


def test_one_customer_one_order(cli: Callable[..., Any], tmp_path: Path) -> None:
    home = build_store(tmp_path / "one", [("O1", "c1", "2024-05-02 10:00:00", "80.00")])
    kpis = cli("kpis", "--grain", "day", "--json", home_dir=home)
    assert kpis.exit_code == 0, kpis.stderr
    no_nan(kpis.stdout)
    (row,) = kpis.json()["rows"]
    assert row["period"] == "2024-05-02"
    assert (row["orders"], row["customers"], row["new_customers"], row["returning_customers"]) == (1, 1, 1, 0)
    assert (row["revenue"], row["aov"], row["units_per_order"]) == (80.0, 80.0, 1.0)
    assert (row["repeat_rate"], row["refund_rate"], row["revenue_change"]) == (0.0, 0.0, None)
    rfm = cli("rfm", "--json", home_dir=home).json()
    assert sum(s["customers"] for s in rfm["segments"]) == 1
    # One customer ties with itself: no one is worse, so every score is 1 by the documented rule.
    assert [s["segment"] for s in rfm["segments"] if s["customers"]] == ["Lost"]
    stage = cli("stage", "--json", home_dir=home).json()
    assert stage["stage"] == "initial"
    assert stage["evidence"]["trading_days"] == 0
    assert stage["evidence"]["new_customer_growth"] is None
    assert stage["window"] == "too short to tell"
    assert "at least 200 customers (now 1)" in stage["next_stage_needs"]
    assert "half a year of orders to show how customers come back (now 1 days)" in stage["next_stage_needs"]
    cohorts = cli("cohorts", "--json", home_dir=home).json()["rows"]
    assert [(r["cohort"], r["period_index"], r["customers"], r["retention"]) for r in cohorts] == [
        ("2024-05-01", 0, 1, 1.0)
    ]
    for command in ("lifecycle", "behaviour", "basket", "products"):
        result = cli(command, "--json", home_dir=home)
        assert result.exit_code == 0, (command, result.stderr)
        no_nan(result.stdout)


def test_all_guests(cli: Callable[..., Any], tmp_path: Path) -> None:
    home = build_store(
        tmp_path / "guests",
        [("O1", None, "2024-05-02 10:00:00", "10.00"), ("O2", None, "2024-05-03 11:00:00", "30.00")],
    )
    kpis = cli("kpis", "--json", home_dir=home)
    assert kpis.exit_code == 0, kpis.stderr
    no_nan(kpis.stdout)
    (row,) = kpis.json()["rows"]
    assert (row["orders"], row["customers"], row["new_customers"], row["revenue"]) == (2, 0, 0, 40.0)
    assert row["aov"] == 20.0
    assert row["repeat_rate"] is None  # no customers: a rate of nothing is unknown, not 0 and not NaN
    for command in ("rfm", "cohorts", "lifecycle", "behaviour"):
        result = cli(command, "--json", home_dir=home)
        assert result.exit_code == 2, command
        assert "no known customers" in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
    stage = cli("stage", "--json", home_dir=home)
    assert stage.exit_code == 0
    assert stage.json()["stage"] == "initial"


def test_refunds_larger_than_sales(cli: Callable[..., Any], tmp_path: Path) -> None:
    home = build_store(
        tmp_path / "refunds",
        [("O1", "c1", "2024-01-10 10:00:00", "50.00")],
        [("O1", "c1", "2024-01-20 10:00:00", "50.00"), ("X9", "c1", "2024-01-21 10:00:00", "70.00")],
    )
    rows = cli("kpis", "--json", home_dir=home).json()["rows"]
    (row,) = rows
    assert (row["net_sales"], row["refunds"], row["revenue"]) == (50.0, 120.0, -70.0)
    assert row["refund_rate"] == pytest.approx(2.4)
    rfm = cli("rfm", "--json", home_dir=home).json()
    assert rfm["revenue"] == -70.0
    human = cli("kpis", home_dir=home)
    assert human.exit_code == 0
    assert "-$70.00" in human.stdout  # money in the store's currency (US dollars by default)


def test_a_month_with_only_refunds_has_no_aov(tmp_path: Path) -> None:
    home = build_store(
        tmp_path / "gap",
        [("O1", "c1", "2024-01-10 10:00:00", "50.00"), ("O2", "c1", "2024-03-10 10:00:00", "20.00")],
        [("O1", "c1", "2024-02-05 10:00:00", "5.00")],
    )
    rows = run(home, KpiQuery()).model_dump()["rows"]
    assert [(str(r["period"]), r["orders"], r["refunds"], r["aov"]) for r in rows] == [
        ("2024-01-01", 1, Decimal("0.00"), 50.0),
        ("2024-02-01", 0, Decimal("5.00"), None),
        ("2024-03-01", 1, Decimal("0.00"), 20.0),
    ]
    # Change against the previous calendar month: revenue 50 -> -5 -> 20.
    assert [r["revenue_change"] for r in rows] == [None, pytest.approx(-1.1), pytest.approx(5.0)]
    assert rows[2]["returning_customers"] == 1
    assert rows[2]["repeat_rate"] == 1.0


def test_store_time_zone_moves_orders_across_months(tmp_path: Path) -> None:
    # 23:30 UTC on 31 March 2024 is 00:30 on 1 April in London (BST) and 07:30 in Hong Kong.
    home = build_store(tmp_path / "tz", [("O1", "c1", "2024-03-31 23:30:00", "10.00")])
    periods = {
        zone: [str(r["period"]) for r in run(home, KpiQuery(), zone).model_dump()["rows"]]
        for zone in ("UTC", "Europe/London", "Asia/Hong_Kong", "America/New_York")
    }
    assert periods == {
        "UTC": ["2024-03-01"],
        "Europe/London": ["2024-04-01"],
        "Asia/Hong_Kong": ["2024-04-01"],
        "America/New_York": ["2024-03-01"],
    }


def test_results_are_cached_until_the_data_changes(tmp_path: Path) -> None:
    home = build_store(tmp_path / "cache", [("O1", "c1", "2024-05-02 10:00:00", "80.00")])
    first = run(home, RfmQuery())
    again = run(home, RfmQuery())
    assert (first.cached, again.cached) == (False, True)
    assert again.model_dump(exclude={"cached"}) == first.model_dump(exclude={"cached"})
    assert run(home, RfmQuery(), "Asia/Hong_Kong").cached is False  # the zone is part of the key
    build_store(home, [("O2", "c2", "2024-05-03 10:00:00", "20.00")])  # an import bumps the data version
    after = run(home, RfmQuery())
    assert after.cached is False
    assert isinstance(after, RfmResult)
    assert after.customers == 2
    assert len(list((home / "cache").glob("rfm-*-v1.json"))) == 0  # stale entries of that kind are removed


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["kpis", "--grain", "year"], "error: grain: Input should be 'day', 'week', 'month' or 'quarter'"),
        (["kpis", "--from", "2024-02-01", "--to", "2024-01-01"], "error: --from 2024-02-01 is after --to 2024-01-01"),
        (["kpis", "--from", "01/02/2024"], "error: Invalid value for '--from'"),
        (["kpis", "--by", "colour"], "error: by: Input should be 'channel', 'device', 'country' or 'segment'"),
        (["basket", "--min-support", "0"], "error: min_support: Input should be greater than 0"),
        (["lifecycle", "--active-days", "200"], "error: --active-days must be smaller than --lapsed-days"),
    ],
)
def test_bad_options_exit_2_with_one_line(
    cli: Callable[..., Any], tmp_path: Path, args: list[str], message: str
) -> None:
    home = build_store(tmp_path / "store", [("O1", "c1", "2024-05-02 10:00:00", "80.00")])
    result = cli(*args, "--json", home_dir=home)
    assert result.exit_code == 2
    assert result.stderr.strip().startswith(message), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_kpis_window_with_no_orders_is_bad_input(cli: Callable[..., Any], tmp_path: Path) -> None:
    home = build_store(tmp_path / "store", [("O1", "c1", "2024-05-02 10:00:00", "80.00")])
    result = cli("kpis", "--from", "2030-01-01", "--json", home_dir=home)
    assert result.exit_code == 2
    assert "no orders or refunds between 2030-01-01 and the end" in result.stderr
