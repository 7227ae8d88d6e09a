"""The contribution margin and the profit LTV curve: a hand-made store worked out by hand, the demo store against
pandas (per channel to the cent, per category, Electronics planted thin), UCI Online Retail without costs."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import duckdb
import ibis
import pandas as pd
import pytest
from metrics_backends import RunnerFor, Store

from shoplens.metrics import NOT_PURCHASED_STATUSES, CostRules
from shoplens.queries import ProfitQuery, ProfitResult, QueryRunner
from shoplens.queries._profit import NO_COSTS
from shoplens.schema import TABLES

# --- a hand-made store -------------------------------------------------------------------------------------------
#
# Payment fee 2.5 % of what the customer paid + 1.00 per order; every shipment costs the shop 8.00.
# Products: P1 (Toys) costs 10.00, P2 (Books) 30.00.
#
# o1  customer A, 2024-01-10, channel web, code WELCOME: 2 × P1 at 25 (50.00) + 1 × P2 at 50 (50.00) = 100.00,
#     code discount 10.00, net 90.00, shipping charged 5.00, tax 0.
#     paid 95.00 → fee 2.375 → 2.38 (half up) + 1.00 = 3.38; goods 2 × 10 + 30 = 50.00; shipping cost 8.00
#     before refunds 90 + 5 − 8 − 50 − 3.38 = 33.62; refunded 20.00 on 2024-02-05 → contribution 13.62
# o2  customer A, 2024-03-15, channel app: 2 × P2 at 50 = 100.00, net 100.00, shipping 0, tax 10.00
#     paid 110.00 → fee 2.75 + 1.00 = 3.75; goods 60.00 → 100 + 0 − 8 − 60 − 3.75 = 28.25
# o3  customer B, 2024-02-20, channel app: 1 × P1 at 25, net 25.00, shipping 5.00
#     paid 30.00 → fee 0.75 + 1.00 = 1.75; goods 10.00 → 25 + 5 − 8 − 10 − 1.75 = 10.25
# o4  a guest, 2024-02-21, web: as o3 (10.25), in no customer view
# o5  customer B, 2024-03-01, cancelled: never a sale, in no view
#
# By channel of the first order: web = A: 2 orders, net 190.00, goods 110.00, fees 7.13, shipping cost 16.00,
# refunds 20.00, margin 33.62 + 28.25 − 20.00 = 41.87 (rate 41.87 / 190); app = B: 10.25 (rate 10.25 / 25 = 0.41).
# All customers: 52.12 on net sales 215.00.
# The curve of web (A, first month 2024-01, observed to 2024-03, the last day with data being 2024-03-15):
# month 0 33.62, month 1 the refund (33.62 − 20 = 13.62), month 2 + 28.25 = 41.87. App (B, from 2024-02): 10.25
# in month 0 and still 10.25 in month 1.
# Per category, o1's order-level amounts split half and half over its two lines (50.00 each): net 45.00, shipping
# 2.50 charged and 4.00 cost, fees 1.69, refunds 10.00 per line. Toys: o1's P1 line 45 + 2.5 − 4 − 20 − 1.69 − 10 =
# 11.81, plus o3 10.25 = 22.06. Books: o1's P2 line 45 + 2.5 − 4 − 30 − 1.69 − 10 = 1.81, plus o2 28.25 = 30.06.

RULES = CostRules(
    payment_fee_percent=Decimal("2.5"), payment_fee_fixed=Decimal("1.00"), shipping_cost_per_order=Decimal("8.00")
)
ORDERS = [
    # order_id, customer_key, ordered_at, channel, gross, discount, shipping, tax, net, discount_code, status
    ("o1", "A", datetime(2024, 1, 10, 12), "web", "100.00", "10.00", "5.00", "0.00", "90.00", "WELCOME", "paid"),
    ("o2", "A", datetime(2024, 3, 15, 12), "app", "100.00", "0.00", "0.00", "10.00", "100.00", None, "paid"),
    ("o3", "B", datetime(2024, 2, 20, 12), "app", "25.00", "0.00", "5.00", "0.00", "25.00", None, "paid"),
    ("o4", None, datetime(2024, 2, 21, 12), "web", "25.00", "0.00", "5.00", "0.00", "25.00", None, "paid"),
    ("o5", "B", datetime(2024, 3, 1, 12), "app", "25.00", "0.00", "5.00", "0.00", "25.00", None, "cancelled"),
]
LINES = [
    # order_id, line_no, product_id, quantity, unit_price, amount
    ("o1", 1, "P1", 2, "25.00", "50.00"),
    ("o1", 2, "P2", 1, "50.00", "50.00"),
    ("o2", 1, "P2", 2, "50.00", "100.00"),
    ("o3", 1, "P1", 1, "25.00", "25.00"),
    ("o4", 1, "P1", 1, "25.00", "25.00"),
    ("o5", 1, "P1", 1, "25.00", "25.00"),
]


def _hand_made(costs: dict[str, str | None]) -> QueryRunner:
    con = duckdb.connect()
    for table in TABLES.values():
        con.execute(table.ddl())
    con.executemany(
        "INSERT INTO orders (order_id, customer_key, ordered_at, channel, gross, discount, shipping, tax, net, "
        "discount_code, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        ORDERS,
    )
    con.executemany(
        "INSERT INTO order_lines (order_id, line_no, product_id, quantity, unit_price, amount, discount, row_key) "
        "VALUES (?, ?, ?, ?, ?, ?, 0, ?)",
        [(*line, number) for number, line in enumerate(LINES)],
    )
    con.executemany(
        "INSERT INTO products (product_id, category, cost) VALUES (?, ?, ?)",
        [("P1", "Toys", costs["P1"]), ("P2", "Books", costs["P2"])],
    )
    con.execute(
        "INSERT INTO refunds (refund_id, order_id, customer_key, amount, refunded_at, row_key) "
        "VALUES ('r1', 'o1', 'A', 20.00, TIMESTAMP '2024-02-05 12:00:00', 1)"
    )
    return QueryRunner.over(ibis.duckdb.from_connection(con), costs=RULES)


@pytest.fixture(scope="module")
def hand_made() -> QueryRunner:
    return _hand_made({"P1": "10.00", "P2": "30.00"})


def _money(value: str) -> Decimal:
    return Decimal(value)


def test_the_hand_made_store_by_channel(hand_made: QueryRunner) -> None:
    result = hand_made.run(ProfitQuery(by="channel"), ProfitResult)
    assert result.costs_known
    assert result.missing == []
    found = {row["channel"]: row for row in result.groups}
    web, app = found["web"], found["app"]
    assert (web["customers"], web["orders"], app["customers"], app["orders"]) == (1, 2, 1, 1)
    assert (web["net_sales"], web["cost_of_goods"], web["payment_fees"]) == (
        _money("190.00"),
        _money("110.00"),
        _money("7.13"),
    )
    assert (web["shipping_charged"], web["shipping_cost"], web["refunds"]) == (
        _money("5.00"),
        _money("16.00"),
        _money("20.00"),
    )
    assert web["contribution_margin"] == _money("41.87")
    assert web["revenue"] == _money("170.00")  # net sales less refunds
    assert web["margin_rate"] == pytest.approx(41.87 / 190, abs=1e-6)
    assert app["contribution_margin"] == _money("10.25")
    assert app["margin_rate"] == pytest.approx(0.41, abs=1e-6)
    assert result.totals["contribution_margin"] == _money("52.12")
    assert result.totals["net_sales"] == _money("215.00")
    assert (result.totals["customers"], result.totals["orders"]) == (2, 3)  # the guest and the cancelled order out
    assert "1 guest orders have no customer to follow and are left out" in result.notes


def test_the_hand_made_profit_ltv_curve(hand_made: QueryRunner) -> None:
    result = hand_made.run(ProfitQuery(by="channel"), ProfitResult)
    curves = {row["channel"]: row["curve"] for row in result.groups}
    assert [(p["month"], p["customers_observed"]) for p in curves["web"]] == [(0, 1), (1, 1), (2, 1)]
    assert [p["cumulative_margin_per_customer"] for p in curves["web"]] == pytest.approx([33.62, 13.62, 41.87])
    assert [p["cumulative_margin_per_customer"] for p in curves["app"]] == pytest.approx([10.25, 10.25])


def test_the_hand_made_store_by_first_order(hand_made: QueryRunner) -> None:
    codes = hand_made.run(ProfitQuery(by="first-discount-code"), ProfitResult).groups
    codes = {row["first-discount-code"]: row for row in codes}
    assert {code: row["contribution_margin"] for code, row in codes.items()} == {
        "WELCOME": _money("41.87"),
        "(no code)": _money("10.25"),
    }
    products = hand_made.run(ProfitQuery(by="first-product"), ProfitResult).groups
    assert [(row["first-product"], row["customers"], row["contribution_margin"]) for row in products] == [
        ("P1", 2, _money("52.12"))  # both first orders open with a P1 line
    ]
    cohorts = hand_made.run(ProfitQuery(by="cohort"), ProfitResult).groups
    assert [(row["cohort"], row["contribution_margin"]) for row in cohorts] == [
        ("2024-01", _money("41.87")),
        ("2024-02", _money("10.25")),
    ]


def test_the_hand_made_store_by_category(hand_made: QueryRunner) -> None:
    found = {row["category"]: row for row in hand_made.run(ProfitQuery(by="category"), ProfitResult).groups}
    assert found["Toys"]["contribution_margin"] == _money("22.06")
    assert found["Books"]["contribution_margin"] == _money("30.06")
    assert found["Toys"]["payment_fees"] == _money("1.69") + _money("1.75")
    assert (found["Toys"]["orders"], found["Books"]["orders"]) == (2, 2)


def test_shipping_passed_through_and_no_fees_leave_goods_and_refunds() -> None:
    runner = _hand_made({"P1": "10.00", "P2": "30.00"})
    runner.costs = CostRules()
    result = runner.run(ProfitQuery(), ProfitResult)
    # (90 − 50) + (100 − 60) + (25 − 10) − 20 refunded = 75.00: shipping charged = shipping cost, no fees
    assert result.totals["contribution_margin"] == _money("75.00")
    assert result.totals["shipping_cost"] == result.totals["shipping_charged"] == _money("10.00")
    assert result.costs["shipping_rule"] == "shipping charged is passed through at cost"
    assert any(note.startswith("no payment fee is set, so fees are 0") for note in result.notes)


def test_a_product_without_cost_leaves_the_margin_unknown() -> None:
    result = _hand_made({"P1": "10.00", "P2": None}).run(ProfitQuery(), ProfitResult)
    assert result.costs_known is False
    # P2 is on o1's second line and on o2's line: 2 of the 5 lines of purchases (o5 was cancelled)
    assert result.missing == [
        "2 of 5 order lines name a product without a cost: import a products file with costs for them "
        "(shoplens import products.csv)"
    ]
    row = result.groups[0]
    assert (row["cost_of_goods"], row["contribution_margin"], row["margin_rate"]) == (None, None, None)
    assert row["net_sales"] is not None, "what is known is still shown"
    assert all(point["cumulative_margin_per_customer"] is None for point in row["curve"])
    nothing = _hand_made({"P1": None, "P2": None}).run(ProfitQuery(), ProfitResult)
    assert nothing.missing == [NO_COSTS]


# --- the demo store against pandas --------------------------------------------------------------------------------

DEMO_RULES = CostRules(
    payment_fee_percent=Decimal("2.9"), payment_fee_fixed=Decimal("2.35"), shipping_cost_per_order=Decimal("30.00")
)


@pytest.fixture(scope="module")
def demo_frames(demo: Store) -> Iterator[dict[str, pd.DataFrame]]:
    with duckdb.connect(str(demo.warehouse), read_only=True) as con:
        yield {
            "orders": con.sql(
                "SELECT order_id, customer_key, ordered_at, channel, net, shipping, tax, status FROM orders"
            ).df(),
            "lines": con.sql("SELECT order_id, line_no, product_id, quantity, amount, discount FROM order_lines").df(),
            "products": con.sql("SELECT product_id, category, cost FROM products").df(),
            "refunds": con.sql("SELECT order_id, customer_key, amount, refunded_at FROM refunds").df(),
        }


def _cents(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _pandas_orders(frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Each purchase's margin by the definition, in Decimal: fee = 2.9 % of net + shipping + tax to the cent, half
    up, + 2.35; shipping cost 30.00 an order; goods = Σ quantity × cost."""
    orders = frames["orders"]
    status = orders["status"].fillna("").str.strip().str.lower()
    bought = orders[~status.isin(NOT_PURCHASED_STATUSES)].copy()
    lines = frames["lines"].merge(frames["products"], on="product_id", how="left")
    lines["goods"] = [Decimal(int(q)) * Decimal(str(c)) for q, c in zip(lines["quantity"], lines["cost"], strict=True)]
    goods = lines.groupby("order_id")["goods"].sum()
    bought["goods"] = [_cents(goods[o]) for o in bought["order_id"]]
    bought["paid"] = [
        Decimal(str(n)) + Decimal(str(s or 0)) + Decimal(str(t or 0))
        for n, s, t in zip(bought["net"], bought["shipping"], bought["tax"], strict=True)
    ]
    bought["fees"] = [_cents(p * Decimal("0.029")) + Decimal("2.35") for p in bought["paid"]]
    bought["before"] = [
        Decimal(str(n)) + Decimal(str(s or 0)) - Decimal("30.00") - g - f
        for n, s, g, f in zip(bought["net"], bought["shipping"], bought["goods"], bought["fees"], strict=True)
    ]
    return bought


