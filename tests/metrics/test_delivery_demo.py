"""On a demo store, the delivery diagnostics recover what the demo plants: late deliveries counted as DuckDB counts
them, the planted fall in the repeat rate after a late delivery inside the measured 95 % interval, the
recommendation built on it, and the marketplace as the channel with the least valuable customers."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest
from tests.conftest import build_demo_store, run_cli

from shoplens.ingest.demo._customers import LEAVES_AFTER_LATE_DELIVERY

LOCAL_DAY = "CAST(timezone('Asia/Hong_Kong', timezone('UTC', {})) AS DATE)"
# Independently of shoplens: late = the Hong Kong day of the delivery is after the promised day.
LATE_SQL = """
    SELECT {by} AS key, count(*) AS delivered,
           count(*) FILTER (WHERE CAST(timezone('Asia/Hong_Kong', timezone('UTC', delivered_at)) AS DATE)
                                  > promised_delivery_date) AS late
    FROM orders LEFT JOIN customers USING (customer_key)
    WHERE delivered_at IS NOT NULL AND promised_delivery_date IS NOT NULL AND status <> 'cancelled'
    GROUP BY ALL ORDER BY ALL
"""


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo store counted in Hong Kong days, the days its delivery promises are made in."""
    home = build_demo_store(tmp_path_factory.mktemp("delivery") / "home", customers=6000, seed=2)
    assert run_cli(home, "config", "set", "timezone", "Asia/Hong_Kong").exit_code == 0
    return home


@pytest.fixture(scope="module")
def service(home: Path) -> dict[str, Any]:
    result = run_cli(home, "service", "--json")
    assert result.exit_code == 0, result.stderr
    document: dict[str, Any] = result.json()
    return document


def _late_counts(home: Path, by: str) -> list[tuple[str, int, int]]:
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        return [(str(k), int(d), int(n)) for k, d, n in con.sql(LATE_SQL.format(by=by)).fetchall()]


def test_late_orders_equal_a_duckdb_count(home: Path, service: dict[str, Any]) -> None:
    delivery = service["delivery"]
    [every] = delivery["all"]
    assert [("all", every["delivered"], every["late"])] == _late_counts(home, "'all'")
    assert [(r["channel"], r["delivered"], r["late"]) for r in delivery["channel"]] == _late_counts(home, "channel")
    countries = _late_counts(home, "coalesce(country, '(unknown)')")
    assert [(r["country"], r["delivered"], r["late"]) for r in delivery["country"]] == sorted(countries)
    assert 0.05 < every["late_share"] < 0.10, "6 % of orders, more abroad, in December and at Chinese New Year"
    assert not any(gap.startswith("delivery") for gap in service["missing"])


def test_the_planted_effect_of_a_late_delivery_lies_in_the_measured_interval(service: dict[str, Any]) -> None:
    # The demo makes a customer leave after a late delivery with probability 0.40: their 90-day repeat rate is
    # 0.60 × what it would have been, i.e. 0.40 × the on-time rate lower.
    effect = service["after_late_delivery"]
    planted = -LEAVES_AFTER_LATE_DELIVERY * effect["baseline"]
    assert effect["low"] <= planted <= effect["high"], (planted, effect)
    assert effect["high"] < 0
    assert effect["late_orders"] > 500
    assert effect["on_time_orders"] > 5000


def test_the_late_delivery_recommendation_is_worth_the_lost_repeat_orders(home: Path, service: dict[str, Any]) -> None:
    advice = run_cli(home, "recommend", "--json").json()
    recommendations = advice["recommendations"]
    [late] = [r for r in recommendations if r["rule"] == "late_deliveries"]
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        # The data end: the last Hong Kong day with a purchase or a refund of one.
        [(last_day,)] = con.sql(
            f"""SELECT max({LOCAL_DAY.format("moment")}) FROM (
                    SELECT ordered_at AS moment FROM orders WHERE status <> 'cancelled' UNION ALL
                    SELECT refunded_at FROM refunds JOIN orders USING (order_id) WHERE status <> 'cancelled')"""
        ).fetchall()
        [(mean_net,)] = con.sql("SELECT avg(net) FROM orders WHERE status <> 'cancelled'").fetchall()
        [(late_orders,)] = con.sql(
            f"""SELECT count(*) FROM orders WHERE status <> 'cancelled'
                AND {LOCAL_DAY.format("delivered_at")} > promised_delivery_date
                AND {LOCAL_DAY.format("delivered_at")} > DATE '{last_day - timedelta(days=90)}'"""
        ).fetchall()
    effect = service["after_late_delivery"]
    assert advice["as_of"] == str(last_day)
    assert late["evidence"]["late_orders_last_90_days"] == late_orders
    expected = late_orders * -effect["estimate"] * float(Decimal(mean_net).quantize(Decimal("0.01")))
    assert late["expected_value"] == pytest.approx(expected, abs=0.01)


def test_the_marketplace_brings_the_least_valuable_customers(home: Path) -> None:
    # ingest/demo/_shop.py: marketplace customers buy least often (x0.70), drop out soonest (x0.55), spend least.
    for model in ("bgnbd", "gamma-gamma"):
        assert run_cli(home, "clv", "fit", "--model", model, "--json").exit_code == 0
    channels = run_cli(home, "acquisition", "--json").json()["channels"]
    assert min(channels, key=lambda c: c["predicted_clv"])["channel"] == "marketplace"
    assert min(channels, key=lambda c: c["repeat_rate_90d"])["channel"] == "marketplace"
