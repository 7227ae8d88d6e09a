"""Market position's arithmetic on hand-made figures: periods, input checks, ranks, share changes and the trend."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest

from shoplens.actions import (
    Benchmarks,
    check_benchmarks,
    check_market_period,
    check_size,
    market_period_bounds,
    market_position,
    share_changes,
    share_slope,
)
from shoplens.errors import InputError


def test_periods_are_months_or_years_with_their_days() -> None:
    assert market_period_bounds("2024-02") == (date(2024, 2, 1), date(2024, 2, 29))  # a leap year
    assert market_period_bounds("2025-12") == (date(2025, 12, 1), date(2025, 12, 31))
    assert market_period_bounds("2025") == (date(2025, 1, 1), date(2025, 12, 31))


@pytest.mark.parametrize("period", ["2025-13", "2025-00", "25-01", "2025/01", "2025-1", "", "last year"])
def test_a_bad_period_is_refused_with_one_message(period: str) -> None:
    with pytest.raises(InputError) as refused:
        check_market_period(period)
    assert str(refused.value) == (
        f"period must be a month as YYYY-MM or a year as YYYY (such as 2025-06 or 2025), got {period!r}"
    )


def test_sizes_and_figures_out_of_range_are_refused_by_name() -> None:
    with pytest.raises(InputError, match=r"^market size must be an amount above 0 in the store's currency, got -5$"):
        check_size(-5)
    with pytest.raises(InputError, match=r"^market size must be an amount above 0 in the store's currency, got 0$"):
        check_size(0)
    cases = {
        Benchmarks(rating=5.5): "rating must be between 0 and 5, got 5.5",
        Benchmarks(rating=-0.1): "rating must be between 0 and 5, got -0.1",
        Benchmarks(price_index=0): "price index must be above 0 (this store is 100), got 0",
        Benchmarks(delivery_days=-1): "delivery days must be 0 or more, got -1",
        Benchmarks(returns_days=-3): "return window must be 0 or more days, got -3",
        Benchmarks(range_size=-10): "range size must be 0 or more products, got -10",
    }
    for figures, message in cases.items():
        with pytest.raises(InputError) as refused:
            check_benchmarks(figures)
        assert str(refused.value) == message
    assert check_benchmarks(Benchmarks(rating=5.0, returns_days=0)) == Benchmarks(rating=5.0, returns_days=0)


def test_ranks_put_lower_prices_and_deliveries_and_higher_rest_first() -> None:
    own = {"price_index": 100.0, "delivery_days": 3.0, "returns_days": None, "range_size": 800, "rating": 4.2}
    competitors = {
        "A": {"price_index": 95.0, "delivery_days": 3.0, "returns_days": 30, "range_size": 1200, "rating": 4.0},
        "B": {"price_index": 110.0, "delivery_days": 5.0, "returns_days": 14, "range_size": None, "rating": 4.5},
    }
    rows = {row["measure"]: row for row in market_position(own, competitors)}
    # price: A 95 < store 100 < B 110, lower is better → store 2nd of 3
    assert (rows["price_index"]["store_rank"], rows["price_index"]["ranked"]) == (2, 3)
    assert (rows["price_index"]["worse_than"], rows["price_index"]["better_than"]) == (["A"], ["B"])
    # delivery: store 3 = A 3 < B 5 → level with A, rank 1 (ties share a rank)
    assert rows["delivery_days"]["store_rank"] == 1
    assert (rows["delivery_days"]["level_with"], rows["delivery_days"]["better_than"]) == (["A"], ["B"])
    # the store's return window is unknown: no rank, both competitors ranked
    assert (rows["returns_days"]["store_rank"], rows["returns_days"]["ranked"]) == (None, 2)
    # range: only A known, 1200 > 800 and higher is better → 2nd of 2
    assert (rows["range_size"]["store_rank"], rows["range_size"]["ranked"]) == (2, 2)
    # rating: B 4.5 > store 4.2 > A 4.0 → 2nd of 3
    assert (rows["rating"]["worse_than"], rows["rating"]["better_than"]) == (["B"], ["A"])


def test_share_changes_and_slope_against_numpy() -> None:
    points = [("2025-09", 0.020), ("2025-10", 0.018), ("2025-11", 0.030)]
    changes = share_changes(points)
    assert changes[0] == (None, None)
    assert changes[1][0] == pytest.approx(-0.002)  # 0.018 - 0.020
    assert changes[1][1] == pytest.approx(-0.1)  # -0.002 / 0.020
    assert changes[2][0] == pytest.approx(0.012)
    # consecutive months are one apart, so the slope per month is polyfit's on 0, 1, 2: (0.030 - 0.020) / 2
    assert share_slope(points) == pytest.approx(np.polyfit([0, 1, 2], [0.020, 0.018, 0.030], 1)[0])
    assert share_slope(points) == pytest.approx(0.005)
    # a gap counts: 2025-01 and 2025-04 are three months apart
    assert share_slope([("2025-01", 0.01), ("2025-04", 0.04)]) == pytest.approx(0.01)
    # a year sits at its middle (1 July), a month at its own: 1 July 2024 to mid-July 2025 is 12.5 months
    assert share_slope([("2024", 0.01), ("2025-07", 0.027)]) == pytest.approx(0.017 / 12.5)
    assert share_slope(points[:1]) is None


HAND_ORDERS = """\
order,at,customer,sku,qty,price,delivered
O1,2025-01-10 10:00:00,C1,P1,1,100.00,2025-01-12 09:00:00
O2,2025-01-20 10:00:00,C2,P2,2,50.00,2025-01-25 18:00:00
O3,2025-02-03 10:00:00,C1,P1,1,100.00,2025-02-04 08:00:00
O4,2025-02-14 10:00:00,C3,P3,3,10.00,
O5,2025-03-31 12:00:00,C2,P2,1,50.00,2025-04-02 10:00:00
"""
HAND_MAPPING = """\
columns:
  order_id: order
  ordered_at: at
  customer_id: customer
  product_id: sku
  quantity: qty
  unit_price: price
  delivered_at: delivered
