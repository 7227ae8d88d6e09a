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
:data:`CLOSED_KIND` are closures: left out of the fit and forecast as zero.

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

import warnings as python_warnings
from dataclasses import dataclass
from typing import Any, Literal

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
from scipy import special

from shoplens.errors import InputError
from shoplens.metrics import Zone, purchase_lines, purchases, with_local_day
from shoplens.models._fitting import FloatArray

Grain = Literal["day", "week"]
Metric = Literal["revenue", "orders"]
GRAINS: tuple[Grain, ...] = ("day", "week")
METRICS: tuple[Metric, ...] = ("revenue", "orders")

# Category of products the catalogue does not categorise (or lines without a product).
UNCATEGORISED = "uncategorised"
# Calendar kind meaning "the store is shut that day".
CLOSED_KIND = "closed"

DAYS_PER_WEEK = 7
DAYS_PER_YEAR = 365.25
# The yearly pattern is modelled only when at least half of the year has been seen twice; with less it cannot be
# told apart from the level's drift.
YEARLY_MIN_HISTORY_DAYS = 548
YEARLY_HARMONICS = 4
# Least history to fit on: four of each weekday, or twelve weeks.
MIN_HISTORY_PERIODS: dict[str, int] = {"day": 28, "week": 12}
# A zero where the typical count is at least this is a closure: P(0 | Poisson(5)) = 0.7 %.
CLOSURE_MIN_TYPICAL_ORDERS = 5.0
# "Typical" is the median of the same weekday (or of the weeks) within this many weeks either side.
CLOSURE_WINDOW_WEEKS = 4
# A weekday without orders on this share of its last REST_DAY_WEEKS occurrences is a rest day.
REST_DAY_ZERO_SHARE = 0.8
REST_DAY_WEEKS = 13
DEFAULT_INTERVAL_LEVEL = 0.8
# The mean forecast's correction is estimated from the last quarter (13 weeks) or half year (26 weeks).
SMEARING_RECENT_PERIODS: dict[str, int] = {"day": 91, "week": 26}


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


# --- closures ------------------------------------------------------------------------------------------------------

BoolArray = np.ndarray[Any, np.dtype[np.bool_]]


@dataclass(frozen=True)
class Closures:
    """When the store was (or will be) shut: rest weekdays (0 = Monday) and closed periods (period starts)."""

    rest_weekdays: frozenset[int] = frozenset()
    closed_periods: frozenset[pd.Timestamp] = frozenset()

    def is_closed(self, periods: pd.DatetimeIndex, grain: Grain) -> BoolArray:
        closed = np.asarray(periods.isin(sorted(self.closed_periods)), dtype=bool)
        if grain == "day" and self.rest_weekdays:
            closed |= np.asarray(periods.day_of_week.isin(sorted(self.rest_weekdays)), dtype=bool)
        return closed


def _typical_count(counts: pd.Series) -> pd.Series:
    return counts.rolling(2 * CLOSURE_WINDOW_WEEKS + 1, center=True, min_periods=3).median()


def find_closures(orders: pd.Series | None, *, grain: Grain, calendar: pd.DataFrame | None = None) -> Closures:
    """Closures from the store's order counts per period (module docstring) and calendar days of kind "closed".

    ``orders`` is the store's total orders per period (index: period starts), not a category's: a category
    without sales on a day says nothing about whether the store was open. ``None``: calendar closures only.
    """
    rest_weekdays: set[int] = set()
    closed_periods: set[pd.Timestamp] = set()
    if orders is not None and len(orders):
        counts = orders.astype("float64")
        index = pd.DatetimeIndex(counts.index)
        closed = np.zeros(len(counts), dtype=bool)
        if grain == "day":
            recent = index >= index.max() - pd.Timedelta(weeks=REST_DAY_WEEKS)
            for weekday in range(DAYS_PER_WEEK):
                occurrences = counts[recent & (index.day_of_week == weekday)]
                if len(occurrences) and float((occurrences == 0).mean()) >= REST_DAY_ZERO_SHARE:
                    rest_weekdays.add(weekday)
            for weekday in set(range(DAYS_PER_WEEK)) - rest_weekdays:
                same_weekday = np.flatnonzero(index.day_of_week == weekday)
                series = counts.iloc[same_weekday]
                closed[same_weekday] = (
                    (series == 0) & (_typical_count(series) >= CLOSURE_MIN_TYPICAL_ORDERS)
                ).to_numpy()
        else:
            closed = ((counts == 0) & (_typical_count(counts) >= CLOSURE_MIN_TYPICAL_ORDERS)).to_numpy()
        closed_periods = {pd.Timestamp(p) for p in index[closed]}
    if grain == "day" and calendar is not None and not calendar.empty and "kind" in calendar.columns:
        shut = pd.to_datetime(calendar.loc[calendar["kind"] == CLOSED_KIND, "date"]).dt.floor("D")
        closed_periods |= {pd.Timestamp(p) for p in shut}
    return Closures(frozenset(rest_weekdays), frozenset(closed_periods))


