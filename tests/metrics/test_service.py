"""Service diagnostics on hand-made tickets, stock and orders whose arithmetic is in the comments."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import ibis
import numpy as np
import pandas as pd
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
    # Product A over 4 days has stock 5, 0, 0, 3: 2 days at zero, of which day 3 is a whole day out (day 2 began
    # with 5). The store (A and B) sold 4 units on days 1, 3 and 4 and none on day 2. A's nearby in-stock days are
    # 1 and 4: it sold 2 + 2 of the store's 4 + 4 units, a share of 0.5, so on day 3 (4 store units) it lost 2.
    # Both nearby days sold exactly the share (2 of 4): no excess spread, φ = 1. Variance 1 × 0.5 × (4² / 8 + 4)
    # = 3; half-width 1.959964 × √3 = 3.394757: 0 (cut) to 5.394757 units. Its mean price is 40.00 / 4 = 10.00:
    # 20.00 lost, 0.00 to 53.95. Product B never ran out and is not listed; the sale before the inventory's span
    # is not counted.
    days = [date(2025, 3, d) for d in (1, 2, 3, 4)]
    inventory = ibis.memtable(
        {"product_id": ["A"] * 4 + ["B"] * 4, "date": days * 2, "on_hand": [5, 0, 0, 3, 9, 9, 9, 9]}
    )
    orders = ibis.memtable(
        {
            "order_id": ["o1", "o2", "o3", "o4"],
            "ordered_at": [
                _at("2025-03-01 10:00"),
                _at("2025-03-04 11:00"),
                _at("2025-02-20 11:00"),
                _at("2025-03-03 12:00"),
            ],
        }
    )
    lines = ibis.memtable(
        {
            "order_id": ["o1", "o1", "o2", "o2", "o3", "o4"],
            "product_id": ["A", "B", "A", "B", "A", "B"],
            "quantity": [2, 2, 2, 2, 50, 4],
            "amount": [
                Decimal("20.00"),
                Decimal("8.00"),
                Decimal("20.00"),
                Decimal("8.00"),
                Decimal("500.00"),
                Decimal("16.00"),
            ],
        }
    )
    [row] = con.execute(stock_outs(inventory, lines, orders, zone="UTC")).to_dict("records")
    assert (row["product_id"], row["days_tracked"], row["stockout_days"]) == ("A", 4, 2)
    assert (row["whole_days_out"], row["nearby_days"]) == (1, 2)
    assert row["units_per_day_in_stock"] == pytest.approx(2.0)
    assert row["lost_units"] == pytest.approx(2.0)
    assert row["lost_units_variance"] == pytest.approx(3.0)
    assert (row["lost_units_low"], row["lost_units_high"]) == (0.0, pytest.approx(5.394757))
    assert [Decimal(str(row[c])) for c in ("lost_sales", "lost_sales_low", "lost_sales_high")] == [
        Decimal("20.00"),
        Decimal("0.00"),
        Decimal("53.95"),
    ]


def test_lumpy_sales_widen_the_interval(con: ibis.BaseBackend) -> None:
    # The store (A and B) sells 10 units a day on days 1-6. A's stock is 9, 9, 9, 9, 0, 0: it ran out on day 5
    # and was out all of day 6. On its nearby in-stock days 1-4 it sold 0, 4, 0, 4 units: share 8 / 40 = 0.2,
    # expected 2 a day; Pearson (2² + 2² + 2² + 2²) / 2 = 8 over 3 degrees of freedom: φ = 8/3 (lumpier than
    # Poisson). Day 6's store units are 10: lost 2, variance 8/3 × 0.2 × (10² / 40 + 10) = 8/3 × 0.2 × 12.5.
    days = [date(2025, 3, d) for d in range(1, 7)]
    inventory = ibis.memtable({"product_id": ["A"] * 6, "date": days, "on_hand": [9, 9, 9, 9, 0, 0]})
    a_units = [0, 4, 0, 4, 0, 0]
    orders, lines = {"order_id": [], "ordered_at": []}, {"order_id": [], "product_id": [], "quantity": [], "amount": []}
    for day in range(1, 7):
        orders["order_id"].append(f"o{day}")
        orders["ordered_at"].append(_at(f"2025-03-0{day} 10:00"))
        for product, units in (("A", a_units[day - 1]), ("B", 10 - a_units[day - 1])):
            if units:
                lines["order_id"].append(f"o{day}")
                lines["product_id"].append(product)
                lines["quantity"].append(units)
                lines["amount"].append(Decimal(units) * Decimal("5.00"))
    [row] = con.execute(stock_outs(inventory, ibis.memtable(lines), ibis.memtable(orders), zone="UTC")).to_dict(
        "records"
    )
    assert (row["whole_days_out"], row["nearby_days"]) == (1, 4)
    assert row["lost_units"] == pytest.approx(2.0)
    assert row["lost_units_variance"] == pytest.approx(8 / 3 * 0.2 * 12.5)


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


def test_the_lost_units_interval_covers_simulated_losses_about_95_percent_of_the_time(con: ibis.BaseBackend) -> None:
    # 200 simulated products over 120 days of a store whose demand has a monthly wave and grows by half: each sells
    # a fixed share of the store's demand (Poisson; half of them in orders of 3 units, so φ = 3) and is out of stock
    # for 10 days (the first is the day it ran out, 9 whole days out). The truth is the units its customers asked
    # for on those 9 days, drawn like every other day's. A 95 % interval should hold it for about 190 of 200.
    rng = np.random.default_rng(16)
    days, products = 120, 200
    day_dates = [date(2025, 1, 1) + timedelta(days=d) for d in range(days)]
    season = 1.0 + 0.5 * np.sin(2 * np.pi * np.arange(days) / 30) + 0.5 * np.arange(days) / days
    share = rng.uniform(0.0005, 0.002, products)
    lumpy = np.arange(products) % 2 == 1
    mean = share[:, None] * 4000 * season[None, :]
    units = np.where(lumpy[:, None], 3 * rng.poisson(mean / 3), rng.poisson(mean))
    first_out = rng.integers(20, 100, products)
    out = (np.arange(days)[None, :] >= first_out[:, None]) & (np.arange(days)[None, :] < first_out[:, None] + 10)
    whole_out = out & (np.arange(days)[None, :] > first_out[:, None])
    truth = (units * whole_out).sum(axis=1)
    base = rng.poisson(4000 * season)
    ids = [f"P{p:03d}" for p in range(products)]
    inventory = pd.DataFrame(
        {
            "product_id": np.repeat(ids, days),
            "date": day_dates * products,
            "on_hand": np.where(out, 0, 5).ravel(),
        }
    )
    lines = pd.DataFrame(
        {
            "order_id": [f"o{d}" for _ in ids for d in range(days)] + [f"o{d}" for d in range(days)],
            "product_id": list(np.repeat(ids, days)) + ["BASE"] * days,
            "quantity": np.concatenate([units.ravel(), base]),
        }
    )
    lines = lines[lines["quantity"] > 0].assign(amount=lambda t: (t["quantity"] * 10).astype("float64"))
    orders = pd.DataFrame(
        {
            "order_id": [f"o{d}" for d in range(days)],
            "ordered_at": [datetime(2025, 1, 1, 12) + timedelta(days=d) for d in range(days)],
        }
    )
    found = con.execute(
        stock_outs(ibis.memtable(inventory), ibis.memtable(lines), ibis.memtable(orders), zone="UTC")
    ).set_index("product_id")
    assert len(found) == products
    assert (found["whole_days_out"] == 9).all()
    low, high = found.loc[ids, "lost_units_low"].to_numpy(), found.loc[ids, "lost_units_high"].to_numpy()
    covered = (low <= truth) & (truth <= high)
    assert 0.90 <= covered.mean() <= 0.99, covered.mean()
