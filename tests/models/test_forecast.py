"""The demand forecast on data whose answer is known: hand-made orders, closures, and series with planted events."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import ibis
import numpy as np
import pandas as pd
import pytest

from shoplens.errors import InputError
from shoplens.models.forecast import (
    Closures,
    accuracy,
    backtest,
    demand_periods,
    find_closures,
    forecast,
    order_volume,
)

# --- the data the model sees -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shop() -> ibis.BaseBackend:
    """Orders over two weeks, with a cancelled order, a guest order and lines in two categories."""
    con = ibis.duckdb.connect()
    con.raw_sql(
        """
        CREATE TABLE orders (order_id VARCHAR, customer_key VARCHAR, ordered_at TIMESTAMP, net DECIMAL(18,2),
                             status VARCHAR);
        INSERT INTO orders VALUES
          ('1', 'a', '2024-01-01 09:00', 100.00, 'paid'),
          ('2', NULL, '2024-01-01 17:30', 50.00, 'paid'),          -- guest; 01:30 on 2 Jan in Hong Kong
          ('3', 'b', '2024-01-03 10:00', 80.00, 'cancelled'),      -- never happened
          ('4', 'b', '2024-01-08 10:00', 30.00, 'refunded'),
          ('5', 'a', '2024-01-14 23:00', 60.00, NULL);
        CREATE TABLE order_lines (order_id VARCHAR, product_id VARCHAR, amount DECIMAL(18,2));
        INSERT INTO order_lines VALUES
          ('1', 'shoe', 90.00), ('1', 'sock', 30.00),               -- net 100 of gross 120: 75 + 25
          ('2', 'sock', 50.00), ('3', 'shoe', 80.00), ('4', 'mystery', 30.00), ('5', 'shoe', 60.00);
        CREATE TABLE products (product_id VARCHAR, category VARCHAR);
        INSERT INTO products VALUES ('shoe', 'Footwear'), ('sock', 'Accessories');
        """
    )
    return con


def test_daily_totals_leave_out_cancelled_orders_and_fill_empty_days(shop: ibis.BaseBackend) -> None:
    volume = shop.execute(order_volume(shop.table("orders")))
    days = demand_periods(volume, grain="day").set_index("period")
    assert days.index[0] == pd.Timestamp("2024-01-01")
    assert days.index[-1] == pd.Timestamp("2024-01-14")
    assert len(days) == 14
    assert days.loc["2024-01-01"].to_dict() == {"revenue": 150.0, "orders": 2}
    assert days.loc["2024-01-03"].to_dict() == {"revenue": 0.0, "orders": 0}
    assert days["revenue"].sum() == 240.0  # 100 + 50 + 30 + 60: the refunded order was still ordered


def test_categories_share_each_orders_net_by_line_amount(shop: ibis.BaseBackend) -> None:
    volume = shop.execute(
        order_volume(shop.table("orders"), order_lines=shop.table("order_lines"), products=shop.table("products"))
    )
    periods = demand_periods(volume, grain="day")
    totals = periods.groupby("category")[["revenue", "orders"]].sum()
    assert totals.to_dict("index") == {
        "Accessories": {"revenue": 25.0 + 50.0, "orders": 2},
        "Footwear": {"revenue": 75.0 + 60.0, "orders": 2},
        "uncategorised": {"revenue": 30.0, "orders": 1},
    }
    assert totals["revenue"].sum() == 240.0
    assert set(periods.groupby("category").size()) == {14}  # every category has every day


def test_store_local_days_and_partial_weeks(shop: ibis.BaseBackend) -> None:
    in_hong_kong = shop.execute(order_volume(shop.table("orders"), zone="Asia/Hong_Kong"))
    local = demand_periods(in_hong_kong, grain="day", timezone="Asia/Hong_Kong").set_index("period")
    # The data cover whole UTC days, 1 Jan 00:00 to 15 Jan 00:00 UTC = 1 Jan 08:00 to 15 Jan 08:00 in Hong Kong:
    # the first and last local days are only partly covered and dropped.
    assert (local.index[0], local.index[-1]) == (pd.Timestamp("2024-01-02"), pd.Timestamp("2024-01-14"))
    assert local.loc["2024-01-02"].to_dict() == {"revenue": 50.0, "orders": 1}  # the guest order, 01:30 local
    weeks = demand_periods(shop.execute(order_volume(shop.table("orders"))), grain="week").set_index("period")
    assert weeks.index.tolist() == [pd.Timestamp("2024-01-01"), pd.Timestamp("2024-01-08")]  # both complete
    assert weeks["revenue"].tolist() == [150.0, 90.0]


# --- closures --------------------------------------------------------------------------------------------------------


def _days(values: list[float] | np.ndarray, start: str = "2024-01-01") -> pd.Series:
    return pd.Series(np.asarray(values, dtype=float), index=pd.date_range(start, periods=len(values), freq="D"))


def test_rest_days_holiday_breaks_and_calendar_closures_are_found() -> None:
    weeks = 20
    orders = np.tile([30, 28, 31, 29, 33, 0, 15], weeks).astype(float)  # 2024-01-01 is a Monday; shut on Saturdays
    orders[7 * 10 + 2] = 0  # a Wednesday with no orders at all: a closure
    calendar = pd.DataFrame({"date": [date(2024, 2, 1)], "name": ["Stocktake"], "kind": ["closed"]})
    closures = find_closures(_days(orders), grain="day", calendar=calendar)
    assert closures.rest_weekdays == frozenset({5})
    assert closures.closed_periods == {pd.Timestamp("2024-03-13"), pd.Timestamp("2024-02-01")}


def test_a_quiet_day_in_a_small_store_is_not_a_closure() -> None:
    rng = np.random.default_rng(3)
    orders = rng.poisson(1.5, 140).astype(float)  # zeros are ordinary here
    closures = find_closures(_days(orders), grain="day")
    assert closures.closed_periods == frozenset()
    assert closures.rest_weekdays == frozenset()


# --- accuracy --------------------------------------------------------------------------------------------------------


def test_mape_skips_zero_actuals_and_mase_uses_the_given_scale() -> None:
    result = accuracy(np.array([10.0, 0.0, 20.0]), np.array([12.0, 1.0, 15.0]), scale=2.0)
    assert result.mape == pytest.approx(100 * (2 / 10 + 5 / 20) / 2)
    assert result.mae == pytest.approx((2 + 1 + 5) / 3)
    assert result.mase == pytest.approx((8 / 3) / 2.0)
    assert (result.periods, result.mape_periods) == (3, 2)


# --- the model on planted effects -----------------------------------------------------------------------------------

WEEKLY_PATTERN = np.array([1.0, 0.95, 0.95, 1.0, 1.1, 1.3, 1.2])
SALE_MULTIPLIER = 2.0


def _planted(days: int = 780, seed: int = 7) -> tuple[pd.Series, pd.DataFrame]:
    """Daily demand: level 200, weekly pattern, log-normal noise (sd 0.08), and a two-day sale every ~4 months."""
    rng = np.random.default_rng(seed)
    index = pd.date_range("2023-01-02", periods=days, freq="D")
    sale_days = [d for d in index if d.day in (10, 11) and d.month in (3, 7, 11)]
    demand = 200.0 * WEEKLY_PATTERN[index.day_of_week] * np.exp(rng.normal(0.0, 0.08, days))
    demand[index.isin(sale_days)] *= SALE_MULTIPLIER
    calendar = pd.DataFrame({"date": [d.date() for d in sale_days], "name": "Sale", "kind": "store_sale"})
    return pd.Series(demand, index=index), calendar


def test_a_planted_event_effect_is_recovered_and_forecast() -> None:
    history, calendar = _planted()
    future_sale = pd.DataFrame({"date": [date(2025, 3, 10)], "name": ["Sale"], "kind": ["store_sale"]})
    result = forecast(history, grain="day", horizon=90, calendar=pd.concat([calendar, future_sale]))
    (effect,) = result.event_effects
    assert effect.name == "Sale"
    assert effect.estimated
    assert effect.periods_seen == 12
    assert effect.multiplier == pytest.approx(SALE_MULTIPLIER, rel=0.05)
    frame = result.frame.set_index("period")
    sale_day = frame.loc["2025-03-10"]
    same_weekday_before = frame.loc["2025-03-03"]
    assert sale_day["events"] == ["Sale"]
    assert sale_day["forecast"] / same_weekday_before["forecast"] == pytest.approx(SALE_MULTIPLIER, rel=0.08)
    assert result.components == ["local level", "weekly pattern", "yearly pattern", "1 calendar events"]
    weekday_forecast = frame["forecast"].iloc[:7].to_numpy()
    order = np.argsort(pd.DatetimeIndex(frame.index[:7]).day_of_week)
    assert weekday_forecast[order] / weekday_forecast[order][0] == pytest.approx(WEEKLY_PATTERN, rel=0.05)


def test_an_event_never_seen_before_gets_its_kinds_average_effect() -> None:
    history, calendar = _planted()
    new_event = pd.DataFrame({"date": [date(2025, 3, 20)], "name": ["Flash Sale"], "kind": ["store_sale"]})
    unknown_kind = pd.DataFrame({"date": [date(2025, 3, 21)], "name": ["Parade"], "kind": ["festival"]})
    result = forecast(history, grain="day", horizon=90, calendar=pd.concat([calendar, new_event, unknown_kind]))
    effects = {effect.name: effect for effect in result.event_effects}
    assert effects["Flash Sale"].estimated is False
    assert effects["Flash Sale"].multiplier == pytest.approx(effects["Sale"].multiplier, rel=1e-9)
    assert "Parade" not in effects
    assert any("'Parade' has not happened before" in warning for warning in result.warnings)


def test_calendar_closures_are_forecast_as_zero_and_rest_days_too() -> None:
    history, _ = _planted(days=200)
    closures = Closures(rest_weekdays=frozenset({6}), closed_periods=frozenset({pd.Timestamp("2023-07-25")}))
    result = forecast(history, grain="day", horizon=14, closures=closures)
    frame = result.frame.set_index("period")
    assert frame.loc["2023-07-25", "forecast"] == 0.0
    assert (frame.loc[pd.DatetimeIndex(frame.index).day_of_week == 6, "upper"] == 0.0).all()
    assert (frame["lower"] <= frame["forecast"]).all()
    assert (frame["forecast"] <= frame["upper"]).all()


def test_a_closed_day_shows_its_closure_name_in_the_events_column() -> None:
    history, _ = _planted(days=200)
    calendar = pd.DataFrame(
        {"date": [date(2023, 7, 25)], "name": ["Stocktake"], "kind": ["closed"]}  # a Tuesday inside the horizon
    )
    closures = find_closures(None, grain="day", calendar=calendar)
    closures = Closures(rest_weekdays=frozenset({6}), closed_periods=closures.closed_periods)
    frame = forecast(history, grain="day", horizon=14, calendar=calendar, closures=closures).frame.set_index("period")
    assert frame.loc["2023-07-25", "forecast"] == 0.0
    assert frame.loc["2023-07-25", "events"] == ["Stocktake"]
    sundays = frame[pd.DatetimeIndex(frame.index).day_of_week == 6]
    assert len(sundays) == 2
    assert sundays["events"].tolist() == [["closed (rest day)"], ["closed (rest day)"]]
    open_days = frame[(pd.DatetimeIndex(frame.index).day_of_week != 6) & (frame.index != "2023-07-25")]
    assert open_days["events"].map(len).sum() == 0


def test_the_backtest_never_looks_ahead() -> None:
    history, calendar = _planted(days=400)
    first = backtest(history, grain="day", weeks=4, calendar=calendar)
    changed = history.copy()
    changed.iloc[-7:] *= 10.0  # the last backtest week: only its own actuals may change
    second = backtest(changed, grain="day", weeks=4, calendar=calendar)
    assert second.frame["forecast"].to_numpy() == pytest.approx(first.frame["forecast"].to_numpy(), rel=1e-9)
    assert second.frame["actual"].iloc[-7:].to_numpy() == pytest.approx(10 * first.frame["actual"].iloc[-7:])
    naive = first.frame.set_index("period")["seasonal_naive"]
    assert naive.to_numpy() == pytest.approx(history.shift(7).loc[naive.index].to_numpy())
    assert first.season_length == 7


def test_planted_events_make_the_model_beat_seasonal_naive_around_them() -> None:
    history, calendar = _planted()
    with_events = backtest(history.loc[:"2024-11-30"], grain="day", weeks=8, calendar=calendar)
    without = backtest(history.loc[:"2024-11-30"], grain="day", weeks=8, calendar=calendar, use_events=False)
    on_sale = with_events.frame["events"].map(len) > 0
    assert on_sale.sum() == 2
    error_with = np.abs(with_events.frame["forecast"] - with_events.frame["actual"])[on_sale].mean()
    error_without = np.abs(without.frame["forecast"] - without.frame["actual"])[on_sale].mean()
    assert error_with < 0.25 * error_without
    assert with_events.model.mase is not None
    assert with_events.seasonal_naive.mase is not None
    assert with_events.model.mase < with_events.seasonal_naive.mase


# --- bad input -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda h: forecast(h.iloc[:20], grain="day", horizon=7), "a forecast needs at least 28 days of history"),
        (lambda h: forecast(h, grain="day", horizon=0), "horizon must be a whole number of periods ≥ 1, got 0"),
        (lambda h: forecast(h.drop(h.index[5]), grain="day", horizon=7), "one row per day, without gaps"),
        (lambda h: forecast(h, grain="month", horizon=7), "grain must be one of day, week, not 'month'"),
        (
            lambda h: backtest(h.iloc[:60], grain="day", weeks=8),
            "a 8-week backtest leaves 4 days to fit on, fewer than the 28 needed; use backtest_weeks 4 or less",
        ),
    ],
)
def test_bad_input_is_refused_with_a_reason(call: Callable[[pd.Series], Any], message: str) -> None:
    history, _ = _planted(days=100)
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        call(history)


def _cdnow_like(path: Path, days: int) -> Path:
    rows = ["customer_id,date,quantity,amount"]
    rows += [
        f"{c},{(pd.Timestamp('2024-01-01') + pd.Timedelta(days=d)).date()},1,10" for d in range(days) for c in (1, 2)
    ]
    path.write_text("\n".join(rows) + "\n")
    return path


@pytest.mark.parametrize(
    ("days", "args", "message"),
    [
        (10, [], "error: a forecast needs at least 28 days of history to fit on; there are 10"),
        (
            40,
            ["--backtest-weeks", "8"],
            "error: a 8-week backtest leaves 0 days to fit on, fewer than the 28 needed; "
            "use --backtest-weeks 1 or less",
        ),
        (10, ["--grain", "week"], "error: a forecast needs at least 12 weeks of history to fit on; there are 1"),
    ],
)
def test_forecast_command_refuses_too_little_history(
    cli: Callable[..., Any], tmp_path: Path, days: int, args: list[str], message: str
) -> None:
    assert cli("import", str(_cdnow_like(tmp_path / "orders.csv", days)), "--profile", "cdnow").exit_code == 0
    result = cli("forecast", *args, "--json")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.strip() == message


def test_forecast_command_without_orders(cli: Callable[..., Any]) -> None:
    assert cli("events", "add", "--date", "2025-12-25", "--name", "Christmas").exit_code == 0
    result = cli("forecast", "--json")
    assert result.exit_code == 2
    assert result.stderr.strip() == "error: no orders to forecast: the warehouse has no placed orders"
