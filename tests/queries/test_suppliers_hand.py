"""The suppliers question on a store small enough to work out by hand, the trend line's arithmetic, and what a
store without suppliers (the real UCI Online Retail file) is told."""

from __future__ import annotations

import math
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import ibis
import pandas as pd
import pytest
from tests.conftest import ONLINE_RETAIL

from shoplens.models import linear_trend
from shoplens.queries import QueryRunner, SupplierQuery, SupplierResult, TargetSpec
from shoplens.warehouse import Warehouse

# Two suppliers. Alpha makes A1 (cost 4), Beta makes B1 (cost 6); every order is at full price (gross = net).
#   o1 2025-01-01  A1 x 2 @ 10 = 20
#   o2 2025-02-10  A1 x 3 @ 10 = 30, B1 x 1 @ 50 = 50       refund r1: 10.00 on B1, "damaged"
#   o3 2025-03-10  B1 x 1 @ 50 = 50                          refund r2: 5.00 on the order, "late"
#   o4 2025-03-20  A1 x 9 @ 10 = 90, cancelled               (not a purchase: counts nowhere)
#   o5 2025-04-02  A1 x 1 @ 10 = 10                          (April is not complete: outside the window)
# The data run from 2025-01-01 to 2025-04-02, so the last three complete months are January to March 2025.
ORDERS = [
    ("o1", "2025-01-01 12:00:00", "20.00", "paid"),
    ("o2", "2025-02-10 12:00:00", "80.00", "paid"),
    ("o3", "2025-03-10 12:00:00", "50.00", "partially_refunded"),
    ("o4", "2025-03-20 12:00:00", "90.00", "cancelled"),
    ("o5", "2025-04-02 12:00:00", "10.00", "paid"),
]
LINES = [
    ("o1", 1, "A1", 2, "10.00"),
    ("o2", 1, "A1", 3, "10.00"),
    ("o2", 2, "B1", 1, "50.00"),
    ("o3", 1, "B1", 1, "50.00"),
    ("o4", 1, "A1", 9, "10.00"),
    ("o5", 1, "A1", 1, "10.00"),
]
REFUNDS = [
    ("r1", "o2", "B1", "10.00", "damaged", "2025-02-12 12:00:00"),
    ("r2", "o3", None, "5.00", "late", "2025-03-12 12:00:00"),
]


@pytest.fixture(scope="module")
def hand_runner(tmp_path_factory: pytest.TempPathFactory) -> QueryRunner:
    path = tmp_path_factory.mktemp("suppliers-hand") / "warehouse.duckdb"
    Warehouse(path).close()  # the canonical tables, empty
    with duckdb.connect(str(path)) as con:
        con.executemany(
            "INSERT INTO products (product_id, supplier, cost) VALUES (?, ?, ?)",
            [
                ("A1", "Alpha", "4.00"),
                ("B1", "Beta", "6.00"),
            ],
        )
        con.executemany(
            "INSERT INTO orders (order_id, customer_key, ordered_at, gross, net, status) VALUES (?, 'c1', ?, ?, ?, ?)",
            [(o, at, total, total, status) for o, at, total, status in ORDERS],
        )
        con.executemany(
            "INSERT INTO order_lines (order_id, line_no, product_id, quantity, unit_price, amount, row_key) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(o, n, p, q, price, Decimal(price) * q, i) for i, (o, n, p, q, price) in enumerate(LINES)],
        )
        con.executemany(
            "INSERT INTO refunds (refund_id, order_id, product_id, amount, reason, refunded_at, row_key) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(*refund, i) for i, refund in enumerate(REFUNDS)],
        )
    return QueryRunner.over(ibis.duckdb.connect(str(path), read_only=True))


def _by_supplier(result: SupplierResult) -> dict[str, dict[str, Any]]:
    return {row["supplier"]: row for row in result.suppliers}


