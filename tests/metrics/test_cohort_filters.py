"""Cohorts narrowed by the customer's first order, and their revenue measures, against pandas.

The expected triangles are computed here in pandas from the warehouse tables as they are stored, by the rules of
the cohorts' module docstring restated: purchases only (cancelled and similar orders are not), a customer's first
purchase (by time, then order id) gives the store-local month of their cohort and decides the filters; revenue is
the purchases' net less the refunds given in the month; the periods are every month in which a known customer
bought.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import duckdb
import ibis
import pandas as pd
import pytest
from metrics_backends import RunnerFor, Store, online_retail_lines

from shoplens.metrics import NOT_PURCHASED_STATUSES, FirstOrderFilters, first_order_customers
from shoplens.queries import CohortQuery, CohortResult

Members = Callable[[pd.DataFrame], pd.Series]


def tables(store: Store) -> dict[str, pd.DataFrame]:
    with duckdb.connect(str(store.warehouse), read_only=True) as con:
        found = {
            name: con.sql(f"SELECT {columns} FROM {name}").df()
            for name, columns in (
                ("orders", "order_id, customer_key, ordered_at, channel, discount_code, net, status"),
                ("order_lines", "order_id, product_id"),
                ("products", "product_id, category"),
                ("customers", "customer_key, country, channel_acquired"),
                ("refunds", "order_id, customer_key, amount, refunded_at"),
            )
        }
    local = {"ordered_at": "orders", "refunded_at": "refunds"}
    for column, name in local.items():
        at = found[name][column].dt.tz_localize("UTC").dt.tz_convert(store.timezone).dt.tz_localize(None)
        found[name]["month"] = at.dt.to_period("M")
    orders = found["orders"]
    status = orders["status"].fillna("").str.strip().str.lower()
    found["not_purchased"] = orders[status.isin(NOT_PURCHASED_STATUSES)]
    found["orders"] = orders[~status.isin(NOT_PURCHASED_STATUSES)]
    return found


@pytest.fixture(scope="module")
def demo_tables(demo: Store) -> dict[str, pd.DataFrame]:
    return tables(demo)


def first_purchases(found: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Each known customer's first purchase, with their country and channel acquired."""
    known = found["orders"][found["orders"]["customer_key"].notna()]
    first = known.sort_values(["ordered_at", "order_id"]).groupby("customer_key").head(1)
    return first.merge(found["customers"], on="customer_key", how="left")


def expected_triangle(found: dict[str, pd.DataFrame], members: set[str]) -> list[dict[str, Any]]:
    """The cohort triangle of ``members`` by month, in pandas."""
    known = found["orders"][found["orders"]["customer_key"].notna()]
    cohort_of = first_purchases(found).set_index("customer_key")["month"]
    ours = known[known["customer_key"].isin(members)].copy()
    ours["cohort"] = ours["customer_key"].map(cohort_of)
    refunds = found["refunds"]
    refunds = refunds[~refunds["order_id"].isin(set(found["not_purchased"]["order_id"]))]
    given = refunds[refunds["customer_key"].isin(members) & refunds["refunded_at"].notna()].copy()
    given["cohort"] = given["customer_key"].map(cohort_of)
    given = given[given["month"] >= given["cohort"]]
    active = ours.groupby(["cohort", "month"])["customer_key"].nunique()
    cents = (
        ours.groupby(["cohort", "month"])["net"]
        .sum()
        .sub(given.groupby(["cohort", "month"])["amount"].sum(), fill_value=0)
    )
    sizes = cohort_of[cohort_of.index.isin(members)].value_counts()
    months = sorted(set(known["month"]))
    triangle = []
    for cohort in sorted(sizes.index):
        first_revenue, total = None, Decimal(0)
        for month in (m for m in months if m >= cohort):
            revenue = Decimal(str(cents.get((cohort, month), 0)))
            first_revenue = revenue if first_revenue is None else first_revenue
            total += revenue
            triangle.append(
                {
                    "cohort": str(cohort),
                    "period_index": (month - cohort).n,
                    "cohort_customers": int(sizes[cohort]),
                    "customers": int(active.get((cohort, month), 0)),
                    "retention": active.get((cohort, month), 0) / sizes[cohort],
                    "revenue": revenue,
                    "revenue_retention": float(revenue / first_revenue) if first_revenue else None,
                    "cumulative_revenue_per_customer": float(total) / int(sizes[cohort]),
                }
            )
    return triangle