# --- events ----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EventEffect:
    """How much an event multiplies demand on its days (1.0 = no effect), as estimated from its past occurrences."""

    name: str
    kind: str
    multiplier: float
    periods_seen: int
    estimated: bool  # False: it never happened before, and the average effect of its kind is used


def _event_days(calendar: pd.DataFrame | None, grain: Grain) -> pd.DataFrame:
    """Calendar rows as (date, name, kind); for daily data, closed days are closures, not events."""
    if calendar is None or calendar.empty:
        return pd.DataFrame({"date": pd.Series(dtype="datetime64[ns]"), "name": [], "kind": []})
    missing = [c for c in ("date", "name") if c not in calendar.columns]
    if missing:
        raise InputError(f"events calendar lacks column(s) {', '.join(missing)}")
    kinds = calendar["kind"] if "kind" in calendar.columns else pd.Series("", index=calendar.index)
    days = pd.DataFrame(
        {
            "date": pd.to_datetime(calendar["date"]).dt.floor("D"),
            "name": calendar["name"].astype(str),
            "kind": kinds.fillna("").astype(str),
        }
    )
    if grain == "day":
        days = days[days["kind"] != CLOSED_KIND]
    return days.drop_duplicates(["date", "name"]).reset_index(drop=True)


def _period_starts(days: pd.Series, grain: Grain) -> pd.Series:
    return days if grain == "day" else days - pd.to_timedelta(days.dt.day_of_week, unit="D")


def _event_regressors(periods: pd.DatetimeIndex, grain: Grain, events: pd.DataFrame) -> pd.DataFrame:
    """One column per event name: 1 on its days, or for weeks the share of the week's days it covers."""
    if events.empty:
        return pd.DataFrame(index=periods)
    weight = 1.0 if grain == "day" else 1.0 / DAYS_PER_WEEK
    coverage = (
        pd.DataFrame({"period": _period_starts(events["date"], grain), "name": events["name"], "weight": weight})
        .groupby(["period", "name"])["weight"]
        .sum()
        .unstack("name", fill_value=0)
    )
    return coverage.reindex(periods, fill_value=0.0).astype("float64")


def _event_names_per_period(periods: pd.DatetimeIndex, grain: Grain, events: pd.DataFrame) -> list[list[str]]:
    names: dict[pd.Timestamp, list[str]] = {}
    for start, name in zip(_period_starts(events["date"], grain), events["name"], strict=True):
        bucket = names.setdefault(pd.Timestamp(start), [])
        if name not in bucket:
            bucket.append(name)
    return [names.get(pd.Timestamp(p), []) for p in periods]


# --- model -----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Specification:
    grain: Grain
    yearly: bool
    event_names: tuple[str, ...]

    def model(self, endog: FloatArray, regressors: pd.DataFrame) -> Any:
        from statsmodels.tsa.statespace.structural import UnobservedComponents  # type: ignore[import-untyped]

        seasonal: list[dict[str, float]] = []
        stochastic: list[bool] = []
        if self.grain == "day":
            seasonal.append({"period": DAYS_PER_WEEK, "harmonics": 3})
            stochastic.append(True)
        if self.yearly:
            period = DAYS_PER_YEAR if self.grain == "day" else DAYS_PER_YEAR / DAYS_PER_WEEK
            seasonal.append({"period": period, "harmonics": YEARLY_HARMONICS})
            stochastic.append(False)
        exog = regressors[list(self.event_names)].to_numpy() if self.event_names else None
        return UnobservedComponents(
            endog,
            level="llevel",
            freq_seasonal=seasonal or None,
            stochastic_freq_seasonal=stochastic or None,
            exog=exog,
            mle_regression=False,
        )

    @property
    def components(self) -> list[str]:
        parts = ["local level"]
        if self.grain == "day":
            parts.append("weekly pattern")
        if self.yearly:
            parts.append("yearly pattern")
        if self.event_names:
            parts.append(f"{len(self.event_names)} calendar events")
        return parts


