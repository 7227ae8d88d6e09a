"""Hidden needs: silent-dissatisfaction signals on a store built by hand, upgrade wishes on labelled sentences,
and the report on the demo store checked against SQL written here."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from shoplens.voice._silent import (
    abandoned_after_shipping_view,
    discount_only_buyers,
    overdue_repeat_buyers,
    rising_returns,
    shipping_view_sessions,
)
from shoplens.voice._wishes import upgrade_wishes, wish_classes
from shoplens.warehouse import Warehouse

ORDERS = [  # order_id, customer, ordered_at, net, discount
    ("r1", "r", "2024-08-01 10:00:00", 100, 0),
    ("r2", "r", "2024-11-15 10:00:00", 100, 0),
    ("o1", "o", "2024-01-01 10:00:00", 40, 0),
    ("o2", "o", "2024-01-11 10:00:00", 40, 0),
    ("o3", "o", "2024-01-21 10:00:00", 40, 0),
    ("o4", "o", "2024-02-01 10:00:00", 40, 0),
    ("n1", "n", "2024-12-01 10:00:00", 60, 0),
    ("n2", "n", "2024-12-11 10:00:00", 60, 0),
    ("n3", "n", "2024-12-21 10:00:00", 60, 0),
    ("d1", "d", "2024-06-01 10:00:00", 45, 5),
    ("d2", "d", "2024-12-31 12:00:00", 45, 5),  # the last order: day 0
    ("s1", "s", "2024-12-05 10:00:00", 80, 0),
]
EVENTS = [  # event_id, session, customer, type, at
    ("e1", "S1", "s", "view", "2024-12-20 09:00:00"),
    ("e2", "S1", "s", "shipping_view", "2024-12-20 09:05:00"),
    ("e3", "S2", "n", "shipping_view", "2024-12-21 09:55:00"),
    ("e4", "S2", "n", "order", "2024-12-21 10:00:00"),
    ("e5", "S3", "s", "order", "2024-12-05 10:00:00"),
    ("e6", "S3", "s", "shipping_view", "2024-12-05 10:05:00"),
    ("e7", "S4", "n", "shipping_view", "2024-06-01 10:00:00"),  # more than 90 days before day 0
]


@pytest.fixture
def hand_made(tmp_path: Path) -> Any:
    with Warehouse(tmp_path / "warehouse.duckdb") as warehouse:
        con = warehouse.con
        for order_id, customer, at, net, discount in ORDERS:
            con.execute(
                "INSERT INTO orders (order_id, customer_key, ordered_at, gross, discount, net) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [order_id, customer, at, net + discount, discount, net],
            )
        con.execute(
            "INSERT INTO refunds (refund_id, order_id, customer_key, amount, refunded_at, row_key) "
            "VALUES ('x1', 'r2', 'r', 50, '2024-12-01 10:00:00', 1)"
        )
        for event in EVENTS:
            con.execute(
                'INSERT INTO events (event_id, session_id, customer_key, type, "at") VALUES (?, ?, ?, ?, ?)', event
            )
        yield warehouse.backend


def test_each_silent_signal_finds_exactly_its_customer(hand_made: Any) -> None:
    orders, refunds, events = hand_made.table("orders"), hand_made.table("refunds"), hand_made.table("events")
    rising = rising_returns(orders, refunds).to_pandas()
    assert rising.to_dict("records") == [{"customer_key": "r", "recent_return_rate": 0.5, "previous_return_rate": 0.0}]
    overdue = overdue_repeat_buyers(orders).to_pandas()
    # o's gaps are 10, 10 and 11 days; 334 days have passed since her last order (2024-02-01 to 2024-12-31).
    assert overdue.to_dict("records") == [
        {"customer_key": "o", "orders": 4, "median_gap_days": 10.0, "longest_gap_days": 11, "days_since_last": 334}
    ]
    assert discount_only_buyers(orders).to_pandas().to_dict("records") == [{"customer_key": "d", "orders": 2}]
    abandoned = abandoned_after_shipping_view(events, orders).to_pandas()
    assert abandoned.to_dict("records") == [{"customer_key": "s", "sessions": 2}]  # S1, and S3 (ordered before)
    assert shipping_view_sessions(events, orders).to_pandas().to_dict("records") == [
        {"sessions": 3, "without_order": 2}
    ]


@pytest.mark.parametrize(
    ("sentence", "classes"),
    [
        ("I wish it came in petite sizes.", ["more sizes"]),
        ("Would love to see express delivery options.", ["faster delivery"]),
        ("Please add PayPal or Apple Pay at checkout.", ["payment methods"]),
        ("I wish they had other colors.", ["more colours and styles"]),
        ("It would be great to have free returns.", ["easier returns"]),
        ("I ordered the petite and it fits well.", []),
        ("Delivery was fast and the parcel was well packed.", []),
        ("I should have ordered a smaller size.", []),
    ],
)
def test_upgrade_wishes_need_a_wish_and_a_topic(sentence: str, classes: list[str]) -> None:
    assert wish_classes(sentence) == classes


def test_upgrade_wishes_are_counted_per_text_and_customer() -> None:
    texts = [
        "Lovely top. I wish it came in petite! Also wish it came in petite length.",
        "Please add PayPal.",
        "Wish these came in tall sizes.",
    ]
    wishes = upgrade_wishes(texts, ["a", None, "b"], spend={"a": Decimal("10.00"), "b": Decimal("5.50")})
    assert [w.as_dict() for w in wishes] == [
        {
            "name": "more sizes",
            "texts": 2,
            "customers": 2,
            "value": 15.5,
            "quotes": [
                "I wish it came in petite!",
                "Also wish it came in petite length.",
                "Wish these came in tall sizes.",
            ],
        },
        {"name": "payment methods", "texts": 1, "customers": 0, "value": 0.0, "quotes": ["Please add PayPal."]},
    ]


def test_the_needs_report_on_the_demo_store(cli: Callable[..., Any], demo_home: Path) -> None:
    result = cli("voice", "needs", "--method", "keywords", "--json", home_dir=demo_home)
    assert result.exit_code == 0, result.stderr
    document = result.json()
    signals = document["silent_dissatisfaction"]["signals"]
    # The signals read purchases: the demo's cancelled orders (its only status that is not a sale) are left out.
    with duckdb.connect(str(demo_home / "warehouse.duckdb"), read_only=True) as con:
        discount_only = con.execute(
            """
            SELECT count(*) FROM (
                SELECT customer_key FROM orders WHERE customer_key IS NOT NULL AND status <> 'cancelled'
                GROUP BY customer_key
                HAVING count(*) >= 2 AND bool_and(coalesce(discount, 0) > 0 OR discount_code IS NOT NULL)
            )
            """
        ).fetchone()
        abandoned = con.execute(
            """
            WITH day0 AS (SELECT max(ordered_at) AS t FROM orders WHERE status <> 'cancelled'),
            s AS (
                SELECT session_id, max(customer_key) AS customer_key,
                       min("at") FILTER (WHERE type = 'shipping_view') AS seen,
                       max("at") FILTER (WHERE type = 'order') AS ordered
                FROM events, day0 WHERE "at" > day0.t - INTERVAL 90 DAY GROUP BY session_id
            )
            SELECT count(*) FILTER (WHERE seen IS NOT NULL AND (ordered IS NULL OR ordered < seen)),
                   count(*) FILTER (WHERE seen IS NOT NULL),
                   count(DISTINCT customer_key) FILTER (WHERE seen IS NOT NULL AND (ordered IS NULL OR ordered < seen))
            FROM s
            """
        ).fetchone()
        customers_with_orders = con.execute(
            "SELECT count(DISTINCT customer_key) FROM orders WHERE customer_key IS NOT NULL AND status <> 'cancelled'"
        ).fetchone()
    assert discount_only is not None
    assert abandoned is not None
    assert customers_with_orders is not None
    assert signals["discount_only_buyers"]["customers"] == discount_only[0]
    assert signals["abandoned_after_shipping_view"]["customers"] == abandoned[2]
    assert document["silent_dissatisfaction"]["shipping_view_sessions"]["without_order"] == abandoned[0]
    assert document["silent_dissatisfaction"]["shipping_view_sessions"]["sessions"] == abandoned[1]
    by_segment = document["silent_dissatisfaction"]["by_segment"]
    assert sum(row["customers"] for row in by_segment if row["segment"] != "no orders yet") == customers_with_orders[0]
    for name, signal in signals.items():
        assert sum(row[name]["customers"] for row in by_segment) == signal["customers"]
    ranked = [(t["value_at_risk"], t["negative_share"]) for t in document["complaint_themes"]]
    assert ranked == sorted(ranked, key=lambda r: (-r[0], -r[1]))
    assert document["upgrade_wishes"] == []  # the demo's reviews complain; they wish for nothing