"""


def test_a_hand_made_store_on_each_engine(warehouse_engine: str, tmp_path: Path) -> None:
    from tests.conftest import run_cli

    (tmp_path / "orders.csv").write_text(HAND_ORDERS)
    (tmp_path / "mapping.yaml").write_text(HAND_MAPPING)
    home = tmp_path / "home"
    args = [str(tmp_path / "orders.csv"), "--profile", "generic", "--mapping", str(tmp_path / "mapping.yaml")]
    assert run_cli(home, "import", *args, "--json").exit_code == 0
    for period, size in (("2025-01", "10000"), ("2025-02", "5000"), ("2025-03", "1000"), ("2024-06", "900")):
        assert run_cli(home, "market", "size", "set", "--period", period, "--size", size, "--json").exit_code == 0
    done = run_cli(home, "market", "position", "--json")
    assert done.exit_code == 0, done.stderr
    found = done.json()
    # revenue: January 100 + 2 x 50 = 200, February 100 + 3 x 10 = 130, March 50
    assert [(r["period"], r["revenue"], r["share"]) for r in found["share"]] == [
        ("2025-01", 200.0, pytest.approx(0.02)),
        ("2025-02", 130.0, pytest.approx(0.026)),
        ("2025-03", 50.0, pytest.approx(0.05)),
    ]
    # the data start on 10 January: January is covered on 22 of its 31 days, so it stays out of the trend
    assert [r["partial"] for r in found["share"]] == [True, False, False]
    assert (
        "2025-01 is covered by the sales data on 22 of its 31 days, so its share is understated; it is left out of "
        "the trend" in found["notes"]
    )
    assert found["slope_per_month"] == pytest.approx(0.05 - 0.026)  # February to March, one month apart
    # delivery days 2, 5, 1 and 2 (O4 was not delivered): the median is 2
    assert (found["store"]["delivery_days"], found["store"]["delivered_orders"]) == (2.0, 4)
    assert found["store"]["range_size"] == 3
    assert found["store"]["rating"] is None
    assert "2024-06 is left out: the sales data run from 2025-01-10 to 2025-03-31, none in the period" in found["notes"]
    assert found["left_out"] == []