def _specify(grain: Grain, endog: FloatArray, regressors: pd.DataFrame, *, use_events: bool) -> _Specification:
    """Yearly pattern when the history is long enough; a regressor for every event seen on an open period."""
    days = len(endog) * (1 if grain == "day" else DAYS_PER_WEEK)
    observed = np.isfinite(endog)
    seen = [name for name in regressors.columns if (regressors[name].to_numpy()[observed] > 0).any()]
    return _Specification(grain, days >= YEARLY_MIN_HISTORY_DAYS, tuple(seen) if use_events else ())


@dataclass(frozen=True)
class _Estimate:
    specification: _Specification
    params: FloatArray
    results: Any
    warnings: list[str]


def _estimate(specification: _Specification, endog: FloatArray, regressors: pd.DataFrame) -> _Estimate:
    from statsmodels.tools.sm_exceptions import ConvergenceWarning  # type: ignore[import-untyped]

    model = specification.model(endog, regressors)
    with python_warnings.catch_warnings(record=True) as caught:
        python_warnings.simplefilter("always")
        results = model.fit(disp=False, maxiter=500)
    notes = []
    if any(issubclass(w.category, ConvergenceWarning) for w in caught):
        notes.append("the forecast model's optimiser did not fully converge; its intervals are less reliable")
    return _Estimate(specification, np.asarray(results.params, dtype=np.float64), results, notes)


def _refilter(estimate: _Estimate, endog: FloatArray, regressors: pd.DataFrame) -> Any:
    """The same parameters on a longer history: the Kalman filter updates level, patterns and event effects."""
    model = estimate.specification.model(endog, regressors)
    with python_warnings.catch_warnings():
        python_warnings.simplefilter("ignore")
        return model.filter(estimate.params)


@dataclass(frozen=True)
class _Prediction:
    median: FloatArray  # in the original scale, zero on closed periods
    expected: FloatArray  # the mean: medians of parts do not add up to the median of the whole, means do
    lower: FloatArray
    upper: FloatArray
    effects: list[EventEffect]
    warnings: list[str]


def _predict(
    results: Any,
    specification: _Specification,
    future: pd.DatetimeIndex,
    future_regressors: pd.DataFrame,
    kinds: dict[str, str],
    closed: BoolArray,
    level: float,
) -> _Prediction:
    """Median forecast and interval; events never seen before get the mean effect of their kind's seen events."""
    names = list(specification.event_names)
    with python_warnings.catch_warnings():
        python_warnings.simplefilter("ignore")
        prediction = results.get_forecast(
            steps=len(future),
            exog=future_regressors.reindex(columns=names, fill_value=0.0).to_numpy() if names else None,
        )
    mean = np.asarray(prediction.predicted_mean, dtype=np.float64)
    spread = np.sqrt(np.asarray(prediction.var_pred_mean, dtype=np.float64))
    state_names = list(results.model.state_names)
    last_state = np.asarray(results.filtered_state)[:, -1]
    coefficients = {name: float(last_state[state_names.index(f"beta.x{i + 1}")]) for i, name in enumerate(names)}
    effects = [
        EventEffect(name, kinds.get(name, ""), float(np.exp(value)), 0, True) for name, value in coefficients.items()
    ]
    by_kind: dict[str, list[float]] = {}
    for name, value in coefficients.items():
        by_kind.setdefault(kinds.get(name, ""), []).append(value)
    notes: list[str] = []
    for name in future_regressors.columns:
        if name in coefficients or not future_regressors[name].to_numpy().any():
            continue
        kind = kinds.get(name, "")
        if kind and kind in by_kind:
            adjustment = float(np.mean(by_kind[kind]))
            mean = mean + future_regressors[name].to_numpy() * adjustment
            effects.append(EventEffect(name, kind, float(np.exp(adjustment)), 0, False))
        else:
            notes.append(
                f"event {name!r} has not happened before and no past event shares its kind: its effect cannot be "
                "estimated and the forecast leaves it out"
            )
    z = float(special.ndtri(0.5 + level / 2.0))
    with np.errstate(over="ignore"):  # closed periods may have an unbounded pattern; they are zero anyway
        median, lower, upper = (np.expm1(v).clip(0.0) for v in (mean, mean - z * spread, mean + z * spread))
        factor, one_step_variance = _smearing(results, specification.grain)
        extra_variance = np.clip(spread**2 - one_step_variance, 0.0, None)
        expected = (np.exp(mean + extra_variance / 2.0) * factor - 1.0).clip(0.0)
    return _Prediction(
        median=np.where(closed, 0.0, median),
        expected=np.where(closed, 0.0, expected),
        lower=np.where(closed, 0.0, lower),
        upper=np.where(closed, 0.0, upper),
        effects=effects,
        warnings=notes,
    )


