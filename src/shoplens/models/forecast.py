"""Demand forecast: revenue or orders per day or week, in total and per product category, with the events calendar.

The data come from one Ibis aggregation, :func:`order_volume` (Table → Table, any backend); everything after it is
pandas and statsmodels on one short series per category:

* :func:`demand_periods` turns the aggregation into complete series of store-local days or Monday-start weeks;
* :func:`find_closures` finds the days the store was shut (weekly rest days, holiday breaks, outages);
* :func:`forecast` fits the model and forecasts ``horizon`` periods with intervals;
* :func:`backtest` replays the last weeks as the forecast would have been made then, against a seasonal-naive
  baseline, and scores both with MAPE and MASE.

**Model.** An unobserved-components model (Harvey 1989, *Forecasting, Structural Time Series Models and the Kalman
Filter*) of log(1 + y): a local level (demand drifts, without a trend that would be extrapolated for months), a
stochastic weekly pattern for daily data (all three harmonics, i.e. a free effect per weekday), a yearly pattern
(four harmonics, fixed) once the history covers :data:`YEARLY_MIN_HISTORY_DAYS`, and one regressor per named event
of the calendar. The log makes events and weekdays multiply demand, as they do, and keeps outliers (a single
wholesale order) from dragging the level. The point forecast is exp of the forecast mean minus 1, the *median*
of the predictive distribution — the forecast that minimises absolute error, which MASE measures; the *expected*
value (by Duan's smearing estimate) is reported too, since means (unlike medians) add up across categories and
periods.

**Events.** An event's regressor is 1 on its days (for weeks: the share of the week's days it covers); its
coefficient lives in the state vector (``mle_regression=False``), so it is estimated by the Kalman filter by
generalised least squares, at no cost to the optimiser however many events there are. An event needs one past
occurrence to be estimated (Black Friday last year sets Black Friday this year); an event that has never happened
before gets the average effect of past events of the same ``kind``, or none (with a warning). Days of kind
:data:`CLOSED_KIND` are closures: left out of the fit and forecast as zero; a forecast day shows the names of its
events and closures (a rest weekday without a calendar entry shows as "closed (rest day)").

**Closures.** A day (week) with no orders at all when the same weekday around it usually has at least
:data:`CLOSURE_MIN_TYPICAL_ORDERS` orders is a closure or a data gap, not low demand: under a Poisson count with that
mean a zero has probability below 1 %. Such periods are treated as missing in the fit (the Kalman filter skips
them), so a Christmas break does not pull the level down. A weekday with no orders on most of its recent occurrences
is a rest day (Online Retail never trades on Saturdays) and is forecast as zero.

**Backtest.** Rolling origin (Tashman 2000, "Out-of-sample tests of forecasting accuracy", IJF 16): the model's
parameters are estimated once on the data before the backtest window; then, week by week, the state is updated
with the data up to the start of that week and the week is forecast (7 days, or 1 week). The seasonal-naive
baseline forecasts each day by the same weekday a week earlier (each week by the same week a year earlier, or the
previous week when there is less than a year of history). MAPE is over periods with non-zero actuals; MASE
(Hyndman & Koehler 2006, "Another look at measures of forecast accuracy", IJF 22) divides the mean absolute error
by the in-sample mean absolute error of the seasonal-naive forecast on the data before the window. Closures found
in the data are taken from before the window only; inside it, only rest weekdays and the calendar's closed days are
known in advance, as they would have been.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import ibis
import ibis.expr.types as ir
import pandas as pd

from shoplens.errors import InputError
from shoplens.metrics import Zone, purchase_lines, purchases, with_local_day
from shoplens.models._forecast_backtest import Accuracy, Backtest, accuracy, backtest, season_length
from shoplens.models._forecast_closures import (
    CLOSURE_MIN_TYPICAL_ORDERS,
    CLOSURE_WINDOW_WEEKS,
    REST_DAY_WEEKS,
    REST_DAY_ZERO_SHARE,
    Closures,
    find_closures,
)
from shoplens.models._forecast_events import (
    CLOSED_KIND,
    EventEffect,
    _event_days,
    _event_names_per_period,
    _event_regressors,
    _kinds,
)
from shoplens.models._forecast_model import (
    DEFAULT_INTERVAL_LEVEL,
    SMEARING_RECENT_PERIODS,
    YEARLY_HARMONICS,
    YEARLY_MIN_HISTORY_DAYS,
    _estimate,
    _log_demand,
    _predict,
    _specify,
)
from shoplens.models._forecast_periods import (
    DAYS_PER_WEEK,
    DAYS_PER_YEAR,
    GRAINS,
    MIN_HISTORY_PERIODS,
    Grain,
    _check_length,
    _check_series,
    _future_periods,
)

__all__ = [
    "CLOSED_KIND",
    "CLOSURE_MIN_TYPICAL_ORDERS",
    "CLOSURE_WINDOW_WEEKS",
    "DAYS_PER_WEEK",
    "DAYS_PER_YEAR",
    "DEFAULT_INTERVAL_LEVEL",
    "GRAINS",
    "METRICS",
    "MIN_HISTORY_PERIODS",
    "REST_DAY_WEEKS",
    "REST_DAY_ZERO_SHARE",
    "SMEARING_RECENT_PERIODS",
    "UNCATEGORISED",
    "YEARLY_HARMONICS",
    "YEARLY_MIN_HISTORY_DAYS",
    "Accuracy",
    "Backtest",
    "Closures",
    "EventEffect",
    "Grain",
    "Metric",
    "SeriesForecast",
    "accuracy",
    "backtest",
    "demand_periods",
    "find_closures",
    "forecast",
    "order_volume",
    "season_length",
]

Metric = Literal["revenue", "orders"]
METRICS: tuple[Metric, ...] = ("revenue", "orders")

# Category of products the catalogue does not categorise (or lines without a product).
UNCATEGORISED = "uncategorised"
# --- data ------------------------------------------------------------------------------------------------------------


def order_volume(
    orders: ir.Table,
    *,
    zone: Zone = "UTC",
    order_lines: ir.Table | None = None,
    products: ir.Table | None = None,
) -> ir.Table:
    """Revenue and number of orders per store-local day, and per product category when lines and products are given.

    Revenue is ``orders.net`` (merchandise after discounts, before refunds: demand as ordered — a refund is a later
    event, not less demand). Only purchases count (:func:`shoplens.metrics.purchases`: cancelled, voided and test
    orders never happened); guest orders are demand and count. Days are the store's (``zone``), as in the metrics.
    Per category, each order's net is spread over its lines in proportion to the line amounts, so categories add
    up to the total revenue; an order with lines in two categories counts as an order in each.

    Columns: ``bucket`` (the local day), ``category`` (with lines), ``revenue`` (float64), ``orders`` (int64), and
    ``first_at``, ``last_at``: the first and last order's UTC time, which tell which days the data cover.
    """
    placed = with_local_day(purchases(orders), "ordered_at", zone)
    placed = placed.mutate(bucket=placed["local_day"])
    if order_lines is None:
        return placed.group_by("bucket").aggregate(
            revenue=placed["net"].cast("float64").sum().fill_null(0.0),
            orders=placed.count(),
            first_at=placed["ordered_at"].min(),
            last_at=placed["ordered_at"].max(),
        )
    if products is None:
        raise InputError("order_volume: per-category volume needs the products table as well as order_lines")
    bought = purchase_lines(order_lines, orders)
    lines = bought.select("order_id", "product_id", line_amount=bought["amount"].cast("float64"))
    joined = lines.join(placed.select("order_id", "bucket", "net", "ordered_at"), "order_id")
    joined = joined.left_join(products.select("product_id", "category"), "product_id")
    line_total = joined["line_amount"].sum().over(group_by="order_id")
    line_count = joined.count().over(group_by="order_id")
    net = joined["net"].cast("float64")
    share = ibis.cases(
        (line_total > 0, joined["line_amount"].fill_null(0.0) / line_total),
        else_=1.0 / line_count.cast("float64"),
    )
    allocated = joined.mutate(
        category=joined["category"].fill_null(UNCATEGORISED), line_revenue=net.fill_null(0.0) * share
    )
    return allocated.group_by(["bucket", "category"]).aggregate(
        revenue=allocated["line_revenue"].sum(),
        orders=allocated["order_id"].nunique(),
        first_at=allocated["ordered_at"].min(),
        last_at=allocated["ordered_at"].max(),
    )


def demand_periods(volume: pd.DataFrame, *, grain: Grain, timezone: str = "UTC") -> pd.DataFrame:
    """Complete series per store-local period from :func:`order_volume`'s result (made with the same zone).

    Local days are summed per day or Monday-start week. Every period between the first and last is present
    (zeros where nothing was ordered), for every category; local days the data cover only in part are dropped
    (timestamps are stored in UTC, so an export covers whole UTC days), and so are weeks cut off by the start
    or end of the data, since a partial day or week would read as a drop in demand.

    Returns columns ``period`` (datetime64, period start), ``category`` (when the volume has it), ``revenue``,
    ``orders``, sorted.
    """
    if grain not in GRAINS:
        raise InputError(f"grain must be one of {', '.join(GRAINS)}, not {grain!r}")
    if volume.empty:
        raise InputError("no orders to forecast: the warehouse has no placed orders")
    # An export covers whole UTC days: [first day 00:00, last day + 1 00:00).
    covered_from = pd.Timestamp(pd.to_datetime(volume["first_at"]).min()).floor("D")
    covered_to = pd.Timestamp(pd.to_datetime(volume["last_at"]).max()).floor("D") + pd.Timedelta(days=1)
    by_category = "category" in volume.columns
    frame = pd.DataFrame(
        {
            "day": pd.to_datetime(volume["bucket"]),
            "category": volume["category"].astype(str) if by_category else "",
            "revenue": volume["revenue"].astype("float64"),
            "orders": volume["orders"].astype("int64"),
        }
    )
    # A local day that straddles the first or last UTC midnight of the data is only partly covered.
    complete_from, complete_to = _complete_local_days(covered_from, covered_to, timezone)
    frame = frame[(frame["day"] >= complete_from) & (frame["day"] <= complete_to)]
    if frame.empty:
        raise InputError("no complete day of orders to forecast from")
    first_day, last_day = complete_from, complete_to
    if grain == "day":
        frame["period"] = frame["day"]
        periods = pd.date_range(first_day, last_day, freq="D")
    else:
        frame["period"] = frame["day"] - pd.to_timedelta(frame["day"].dt.day_of_week, unit="D")
        first_week = first_day + pd.Timedelta(days=(-first_day.day_of_week) % DAYS_PER_WEEK)
        last_week = last_day - pd.Timedelta(days=(last_day.day_of_week + 1) % DAYS_PER_WEEK) - pd.Timedelta(days=6)
        periods = pd.date_range(first_week, last_week, freq="7D")
    totals = frame.groupby(["category", "period"])[["revenue", "orders"]].sum()
    categories = sorted(frame["category"].unique())
    full = pd.MultiIndex.from_product([categories, periods], names=["category", "period"])
    complete = totals.reindex(full, fill_value=0).reset_index()
    complete["orders"] = complete["orders"].astype("int64")
    columns = ["period", "category", "revenue", "orders"] if by_category else ["period", "revenue", "orders"]
    return complete[columns].sort_values(columns[:2] if by_category else ["period"]).reset_index(drop=True)


def _complete_local_days(
    covered_from: pd.Timestamp, covered_to: pd.Timestamp, timezone: str
) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First and last local day lying wholly inside the UTC interval [covered_from, covered_to)."""
    if timezone == "UTC":
        return covered_from, covered_to - pd.Timedelta(days=1)
    local_from = covered_from.tz_localize("UTC").tz_convert(timezone).tz_localize(None)
    local_to = covered_to.tz_localize("UTC").tz_convert(timezone).tz_localize(None)
    first = local_from.floor("D") if local_from == local_from.floor("D") else local_from.ceil("D")
    last = local_to.floor("D") - pd.Timedelta(days=1)
    return first, last