def test_revenue_margin_shares_and_returns_worked_by_hand(hand_runner: QueryRunner) -> None:
    result = hand_runner.run(SupplierQuery(months=3), SupplierResult)
    assert (str(result.start), str(result.end)) == ("2025-01-01", "2025-03-31")
    alpha, beta = _by_supplier(result)["Alpha"], _by_supplier(result)["Beta"]
    # Alpha: 2 + 3 units, sales 20 + 30 = 50, no refund; margin 50 - 4 x 5 = 30.
    assert (alpha["units"], alpha["sales"], alpha["revenue"], alpha["margin"]) == (5, 50, 50, 30)
    # Beta: 1 + 1 units, sales 100, refunds 10 + 5 = 15 (the order-level 5 falls on o3's only line), revenue 85;
    # margin 85 - 6 x 2 = 73; return rate 15 / 100.
    assert (beta["units"], beta["sales"], beta["refunds"], beta["revenue"], beta["margin"]) == (2, 100, 15, 85, 73)
    assert beta["return_rate"] == pytest.approx(0.15)
    assert alpha["return_rate"] == 0
    # Shares of the window's 135 of revenue and 103 of margin.
    assert alpha["revenue_share"] == pytest.approx(50 / 135, abs=1e-6)
    assert beta["margin_share"] == pytest.approx(73 / 103, abs=1e-6)
    assert [(r["reason"], r["refunds"]) for r in beta["reasons"]] == [("damaged", 1), ("late", 1)]
    assert alpha["reasons"] == []
    assert [m["units"] for m in alpha["monthly_units"]] == [2, 3, 0]
    assert [m["units"] for m in beta["monthly_units"]] == [0, 1, 1]
    assert result.totals["revenue"] == 135


def test_units_a_revenue_target_needs_at_todays_mix(hand_runner: QueryRunner) -> None:
    # A target of 270 for May, twice the window's 135 of revenue. Alpha: 270 x share (50 / 135) / price per unit
    # (50 / 5 = 10) = 10 units; Beta: 270 x (85 / 135) / (85 / 2) = 4 units. Against their average month over the
    # three months (5 / 3 and 2 / 3 units): 10 / (5/3) - 1 = +500 %, 4 / (2/3) - 1 = +500 %.
    target = TargetSpec(kpi="revenue", period="2025-05", value=270.0)
    result = hand_runner.run(SupplierQuery(months=3, target=target), SupplierResult)
    rows = _by_supplier(result)
    assert (rows["Alpha"]["target_units"], rows["Beta"]["target_units"]) == (10.0, 4.0)
    assert rows["Alpha"]["target_units_change"] == pytest.approx(5.0)
    assert rows["Beta"]["target_units_change"] == pytest.approx(5.0)
    assert result.target is not None
    assert result.target["units"] == 14.0


def test_a_margin_is_never_over_part_of_a_suppliers_goods(tmp_path: Path) -> None:
    # January 2025 complete (orders on its first and last day); A2 has no cost, so Alpha's margin is unknown.
    path = tmp_path / "warehouse.duckdb"
    Warehouse(path).close()
    with duckdb.connect(str(path)) as con:
        con.execute(
            "INSERT INTO products (product_id, supplier, cost) VALUES ('A1', 'Alpha', 4), ('A2', 'Alpha', NULL)"
        )
        con.execute(
            "INSERT INTO orders (order_id, ordered_at, gross, net, status) VALUES "
            "('o1', '2025-01-01 10:00', 10, 10, 'paid'), ('o2', '2025-01-31 10:00', 20, 20, 'paid')"
        )
        con.execute(
            "INSERT INTO order_lines (order_id, line_no, product_id, quantity, unit_price, amount, row_key) VALUES "
            "('o1', 1, 'A1', 1, 10, 10, 1), ('o2', 1, 'A2', 1, 20, 20, 2)"
        )
    runner = QueryRunner.over(ibis.duckdb.connect(str(path), read_only=True))
    result = runner.run(SupplierQuery(months=1), SupplierResult)
    (alpha,) = result.suppliers
    assert (alpha["revenue"], alpha["margin"], alpha["margin_share"], alpha["uncosted_units"]) == (30, None, None, 1)
    assert result.notes == ["margin is null for 1 supplier(s) with products sold without a cost: Alpha"]