def test_the_demo_store_per_channel_matches_pandas_to_the_cent(
    sql_engine: tuple[str, RunnerFor], demo: Store, demo_frames: dict[str, pd.DataFrame]
) -> None:
    _, runner_for = sql_engine
    runner = runner_for(demo)
    runner.costs = DEMO_RULES
    result = runner.run(ProfitQuery(by="channel"), ProfitResult)
    bought = _pandas_orders(demo_frames)
    known = bought[bought["customer_key"].notna()].sort_values(["ordered_at", "order_id"])
    first = known.groupby("customer_key").head(1).set_index("customer_key")
    local_day = known["ordered_at"].dt.tz_localize("UTC").dt.tz_convert(demo.timezone).dt.date
    first_day = local_day.groupby(known["customer_key"]).min()
    refunds = demo_frames["refunds"]
    cancelled = set(demo_frames["orders"].loc[~demo_frames["orders"]["order_id"].isin(bought["order_id"]), "order_id"])
    given = refunds[refunds["customer_key"].isin(first.index) & refunds["refunded_at"].notna()]
    given = given[~given["order_id"].isin(cancelled)]
    refund_day = given["refunded_at"].dt.tz_localize("UTC").dt.tz_convert(demo.timezone).dt.date
    given = given[refund_day.to_numpy() >= first_day.reindex(given["customer_key"]).to_numpy()]
    expected: dict[str, dict[str, Decimal]] = {}
    for channel, people in first.groupby("channel"):
        theirs = known[known["customer_key"].isin(people.index)]
        refunded = sum(
            (Decimal(str(a)) for a in given.loc[given["customer_key"].isin(people.index), "amount"]), Decimal(0)
        )
        expected[str(channel)] = {
            "net_sales": sum((Decimal(str(n)) for n in theirs["net"]), Decimal(0)),
            "cost_of_goods": sum(theirs["goods"], Decimal(0)),
            "payment_fees": sum(theirs["fees"], Decimal(0)),
            "refunds": refunded,
            "contribution_margin": sum(theirs["before"], Decimal(0)) - refunded,
        }
    found = {row["channel"]: row for row in result.groups}
    assert set(found) == set(expected)
    for channel, sums in expected.items():
        assert {name: found[channel][name] for name in sums} == sums, channel
        assert found[channel]["customers"] == int((first["channel"] == channel).sum())


