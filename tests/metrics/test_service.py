"""Service diagnostics on hand-made tickets, stock and orders whose arithmetic is in the comments."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import ibis
import pytest

from shoplens.metrics import after_tickets, matched_difference, stock_outs, support_summary, ticket_times


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


@pytest.fixture
def con() -> ibis.BaseBackend:
    return ibis.duckdb.connect()


def test_support_times_per_channel(con: ibis.BaseBackend) -> None:
    # e-mail 1: answered after 2 h, solved after 24 h. e-mail 2: answered after 30 h (slow), still open.
    # chat: never answered (slow, open). E-mail: median reply (2 + 30) / 2 = 16 h, half within 24 h.
    tickets = ibis.memtable(
        {
            "ticket_id": ["T1", "T2", "T3"],
            "customer_key": ["a", "b", None],
            "created_at": [_at("2025-03-03 10:00"), _at("2025-03-04 09:00"), _at("2025-03-05 08:00")],
            "first_response_at": [_at("2025-03-03 12:00"), _at("2025-03-05 15:00"), None],
            "solved_at": [_at("2025-03-04 10:00"), None, None],
            "channel": ["email", "email", "chat"],
        }
    )
    summary = con.execute(support_summary(ticket_times(tickets)).order_by("channel")).to_dict("records")
    chat, email = summary
    assert (email["tickets"], email["answered"], email["open"]) == (2, 2, 1)
    assert email["median_response_hours"] == pytest.approx(16.0)
    assert email["answered_within_24h_share"] == pytest.approx(0.5)
    assert email["median_resolution_hours"] == pytest.approx(24.0)
    assert (chat["tickets"], chat["answered"], chat["open"], chat["answered_within_24h_share"]) == (1, 0, 1, 0.0)


def test_stock_out_lost_sales(con: ibis.BaseBackend) -> None:
    # Product A over 4 days has stock 5, 0, 0, 3: 2 days out. It sold 2 units (20.00) on day 1 and 2 units
    # (20.00) on day 4: 4 units over 2 in-stock days = 2 a day, so 2 × 2 = 4 lost units at 40 / 4 = 10.00 each:
    # 40.00 lost. Product B never ran out and is not listed; the sale before the inventory's span is not counted.
    days = [date(2025, 3, d) for d in (1, 2, 3, 4)]
    inventory = ibis.memtable(
        {"product_id": ["A"] * 4 + ["B"] * 4, "date": days * 2, "on_hand": [5, 0, 0, 3, 9, 9, 9, 9]}
    )
    orders = ibis.memtable(
        {
            "order_id": ["o1", "o2", "o3"],
            "ordered_at": [_at("2025-03-01 10:00"), _at("2025-03-04 11:00"), _at("2025-02-20 11:00")],
        }
    )
    lines = ibis.memtable(
        {
            "order_id": ["o1", "o2", "o3"],
            "product_id": ["A", "A", "A"],
            "quantity": [2, 2, 50],
            "amount": [Decimal("20.00"), Decimal("20.00"), Decimal("500.00")],
        }
    )
    [row] = con.execute(stock_outs(inventory, lines, orders, zone="UTC")).to_dict("records")
    assert (row["product_id"], row["days_tracked"], row["stockout_days"]) == ("A", 4, 2)
    assert row["units_per_day_in_stock"] == pytest.approx(2.0)
    assert row["lost_units"] == pytest.approx(4.0)
    assert Decimal(str(row["lost_sales"])) == Decimal("40.00")


def test_repeat_after_tickets_counts_prior_and_later_purchases(con: ibis.BaseBackend) -> None:
    # Customer a: 1 purchase before a slow ticket, 1 within 90 days after → band "1", slow, bought again.
    # Customer b: no purchase before a prompt ticket, none within 90 days (one 100 days later) → band "0", prompt.
    # Customer c's ticket is too recent: its 90 days have not ended by the data end (2025-06-30).
    tickets = ibis.memtable(
        {
            "ticket_id": ["T1", "T2", "T3"],
            "customer_key": ["a", "b", "c"],
            "created_at": [_at("2025-01-10 10:00"), _at("2025-01-10 10:00"), _at("2025-06-01 10:00")],
            "first_response_at": [_at("2025-01-12 10:00"), _at("2025-01-10 11:00"), _at("2025-06-01 11:00")],
            "solved_at": [_at("2025-01-13 10:00"), None, None],
            "channel": ["email", "chat", "chat"],
        }
    )
    orders = ibis.memtable(
        {
            "customer_key": ["a", "a", "b", "c"],
            "ordered_at": [
                _at("2025-01-01 09:00"),
                _at("2025-02-01 09:00"),
                _at("2025-04-20 09:00"),
                _at("2025-06-30 09:00"),
            ],
        }
    )
    end = ibis.timestamp(_at("2025-06-30 23:00"))
    cells = con.execute(after_tickets(ticket_times(tickets), orders, data_end=end).order_by("prior_band"))
    got = [(r["prior_band"], r["slow"], r["tickets"], r["bought_again"]) for r in cells.to_dict("records")]
    assert got == [("0", False, 1, 0), ("1", True, 1, 1)]


def test_matched_difference_weights_bands_by_their_slow_tickets() -> None:
    # Band "1": slow 10 tickets, 2 bought again (0.2); prompt 40, 16 (0.4): −0.2. Band "4+": slow 30, 18 (0.6);
    # prompt 20, 14 (0.7): −0.1. Weights 10/40 and 30/40: 0.25 × −0.2 + 0.75 × −0.1 = −0.125.
    # Variance: 0.25² (0.2·0.8/10 + 0.4·0.6/40) + 0.75² (0.6·0.4/30 + 0.7·0.3/20) = 0.0013750 + 0.0104063
    # = 0.0117813; half-width 1.959964 × 0.108542 = 0.212738. Band "0" has no prompt tickets and is left out.
    cells = [
        {"prior_band": "1", "slow": True, "tickets": 10, "bought_again": 2},
        {"prior_band": "1", "slow": False, "tickets": 40, "bought_again": 16},
        {"prior_band": "4+", "slow": True, "tickets": 30, "bought_again": 18},
        {"prior_band": "4+", "slow": False, "tickets": 20, "bought_again": 14},
        {"prior_band": "0", "slow": True, "tickets": 5, "bought_again": 1},
    ]
    found = matched_difference(cells)
    assert found["estimate"] == pytest.approx(-0.125)
    assert found["low"] == pytest.approx(-0.125 - 0.212738, abs=1e-5)
    assert found["high"] == pytest.approx(-0.125 + 0.212738, abs=1e-5)
    assert (found["slow_tickets"], found["prompt_tickets"]) == (40, 60)
    assert matched_difference(cells[-1:])["estimate"] is None
