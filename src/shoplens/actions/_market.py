"""Market position: the store's own figures against the competitors' as the user entered them, and the store's
estimated share of the online market.

**Own figures** (measured in the warehouse, over the :data:`WINDOW_DAYS` store-local days to the data end unless
said otherwise):

* ``price_index`` is 100 by definition: the competitors' indices are their price level against this store's, as
  the user entered them (shoplens holds no competitor prices per product to compute one);
* ``delivery_days``: the median of the store-local days from ``ordered_at`` to ``delivered_at`` of the purchases
  placed in the window that were delivered;
* ``returns_days``: the return window, which no export carries: as the user entered it, or unknown;
* ``range_size``: the distinct products on the lines of the purchases placed in the window;
* ``rating``: the mean of every rating (1-5) in ``feedback``, with how many there are.

**Positioning.** Per measure, lower is better for the price index and delivery days, higher for the return
window, the range and the rating. The store's rank is 1 + the number of competitors strictly better (ties share a
rank), among those with a value; each competitor is listed as better, level or worse.

**Share.** For each period with a market-size estimate (a month ``YYYY-MM`` or a year ``YYYY``), the share is the
store's revenue in the period (net of refunds, as ``shoplens kpis``) divided by the market size. ``change`` is the
share minus the previous period's (in share, 0.01 = one point) and the trend is the least-squares slope of the
share on the periods' midpoints in months (:func:`share_slope`), per month and per year.
"""

from __future__ import annotations

import math
import re
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import ibis
import ibis.expr.types as ir

from shoplens.errors import InputError
from shoplens.metrics import Zone, with_local_day

WINDOW_DAYS = 365
STORE_LABEL = "this store"
STORE_PRICE_INDEX = 100.0
MAX_NAME_CHARS = 120
MAX_NOTE_CHARS = 300
# measure → whether a lower value is better
MARKET_MEASURES: dict[str, bool] = {
    "price_index": True,
    "delivery_days": True,
    "returns_days": False,
    "range_size": False,
    "rating": False,
}
MAX_RATING = 5.0
_PERIOD = re.compile(r"^(\d{4})(?:-(\d{2}))?$")
NO_ESTIMATES = (
    "no market-size estimates yet: enter the online market's size for a month or a year with "
    "shoplens market size set --period YYYY-MM --size AMOUNT --source TEXT"
)
NO_COMPETITORS = (
    "no competitors yet: enter one with shoplens market competitor add --name NAME --price-index 105 "
    "--delivery-days 3 --returns-days 30 --range-size 800 --rating 4.2"
)


# --- input -----------------------------------------------------------------------------------------------------


def check_market_period(period: str) -> str:
    """``period`` as ``YYYY-MM`` or ``YYYY``; an InputError for anything else."""
    found = _PERIOD.match(period.strip())
    if found is None or (found.group(2) is not None and not 1 <= int(found.group(2)) <= 12):
        raise InputError(
            f"period must be a month as YYYY-MM or a year as YYYY (such as 2025-06 or 2025), got {period!r}"
        )
    return period.strip()


