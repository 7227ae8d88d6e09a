"""Deliveries against the promised day, on hand-made orders whose arithmetic is in the comments."""

from __future__ import annotations

from datetime import date, datetime

import ibis
import pytest

from shoplens.metrics import after_deliveries, delivery_summary, delivery_times, matched_difference


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


@pytest.fixture
def con() -> ibis.BaseBackend:
    return ibis.duckdb.connect()


def _orders() -> ibis.Table:
    # Hong Kong is UTC+8. o1: ordered 2025-01-02 (local), promised 01-05, delivered 01-04 16:00 UTC = 01-05 00:00
    # local: on time, 3 days. o2: promised 01-05, delivered 2025-01-08 02:00 UTC = 01-08 local: 3 days late, 6 days.
    # o3: delivered 2025-01-05 20:00 UTC = 01-06 04:00 local, promised 01-05: 1 day late (late by the store's day,
    # on time by UTC's). o4: not delivered yet, o5: no promised day: neither is counted. o2 is a guest order.
    return ibis.memtable(
        {
            "order_id": ["o1", "o2", "o3", "o4", "o5"],
            "customer_key": ["a", None, "b", "a", "b"],
            "ordered_at": [_at("2025-01-02 03:00")] * 3 + [_at("2025-03-01 03:00"), _at("2025-03-02 03:00")],
            "channel": ["web", "web", "app", "web", "app"],
            "promised_delivery_date": [date(2025, 1, 5)] * 4 + [None],
            "delivered_at": [
                _at("2025-01-04 16:00"),
                _at("2025-01-08 02:00"),
                _at("2025-01-05 20:00"),
                None,
                _at("2025-03-04 03:00"),
            ],
        },
        schema={
            "order_id": "string",
            "customer_key": "string",
            "ordered_at": "timestamp",
            "channel": "string",
            "promised_delivery_date": "date",
            "delivered_at": "timestamp",
        },
    )


def _customers() -> ibis.Table:
    return ibis.memtable({"customer_key": ["a", "b"], "country": ["HK", "TW"], "channel_acquired": ["social", "ads"]})


def test_late_is_the_store_local_delivery_day_after_the_promised_day(con: ibis.BaseBackend) -> None:
    times = con.execute(delivery_times(_orders(), _customers(), zone="Asia/Hong_Kong").order_by("order_id"))
    got = [(r.order_id, r.late, r.days_late, r.delivery_days, r.country) for r in times.itertuples()]
    assert got == [("o1", False, 0, 3, "HK"), ("o2", True, 3, 6, "(unknown)"), ("o3", True, 1, 4, "TW")]


def test_summary_per_channel(con: ibis.BaseBackend) -> None:
    # web: o1 on time, o2 3 days late: 2 delivered, 1 late (0.5), median days late 3, median delivery (3 + 6) / 2.
    times = delivery_times(_orders(), _customers(), zone="Asia/Hong_Kong")
    summary = con.execute(delivery_summary(times, "channel").order_by("channel")).to_dict("records")
    app, web = summary
    assert (web["delivered"], web["late"], web["late_share"], web["median_days_late"]) == (2, 1, 0.5, 3.0)
    assert web["median_delivery_days"] == pytest.approx(4.5)
    assert (app["delivered"], app["late"], app["median_days_late"]) == (1, 1, 1.0)


def test_repeat_after_a_delivery_counts_prior_purchases_and_the_90_days_after_it(con: ibis.BaseBackend) -> None:
    # a's o1 (on time, no prior purchase) is followed by o4 within 90 days of its delivery: bought again. b's o3
    # (late, no prior purchase) is followed by o5 56 days after the delivery: bought again too. The guest's o2 has
    # no customer. With the data end 2025-04-04 23:00, the 90 days after o3's delivery (to 2025-04-05 20:00) have
    # not passed; with the data end a day later they have.
    times = delivery_times(_orders(), _customers(), zone="Asia/Hong_Kong")
    end = ibis.timestamp(_at("2025-04-04 23:00"))
    cells = con.execute(after_deliveries(times, _orders(), data_end=end).order_by("stratum"))
    got = [(r.stratum, r.late, r.orders, r.bought_again) for r in cells.itertuples()]
    assert got == [("social / HK / 0", False, 1, 1)]
    later = ibis.timestamp(_at("2025-04-06 00:00"))
    cells = con.execute(after_deliveries(times, _orders(), data_end=later).order_by("stratum"))
    got = [(r.stratum, r.late, r.orders, r.bought_again) for r in cells.itertuples()]
    assert got == [("ads / TW / 0", True, 1, 1), ("social / HK / 0", False, 1, 1)]


def test_matched_difference_of_late_deliveries_names_its_arms_and_the_baseline() -> None:
    # Stratum x: late 20 orders, 4 bought again (0.2); on time 80, 32 (0.4). Stratum y: late 10, 5 (0.5); on time
    # 10, 6 (0.6). Weights 2/3 and 1/3: estimate 2/3 × −0.2 + 1/3 × −0.1 = −0.166667; baseline 2/3 × 0.4 + 1/3 ×
    # 0.6 = 0.466667. Variance (2/3)² (0.2·0.8/20 + 0.4·0.6/80) + (1/3)² (0.5·0.5/10 + 0.6·0.4/10) = 0.0048889
    # + 0.0054444 = 0.0103333; half-width 1.959964 × 0.101653 = 0.199236.
    cells = [
        {"stratum": "x", "late": True, "orders": 20, "bought_again": 4},
        {"stratum": "x", "late": False, "orders": 80, "bought_again": 32},
        {"stratum": "y", "late": True, "orders": 10, "bought_again": 5},
        {"stratum": "y", "late": False, "orders": 10, "bought_again": 6},
    ]
    found = matched_difference(cells, stratum="stratum", treated="late", units="orders", arms=("late", "on_time"))
    assert found["estimate"] == pytest.approx(-1 / 6, abs=1e-6)
    assert found["baseline"] == pytest.approx(0.466667, abs=1e-6)
    assert found["high"] - found["estimate"] == pytest.approx(0.199236, abs=1e-5)
    assert (found["late"], found["on_time"]) == (30, 90)
