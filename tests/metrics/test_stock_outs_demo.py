"""The demo store's planted stock-outs: the lost units the generator planted lie within the measured interval.

The generator (shoplens.ingest.demo, module ``_service``) draws every order regardless of stock and then runs the
stock down by each day's units: what a day's stock could not serve is a lost sale. On a day that began and ended
with nothing on hand, every unit the customers asked for was lost. The truth here is read off the generator's own
files in pandas: per product, the units ``orders.csv`` asked for on the days ``inventory.parquet`` shows at zero
after a day at zero (days as the generator counts them, the UTC date of ``ordered_at``). ``shoplens service``
never sees those units as lost (the orders are sales to it); it estimates them from the in-stock days.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from tests.conftest import build_demo_store, run_cli

from shoplens.metrics import summed_interval


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = build_demo_store(tmp_path_factory.mktemp("stock") / "home", customers=2000, seed=2)
    assert run_cli(home, "config", "set", "timezone", "Asia/Hong_Kong").exit_code == 0
    return home


@pytest.fixture(scope="module")
def service(home: Path) -> dict[str, Any]:
    result = run_cli(home, "service", "--json", "--top", "1000")
    assert result.exit_code == 0, result.stderr
    document: dict[str, Any] = result.json()
    return document


def planted_lost_units(export: Path) -> pd.Series:
    """Per product, the units asked for on its whole days out of stock, from the generator's files."""
    stock = pd.read_parquet(export / "inventory.parquet", columns=["product_id", "date", "on_hand"])
    stock["date"] = pd.to_datetime(stock["date"])
    stock = stock.sort_values(["product_id", "date"])
    before = stock.groupby("product_id")["on_hand"].shift(1)
    whole_days = stock[(stock["on_hand"] == 0) & (before == 0)][["product_id", "date"]]
    asked = pd.read_csv(export / "orders.csv", usecols=["ordered_at", "product_id", "quantity"])
    asked["date"] = pd.to_datetime(asked["ordered_at"].str.slice(0, 10))
    units = asked.groupby(["product_id", "date"], as_index=False)["quantity"].sum()
    lost = whole_days.merge(units, on=["product_id", "date"], how="left").fillna({"quantity": 0})
    return lost.groupby("product_id")["quantity"].sum()


def test_the_planted_lost_units_lie_in_the_measured_interval(home: Path, service: dict[str, Any]) -> None:
    truth = planted_lost_units(home / "demo-export")
    totals = service["stock_out_totals"]
    assert truth.sum() > 100, "the demo plants stock-outs worth measuring"
    assert totals["whole_days_out"] > 0
    assert totals["lost_units_low"] <= truth.sum() <= totals["lost_units_high"]
    assert totals["lost_units_low"] > 0  # an interval that says something, not 0 to anything
    # the sales' interval is the units' one priced product by product: around the estimate, and as wide relatively
    # as the units' within a factor of 2 (prices differ by product)
    low, sales, high = (float(totals[k]) for k in ("lost_sales_low", "lost_sales", "lost_sales_high"))
    assert 0 < low < sales < high
    units_width = (totals["lost_units_high"] - totals["lost_units_low"]) / totals["lost_units"]
    assert 0.5 < ((high - low) / sales) / units_width < 2


def test_most_products_planted_losses_lie_in_their_intervals(home: Path, service: dict[str, Any]) -> None:
    # Per product the interval is a 95 % one; the days of the generator (UTC) and of the analysis (Hong Kong) are
    # eight hours apart, and demand is not quite proportional to the store's, so a few more products fall outside.
    truth = planted_lost_units(home / "demo-export")
    rows = [r for r in service["stock_outs"] if r["whole_days_out"] > 0]
    assert len(rows) >= 50
    inside = [r["lost_units_low"] <= truth.get(r["product_id"], 0.0) <= r["lost_units_high"] for r in rows]
    assert np.mean(inside) >= 0.8


def test_a_total_interval_adds_the_variances() -> None:
    # A total of 10 with variance 25 (sd 5): 10 ± 1.959964 × 5 = 0.20018 to 19.79982; a total of 1 with variance 4
    # is cut at 0 below (1 − 3.92).
    assert summed_interval(10.0, 25.0) == (pytest.approx(0.20018), pytest.approx(19.79982))
    assert summed_interval(1.0, 4.0) == (0.0, pytest.approx(4.919928))
