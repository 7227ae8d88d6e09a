"""Metrics on the real UCI Online Retail file equal an independent pandas computation from the parquet file.

The pandas side restates only the importer's documented rules (README): A-invoices, negative prices and zero
prices on sales are quarantined; C-invoices are refunds; a line is worth |quantity| x price rounded to the
cent; rows without CustomerID are guests. Times in the file are UK local time, the store's time zone here.
Counts must match exactly and money to the cent, on every engine.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pandas as pd
import pytest
from metrics_backends import RunnerFor, Store, online_retail_lines

from shoplens.queries import CohortQuery, KpiQuery, RfmQuery, RfmResult

pytestmark = pytest.mark.slow

# The RFM grid of the README, restated: (R score, FM score) -> segment.
GRID = {
    5: ["New", "Potential loyalists", "Potential loyalists", "Champions", "Champions"],
    4: ["Promising", "Potential loyalists", "Potential loyalists", "Loyal", "Loyal"],
    3: ["About to sleep", "About to sleep", "Need attention", "Loyal", "Loyal"],
    2: ["Hibernating", "Hibernating", "At risk", "At risk", "Can't lose them"],
    1: ["Lost", "Hibernating", "At risk", "At risk", "Can't lose them"],
}


@pytest.fixture(scope="module")
def lines() -> pd.DataFrame:
    good = online_retail_lines()
    good["customer"] = good["CustomerID"].map(lambda v: None if pd.isna(v) else str(int(v)))
    return good


@pytest.fixture(scope="module")
def orders(lines: pd.DataFrame) -> pd.DataFrame:
    sales = lines[~lines["refund"]]
    per = sales.groupby("InvoiceNo").agg(
        at=("InvoiceDate", "min"), customer=("customer", "first"), cents=("cents", "sum"), units=("Quantity", "sum")
    )
    per = per.reset_index().sort_values(["at", "InvoiceNo"])
    per["month"] = per["at"].dt.to_period("M")
    known = per["customer"].notna()
    per.loc[known, "number"] = per[known].groupby("customer").cumcount()
    return per


@pytest.fixture(scope="module")
def refunds(lines: pd.DataFrame) -> pd.DataFrame:
    given = lines[lines["refund"]].copy()
    given["month"] = given["InvoiceDate"].dt.to_period("M")
    return given


def cents(value: Any) -> int:
    return int(Decimal(str(value)) * 100)


def test_monthly_kpis_equal_pandas(
    engine: tuple[str, RunnerFor], uci: Store, orders: pd.DataFrame, refunds: pd.DataFrame
) -> None:
    _, runner_for = engine
    rows = runner_for(uci).run(KpiQuery(grain="month")).model_dump()["rows"]
    months = sorted(set(orders["month"]) | set(refunds["month"]))
    assert [str(r["period"])[:7] for r in rows] == [str(m) for m in months]
    assert len(rows) == 13
    for row, month in zip(rows, months, strict=True):
        placed = orders[orders["month"] == month]
        known = placed[placed["customer"].notna()]
        net = int(placed["cents"].sum())
        refunded = int(refunds.loc[refunds["month"] == month, "cents"].sum())
        new = int((known["number"] == 0).sum())
        assert row["orders"] == len(placed), month
        assert cents(row["net_sales"]) == net, month
        assert cents(row["refunds"]) == refunded, month
        assert cents(row["revenue"]) == net - refunded, month
        assert row["customers"] == known["customer"].nunique(), month
        assert row["new_customers"] == new, month
        assert row["returning_customers"] == known["customer"].nunique() - new, month
        assert row["units"] == int(placed["units"].sum()), month
        assert row["aov"] == pytest.approx(net / 100 / len(placed), abs=1e-6), month
        repeaters = known.loc[known["number"] >= 1, "customer"].nunique()
        assert row["repeat_rate"] == pytest.approx(repeaters / known["customer"].nunique(), abs=1e-6), month
        assert row["refund_rate"] == pytest.approx(refunded / net, abs=1e-6), month


def test_refund_totals_equal_pandas(engine: tuple[str, RunnerFor], uci: Store, refunds: pd.DataFrame) -> None:
    _, runner_for = engine
    rows = runner_for(uci).run(KpiQuery(grain="quarter")).model_dump()["rows"]
    assert sum(cents(r["refunds"]) for r in rows) == int(refunds["cents"].sum())


def _expected_rfm(orders: pd.DataFrame, refunds: pd.DataFrame) -> pd.DataFrame:
    known = orders[orders["customer"].notna()]
    reference = orders["at"].dt.normalize().max()
    per = known.groupby("customer").agg(last=("at", "max"), frequency=("InvoiceNo", "count"), cents=("cents", "sum"))
    refunded = refunds[refunds["customer"].notna()].groupby("customer")["cents"].sum()
    per["monetary"] = per["cents"] - refunded.reindex(per.index).fillna(0).astype("int64")
    per["recency"] = (reference - per["last"].dt.normalize()).dt.days
    n = len(per)

    def score(worse: pd.Series) -> pd.Series:
        return (worse.astype("int64") * 5) // n + 1

    # worse = customers strictly worse: an older last order, fewer orders, less money.
    per["r"] = score((-per["recency"]).rank(method="min") - 1)
    per["f"] = score(per["frequency"].rank(method="min") - 1)
    per["m"] = score(per["monetary"].rank(method="min") - 1)
    per["fm"] = (per["f"] + per["m"]) // 2
    per["segment"] = [GRID[r][fm - 1] for r, fm in zip(per["r"], per["fm"], strict=True)]
    return per


def test_rfm_segment_sizes_equal_pandas(
    engine: tuple[str, RunnerFor], uci: Store, orders: pd.DataFrame, refunds: pd.DataFrame
) -> None:
    _, runner_for = engine
    result = runner_for(uci).run(RfmQuery())
    assert isinstance(result, RfmResult)
    expected = _expected_rfm(orders, refunds)
    sizes = expected["segment"].value_counts()
    money = expected.groupby("segment")["monetary"].sum()
    assert result.customers == len(expected) == orders["customer"].nunique()
    assert {s.segment: s.customers for s in result.segments} == {
        name: int(sizes.get(name, 0)) for name in {s.segment for s in result.segments}
    }
    assert {s.segment: cents(s.revenue) for s in result.segments} == {
        s.segment: int(money.get(s.segment, 0)) for s in result.segments
    }
    assert len(result.segments) == 11
    assert all(s.meaning and s.action and s.rule for s in result.segments)


def test_cohort_triangle_equals_pandas(
    engine: tuple[str, RunnerFor], uci: Store, orders: pd.DataFrame, refunds: pd.DataFrame
) -> None:
    _, runner_for = engine
    rows = runner_for(uci).run(CohortQuery(grain="month")).model_dump()["rows"]
    known = orders[orders["customer"].notna()].copy()
    known["cohort"] = known.groupby("customer")["month"].transform("min")
    known["index"] = [(m - c).n for m, c in zip(known["month"], known["cohort"], strict=True)]
    active = known.groupby(["cohort", "index"])["customer"].nunique()
    sizes = known.groupby("cohort")["customer"].nunique()
    given = refunds[refunds["customer"].isin(set(known["customer"]))].copy()
    given["cohort"] = given["customer"].map(known.groupby("customer")["month"].min())
    given["index"] = [(m - c).n for m, c in zip(given["month"], given["cohort"], strict=True)]
    given = given[given["index"] >= 0]
    revenue = (
        known.groupby(["cohort", "index"])["cents"]
        .sum()
        .sub(given.groupby(["cohort", "index"])["cents"].sum(), fill_value=0)
    )
    last = orders["month"].max()
    expected_cells = [(c, i) for c in sorted(sizes.index) for i in range((last - c).n + 1)]
    assert [(str(r["cohort"])[:7], r["period_index"]) for r in rows] == [(str(c), i) for c, i in expected_cells]
    for row, (cohort, index) in zip(rows, expected_cells, strict=True):
        customers = int(active.get((cohort, index), 0))
        assert row["cohort_customers"] == sizes[cohort]
        assert row["customers"] == customers
        assert row["retention"] == pytest.approx(customers / sizes[cohort], abs=1e-6)
        assert cents(row["revenue"]) == int(revenue.get((cohort, index), 0))


def test_rfm_covers_every_customer_with_an_order(duckdb_runner: RunnerFor, uci: Store) -> None:
    result = duckdb_runner(uci).run(RfmQuery())
    assert isinstance(result, RfmResult)
    assert sum(s.customers for s in result.segments) == result.customers
    assert sum((s.revenue for s in result.segments), Decimal(0)) == result.revenue
