"""``shoplens forecast`` on real and generated stores: UCI Online Retail against seasonal naive, the demo store's
events calendar against no calendar."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tests.conftest import DEMO_END

from shoplens.cli import main

pytestmark = pytest.mark.slow

BACKTEST_WEEKS = "8"


@pytest.mark.parametrize("metric", ["revenue", "orders"])
def test_online_retail_backtest_beats_seasonal_naive(
    cli: Callable[..., Any], online_retail_home: Path, metric: str
) -> None:
    result = cli(
        "forecast",
        "--metric",
        metric,
        "--grain",
        "day",
        "--backtest-weeks",
        BACKTEST_WEEKS,
        "--json",
        home_dir=online_retail_home,
    )
    assert result.exit_code == 0, result.stderr
    document = result.json()
    backtest = document["backtest"]
    model, naive = backtest["model"], backtest["seasonal_naive"]
    print(
        f"\nOnline Retail daily {metric}, last {BACKTEST_WEEKS} weeks (to 2011-12-09): "
        f"MAPE {model['mape']:.1f} % vs seasonal naive {naive['mape']:.1f} %; "
        f"MASE {model['mase']:.3f} vs {naive['mase']:.3f}"
    )
    assert model["mape"] < naive["mape"]
    assert model["mase"] < naive["mase"]
    assert backtest["beats_seasonal_naive"] == {"mape": True, "mase": True}
    assert (backtest["season_length"], model["periods"]) == (7, 56)
    # The shop never trades on Saturdays, and shut from 23 December 2010 to 3 January 2011 (not a Saturday or
    # Sunday with orders is counted twice: those are rest days, the rest are closures).
    assert document["closures"]["rest_weekdays"] == ["Saturday"]
    assert {"2010-12-24", "2010-12-27", "2010-12-31", "2011-01-03"} <= set(document["closures"]["closed_periods"])
    saturdays = [row for row in document["rows"] if row["period"] in ("2011-12-10", "2011-12-17")]
    assert [row["forecast"] for row in saturdays] == [0.0, 0.0]
    assert document["history"] == {"first_period": "2010-12-01", "last_period": "2011-12-09", "periods": 374}
    assert len(document["rows"]) == 28


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two years of a generated Hong Kong store whose calendar has Black Friday, Singles' Day, Christmas, …"""
    home = tmp_path_factory.mktemp("demo-events") / "home"
    main(
        [
            "--home",
            str(home),
            "demo",
            "--customers",
            "5000",
            "--seed",
            "5",
            "--end-date",
            DEMO_END,
            "--no-serve",
            "--json",
        ]
    )  # exits on error
    return home


def _event_day_error(document: dict[str, Any]) -> tuple[float, float, int]:
    rows = [row for row in document["backtest"]["rows"] if row["events"]]
    errors = [abs(row["forecast"] - row["actual"]) for row in rows]
    return float(np.mean(errors)), float(np.mean([abs(r["seasonal_naive"] - r["actual"]) for r in rows])), len(rows)


def test_the_events_calendar_lowers_the_error_around_events(
    cli: Callable[..., Any], demo_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The demo shop sells in Hong Kong: its days are Hong Kong days.
    monkeypatch.setenv("SHOPLENS_TIMEZONE", "Asia/Hong_Kong")
    runs = {}
    for flag in ("--events", "--no-events"):
        result = cli(
            "forecast", "--metric", "orders", "--backtest-weeks", BACKTEST_WEEKS, flag, "--json", home_dir=demo_home
        )
        assert result.exit_code == 0, result.stderr
        runs[flag] = result.json()
    with_calendar, naive_error, event_days = _event_day_error(runs["--events"])
    without_calendar, _, _ = _event_day_error(runs["--no-events"])
    print(
        f"\ndemo store, {event_days} event days in the last {BACKTEST_WEEKS} weeks: mean absolute error "
        f"{with_calendar:.1f} orders with the calendar, {without_calendar:.1f} without, "
        f"{naive_error:.1f} seasonal naive"
    )
    assert event_days >= 15  # Singles' Day, Black Friday weekend, Cyber Monday, Christmas sale, Boxing Day
    assert with_calendar < 0.7 * without_calendar
    overall = {flag: run["backtest"]["model"]["mape"] for flag, run in runs.items()}
    assert overall["--events"] < overall["--no-events"]
    effects = {effect["name"]: effect for effect in runs["--events"]["event_effects"]}
    assert effects["Black Friday"]["multiplier"] > 1.5  # the generator multiplies demand by 2.6
    assert effects["Christmas Day"]["multiplier"] < 1.0  # and by 0.6
    assert runs["--no-events"]["event_effects"] == []
    assert "yearly pattern" in runs["--events"]["components"]


def test_forecast_per_category(cli: Callable[..., Any], demo_home: Path) -> None:
    result = cli(
        "forecast",
        "--metric",
        "revenue",
        "--grain",
        "week",
        "--horizon",
        "6",
        "--by",
        "category",
        "--backtest-weeks",
        "4",
        "--json",
        home_dir=demo_home,
    )
    assert result.exit_code == 0, result.stderr
    document = result.json()
    categories = {c["category"]: c for c in document["categories"]}
    assert set(categories) == {
        "Accessories",
        "Apparel",
        "Beauty",
        "Electronics",
        "Footwear",
        "Home",
        "Kitchen",
        "Tea & Snacks",
    }
    for category in categories.values():
        assert len(category["rows"]) == 6
        assert category["backtest"]["model"]["periods"] == 4
        assert all(row["lower"] <= row["forecast"] <= row["upper"] for row in category["rows"])
    # Medians of skewed parts add up to less than the median of the whole; means add up. Separate models per
    # category, each with its own estimation error, agree with the total's mean within a few percent.
    total_expected = sum(row["expected"] for row in document["rows"])
    by_category = sum(row["expected"] for c in categories.values() for row in c["rows"])
    total_median = sum(row["forecast"] for row in document["rows"])
    medians_by_category = sum(row["forecast"] for c in categories.values() for row in c["rows"])
    print(
        f"\ndemo store, next 6 weeks' revenue: expected {total_expected:,.0f}, sum of categories {by_category:,.0f}; "
        f"median {total_median:,.0f}, sum of category medians {medians_by_category:,.0f}"
    )
    assert by_category == pytest.approx(total_expected, rel=0.1)
    assert abs(by_category - total_expected) < abs(medians_by_category - total_median)
    assert all(row["forecast"] < row["expected"] for row in document["rows"])
