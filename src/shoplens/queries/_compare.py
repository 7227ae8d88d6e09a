"""The latest period's KPIs against the period before and the same period last year, like with like.

The latest period of the KPI question's rows (:class:`KpiQuery`) is compared over the days it covers: a
complete period against the whole previous period, a partial one (the month the data end in) against the same
days of the previous period, as the KPI rows' own ``comparison`` says. Last year is the same days a year earlier
(364 days, the same weekdays, for days and weeks). Each window's KPIs are the KPI rows of that window alone, so
every KPI is compared, not only revenue, orders and customers. Amounts and counts change relatively (+12.0 %);
rates (repeat, refund and conversion rates) change in percentage points.

The answer also holds the monthly revenue with the same month a year earlier beside it (the overview's trend
with last year overlaid) and each period's net sales from first and from repeat orders.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any, ClassVar, Literal

from shoplens.errors import InputError
from shoplens.queries._base import Result, Row, answers
from shoplens.queries._context import QueryContext
from shoplens.queries._sales import KpiQuery, KpiResult, _Window

# (KPI, how it changes): relative for amounts and counts, in percentage points for rates
COMPARED_KPIS: tuple[tuple[str, Literal["relative", "points"]], ...] = (
    ("revenue", "relative"),
    ("orders", "relative"),
    ("customers", "relative"),
    ("new_customers", "relative"),
    ("aov", "relative"),
    ("repeat_rate", "points"),
    ("refund_rate", "points"),
    ("conversion_rate", "points"),
)


class KpiComparisonQuery(_Window):
    kind: ClassVar[str] = "kpi_comparison"
    grain: Literal["day", "week", "month", "quarter"] = "month"


class KpiComparisonResult(Result):
    query: KpiComparisonQuery
    period: date
    partial: bool
    comparison: str  # whole_period or same_days
    windows: list[Row]  # window (current, previous, last_year), first_day, last_day, customers
    changes: list[Row]  # kpi, change_kind, current, previous, last_year, change_vs_previous, change_vs_last_year
    trend: list[Row]  # monthly: period, revenue, customers, last_year_period, last_year_revenue
    new_vs_returning: list[Row]  # period, customers, first_order_sales, repeat_order_sales


def year_before(day: date, grain: str) -> date:
    """The same day a year earlier: 364 days (same weekday) for days and weeks, the same date otherwise."""
    if grain in ("day", "week"):
        return day - timedelta(days=364)
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def change(current: Any, before: Any, kind: str) -> float | None:
    if current is None or before is None:
        return None
    if kind == "points":
        return round(float(current) - float(before), 6)
    if float(before) == 0:
        return None
    return round(float(current) / float(before) - 1, 6)


@answers(KpiComparisonQuery, KpiComparisonResult)
def answer_kpi_comparison(context: QueryContext, query: KpiComparisonQuery) -> KpiComparisonResult:
    def kpi_rows(grain: str, start: date | None, end: date | None) -> list[Row]:
        """The KPI question's own answer (the overview has asked the whole window already)."""
        return context.run(KpiQuery(grain=grain, start=start, end=end), KpiResult).rows

    found = kpi_rows(query.grain, query.start, query.end)
    latest = found[-1]
    current_days = (latest["covers_from"], latest["through"])
    previous_days = (latest.get("compared_from"), latest.get("compared_through"))
    year_days = (year_before(current_days[0], query.grain), year_before(current_days[1], query.grain))

    def window_row(days: tuple[Any, Any]) -> Row | None:
        if days[0] is None or days[1] is None:
            return None
        try:
            one = kpi_rows(query.grain, days[0], days[1])
        except InputError:  # no orders or refunds in that window
            return None
        return one[0] if len(one) == 1 else None

    previous, last_year = window_row(previous_days), window_row(year_days)
    windows = [
        {"window": name, "first_day": days[0], "last_day": days[1], "customers": row["customers"] if row else None}
        for name, days, row in (
            ("current", current_days, latest),
            ("previous", previous_days, previous),
            ("last_year", year_days, last_year),
        )
    ]
    changes = []
    for kpi, kind in COMPARED_KPIS:
        now = latest.get(kpi)
        before = previous.get(kpi) if previous else None
        then = last_year.get(kpi) if last_year else None
        behind = [row["customers"] for row in (latest, previous, last_year) if row is not None]
        changes.append(
            {
                "kpi": kpi,
                "change_kind": kind,
                "current": now,
                "previous": before,
                "last_year": then,
                "change_vs_previous": change(now, before, kind),
                "change_vs_last_year": change(now, then, kind),
                "customers": min(behind),  # the fewest customers behind any figure of the row (vendors' k rule)
            }
        )
    monthly = found if query.grain == "month" else kpi_rows("month", query.start, query.end)
    return KpiComparisonResult(
        query=query,
        period=latest["period"],
        partial=bool(latest["partial"]),
        comparison=latest.get("comparison") or "whole_period",
        windows=windows,
        changes=changes,
        trend=_trend(monthly),
        new_vs_returning=[_split(row) for row in found],
    )


def _trend(monthly: list[Row]) -> list[Row]:
    by_month = {row["period"]: row for row in monthly}
    trend = []
    for row in monthly:
        before = by_month.get(year_before(row["period"], "month"))
        trend.append(
            {
                "period": row["period"],
                "revenue": row["revenue"],
                "partial": row["partial"],
                "last_year_period": year_before(row["period"], "month"),
                "last_year_revenue": before["revenue"] if before else None,
                "customers": min(row["customers"], before["customers"]) if before else row["customers"],
            }
        )
    return trend


def _split(row: Row) -> Row:
    """A period's net sales from first orders and from repeat orders (a known customer's second or later)."""
    net, repeat = Decimal(str(row["net_sales"] or 0)), Decimal(str(row["repeat_net_sales"] or 0))
    return {
        "period": row["period"],
        "customers": row["customers"],
        "first_order_sales": net - repeat,
        "repeat_order_sales": repeat,
    }