def market_period_bounds(period: str) -> tuple[date, date]:
    """The first and the last day of a checked period."""
    year, _, month = check_market_period(period).partition("-")
    if not month:
        return date(int(year), 1, 1), date(int(year), 12, 31)
    start = date(int(year), int(month), 1)
    following = date(start.year + start.month // 12, start.month % 12 + 1, 1)
    return start, following - timedelta(days=1)


def market_period_midpoint(period: str) -> float:
    """The middle of a period in months since year 0 (2025-01 → 24300.5, 2025 → 24306): the trend's x."""
    year, _, month = check_market_period(period).partition("-")
    return int(year) * 12 + (int(month) - 1 + 0.5 if month else 6.0)


def check_size(size: float) -> float:
    if not math.isfinite(size) or size <= 0:
        raise InputError(f"market size must be an amount above 0 in the store's currency, got {size:g}")
    return size


def check_name(name: str) -> str:
    cleaned = name.strip()
    if not cleaned:
        raise InputError("competitor name must not be empty")
    if len(cleaned) > MAX_NAME_CHARS:
        raise InputError(f"competitor name must be at most {MAX_NAME_CHARS} characters, got {len(cleaned)}")
    if cleaned.casefold() == STORE_LABEL:
        raise InputError(f"{STORE_LABEL!r} is how the store itself is shown; name the competitor otherwise")
    return cleaned


@dataclass(frozen=True)
class Benchmarks:
    """One competitor's figures (each None when not known)."""

    price_index: float | None = None
    delivery_days: float | None = None
    returns_days: int | None = None
    range_size: int | None = None
    rating: float | None = None


def _finite(value: float, what: str) -> float:
    if not math.isfinite(value):
        raise InputError(f"{what} must be a number, got {value}")
    return value


def check_benchmarks(figures: Benchmarks) -> Benchmarks:
    """``figures`` when every known one is in range; an InputError naming the first that is not."""
    if figures.price_index is not None and _finite(figures.price_index, "price index") <= 0:
        raise InputError(f"price index must be above 0 (this store is 100), got {figures.price_index:g}")
    if figures.delivery_days is not None and _finite(figures.delivery_days, "delivery days") < 0:
        raise InputError(f"delivery days must be 0 or more, got {figures.delivery_days:g}")
    if figures.returns_days is not None and figures.returns_days < 0:
        raise InputError(f"return window must be 0 or more days, got {figures.returns_days}")
    if figures.range_size is not None and figures.range_size < 0:
        raise InputError(f"range size must be 0 or more products, got {figures.range_size}")
    if figures.rating is not None and not 0 <= _finite(figures.rating, "rating") <= MAX_RATING:
        raise InputError(f"rating must be between 0 and 5, got {figures.rating:g}")
    return figures


# --- own figures -----------------------------------------------------------------------------------------------


def window_start(data_end: date) -> date:
    """The first store-local day of the :data:`WINDOW_DAYS` days that end on ``data_end``."""
    return data_end - timedelta(days=WINDOW_DAYS - 1)


def own_delivery_days(orders: ir.Table, *, zone: Zone, start: date, end: date) -> ir.Table:
    """One row: ``delivered`` (purchases placed from ``start`` to ``end`` with a delivery time) and
    ``median_delivery_days`` (store-local days from the order to its delivery)."""
    delivered = orders.filter(orders.delivered_at.notnull())
    delivered = with_local_day(delivered, "ordered_at", zone).rename(ordered_day="local_day").drop("local_at")
    delivered = with_local_day(delivered, "delivered_at", zone).rename(delivered_day="local_day")
    delivered = delivered.filter(
        (delivered.ordered_day >= ibis.date(start)) & (delivered.ordered_day <= ibis.date(end))
    )
    days = delivered.delivered_day.delta(delivered.ordered_day, unit="day")
    return delivered.aggregate(delivered=delivered.count(), median_delivery_days=days.median())


def own_range_size(orders: ir.Table, order_lines: ir.Table, *, zone: Zone, start: date, end: date) -> ir.Table:
    """One row: ``products``, the distinct products sold on purchases placed from ``start`` to ``end``."""
    placed = with_local_day(orders.select("order_id", "ordered_at"), "ordered_at", zone)
    placed = placed.filter((placed.local_day >= ibis.date(start)) & (placed.local_day <= ibis.date(end)))
    sold = order_lines.semi_join(placed, "order_id")
    sold = sold.filter(sold.product_id.notnull())
    return sold.aggregate(products=sold.product_id.nunique())


def own_rating(feedback: ir.Table) -> ir.Table:
    """One row: ``ratings`` (feedback with a rating) and ``rating``, their mean."""
    rated = feedback.filter(feedback.rating.notnull())
    return rated.aggregate(ratings=rated.count(), rating=rated.rating.cast("float64").mean())


# --- positioning -----------------------------------------------------------------------------------------------


def _better(value: float, than: float, *, lower_is_better: bool) -> bool:
    return value < than if lower_is_better else value > than


def market_position(own: Mapping[str, Any], competitors: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Per measure: the store's value and rank among those with a value, and which competitors are better,
    level or worse (see the module docstring)."""
    found = []
    for measure, lower in MARKET_MEASURES.items():
        mine = own.get(measure)
        known = {name: value for name, values in competitors.items() if (value := values.get(measure)) is not None}
        row: dict[str, Any] = {
            "measure": measure,
            "better_is": "lower" if lower else "higher",
            "store": mine,
            "competitors": {name: values.get(measure) for name, values in competitors.items()},
            "store_rank": None,
            "ranked": len(known) + (mine is not None),
            "better_than": [],
            "level_with": [],
            "worse_than": [],
        }
        if mine is not None:
            row["worse_than"] = sorted(n for n, v in known.items() if _better(v, mine, lower_is_better=lower))
            row["level_with"] = sorted(n for n, v in known.items() if v == mine)
            row["better_than"] = sorted(n for n, v in known.items() if _better(mine, v, lower_is_better=lower))
            row["store_rank"] = 1 + len(row["worse_than"])
        found.append(row)
    return found


# --- share -----------------------------------------------------------------------------------------------------


def share_slope(points: Sequence[tuple[str, float]]) -> float | None:
    """The least-squares slope of the share on the periods' midpoints (:func:`market_period_midpoint`), per month; None
    with fewer than two periods."""
    if len(points) < 2:
        return None
    xs = [market_period_midpoint(period) for period, _ in points]
    if len(set(xs)) < 2:
        return None
    slope, _ = statistics.linear_regression(xs, [share for _, share in points])
    return slope


def share_changes(points: Sequence[tuple[str, float]]) -> list[tuple[float | None, float | None]]:
    """For each period in order: the share minus the previous period's, and that change relative to it."""
    found: list[tuple[float | None, float | None]] = []
    for index, (_, share) in enumerate(points):
        if index == 0:
            found.append((None, None))
            continue
        before = points[index - 1][1]
        found.append((share - before, (share - before) / before if before else None))
    return found