def _smearing(results: Any, grain: Grain) -> tuple[float, float]:
    """E[exp(one-step error)] and the one-step error variance, at the store's current scale.

    The factor is the mean of the exponentials of the recent one-step errors (Duan 1983, "Smearing estimate", JASA
    78): the mean of 1 + y next period is exp(μ) times it; further ahead the level's extra uncertainty is taken as
    normal, adding (σ²_h − σ²_1)/2 to the exponent. Empirical rather than exp(σ²/2), because log(1 + y) is far from
    normal where a small shop has days without orders (a zero sits several units below the typical log revenue); and
    recent (:data:`SMEARING_RECENT_PERIODS`), because a growing shop's early days, with a handful of orders, are
    noisier than its present.
    """
    errors = np.asarray(results.forecasts_error, dtype=np.float64)[0]
    start = max(int(results.loglikelihood_burn), len(errors) - SMEARING_RECENT_PERIODS[grain])
    recent = errors[start:]
    recent = recent[np.isfinite(recent)]
    factor = float(np.mean(np.exp(recent))) if len(recent) else 1.0
    return factor, float(np.asarray(results.forecasts_error_cov, dtype=np.float64)[0, 0, -1])


def _check_series(history: pd.Series, grain: Grain) -> pd.DatetimeIndex:
    if grain not in GRAINS:
        raise InputError(f"grain must be one of {', '.join(GRAINS)}, not {grain!r}")
    index = history.index
    if not isinstance(index, pd.DatetimeIndex):
        raise InputError("the history must be indexed by period start dates")
    step = pd.Timedelta(days=1 if grain == "day" else DAYS_PER_WEEK)
    if len(index) > 1 and not bool((index[1:] - index[:-1] == step).all()):
        raise InputError(f"the history must have one row per {grain}, without gaps (see demand_periods)")
    values = history.to_numpy(dtype=np.float64)
    if not np.isfinite(values).all():
        raise InputError("the history has missing or infinite values")
    return index


def _check_length(periods: int, grain: Grain, what: str) -> None:
    needed = MIN_HISTORY_PERIODS[grain]
    if periods < needed:
        unit = "days" if grain == "day" else "weeks"
        raise InputError(f"{what} needs at least {needed} {unit} of history to fit on; there are {periods}")


def _log_demand(values: pd.Series, closed: BoolArray) -> FloatArray:
    """log(1 + y), with closed periods missing."""
    demand: FloatArray = np.log1p(np.clip(values.to_numpy(dtype=np.float64), 0.0, None))
    demand[closed] = np.nan
    if not np.isfinite(demand).any():
        raise InputError("every period of the history is a closure; there is no demand to fit")
    return demand


def _future_periods(last: pd.Timestamp, grain: Grain, count: int) -> pd.DatetimeIndex:
    step = 1 if grain == "day" else DAYS_PER_WEEK
    return pd.date_range(last + pd.Timedelta(days=step), periods=count, freq=f"{step}D")


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
            "events": _event_names_per_period(future, grain, events),
        }
    )
    notes = estimate.warnings + prediction.warnings
    if not specification.yearly:
        notes.append(
            f"less than {YEARLY_MIN_HISTORY_DAYS} days of history: the yearly pattern is not modelled, so a season "
            "not yet seen twice (such as the run-up to Christmas) is not anticipated"
        )
    return SeriesForecast(frame, level, effects, specification.components, notes)


def _kinds(events: pd.DataFrame) -> dict[str, str]:
    return dict(zip(events["name"], events["kind"], strict=True))


# --- backtest ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Accuracy:
    """Forecast errors over the backtest window."""

    mape: float | None  # percent, over periods with non-zero actuals; None when every actual is zero
    mase: float | None  # None when the in-sample seasonal-naive error is zero
    mae: float
    periods: int
    mape_periods: int


@dataclass(frozen=True)
class Backtest:
    """Rolling-origin backtest: ``frame`` has ``period, actual, forecast, seasonal_naive, events``."""

    frame: pd.DataFrame
    model: Accuracy
    seasonal_naive: Accuracy
    season_length: int
    weeks: int
    warnings: list[str]