def assert_same_triangle(rows: list[dict[str, Any]], expected: list[dict[str, Any]]) -> None:
    assert [(str(r["cohort"])[:7], r["period_index"]) for r in rows] == [
        (e["cohort"], e["period_index"]) for e in expected
    ]
    for row, want in zip(rows, expected, strict=True):
        where = (want["cohort"], want["period_index"])
        assert (row["cohort_customers"], row["customers"]) == (want["cohort_customers"], want["customers"]), where
        assert row["retention"] == pytest.approx(want["retention"], abs=1e-6), where
        assert Decimal(str(row["revenue"])).quantize(Decimal("0.01")) == want["revenue"].quantize(Decimal("0.01"))
        if want["revenue_retention"] is None:
            assert row["revenue_retention"] is None, where
        else:
            assert row["revenue_retention"] == pytest.approx(want["revenue_retention"], rel=1e-5, abs=1e-6), where
        assert row["cumulative_revenue_per_customer"] == pytest.approx(
            want["cumulative_revenue_per_customer"], rel=1e-5, abs=1e-3
        ), where


def folded(values: pd.Series) -> pd.Series:
    return values.fillna("").str.strip().str.lower()


def most_common_first_product(found: dict[str, pd.DataFrame]) -> str:
    lines = found["order_lines"].merge(first_purchases(found)[["order_id"]], on="order_id")
    return str(lines.drop_duplicates()["product_id"].value_counts().index[0])


FILTERS: dict[str, tuple[str | Callable[[dict[str, pd.DataFrame]], str], Callable[..., set[str]]]] = {
    # name: (the value asked for, the customers whose first purchase matches it, in pandas)
    "first_product": (
        most_common_first_product,
        lambda found, first, value: set(
            first.merge(found["order_lines"][found["order_lines"]["product_id"] == value], on="order_id")[
                "customer_key"
            ]
        ),
    ),
    "first_category": (
        " apparel",  # case and spaces do not matter
        lambda found, first, value: set(
            first.merge(found["order_lines"], on="order_id")
            .merge(found["products"], on="product_id")
            .loc[lambda lines: folded(lines["category"]) == value.strip().lower(), "customer_key"]
        ),
    ),
    "discount_code": (
        "welcome10",
        lambda found, first, value: set(first.loc[folded(first["discount_code"]) == value, "customer_key"]),
    ),
    "channel": (
        "Email",
        lambda found, first, value: set(
            first.loc[folded(first["channel"].fillna(first["channel_acquired"])) == value.lower(), "customer_key"]
        ),
    ),
    "country": ("mo", lambda found, first, value: set(first.loc[folded(first["country"]) == value, "customer_key"])),
}


@pytest.mark.parametrize("name", list(FILTERS))
def test_each_first_order_filter_gives_the_cohorts_pandas_gives(
    name: str, duckdb_runner: RunnerFor, demo: Store, demo_tables: dict[str, pd.DataFrame]
) -> None:
    asked, matching = FILTERS[name]
    value = asked if isinstance(asked, str) else asked(demo_tables)
    members = matching(demo_tables, first_purchases(demo_tables), value)
    assert 5 <= len(members) < len(first_purchases(demo_tables)), "the filter picks some customers, not all"
    result = duckdb_runner(demo).run(CohortQuery(**{name: value}), CohortResult)
    assert result.note is None
    assert_same_triangle(result.rows, expected_triangle(demo_tables, members))