def test_the_trend_line_and_its_prediction_interval_by_hand() -> None:
    # Units 0, 1, 1 at months 0, 1, 2: mean 2/3, slope ((-1)(0 - 2/3) + (1)(1 - 2/3)) / 2 = 0.5. Next month (x = 3):
    # 2/3 + 0.5 x 2 = 5/3. Residuals -1/6, 1/3, -1/6: s = sqrt((1/36 + 1/9 + 1/36) / 1) = sqrt(1/6). The 80 %
    # interval: t(0.9; 1 df) = 3.0777 x s x sqrt(1 + 1/3 + 2^2 / 2) = 2.2940 either side, the lower end cut at 0.
    trend = linear_trend([0, 1, 1], horizon=1, level=0.8)
    assert trend.slope == pytest.approx(0.5)
    assert trend.change_percent == pytest.approx(75.0)  # 0.5 / (2/3)
    (ahead,) = trend.forecast
    half = 3.077684 * math.sqrt(1 / 6) * math.sqrt(1 + 1 / 3 + 2)
    assert ahead.forecast == pytest.approx(5 / 3, abs=0.005)
    assert ahead.lower == 0.0
    assert ahead.upper == pytest.approx(5 / 3 + half, abs=0.005)
    # Two months leave no error to estimate: their mean, no interval.
    short = linear_trend([4, 6], horizon=2, level=0.8)
    assert [(p.forecast, p.lower) for p in short.forecast] == [(5.0, None), (5.0, None)]


def test_online_retail_is_told_it_has_no_suppliers_and_no_costs(
    cli: Callable[..., Any], tmp_path: Path, datasets: Path
) -> None:
    # The first 2,000 lines of the real UCI Online Retail file: products with a description and a price only.
    sample = tmp_path / "online_retail_sample.csv"
    frame = pd.read_parquet(ONLINE_RETAIL).head(2000)
    frame.to_csv(sample, index=False)
    assert cli("import", str(sample), "--profile", "online-retail", "--json").exit_code == 0
    with duckdb.connect(str(tmp_path / "home" / "warehouse.duckdb"), read_only=True) as con:
        found = con.execute("SELECT count(*), count(supplier), count(cost) FROM products").fetchone()
    assert found is not None
    products, with_supplier, with_cost = found
    # (a few stock codes come only on lines the import quarantines, so there are fewer than in the sample)
    assert (with_supplier, with_cost) == (0, 0)
    assert 1000 < products <= frame["StockCode"].nunique()
    expected = (
        f"no suppliers and no costs: none of the {products:,} products in the products table names a supplier or "
        "has a cost; import a catalogue with supplier and cost columns "
        "(e.g. shoplens import products.csv --profile shopify-products)"
    )
    result = cli("suppliers", "--json")
    assert result.exit_code == 0
    document = result.json()
    assert (document["available"], document["missing"], document["message"]) == (False, ["supplier", "cost"], expected)
    assert document["suppliers"] == []
    text = cli("suppliers")
    assert (text.exit_code, text.stdout.replace("\n", " ").strip()) == (0, expected)


@pytest.mark.postgres
def test_the_hand_made_store_gives_the_same_answer_on_postgresql(hand_runner: QueryRunner) -> None:
    from tests.conftest import fresh_postgres_database

    source = hand_runner.source.backend  # type: ignore[attr-defined]
    with fresh_postgres_database() as url:
        backend = ibis.connect(url.replace("postgresql+psycopg", "postgres"))
        try:
            for name in ("orders", "order_lines", "refunds", "products", "customers", "events", "events_calendar"):
                table = source.table(name)
                backend.create_table(
                    name, (table.drop("row_key") if "row_key" in table.columns else table).to_pyarrow()
                )
            on_postgres = QueryRunner.over(backend).run(SupplierQuery(months=3), SupplierResult)
        finally:
            backend.disconnect()
    on_duckdb = hand_runner.run(SupplierQuery(months=3), SupplierResult)
    assert on_postgres.suppliers, "Alpha and Beta"
    assert on_postgres.model_dump(mode="json") == on_duckdb.model_dump(mode="json")
