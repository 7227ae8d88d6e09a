"""The rolling-origin backtest of the forecast against a seasonal-naive baseline, scored with MAPE and MASE (see
:mod:`shoplens.models.forecast`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from shoplens.errors import FieldError, InputError
from shoplens.models._fitting import FloatArray
from shoplens.models._forecast_closures import find_closures
from shoplens.models._forecast_events import _event_days, _event_names_per_period, _event_regressors, _kinds
from shoplens.models._forecast_model import DEFAULT_INTERVAL_LEVEL, _estimate, _predict, _refilter, _specify
from shoplens.models._forecast_periods import DAYS_PER_WEEK, MIN_HISTORY_PERIODS, Grain, _check_series


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
        raise FieldError(
            f"a {weeks}-week backtest leaves {max(first_origin, 0)} {unit} to fit on, fewer than the "
            f"{MIN_HISTORY_PERIODS[grain]} needed; "
            + (f"use {{backtest_weeks}} {most} or less" if most > 0 else "there is too little history for a backtest")
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
