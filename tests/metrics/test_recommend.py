"""Recommendations: each rule's arithmetic on hand-made figures, and its groups on the real UCI store against pandas.

The pandas side restates the documented rule (actions/_recommend.py): a regular has at least two purchases; their
usual interval is the median gap between consecutive purchase days; they are overdue when the days since their
last purchase exceed 1.5 × that interval and are at most 365; on schedule when they are at most 1.5 × it.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import duckdb
import ibis
import pandas as pd
import pytest
from metrics_backends import RunnerFor, Store
from tests.conftest import run_cli

from shoplens.actions import (
    STORE_WIDE,
    backtest,
    overdue_regulars,
    ranked,
    regulars,
    returned_products,
    sales_after,
    second_orders,
    weak_channels,
)
from shoplens.metrics import NOT_PURCHASED_STATUSES, StoreZone, purchases
from shoplens.queries import RecommendQuery, RecommendResult

BACKTEST_DAY = date(2025, 1, 1)


def _cell(segment: str, overdue: bool, customers: int, returned: int, sales: str) -> dict[str, object]:
    return {"segment": segment, "overdue": overdue, "customers": customers, "returned": returned, "sales_next": sales}


def _now(segment: str, customers: int) -> dict[str, object]:
    return {"segment": segment, "customers": customers, "median_usual_gap_days": 40.0, "median_days_since_last": 90}


def test_overdue_value_is_the_backtested_gap_within_the_segment() -> None:
    # Champions: 40 on schedule spent 8,000 (200 each), 30 overdue spent 1,500 (50 each) in the back-test window.
    # 12 Champions are overdue now: 12 × (200 − 50) = 1,800.00.
    then = [_cell("Champions", False, 40, 30, "8000"), _cell("Champions", True, 30, 6, "1500")]
    [found] = overdue_regulars([_now("Champions", 12)], then, backtest_day=BACKTEST_DAY)
    assert (found.customers, found.expected_value) == (12, Decimal("1800.00"))
    assert found.evidence["backtest_basis"] == "Champions"
    assert found.title == "12 Champions have not ordered for 1.5× their usual interval"


def test_overdue_value_falls_back_to_the_store_when_the_segment_was_small() -> None:
    # Loyal had only 29 overdue in the back-test (< 30): the store-wide cells decide.
    # Store: on schedule 100 each (10,000 / 100), overdue 25 each (1,000 / 40): 20 × 75 = 1,500.00.
    then = [
        _cell("Loyal", False, 50, 40, "9000"),
        _cell("Loyal", True, 29, 5, "100"),
        _cell(STORE_WIDE, False, 100, 60, "10000"),
        _cell(STORE_WIDE, True, 40, 8, "1000"),
    ]
    [found] = overdue_regulars([_now("Loyal", 20)], then, backtest_day=BACKTEST_DAY)
    assert (found.expected_value, found.evidence["backtest_basis"]) == (Decimal("1500.00"), STORE_WIDE)


def test_no_overdue_recommendation_for_small_groups_or_nothing_to_win() -> None:
    # 9 customers is under the floor of 10; and where the overdue spent more than those on schedule, nothing to win.
    then = [_cell(STORE_WIDE, False, 100, 60, "10000"), _cell(STORE_WIDE, True, 40, 30, "6000")]
    assert overdue_regulars([_now("Lost", 9), _now("Hibernating", 50)], then, backtest_day=BACKTEST_DAY) == []


def test_second_order_value_is_the_backtested_sales_per_buyer() -> None:
    # 200 one-time buyers then; 30 ordered again, spending 5,000 in all: 25 per buyer. 50 now: 50 × 25 = 1,250.00.
    then = {"customers": 200, "returned": 30, "sales_next": Decimal("5000")}
    [found] = second_orders(50, then, backtest_day=BACKTEST_DAY)
    assert (found.expected_value, found.evidence["backtest_repeat_rate"]) == (Decimal("1250.00"), 0.15)
    assert second_orders(9, then, backtest_day=BACKTEST_DAY) == []


def test_returned_products_above_twice_the_store_rate() -> None:
    # Store rate 5 %: the floor is max(2 × 5 %, 10 %) = 10 %. A: 20 % of 1,000 over 25 orders → flagged, excess
    # 200 − 1,000 × 0.05 = 150; B: 9 % → not; C: 30 % but only 19 orders → not.
    products = [
        {
            "product_id": "A",
            "name": "a",
            "orders": 25,
            "customers": 20,
            "sales": "1000",
            "refunds": "200",
            "return_rate": 0.2,
        },
        {
            "product_id": "B",
            "name": "b",
            "orders": 90,
            "customers": 80,
            "sales": "5000",
            "refunds": "450",
            "return_rate": 0.09,
        },
        {
            "product_id": "C",
            "name": "c",
            "orders": 19,
            "customers": 19,
            "sales": "100",
            "refunds": "30",
            "return_rate": 0.3,
        },
    ]
    [found] = returned_products(products, 0.05)
    assert (found.customers, found.expected_value) == (20, Decimal("150.00"))
    assert [p["product_id"] for p in found.evidence["products"]] == ["A"]


def test_ranked_puts_the_highest_value_first() -> None:
    then = {"customers": 100, "returned": 10, "sales_next": Decimal("1000")}
    small = second_orders(10, then, backtest_day=BACKTEST_DAY)[0]
    large = second_orders(1000, then, backtest_day=BACKTEST_DAY)[0]
    assert ranked([small, large]) == [large, small]


# --- the real UCI store ---------------------------------------------------------------------------------------


def _purchases(store: Store) -> pd.DataFrame:
    with duckdb.connect(str(store.warehouse), read_only=True) as con:
        orders = con.sql("SELECT order_id, customer_key, ordered_at, net, status FROM orders").df()
        refund_days = con.sql("SELECT refunded_at FROM refunds WHERE refunded_at IS NOT NULL").df()["refunded_at"]
    orders = orders[~orders["status"].fillna("").str.strip().str.lower().isin(NOT_PURCHASED_STATUSES)]
    orders["day"] = _local(orders["ordered_at"], store.timezone)
    orders.attrs["end"] = max(orders["day"].max(), _local(refund_days, store.timezone).max()).date()
    return orders[orders["customer_key"].notna()]


def _local(values: pd.Series, zone: str) -> pd.Series:
    return values.dt.tz_localize("UTC").dt.tz_convert(zone).dt.tz_localize(None).dt.normalize()


def _pandas_regulars(known: pd.DataFrame, as_of: date) -> pd.DataFrame:
    until = known[known["day"] <= pd.Timestamp(as_of)].sort_values(["customer_key", "ordered_at", "order_id"])
    gaps = until.groupby("customer_key")["day"].diff().dt.days.dropna()
    usual = gaps.groupby(until.loc[gaps.index, "customer_key"]).median()
    since = (pd.Timestamp(as_of) - until.groupby("customer_key")["day"].max()).dt.days
    frame = pd.DataFrame({"usual": usual, "since": since.loc[usual.index]})
    frame["overdue"] = (frame["since"] > 1.5 * frame["usual"]) & (frame["since"] <= 365)
    frame["on_schedule"] = frame["since"] <= 1.5 * frame["usual"]
    return frame


@pytest.fixture(scope="module")
def uci_tables(uci: Store) -> tuple[ibis.BaseBackend, StoreZone]:
    backend = ibis.duckdb.from_connection(duckdb.connect(str(uci.warehouse), read_only=True))
    return backend, StoreZone.spanning(uci.timezone, [2010, 2011])


def test_overdue_and_backtest_groups_equal_pandas_on_uci(
    uci: Store, uci_tables: tuple[ibis.BaseBackend, StoreZone]
) -> None:
    backend, zone = uci_tables
    orders, refunds = purchases(backend.table("orders")), backend.table("refunds")
    known = _purchases(uci)
    end = known.attrs["end"]
    then = end - timedelta(days=90)

    now = regulars(orders, refunds, zone=zone, as_of=end).to_pandas().set_index("customer_key")
    expected_now = _pandas_regulars(known, end)
    assert set(now.index[now["overdue"]]) == set(expected_now.index[expected_now["overdue"]])
    assert now["usual_gap_days"].sort_index().tolist() == expected_now["usual"].sort_index().tolist()

    past = regulars(orders, refunds, zone=zone, as_of=then)
    later = sales_after(orders, zone=zone, after=then, days=90)
    got = backtest(past.filter(past.overdue | past.on_schedule), later, ["overdue"]).to_pandas().set_index("overdue")
    expected = _pandas_regulars(known, then)
    window = known[(known["day"] > pd.Timestamp(then)) & (known["day"] <= pd.Timestamp(end))]
    sales = window.groupby("customer_key")["net"].sum()
    for overdue in (True, False):
        group = expected.index[expected["overdue"] if overdue else expected["on_schedule"]]
        spent = sales.reindex(group).fillna(0)
        assert got.loc[overdue, "customers"] == len(group)
        assert got.loc[overdue, "returned"] == int((spent > 0).sum())
        assert float(got.loc[overdue, "sales_next"]) == pytest.approx(float(spent.sum()), abs=0.01)


def test_recommendations_on_uci_come_from_what_the_data_holds(duckdb_runner: RunnerFor, uci: Store) -> None:
    """UCI has no costs and no spend; the rules that need neither still recommend, each with its evidence."""
    result = duckdb_runner(uci).run(RecommendQuery(), RecommendResult)
    known = _purchases(uci)
    assert result.as_of == known.attrs["end"] == date(2011, 12, 9)
    assert result.backtest_day == date(2011, 9, 10)
    values = [r.expected_value for r in result.recommendations]
    assert values == sorted(values, reverse=True)
    assert all(v > 0 for v in values)
    by_rule = {r.rule for r in result.recommendations}
    assert {"overdue_regulars", "one_time_buyers", "returned_products"} <= by_rule
    overdue = sum(r.customers for r in result.recommendations if r.rule == "overdue_regulars")
    assert overdue <= int(_pandas_regulars(known, result.as_of)["overdue"].sum())
    # One-time buyers: exactly one purchase by the data end, 30-90 days before it.
    per_customer = (
        known[known["day"] <= pd.Timestamp(result.as_of)].groupby("customer_key")["day"].agg(["count", "max"])
    )
    age = (pd.Timestamp(result.as_of) - per_customer["max"]).dt.days
    expected_once = int(((per_customer["count"] == 1) & age.between(30, 90)).sum())
    [once] = [r for r in result.recommendations if r.rule == "one_time_buyers"]
    assert once.customers == expected_once


def test_recommend_command_prints_the_contract_keys(uci: Store) -> None:
    done = run_cli(uci.home, "recommend", "--json")
    assert done.exit_code == 0, done.stderr
    recommendations = done.json()["recommendations"]
    assert recommendations
    keys = {"title", "action", "segment", "customers", "expected_value", "evidence", "expected_value_method", "link"}
    assert all(keys <= set(r) for r in recommendations)


def test_weak_channels_move_budget_to_the_best_paid_channel() -> None:
    # Paid: search LTV:CAC 1.0 on 3,650 spent over 365 days (900 per 90 days), referral 5.0, email 4.0; organic has no
    # spend and is never the best. Search: 900 × (5.0 − 1.0) / 2 = 1,800.00. Email is healthy (≥ 3): no advice.
    channels = [
        {
            "channel": "organic",
            "new_customers": 50,
            "spend": None,
            "cac": None,
            "value_per_customer": 90,
            "ltv_cac": None,
        },
        {
            "channel": "search",
            "new_customers": 40,
            "spend": 3650.0,
            "cac": 91.25,
            "value_per_customer": 91.25,
            "ltv_cac": 1.0,
        },
        {
            "channel": "referral",
            "new_customers": 10,
            "spend": 100.0,
            "cac": 10.0,
            "value_per_customer": 50,
            "ltv_cac": 5.0,
        },
        {
            "channel": "email",
            "new_customers": 20,
            "spend": 500.0,
            "cac": 25.0,
            "value_per_customer": 100,
            "ltv_cac": 4.0,
        },
    ]
    [found] = weak_channels(channels, spend_days=365, basis="margin")
    assert (found.segment, found.customers, found.expected_value) == (
        "new customers from search",
        40,
        Decimal("1800.00"),
    )
    assert found.title == "search brings customers with LTV:CAC 1.00: move budget to referral (5.00)"
    assert weak_channels(channels[:2], spend_days=365, basis="margin") == []  # one paid channel: nowhere to move