def test_the_demo_store_per_category_matches_pandas_and_electronics_is_thinnest(
    duckdb_runner: RunnerFor, demo: Store, demo_frames: dict[str, pd.DataFrame]
) -> None:
    # ingest/demo/_catalogue.py: Electronics cost 55-75 % of its price, every other category at most 55 %
    runner = duckdb_runner(demo)
    runner.costs = DEMO_RULES
    result = runner.run(ProfitQuery(by="category"), ProfitResult)
    bought = _pandas_orders(demo_frames)
    bought = bought[bought["customer_key"].notna()]
    given = demo_frames["refunds"].groupby("order_id")["amount"].sum().astype(float)
    bought = bought.assign(refunded=bought["order_id"].map(given).fillna(0.0))
    lines = demo_frames["lines"].merge(demo_frames["products"], on="product_id", how="left")
    lines["value"] = lines["amount"].astype(float) - lines["discount"].fillna(0).astype(float)
    lines["share"] = lines["value"] / lines.groupby("order_id")["value"].transform("sum")
    lines = lines.merge(bought, on="order_id")
    shipping = lines["shipping"].fillna(0).astype(float)
    lines["margin"] = lines["share"] * (
        lines["net"].astype(float) + shipping - 30.0 - lines["fees"].astype(float) - lines["refunded"]
    ) - lines["quantity"] * lines["cost"].astype(float)
    lines["net_share"] = lines["share"] * lines["net"].astype(float)
    per = lines.groupby("category").agg(margin=("margin", "sum"), net=("net_share", "sum"), lines=("margin", "size"))
    found = {row["category"]: row for row in result.groups}
    assert set(found) == set(per.index)
    for category, row in per.iterrows():
        # each line's share of an order-level amount is rounded to the cent: at most half a cent per amount
        assert float(found[category]["contribution_margin"]) == pytest.approx(row["margin"], abs=0.03 * row["lines"])
        assert found[category]["margin_rate"] == pytest.approx(row["margin"] / row["net"], abs=1e-3)
    rates = {category: row["margin_rate"] for category, row in found.items()}
    assert min(rates, key=lambda category: rates[category]) == "Electronics"


# --- UCI Online Retail: no costs ------------------------------------------------------------------------------------


def test_online_retail_says_the_costs_are_missing(duckdb_runner: RunnerFor, uci: Store) -> None:
    result = duckdb_runner(uci).run(ProfitQuery(by="channel"), ProfitResult)
    assert result.costs_known is False
    assert result.missing == ["products have no cost: import a products file with costs (shoplens import products.csv)"]
    assert f"no margin: {NO_COSTS}" in result.notes
    for row in [*result.groups, result.totals]:
        assert (row["cost_of_goods"], row["contribution_margin"], row["margin_rate"]) == (None, None, None)
    assert result.totals["net_sales"] > 0, "the sales themselves are known"