# --- forecast ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SeriesForecast:
    """A forecast of one series: ``frame`` has ``period, forecast, expected, lower, upper, events`` per future period.

    ``forecast`` is the median (half the outcomes above, half below: what MAPE and MASE reward); ``expected`` is the
    mean, higher for skewed demand, and the one to add up across categories or periods.
    """

    frame: pd.DataFrame
    level: float
    event_effects: list[EventEffect]
    components: list[str]
    warnings: list[str]


REST_DAY_LABEL = "closed (rest day)"


def _shown_events(
    periods: pd.DatetimeIndex, grain: Grain, calendar: pd.DataFrame | None, closures: Closures
) -> list[list[str]]:
    """The names shown on each future period: its events and closures from the calendar; a rest weekday without
    a calendar entry shows as closed, so a forecast of 0 always says why."""
    named = _event_names_per_period(periods, grain, _event_days(calendar, grain, with_closures=True))
    if grain != "day":
        return named
    rest = periods.day_of_week.isin(sorted(closures.rest_weekdays))
    return [names or ([REST_DAY_LABEL] if is_rest else []) for names, is_rest in zip(named, rest, strict=True)]


def forecast(
    history: pd.Series,
    *,
    grain: Grain,
    horizon: int,
    calendar: pd.DataFrame | None = None,
    closures: Closures | None = None,
    use_events: bool = True,
    level: float = DEFAULT_INTERVAL_LEVEL,
) -> SeriesForecast:
    """Forecast the ``horizon`` periods after ``history`` (one value per period, index = period starts).

    ``calendar`` has ``date, name, kind`` (past and planned events); ``closures`` from :func:`find_closures`.
    The forecast is the median; ``lower`` and ``upper`` bound a central ``level`` prediction interval.
    """
    if isinstance(horizon, bool) or not isinstance(horizon, int) or horizon < 1:
        raise InputError(f"horizon must be a whole number of periods ≥ 1, got {horizon!r}")
    if not 0.0 < level < 1.0:
        raise InputError(f"interval level must be between 0 and 1, got {level}")
    index = _check_series(history, grain)
    _check_length(len(index), grain, "a forecast")
    closures = closures or Closures()
    events = _event_days(calendar, grain)
    regressors = _event_regressors(index, grain, events)
    demand = _log_demand(history, closures.is_closed(index, grain))
    specification = _specify(grain, demand, regressors, use_events=use_events)
    estimate = _estimate(specification, demand, regressors)
    future = _future_periods(index[-1], grain, horizon)
    future_regressors = _event_regressors(future, grain, events) if use_events else pd.DataFrame(index=future)
    prediction = _predict(
        estimate.results,
        specification,
        future,
        future_regressors,
        _kinds(events),
        closures.is_closed(future, grain),
        level,
    )
    seen = {name: int((regressors[name].to_numpy() > 0).sum()) for name in specification.event_names}
    effects = [EventEffect(e.name, e.kind, e.multiplier, seen.get(e.name, 0), e.estimated) for e in prediction.effects]
    frame = pd.DataFrame(
        {
            "period": future,
            "forecast": prediction.median,
            "expected": prediction.expected,
            "lower": prediction.lower,
            "upper": prediction.upper,
            "events": _shown_events(future, grain, calendar, closures),
        }
    )
    notes = estimate.warnings + prediction.warnings
    if not specification.yearly:
        notes.append(
            f"less than {YEARLY_MIN_HISTORY_DAYS} days of history: the yearly pattern is not modelled, so a season "
            "not yet seen twice (such as the run-up to Christmas) is not anticipated"
        )
    return SeriesForecast(frame, level, effects, specification.components, notes)
