"""One customer month by month (``customer_months``, ``customer_totals``): a small store summed by hand, the same
totals as RFM's monetary value, and the same detail on PostgreSQL as on DuckDB."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import duckdb
import ibis
import pyarrow as pa
import pytest
from metrics_backends import RunnerFor, Store, same

from shoplens.metrics import customer_months, customer_totals, purchase_refunds, purchases, rfm_scores
from shoplens.queries import CustomerDetailQuery, CustomerDetailResult, CustomerListQuery, CustomerListResult

CON = ibis.duckdb.from_connection(duckdb.connect())
ZONE = "Asia/Hong_Kong"  # UTC+8, no daylight saving: 2025-01-31 17:00 UTC is 1 February in the store
MONEY = pa.decimal128(18, 2)


def _orders() -> ibis.Table:
    return ibis.memtable(
        pa.table(
            {
                "order_id": ["o1", "o2", "o3", "o4", "o5"],
                "customer_key": ["A", "A", "A", "B", None],
                "ordered_at": pa.array(
                    [
                        datetime(2025, 1, 10, 3),
                        datetime(2025, 1, 31, 17),
                        datetime(2025, 2, 10, 9),
                        datetime(2025, 1, 5, 9),
                        datetime(2025, 1, 6, 9),
                    ],
                    pa.timestamp("us"),
                ),
                "net": pa.array(
                    [Decimal("100.00"), Decimal("50.50"), Decimal("20.00"), Decimal("70.00"), Decimal(9)], MONEY
                ),
                "status": ["paid", "paid", " Cancelled ", "paid", "paid"],
            }
        )
    )


def _refunds() -> ibis.Table:
    return ibis.memtable(
        pa.table(
            {
                "order_id": ["o1", "o3", "o2"],
                "customer_key": ["A", "A", "A"],
                "amount": pa.array([Decimal("10.00"), Decimal("20.00"), Decimal("5.00")], MONEY),
                "refunded_at": pa.array([datetime(2025, 3, 2, 12), datetime(2025, 2, 11), None], pa.timestamp("us")),
            }
        )
    )


def _tables() -> tuple[ibis.Table, ibis.Table]:
    """The purchases and their refunds, as every analysis reads them (the cancelled order's refund goes with it)."""
    orders, refunds = _orders(), _refunds()
    return purchases(orders), purchase_refunds(refunds, orders)


def test_months_count_orders_when_placed_and_refunds_when_given_in_the_store_s_months() -> None:
    orders, refunds = _tables()
    months = customer_months(orders, refunds, zone=ZONE)
    found = CON.execute(months.filter(months.customer_key == "A").order_by("month")).to_dict("records")
    assert [(r["month"].date(), r["orders"], r["net_sales"], r["refunds"], r["revenue"]) for r in found] == [
        (date(2025, 1, 1), 1, Decimal("100.00"), Decimal("0.00"), Decimal("100.00")),
        (date(2025, 2, 1), 1, Decimal("50.50"), Decimal("0.00"), Decimal("50.50")),  # 1 February, store time
        (date(2025, 3, 1), 0, Decimal("0.00"), Decimal("10.00"), Decimal("-10.00")),  # a refund, no order
    ]
    everyone = CON.execute(months.order_by(["customer_key", "month"]))
    assert list(everyone["customer_key"]) == ["A", "A", "A", "B"], "no guest, and B has one month"


def test_totals_hold_every_refund_and_equal_rfm_s_monetary_value() -> None:
    orders, refunds = _tables()
    totals = CON.execute(customer_totals(orders, refunds, zone=ZONE).order_by("customer_key")).to_dict("records")
    first = totals[0]
    assert (first["customer_key"], first["first_order_day"].date(), first["last_order_day"].date()) == (
        "A",
        date(2025, 1, 10),
        date(2025, 2, 1),
    )
    assert (first["orders"], first["net_sales"], first["refunds"], first["undated_refunds"], first["revenue"]) == (
        2,
        Decimal("150.50"),
        Decimal("15.00"),
        Decimal("5.00"),
        Decimal("135.50"),
    )
    assert (totals[1]["customer_key"], totals[1]["revenue"]) == ("B", Decimal("70.00"))
    scores = CON.execute(rfm_scores(orders, refunds, zone=ZONE).order_by("customer_key"))
    assert list(scores["monetary"]) == [row["revenue"] for row in totals]


@pytest.mark.postgres
def test_the_detail_is_the_same_on_postgresql(engines: Any, duckdb_runner: RunnerFor, demo: Store) -> None:
    postgres = engines.runner_for("postgres")
    reference = duckdb_runner(demo)
    key = reference.run(CustomerListQuery(limit=1), CustomerListResult).customers[0]["customer_key"]
    query = CustomerDetailQuery(customer_key=key)
    expected = reference.run(query, CustomerDetailResult).model_dump()
    assert expected["months"], "the store's biggest spender has months"
    same(expected, postgres(demo).run(query, CustomerDetailResult).model_dump())
