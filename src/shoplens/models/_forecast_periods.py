"""The periods a demand series is counted in (store-local days or Monday-start weeks) and the checks a history
must pass before it is fitted (see :mod:`shoplens.models.forecast`).
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd

from shoplens.errors import InputError

Grain = Literal["day", "week"]
GRAINS: tuple[Grain, ...] = ("day", "week")
DAYS_PER_WEEK = 7
DAYS_PER_YEAR = 365.25
# Least history to fit on: four of each weekday, or twelve weeks.
MIN_HISTORY_PERIODS: dict[str, int] = {"day": 28, "week": 12}
BoolArray = np.ndarray[Any, np.dtype[np.bool_]]


def _period_starts(days: pd.Series, grain: Grain) -> pd.Series:
    return days if grain == "day" else days - pd.to_timedelta(days.dt.day_of_week, unit="D")


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


def _future_periods(last: pd.Timestamp, grain: Grain, count: int) -> pd.DatetimeIndex:
    step = 1 if grain == "day" else DAYS_PER_WEEK
    return pd.date_range(last + pd.Timedelta(days=step), periods=count, freq=f"{step}D")