def season_length(grain: Grain, n_periods: int) -> int:
    """Seasonal-naive lag: a week for days; a year (52 weeks) for weeks when the history is longer, else 1."""
    if grain == "day":
        return DAYS_PER_WEEK
    return 52 if n_periods > 52 else 1


def accuracy(actual: FloatArray, predicted: FloatArray, scale: float) -> Accuracy:
    """MAPE (percent, over non-zero actuals), MASE with the given in-sample scale, and MAE."""
    errors = np.abs(predicted - actual)
    nonzero = actual > 0
    mae = float(np.mean(errors))
    return Accuracy(
        mape=float(100.0 * np.mean(errors[nonzero] / actual[nonzero])) if nonzero.any() else None,
        mase=mae / scale if scale > 0 else None,
        mae=mae,
        periods=len(errors),
        mape_periods=int(nonzero.sum()),
    )


def backtest(
    history: pd.Series,
    *,
    grain: Grain,
    weeks: int,
    calendar: pd.DataFrame | None = None,
    store_orders: pd.Series | None = None,
    use_events: bool = True,
) -> Backtest:
    """Replay the last ``weeks`` weeks of ``history`` one week at a time (module docstring) against seasonal naive.

    ``store_orders`` (the store's total orders per period, as for :func:`find_closures`) finds closures, from the
    data before the window only: inside it, only rest weekdays and the calendar's closed days are known ahead.
    """
    if isinstance(weeks, bool) or not isinstance(weeks, int) or weeks < 1:
        raise InputError(f"backtest weeks must be a whole number ≥ 1, got {weeks!r}")
    index = _check_series(history, grain)
    step = DAYS_PER_WEEK if grain == "day" else 1
    first_origin = len(index) - weeks * step
    if first_origin < MIN_HISTORY_PERIODS[grain]:
        most = (len(index) - MIN_HISTORY_PERIODS[grain]) // step
        unit = "days" if grain == "day" else "weeks"
        raise InputError(
            f"a {weeks}-week backtest leaves {max(first_origin, 0)} {unit} to fit on, fewer than the "
            f"{MIN_HISTORY_PERIODS[grain]} needed; "
            + (f"use --backtest-weeks {most} or less" if most > 0 else "there is too little history for a backtest")
        )
    before = store_orders.iloc[:first_origin] if store_orders is not None else None
    closures = find_closures(before, grain=grain, calendar=calendar)
    events = _event_days(calendar, grain)
    regressors = _event_regressors(index, grain, events)
    if not use_events:
        regressors = pd.DataFrame(index=index)
    demand = np.log1p(np.clip(history.to_numpy(dtype=np.float64), 0.0, None))
    demand[closures.is_closed(index, grain)] = np.nan
    training = demand[:first_origin]
    if not np.isfinite(training).any():
        raise InputError("every period before the backtest window is a closure; there is nothing to fit on")
    specification = _specify(grain, training, regressors.iloc[:first_origin], use_events=use_events)
    estimate = _estimate(specification, training, regressors.iloc[:first_origin])
    kinds = _kinds(events)
    predicted = np.empty(len(index) - first_origin)
    notes = list(estimate.warnings)
    for origin in range(first_origin, len(index), step):
        stop = min(origin + step, len(index))
        if origin == first_origin:
            results = estimate.results
        else:
            results = _refilter(estimate, demand[:origin], regressors.iloc[:origin])
        window = index[origin:stop]
        prediction = _predict(
            results,
            specification,
            window,
            regressors.iloc[origin:stop],
            kinds,
            closures.is_closed(window, grain),
            DEFAULT_INTERVAL_LEVEL,
        )
        notes += [note for note in prediction.warnings if note not in notes]
        predicted[origin - first_origin : stop - first_origin] = prediction.median
    values = history.to_numpy(dtype=np.float64)
    lag = season_length(grain, first_origin)
    naive = values[first_origin - lag : len(values) - lag]
    training_values = values[:first_origin]
    scale = float(np.mean(np.abs(training_values[lag:] - training_values[:-lag])))
    actual = values[first_origin:]
    window = index[first_origin:]
    frame = pd.DataFrame(
        {
            "period": window,
            "actual": actual,
            "forecast": predicted,
            "seasonal_naive": naive,
            "events": _event_names_per_period(window, grain, events),
        }
    )
    if lag == 1:
        notes.append("less than a year of weekly history: the baseline is the naive forecast (last week's value)")
    return Backtest(
        frame=frame,
        model=accuracy(actual, predicted, scale),
        seasonal_naive=accuracy(actual, naive, scale),
        season_length=lag,
        weeks=weeks,
        warnings=notes,
    )
