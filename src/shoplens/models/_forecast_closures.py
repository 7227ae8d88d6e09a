"""Closures: the days (weeks) the store was or will be shut, found from its order counts and from calendar days
of kind "closed" (see :mod:`shoplens.models.forecast`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from shoplens.models._forecast_events import CLOSED_KIND
from shoplens.models._forecast_periods import DAYS_PER_WEEK, BoolArray, Grain

# A zero where the typical count is at least this is a closure: P(0 | Poisson(5)) = 0.7 %.
CLOSURE_MIN_TYPICAL_ORDERS = 5.0
# "Typical" is the median of the same weekday (or of the weeks) within this many weeks either side.
CLOSURE_WINDOW_WEEKS = 4
# A weekday without orders on this share of its last REST_DAY_WEEKS occurrences is a rest day.
REST_DAY_ZERO_SHARE = 0.8
REST_DAY_WEEKS = 13


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
