"""Targets per KPI and month: how a month is pacing against its target, and what next month's target could be.

**Actuals** are the KPIs of :func:`shoplens.metrics.sales_kpis` for the month (revenue net of refunds, orders, new
customers, AOV, repeat rate, conversion), read the same way as ``shoplens kpis``: nothing is defined again here.

**Projection** (``method = "weekday_run_rate"``). The days of the month up to the data end are *elapsed*; the
rest are to come. For the additive KPIs (revenue, orders, new customers) each weekday has a factor, its mean daily
value over the :data:`HISTORY_DAYS` days before the month divided by the mean of all those days (1 for every
weekday when fewer than :data:`MIN_HISTORY_DAYS` days are known). The month's run-rate is the actual to date
divided by the sum of the factors of the elapsed days, and the projection is::

    projected = actual + run_rate x (sum of the factors of the remaining days)

so a month that started on its slow weekdays is not under-projected. The range (``low``, ``high``, a central 90 %
interval under a normal approximation) combines the day-to-day scatter of the history around its weekday pattern
with the uncertainty of a run-rate measured on few days; ``low`` is never below the actual. The ratio KPIs (AOV,
repeat rate, conversion) are projected at their value to date, without a range. The demand forecast
(``shoplens forecast``) is not used: it fits a state-space model per call (seconds per metric), forecasts only
from the data end and only revenue and orders of the whole shop, and the days of a month add up only through its
mean (``expected``), which a small store's skewed daily sales make unstable; a run-rate is quick, covers every KPI
and channel, and can be checked by hand.

**Suggestions** for a month: with at least :data:`YEARLY_HISTORY_MONTHS` complete months of history, the same
month last year times the trailing growth (the mean of the last three complete months against the same three months
a year earlier); for the shares (repeat rate, conversion) the same month last year plus the trailing change in
points, kept within 0-1. With less history, the mean of the last three complete months.
"""

from __future__ import annotations

import math
import re
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import ibis.expr.types as ir

from shoplens.errors import InputError
from shoplens.metrics import Zone, python_period_end, sales_kpis

KPIS: tuple[str, ...] = ("revenue", "orders", "new_customers", "aov", "repeat_rate", "conversion")
ADDITIVE_KPIS: tuple[str, ...] = ("revenue", "orders", "new_customers")
RATE_KPIS: tuple[str, ...] = ("repeat_rate", "conversion")
# The column of sales_kpis each KPI is read from.
KPI_COLUMNS: dict[str, str] = {
    "revenue": "revenue",
    "orders": "orders",
    "new_customers": "new_customers",
    "aov": "aov",
    "repeat_rate": "repeat_rate",
    "conversion": "conversion_rate",
}
PROJECTION_METHOD = "weekday_run_rate"
HISTORY_DAYS = 56
MIN_HISTORY_DAYS = 28
INTERVAL_Z = 1.645  # a central 90 % interval
YEARLY_HISTORY_MONTHS = 13
TRAILING_MONTHS = 3
_PERIOD = re.compile(r"^(\d{4})-(\d{2})$")


def check_kpi(kpi: str, *, sessions: bool) -> str:
    """``kpi`` when it is a KPI a target can be set on; an InputError listing them otherwise."""
    if kpi not in KPIS:
        raise InputError(f"unknown KPI {kpi!r}; choose one of: {', '.join(KPIS)}")
    if kpi == "conversion" and not sessions:
        raise InputError("a conversion target needs web sessions: the warehouse has no events (import them first)")
    return kpi


def check_target_value(kpi: str, value: float, *, option: str = "--value") -> float:
    """``value`` when it can be a target of ``kpi`` (a share of at most 1 for the rates); an InputError naming
    ``option`` otherwise."""
    if not math.isfinite(value) or value < 0:
        raise InputError(f"{option} must be a number of at least 0, got {value}")
    if kpi in RATE_KPIS and value > 1:
        raise InputError(f"{option} of {kpi} is a share between 0 and 1 (0.3 for 30 %), got {value}")
    return value


def period_start(period: str) -> date:
    """The first day of the month ``YYYY-MM``; an InputError for anything else."""
    found = _PERIOD.match(period.strip())
    # years beyond these would overflow the month arithmetic of pacing (a month after December 9999)
    if found is None or not 1 <= int(found.group(2)) <= 12 or not 1900 <= int(found.group(1)) <= 2999:
        raise InputError(f"period must be a month as YYYY-MM (such as 2025-06), got {period!r}")
    return date(int(found.group(1)), int(found.group(2)), 1)


