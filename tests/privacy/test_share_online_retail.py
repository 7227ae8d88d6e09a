"""The share package on the real UCI Online Retail data, against pandas computations from the raw file."""

from __future__ import annotations

import functools
import math
from pathlib import Path

import pandas as pd
import pytest
from privacy_stores import UCI_TIMEZONE, runner_over
from tests.conftest import ONLINE_RETAIL

from shoplens.queries import RfmQuery, RfmResult
from shoplens.reports import SharePackage

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def baskets() -> pd.DataFrame:
    return _baskets()


@functools.cache
def _baskets() -> pd.DataFrame:
    """Each product once per sales invoice with its customer (NaN for guests), cleaned as the importer does."""
    raw = pd.read_parquet(ONLINE_RETAIL, columns=["InvoiceNo", "StockCode", "Quantity", "UnitPrice", "CustomerID"])
    invoice = raw["InvoiceNo"].astype(str)
    sales = raw[~invoice.str.startswith(("C", "A")) & (raw["UnitPrice"] > 0) & (raw["Quantity"] > 0)]
    frame = pd.DataFrame(
        {
            "order_id": sales["InvoiceNo"].astype(str),
            "product_id": sales["StockCode"].astype(str).str.strip(),
            "customer": sales["CustomerID"],
            "guest": sales["CustomerID"].isna(),
        }
    )
    return frame.drop_duplicates(["order_id", "product_id"])


@functools.cache
def pandas_pairs(floor: int) -> pd.DataFrame:
    baskets = _baskets()
    item_orders = baskets.groupby("product_id")["order_id"].nunique()
    kept = baskets[baskets["product_id"].isin(item_orders[item_orders >= floor].index)]
    pairs = kept.merge(kept[["order_id", "product_id"]], on="order_id", suffixes=("_a", "_b"))
    pairs = pairs[pairs["product_id_a"] < pairs["product_id_b"]]
    grouped = pairs.groupby(["product_id_a", "product_id_b"])
    counts = pd.DataFrame(
        {
            "orders_together": grouped.size(),
            # a known customer once, every guest invoice as one person
            "people": grouped["customer"].nunique() + grouped["guest"].sum(),
        }
    )
    return counts[counts["orders_together"] >= floor]


@pytest.mark.parametrize("k", [10, 200])
def test_product_pairs_equal_pandas(uci_packages: dict[int, SharePackage], baskets: pd.DataFrame, k: int) -> None:
    package = uci_packages[k]
    total = baskets["order_id"].nunique()
    floor = max(k, math.ceil(0.01 * total))
    assert package.min_pair_orders == floor
    expected = pandas_pairs(floor)
    released = expected[expected["people"] >= k]
    held = expected[expected["people"] < k]
    shared = package.table("product_affinity").to_pandas()
    assert (shared["people"] >= k).all()
    got = shared.set_index(["product_a", "product_b"])[["orders_together", "people"]]
    assert got.sort_index().to_dict("index") == released.sort_index().to_dict("index")
    dataset = package.datasets["product_affinity"]
    assert (dataset.suppressed_cells, dataset.suppressed_people) == (len(held), int(held["people"].sum()))
    top = shared.iloc[0]
    assert top["support"] == pytest.approx(top["orders_together"] / total, abs=1e-6)  # shared to 6 decimals
    orders_a = baskets[baskets["product_id"] == top["product_a"]]["order_id"].nunique()
    assert top["confidence_a_to_b"] == pytest.approx(top["orders_together"] / orders_a, abs=1e-6)


def test_measured_counts(uci_packages: dict[int, SharePackage]) -> None:
    """The numbers the README quotes: what k=10 and k=200 release from the UCI store."""
    summary = {k: {n: d.summary() for n, d in p.datasets.items()} for k, p in uci_packages.items()}
    assert summary[10]["product_affinity"] == {"rows": 917, "suppressed_cells": 0, "suppressed_people": 0}
    assert summary[10]["segment_preferences"] == {"rows": 11, "suppressed_cells": 0, "suppressed_people": 0}
    # At k=200 the pair floor is still 200 orders, so the same 917 pairs split into released and suppressed.
    assert summary[200]["product_affinity"] == {"rows": 444, "suppressed_cells": 473, "suppressed_people": 81_895}
    assert summary[200]["segment_preferences"] == {"rows": 7, "suppressed_cells": 4, "suppressed_people": 420}


@pytest.mark.parametrize("k", [10, 200])
def test_segment_people_add_up_to_rfm_segment_sizes(
    uci_packages: dict[int, SharePackage], uci_home: Path, k: int
) -> None:
    with runner_over(uci_home, UCI_TIMEZONE) as runner:
        rfm = runner.run(RfmQuery(), RfmResult)
    sizes = {row.segment: row.customers for row in rfm.segments if row.customers}
    dataset = uci_packages[k].datasets["segment_preferences"]
    shared = dataset.table.to_pandas()
    assert (shared["people"] >= k).all()
    assert set(shared["category"]) == {"(no category)"}  # the UCI catalogue has no categories
    per_segment = shared.groupby("segment")["people"].sum().to_dict()
    small = {segment: size for segment, size in sizes.items() if size < k}
    assert per_segment == {segment: size for segment, size in sizes.items() if size >= k}
    assert (dataset.suppressed_cells, dataset.suppressed_people) == (len(small), sum(small.values()))
    assert sum(per_segment.values()) + dataset.suppressed_people == rfm.customers
    assert shared.groupby("segment")["share_of_segment_spend"].sum().round(9).eq(1.0).all()


def test_a_store_without_events_shares_empty_funnels_with_a_reason(uci_packages: dict[int, SharePackage]) -> None:
    manifest = uci_packages[10].manifest["datasets"]
    for name in ("funnel_dropoffs", "response_times"):
        assert manifest[name]["rows"] == 0
        assert "no web session events" in manifest[name]["note"]
