"""The development stage read from an export's window: a young store told from a window into an established one.

The left-censoring share (sales of the window's first 28 days from customers who ordered on two or more of those
days) is recomputed here in pandas from the raw files, independently of the Ibis metrics. Verdicts are checked on
data the rule was not tuned on: UCI Online Retail (an established wholesaler, one year), CDNOW (one cohort acquired
in Q1 1997 and followed from its start), the demo store and generated stores — one observed from its first day,
and a one-year window cut from the middle of an old one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from metrics_backends import RunnerFor, Store, import_demo_orders
from tests.conftest import CDNOW_MASTER, DEMO_END, ONLINE_RETAIL, run_cli

from shoplens.ingest.demo import generate_demo_store
from shoplens.queries import StageQuery, StageResult
from shoplens.warehouse import Warehouse, import_files

OPENING_DAYS = 28
ESTABLISHED = "window into an established store"
SECRET = b"stage-window-tests-secret-0123456789"


def opening_repeat_share(orders: pd.DataFrame) -> tuple[float, int]:
    """(share of the first 28 days' sales from customers with orders on 2+ of those days, customers in them).

    ``orders`` has one row per order: ``customer``, ``day`` (store-local date) and ``amount``.
    """
    start = orders["day"].min()
    opening = orders[(orders["day"] - start).dt.days < OPENING_DAYS]
    days_per_customer = opening.groupby("customer")["day"].nunique()
    repeaters = days_per_customer[days_per_customer >= 2].index
    share = opening.loc[opening["customer"].isin(repeaters), "amount"].sum() / opening["amount"].sum()
    return float(share), int(days_per_customer.size)


def stage_of(runner_for: RunnerFor, store: Store) -> StageResult:
    return runner_for(store).run(StageQuery())


def test_uci_is_a_window_into_an_established_store(duckdb_runner: RunnerFor, uci: Store) -> None:
    lines = pd.read_parquet(ONLINE_RETAIL)
    # Sales lines of known customers; "C" invoices are cancellations (refunds), not orders.
    lines = lines[lines["CustomerID"].notna() & ~lines["InvoiceNo"].str.startswith("C") & (lines["Quantity"] > 0)]
    lines = lines.assign(amount=lines["Quantity"] * lines["UnitPrice"], day=lines["InvoiceDate"].dt.normalize())
    orders = lines.groupby("InvoiceNo").agg(
        customer=("CustomerID", "first"), day=("day", "first"), amount=("amount", "sum")
    )
    share, customers = opening_repeat_share(orders)
    assert (round(share, 3), customers) == (0.564, 885)  # 885 customers ordered in December 2010

    stage = stage_of(duckdb_runner, uci)
    assert stage.evidence["opening_customers"] == customers
    assert stage.evidence["opening_repeat_revenue_share"] == pytest.approx(share, abs=5e-4)
    assert stage.window == ESTABLISHED
    assert stage.stage == "mature"
    assert stage.evidence["trading_days"] == 373  # 2010-12-01 to 2011-12-09: a calendar would say "one year"


@pytest.fixture(scope="module")
def cdnow(tmp_path_factory: pytest.TempPathFactory) -> Store:
    home = tmp_path_factory.mktemp("cdnow")
    with Warehouse(home / "warehouse.duckdb") as warehouse:
        import_files(warehouse, [CDNOW_MASTER], profile_name="cdnow", secret=SECRET, quarantine_dir=home / "q")
    return Store("cdnow", home, "UTC")


@pytest.mark.slow
def test_cdnow_is_a_young_customer_base(duckdb_runner: RunnerFor, cdnow: Store) -> None:
    raw = pd.read_csv(CDNOW_MASTER, parse_dates=["date"])
    # The master file has one row per customer and day already (the day's purchases summed).
    orders = raw.rename(columns={"customer_id": "customer", "date": "day"})
    share, customers = opening_repeat_share(orders)
    stage = stage_of(duckdb_runner, cdnow)
    assert stage.evidence["opening_customers"] == customers
    assert stage.evidence["opening_repeat_revenue_share"] == pytest.approx(share, abs=5e-4)
    assert share < 0.30
    assert stage.window == "young store"
    # All 23,570 customers were acquired in January-March 1997: none after, so every later sale is a repeat sale.
    assert stage.evidence["customers"] == 23_570
    assert stage.evidence["new_customer_trend"] == -1.0
    assert stage.stage == "development"
    assert any("two years" in need for need in stage.next_stage_needs)


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    """The demo store at its default size (5,000 customers), two years to the pinned end date."""
    home = tmp_path_factory.mktemp("demo-stage")
    files = generate_demo_store(home / "export", seed=0, end=date.fromisoformat(DEMO_END), with_events=False)
    with Warehouse(home / "warehouse.duckdb") as warehouse:
        import_demo_orders(warehouse, files, secret=SECRET, quarantine_dir=home / "q")
    return Store("demo-stage", home, "Asia/Hong_Kong")


def test_the_demo_store_is_young(duckdb_runner: RunnerFor, demo_store: Store) -> None:
    stage = stage_of(duckdb_runner, demo_store)
    assert stage.window == "young store", stage.window_signals
    assert stage.stage == "development"  # acquisition still grows about 80 % a year
    assert stage.evidence["new_customer_trend"] > 0.10


def simulate(seed: int, days: int, new_per_day: float) -> pd.DataFrame:
    """A store with steady acquisition and loyal customers: Poisson buying (rate ~ Gamma, one order a month on
    average) until an exponential lifetime (two years on average) ends. One row per order: customer, day, amount."""
    rng = np.random.default_rng(seed)
    count = rng.poisson(new_per_day * days)
    first = np.sort(rng.uniform(0, days, count))
    rates = rng.gamma(2.0, 1 / 60, count)
    ends = np.minimum(first + rng.exponential(730, count), days)
    rows = []
    for customer, (start, rate, end) in enumerate(zip(first, rates, ends, strict=True)):
        gaps = rng.exponential(1 / rate, int((end - start) * rate * 3) + 3)
        times = start + np.concatenate([[0.0], np.cumsum(gaps)])
        for at in times[times < end]:
            rows.append((f"g{customer}", int(at), round(float(rng.gamma(2.0, 40.0)) + 1, 2)))
    orders = pd.DataFrame(rows, columns=["customer", "offset", "amount"])
    orders["day"] = pd.Timestamp("2019-01-01") + pd.to_timedelta(orders["offset"], unit="D")
    return orders.drop(columns="offset")


def generated_store(home: Path, orders: pd.DataFrame) -> Store:
    """The orders in a warehouse (noon UTC on their day; one line each, as an import would write them)."""
    frame = pd.DataFrame(
        {
            "order_id": [f"o{i}" for i in range(len(orders))],
            "customer_key": orders["customer"].to_numpy(),
            "ordered_at": orders["day"].to_numpy() + np.timedelta64(12, "h"),
            "net": orders["amount"].to_numpy(),
        }
    )
    with Warehouse(home / "warehouse.duckdb") as warehouse:
        con: duckdb.DuckDBPyConnection = warehouse.con
        con.register("generated", frame)
        con.execute(
            "INSERT INTO orders (order_id, customer_key, ordered_at, channel, device, gross, discount, net, status) "
            "SELECT order_id, customer_key, ordered_at, 'web', 'mobile', net, 0, net, 'paid' FROM generated"
        )
        warehouse.bump_data_version()
    return Store(home.name, home, "UTC")


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], tuple[pd.DataFrame, Store]]:
    old = simulate(seed=7, days=6 * 365, new_per_day=3.0)
    middle = old[(old["day"] >= pd.Timestamp("2022-01-01")) & (old["day"] < pd.Timestamp("2023-01-01"))]
    young = simulate(seed=8, days=365, new_per_day=3.0)
    stores = {"window": middle, "young": young}

    def store(name: str) -> tuple[pd.DataFrame, Store]:
        orders = stores[name]
        return orders, generated_store(tmp_path_factory.mktemp(name), orders)

    return store


@pytest.mark.parametrize(
    ("name", "window", "stages"),
    [("window", ESTABLISHED, {"mature"}), ("young", "young store", {"initial", "development"})],
)
def test_a_window_cut_from_an_old_store_is_told_from_a_young_store(
    duckdb_runner: RunnerFor,
    generated: Callable[[str], tuple[pd.DataFrame, Store]],
    name: str,
    window: str,
    stages: set[str],
) -> None:
    orders, store = generated(name)
    share, customers = opening_repeat_share(orders)
    stage = stage_of(duckdb_runner, store)
    assert stage.evidence["opening_customers"] == customers
    assert stage.evidence["opening_repeat_revenue_share"] == pytest.approx(share, rel=5e-4)
    assert stage.window == window, stage.window_signals
    assert stage.stage in stages, (stage.reasons, stage.next_stage_needs)
    # Both span one year of orders: the calendar alone cannot tell them apart.
    assert 360 <= stage.evidence["trading_days"] <= 364


def test_the_command_line_shows_shares_as_percentages(generated: Callable[[str], tuple[pd.DataFrame, Store]]) -> None:
    orders, store = generated("young")
    share, _ = opening_repeat_share(orders)
    shown = run_cli(store.home, "stage")
    assert shown.exit_code == 0, shown.stderr
    assert re.search(rf"opening repeat revenue share\s*│\s*{share * 100:.1f}%", shown.stdout)
    assert "young store" in shown.stdout
    assert not re.search(r"\d\.\d{3,}", shown.stdout), "no evidence number with more than two decimals"
    document = run_cli(store.home, "stage", "--json").json()
    assert document["window"] == "young store"
    measures = [v for k, v in document["evidence"].items() if isinstance(v, float) and not k.startswith("revenue_")]
    assert measures
    assert all(float(f"{v:.4g}") == v for v in measures)  # 4 significant digits
    last_half_year = orders[(orders["day"].max() - orders["day"]).dt.days < 182]
    # money stays to the cent: the generated store has no refunds, so revenue is the orders' sum
    assert document["evidence"]["revenue_last_half_year"] == pytest.approx(last_half_year["amount"].sum(), abs=0.005)
