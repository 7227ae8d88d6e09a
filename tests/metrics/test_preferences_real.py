"""Preference profiles on real data (UCI Online Retail) and on the demo store, against pandas over the same rows.

UCI: the pandas side restates the importer's rules (``online_retail_lines``); a customer's key is the HMAC of their
CustomerID with the store secret. The file has no categories and no discounts, so the category and discount checks
run on the demo store too, from its warehouse rows read with DuckDB.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest
from metrics_backends import RunnerFor, Store, online_retail_lines
from tests.conftest import ONLINE_RETAIL
from tests.metrics.conftest import SECRET, UCI_TIMEZONE

from shoplens.ingest import customer_key
from shoplens.metrics import NOT_PURCHASED_STATUSES, StoreZone, purchase_lines, purchases
from shoplens.metrics._preferences import (
    BUSINESS_QUANTITY_FACTOR,
    BUSINESS_UNITS_FACTOR,
    STATISTICS,
    canonical,
)
from shoplens.queries import PreferenceQuery, PreferenceResult
from shoplens.queries._preference_state import PreferenceState, full_statistics
from shoplens.warehouse import Warehouse, import_files

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sales() -> pd.DataFrame:
    lines = online_retail_lines()
    sold = lines[~lines["refund"]].copy()
    sold["customer"] = sold["CustomerID"].map(lambda v: None if pd.isna(v) else str(int(v)))
    return sold


def top_three(spend: pd.Series) -> list[tuple[str, float]]:
    """The three largest of ``spend`` (ties by name), with their share of the total."""
    ordered = sorted(spend.items(), key=lambda item: (-item[1], item[0]))[:3]
    return [(str(name), value / spend.sum()) for name, value in ordered]


def test_a_uci_customers_preferred_products_and_discounts_equal_pandas(
    duckdb_runner: RunnerFor, uci: Store, sales: pd.DataFrame
) -> None:
    known = sales[sales["customer"].notna()]
    busiest = known.groupby("customer")["InvoiceNo"].nunique().sort_values(ascending=False).index[0]
    mine = known[known["customer"] == busiest]
    result = duckdb_runner(uci).run(PreferenceQuery(customer=customer_key(SECRET, busiest)), PreferenceResult)
    profile = result.profile
    assert profile is not None
    expected = top_three(mine.groupby("StockCode")["cents"].sum())
    found = [(row["product_id"], row["share"]) for row in profile["top_products"]]
    assert [name for name, _ in found] == [name for name, _ in expected]
    assert [share for _, share in found] == pytest.approx([share for _, share in expected], abs=1e-6)
    assert int(profile["spend"] * 100) == int(mine["cents"].sum())
    assert profile["orders"] == mine["InvoiceNo"].nunique()
    assert profile["discount_share"] == 0.0  # the file has no discounts: no order of hers is discounted
    assert profile["top_categories"] == [
        {"rank": 1, "category": "(no category)", "spend": profile["spend"], "share": 1.0}
    ]
    country = mine["Country"].iloc[0]
    assert profile["international"] is (country != "United Kingdom")
    assert profile["median_units"] == mine.groupby("InvoiceNo")["Quantity"].sum().median()
    hours = mine.groupby("InvoiceNo")["InvoiceDate"].first().dt.hour  # UK local time, the store's zone
    assert profile["hour"] == hours.value_counts().sort_index().idxmax()


def test_uci_business_buyers_equal_pandas_rule(duckdb_runner: RunnerFor, uci: Store, sales: pd.DataFrame) -> None:
    per_line = sales["Quantity"].median()
    per_order = sales.groupby("InvoiceNo")["Quantity"].sum().median()
    known = sales[sales["customer"].notna()]
    line_medians = known.groupby("customer")["Quantity"].median()
    order_units = known.groupby(["customer", "InvoiceNo"])["Quantity"].sum()
    order_medians = order_units.groupby(level="customer").median()
    business = (line_medians >= BUSINESS_QUANTITY_FACTOR * per_line) & (
        order_medians >= BUSINESS_UNITS_FACTOR * per_order
    )
    result = duckdb_runner(uci).run(PreferenceQuery(), PreferenceResult)
    assert result.overview is not None
    assert result.store["quantity_per_line"] == per_line
    assert result.store["units_per_order"] == per_order
    assert result.store["home_country"] == "United Kingdom"
    assert result.overview["customers"] == known["customer"].nunique() == 4338
    assert result.overview["business_buyers"] == int(business.sum())
    # UCI Online Retail sells mostly to wholesalers: a good share of its customers buy like businesses
    assert 0.05 < result.overview["business_buyers"] / result.overview["customers"] < 0.5
    quartiles = sales["UnitPrice"].quantile([0.25, 0.5, 0.75], interpolation="lower")
    assert [float(result.store[f"price_q{q}"]) for q in (1, 2, 3)] == pytest.approx(list(quartiles))


def demo_rows(store: Store) -> dict[str, pd.DataFrame]:
    columns = {
        "orders": "order_id, customer_key, channel, discount, discount_code, status",
        "order_lines": "order_id, product_id, amount",
        "products": "product_id, category",
    }
    with duckdb.connect(str(store.warehouse), read_only=True) as con:
        found = {name: con.sql(f"SELECT {wanted} FROM {name}").df() for name, wanted in columns.items()}
    orders = found["orders"]
    found["orders"] = orders[~orders["status"].isin(NOT_PURCHASED_STATUSES)]
    return found


def test_a_demo_customers_categories_and_discount_share_equal_pandas(duckdb_runner: RunnerFor, demo: Store) -> None:
    tables = demo_rows(demo)
    orders = tables["orders"][tables["orders"]["customer_key"].notna()]
    busiest = orders.groupby("customer_key")["order_id"].count().sort_values(ascending=False).index[0]
    mine = orders[orders["customer_key"] == busiest]
    lines = tables["order_lines"].merge(mine[["order_id"]], on="order_id")
    lines = lines.merge(tables["products"][["product_id", "category"]], on="product_id", how="left")
    lines["category"] = lines["category"].fillna("(no category)")
    result = duckdb_runner(demo).run(PreferenceQuery(customer=busiest), PreferenceResult)
    profile = result.profile
    assert profile is not None
    expected = top_three(lines.groupby("category")["amount"].sum().astype(float))
    assert [row["category"] for row in profile["top_categories"]] == [name for name, _ in expected]
    assert [row["share"] for row in profile["top_categories"]] == pytest.approx([s for _, s in expected], abs=1e-6)
    discounted = (mine["discount"].fillna(0) > 0) | mine["discount_code"].notna()
    assert profile["discount_share"] == pytest.approx(discounted.mean(), abs=1e-6)
    assert profile["discounted_orders"] == int(discounted.sum())
    assert profile["channel"] == mine["channel"].fillna("(unknown)").value_counts().sort_index().idxmax()


def test_uci_kept_current_after_one_more_month_equals_a_full_computation(tmp_path: Path) -> None:
    raw = pd.read_parquet(ONLINE_RETAIL)
    last_month = raw["InvoiceDate"] >= pd.Timestamp("2011-11-01")
    earlier, later = tmp_path / "until-october.parquet", tmp_path / "november-december.parquet"
    raw[~last_month].to_parquet(earlier)
    raw[last_month].to_parquet(later)
    zone = StoreZone(UCI_TIMEZONE, 2009, 2012)
    state = PreferenceState(tmp_path / "preferences")
    modes: list[Any] = []
    with Warehouse(tmp_path / "warehouse.duckdb") as warehouse:
        for version, part in enumerate((earlier, later), start=1):
            import_files(warehouse, [part], profile_name="online-retail", secret=SECRET, quarantine_dir=tmp_path / "q")
            backend = warehouse.backend
            orders = purchases(backend.table("orders"))
            lines = purchase_lines(backend.table("order_lines"), backend.table("orders"))
            kept, update = state.update(orders, lines, zone, data_version=version)
            modes.append((update.mode, update.orders_read))
        full, ledger = full_statistics(orders, lines, zone)
    assert [mode for mode, _ in modes] == ["full", "incremental"]
    new_orders = raw[last_month & ~raw["InvoiceNo"].str.startswith(("C", "A"))]["InvoiceNo"].nunique()
    assert modes[1][1] <= new_orders  # only the new orders were read (the quarantined ones are not orders)
    assert ledger.num_rows == modes[0][1] + modes[1][1]
    for name in STATISTICS:
        assert canonical(name, kept[name]).equals(canonical(name, full[name])), name