def period_label(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def shift_months(day: date, months: int) -> date:
    """The first day of the month ``months`` after (before, when negative) the month of ``day``."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class SalesTables:
    """The tables the KPIs read: purchases, their lines and refunds, and the customers."""

    orders: ir.Table
    order_lines: ir.Table
    refunds: ir.Table
    customers: ir.Table


def monthly_kpis(
    tables: SalesTables,
    *,
    zone: Zone,
    start: date | None = None,
    end: date | None = None,
    by_channel: bool = False,
    events: ir.Table | None = None,
) -> ir.Table:
    """The months' KPIs, as ``shoplens kpis --grain month`` computes them (split by channel when asked)."""
    return _kpis(tables, "month", zone=zone, start=start, end=end, by_channel=by_channel, events=events)


def _kpis(
    tables: SalesTables,
    grain: str,
    *,
    zone: Zone,
    start: date | None,
    end: date | None,
    by_channel: bool,
    events: ir.Table | None = None,
) -> ir.Table:
    return sales_kpis(
        tables.orders,
        tables.order_lines,
        tables.refunds,
        tables.customers,
        grain=grain,
        zone=zone,
        start=start,
        end=end,
        by="channel" if by_channel else None,
        events=events,
    )


def daily_kpis(
    tables: SalesTables,
    *,
    zone: Zone,
    start: date,
    end: date,
    by_channel: bool = False,
) -> ir.Table:
    """Revenue, orders and new customers per store-local day from ``start`` to ``end`` (days without any are
    absent): ``period`` (the day), ``channel`` when split, and the three additive KPIs."""
    days = _kpis(tables, "day", zone=zone, start=start, end=end, by_channel=by_channel)
    return days.select("period", *(["channel"] if by_channel else []), *ADDITIVE_KPIS)


# --- projection ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Projection:
    """A month's projection: ``projected`` with its range (None for a ratio KPI), and the days it rests on."""

    projected: float | None
    low: float | None
    high: float | None
    days_elapsed: int
    days_in_period: int


def weekday_factors(history: Mapping[date, float]) -> tuple[dict[int, float], float | None]:
    """Each weekday's mean daily value over ``history`` (every day, zeros included) against the mean of all days,
    and the relative scatter of the days around that pattern (None when it cannot be measured).

    With fewer than :data:`MIN_HISTORY_DAYS` days, or a history of zeros, every factor is 1 and the scatter None.
    """
    flat = {weekday: 1.0 for weekday in range(7)}
    if len(history) < MIN_HISTORY_DAYS:
        return flat, None
    mean = statistics.fmean(history.values())
    if mean <= 0:
        return flat, None
    by_weekday: dict[int, list[float]] = {}
    for day, value in history.items():
        by_weekday.setdefault(day.weekday(), []).append(value)
    factors = {weekday: statistics.fmean(by_weekday.get(weekday, [mean])) / mean for weekday in range(7)}
    deviations = [
        value / (mean * factors[day.weekday()]) - 1.0 for day, value in history.items() if factors[day.weekday()] > 0
    ]
    scatter = statistics.pstdev(deviations) if len(deviations) >= 2 else None
    return factors, scatter


def project_additive(
    actual: float,
    *,
    month: date,
    data_end: date,
    factors: Mapping[int, float],
    scatter: float | None,
) -> Projection:
    """The projection of an additive KPI of the month that starts on ``month`` (see the module docstring)."""
    last_day = python_period_end(month, "month")
    days_in_period = (last_day - month).days + 1
    elapsed = [month + timedelta(days=i) for i in range(max(0, min(days_in_period, (data_end - month).days + 1)))]
    remaining = [month + timedelta(days=i) for i in range(len(elapsed), days_in_period)]
    if not remaining:
        return Projection(actual, actual, actual, len(elapsed), days_in_period)
    elapsed_weight = sum(factors[day.weekday()] for day in elapsed)
    if not elapsed or elapsed_weight <= 0:
        return Projection(None, None, None, len(elapsed), days_in_period)
    run_rate = actual / elapsed_weight
    remaining_weights = [factors[day.weekday()] for day in remaining]
    expected_rest = run_rate * sum(remaining_weights)
    projected = actual + expected_rest
    if scatter is None:
        return Projection(projected, None, None, len(elapsed), days_in_period)
    # the remaining days scatter around the pattern, and the run-rate itself is measured on len(elapsed) days
    variance = (run_rate * scatter) ** 2 * sum(w * w for w in remaining_weights)
    variance += (expected_rest * scatter) ** 2 / len(elapsed)
    spread = INTERVAL_Z * math.sqrt(variance)
    return Projection(projected, max(actual, projected - spread), projected + spread, len(elapsed), days_in_period)


def project_ratio(actual: float | None, *, month: date, data_end: date) -> Projection:
    """A ratio KPI (AOV, repeat rate, conversion) is projected at its value to date, without a range."""
    days_in_period = (python_period_end(month, "month") - month).days + 1
    elapsed = max(0, min(days_in_period, (data_end - month).days + 1))
    if elapsed == 0:
        return Projection(None, None, None, 0, days_in_period)
    exact = actual if elapsed == days_in_period else None
    return Projection(actual, exact, exact, elapsed, days_in_period)


def history_before(days: Mapping[date, float], month: date, first_day: date) -> dict[date, float]:
    """The :data:`HISTORY_DAYS` days before ``month`` that are within the data (from ``first_day``), zeros filled."""
    start = max(first_day, month - timedelta(days=HISTORY_DAYS))
    return {start + timedelta(days=i): days.get(start + timedelta(days=i), 0.0) for i in range((month - start).days)}


# --- suggestions -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Suggestion:
    kpi: str
    period: str
    value: float | None
    method: str  # same_month_last_year_x_trailing_growth | trailing_3_months | none
    why: str


def _figure(kpi: str, value: float) -> str:
    if kpi in RATE_KPIS:
        return f"{value:.1%}"
    if kpi in ("orders", "new_customers"):
        return f"{value:,.0f}"
    return f"{value:,.2f}"


def suggest(kpi: str, month: date, complete: Mapping[date, float]) -> Suggestion:
    """The suggested target of ``kpi`` for ``month`` from the complete months before it (``complete``: month start
    → value; partial months left out by the caller)."""
    label = period_label(month)
    before = sorted(day for day in complete if day < month)
    trailing = before[-TRAILING_MONTHS:]
    if len(trailing) < 1:
        return Suggestion(kpi, label, None, "none", f"no complete month before {label} to base a {kpi} target on")
    last_year = shift_months(month, -12)
    year_before = [shift_months(day, -12) for day in trailing]
    yearly = (
        len(before) >= YEARLY_HISTORY_MONTHS
        and last_year in complete
        and len(trailing) == TRAILING_MONTHS
        and all(day in complete for day in year_before)
    )
    recent = statistics.fmean(complete[day] for day in trailing)
    months = ", ".join(period_label(day) for day in trailing)
    if yearly:
        earlier = statistics.fmean(complete[day] for day in year_before)
        before_year = f"{_figure(kpi, recent)} against {_figure(kpi, earlier)} a year earlier"
        opening = f"{kpi} was {_figure(kpi, complete[last_year])} in {period_label(last_year)}; the last three complete"
        if kpi in RATE_KPIS:
            # a share moves in points, not in multiples (a repeat rate of 20 % cannot triple), and stays in [0, 1]
            points = recent - earlier
            value = min(1.0, max(0.0, complete[last_year] + points))
            why = (
                f"{opening} months ({months}) averaged {before_year} ({points * 100:+.1f} points), so "
                f"{_figure(kpi, complete[last_year])} {points * 100:+.1f} points = {_figure(kpi, value)}"
            )
            return Suggestion(kpi, label, value, "same_month_last_year_plus_trailing_change", why)
        if earlier > 0:
            growth = recent / earlier
            value = complete[last_year] * growth
            why = (
                f"{opening} months ({months}) averaged {before_year} (growth x{growth:.3f}), so "
                f"{_figure(kpi, complete[last_year])} x {growth:.3f} = {_figure(kpi, value)}"
            )
            return Suggestion(kpi, label, value, "same_month_last_year_x_trailing_growth", why)
    why = (
        f"fewer than {YEARLY_HISTORY_MONTHS} complete months of history with the same months a year earlier, so the "
        f"mean of the last {len(trailing)} complete month(s) ({months}): {_figure(kpi, recent)}"
    )
    return Suggestion(kpi, label, recent, f"trailing_{len(trailing)}_months", why)


def complete_months(rows: Sequence[Mapping[str, object]], kpi: str) -> dict[date, float]:
    """Month start → the KPI's value, for the complete (not partial) months of ``monthly_kpis`` rows."""
    column = KPI_COLUMNS[kpi]
    found: dict[date, float] = {}
    for row in rows:
        value = row.get(column)
        period = row.get("period")
        if not row.get("partial") and isinstance(period, date) and value is not None:
            found[period] = float(value)  # type: ignore[arg-type]
    return found


# --- budgets ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BudgetPace:
    """A channel's month: its budget, the spend to date, and the spend projected at the pace so far."""

    channel: str
    period: str
    budget: float
    spent: float
    projected: float | None
    days_elapsed: int
    days_in_period: int
    alert: str | None


def budget_pace(channel: str, month: date, budget: float, spent: float, spend_through: date | None) -> BudgetPace:
    """``spent`` against ``budget``; the projection is linear, ``spent / days elapsed × days in the month``, where
    the days elapsed run to ``spend_through`` (the last day with a spend row in the warehouse)."""
    days_in_period = (python_period_end(month, "month") - month).days + 1
    through = spend_through or month - timedelta(days=1)
    elapsed = max(0, min(days_in_period, (through - month).days + 1))
    projected = spent / elapsed * days_in_period if elapsed else None
    alert = None
    if spent > budget:
        alert = f"over budget: {spent:,.2f} spent of {budget:,.2f}"
    elif projected is not None and elapsed < days_in_period and projected > budget:
        alert = f"projected overrun: {projected:,.2f} at the pace of {elapsed} day(s) against {budget:,.2f}"
    return BudgetPace(channel, period_label(month), budget, spent, projected, elapsed, days_in_period, alert)
