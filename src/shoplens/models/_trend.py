"""A straight-line trend through a short monthly series, and its forecast with a prediction interval.

The store's demand forecast (:mod:`shoplens.models.forecast`) models days or weeks of revenue or orders with
weekday and yearly patterns and events; a supplier's units per month over a year are too few points for that.
Here the model is ordinary least squares, units = a + b × month index, with the textbook prediction interval for
a new observation (Montgomery, Peck & Vining, *Introduction to Linear Regression Analysis*, §2.4):
ŷ ± t(level, n − 2) · s · √(1 + 1/n + (x − x̄)² / Σ(xᵢ − x̄)²), the lower end never below zero. With fewer than
three months there is no residual error to estimate: the forecast is the mean, without an interval.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from pydantic import BaseModel
from scipy import stats

TREND_METHOD = (
    "ordinary least squares line through the monthly units, with the prediction interval of a new month "
    "(t on n - 2 degrees of freedom); lower end never below 0"
)
MIN_TREND_MONTHS = 3


class TrendMonth(BaseModel):
    step: int  # months after the last one of the history (1 = the next month)
    forecast: float
    lower: float | None
    upper: float | None


class Trend(BaseModel):
    months: int
    mean: float
    slope: float | None  # units per month
    change_percent: float | None  # the slope as a share of the mean month, in percent
    forecast: list[TrendMonth]


def linear_trend(units: Sequence[float], *, horizon: int, level: float) -> Trend:
    """The trend of ``units`` (one value per month, oldest first) and the next ``horizon`` months."""
    n = len(units)
    if n == 0:
        raise ValueError("a trend needs at least one month")
    mean = sum(units) / n
    if n < MIN_TREND_MONTHS:
        flat = [
            TrendMonth(step=step, forecast=round(mean, 2), lower=None, upper=None) for step in range(1, horizon + 1)
        ]
        return Trend(months=n, mean=round(mean, 4), slope=None, change_percent=None, forecast=flat)
    centre = (n - 1) / 2
    spread = sum((x - centre) ** 2 for x in range(n))
    slope = sum((x - centre) * (y - mean) for x, y in enumerate(units)) / spread
    residuals = [y - (mean + slope * (x - centre)) for x, y in enumerate(units)]
    error = math.sqrt(sum(r * r for r in residuals) / (n - 2))
    quantile = float(stats.t.ppf(0.5 + level / 2, n - 2))
    ahead = []
    for step in range(1, horizon + 1):
        x = n - 1 + step
        point = mean + slope * (x - centre)
        half = quantile * error * math.sqrt(1 + 1 / n + (x - centre) ** 2 / spread)
        ahead.append(
            TrendMonth(
                step=step,
                forecast=round(max(point, 0.0), 2),
                lower=round(max(point - half, 0.0), 2),
                upper=round(max(point + half, 0.0), 2),
            )
        )
    change = None if mean == 0 else round(100 * slope / mean, 2)
    return Trend(months=n, mean=round(mean, 4), slope=round(slope, 4), change_percent=change, forecast=ahead)