def test_filters_combine_and_the_unfiltered_triangle_has_every_customer(
    sql_engine: tuple[str, RunnerFor], demo: Store, demo_tables: dict[str, pd.DataFrame]
) -> None:
    _, runner_for = sql_engine
    first = first_purchases(demo_tables)
    everyone = set(first["customer_key"])
    runner = runner_for(demo)
    assert_same_triangle(runner.run(CohortQuery(), CohortResult).rows, expected_triangle(demo_tables, everyone))
    both = FILTERS["first_category"][1](demo_tables, first, "Apparel") & FILTERS["channel"][1](
        demo_tables, first, "organic"
    )
    assert len(both) >= 5
    combined = runner.run(CohortQuery(first_category="Apparel", channel="organic"), CohortResult)
    assert_same_triangle(combined.rows, expected_triangle(demo_tables, both))


def test_a_filter_nobody_matches_gives_no_rows_and_says_which(duckdb_runner: RunnerFor, demo: Store) -> None:
    runner = duckdb_runner(demo)
    unknown = runner.run(CohortQuery(first_product="NO-SUCH-PRODUCT", country="HK"), CohortResult)
    assert unknown.rows == []
    assert unknown.note == "No customer matches: no customer's first order contains product 'NO-SUCH-PRODUCT'."
    together = runner.run(CohortQuery(country="GB", discount_code="MID618"), CohortResult)
    if together.rows:  # the demo store's few British customers do not start with this rare code
        pytest.fail("expected no British customer whose first order used MID618")
    assert together.note == (
        "No customer matches all of these together: first order used discount code 'MID618'; country is 'GB' "
        "(each alone matches some customers)."
    )


def test_the_country_filter_on_uci_online_retail_equals_pandas(sql_engine: tuple[str, RunnerFor], uci: Store) -> None:
    found = tables(uci)
    first = first_purchases(found)
    germans = set(first.loc[first["country"] == "Germany", "customer_key"])
    lines = online_retail_lines()
    in_file = lines.loc[~lines["refund"] & (lines["Country"] == "Germany"), "CustomerID"].dropna().nunique()
    assert len(germans) == in_file == 94  # the file's German customers (none of them buys from a second country)
    _, runner_for = sql_engine
    rows = runner_for(uci).run(CohortQuery(country="germany"), CohortResult).rows
    assert_same_triangle(rows, expected_triangle(found, germans))


def test_revenue_retention_and_cumulative_revenue_per_customer_on_uci_equal_pandas(
    duckdb_runner: RunnerFor, uci: Store
) -> None:
    found = tables(uci)
    rows = duckdb_runner(uci).run(CohortQuery(), CohortResult).rows
    assert_same_triangle(rows, expected_triangle(found, set(first_purchases(found)["customer_key"])))
    december = [r for r in rows if str(r["cohort"]).startswith("2010-12")]
    assert december[0]["revenue_retention"] == 1.0
    assert december[-1]["cumulative_revenue_per_customer"] > december[0]["cumulative_revenue_per_customer"]


def test_stacked_codes_and_a_missing_order_channel_are_read_as_documented() -> None:
    # Three customers, one order each: a's order used two codes, b's came through no channel (acquired by
    # email, says the customers table), c's used one code through the web.
    orders = ibis.memtable(
        {
            "order_id": ["1", "2", "3"],
            "customer_key": ["a", "b", "c"],
            "ordered_at": pd.to_datetime(["2024-01-05", "2024-01-06", "2024-01-07"]),
            "channel": ["web", None, "web"],
            "discount_code": [" welcome10 + FreeShip", None, "FREESHIP10"],
        }
    )
    customers = ibis.memtable(
        {"customer_key": ["a", "b", "c"], "country": ["HK", "hk ", "MO"], "channel_acquired": ["web", "email", "web"]}
    )
    con = ibis.duckdb.connect()

    def keys(**filters: str) -> list[str]:
        found = first_order_customers(orders, FirstOrderFilters(**filters), customers=customers)
        return sorted(con.execute(found)["customer_key"])

    assert keys(discount_code="freeship") == ["a"]  # one of a's two codes; c's FREESHIP10 is another code
    assert keys(discount_code="WELCOME10") == ["a"]
    assert keys(channel="EMAIL") == ["b"]
    assert keys(country="HK") == ["a", "b"]
    assert keys(country="HK", channel="web") == ["a"]
