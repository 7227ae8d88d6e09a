"""The store's development stage — initial, development or mature — decided from evidence, with what it
would take to reach the next stage.

Evidence (``stage_evidence``, one row; ``H`` = the last 182 days up to the last order day, ``H-1`` the 182
days before them):

* ``trading_days``: first to last order day; ``customers``, ``orders``;
* ``new_customer_growth``: customers acquired in H over those acquired in H-1, minus 1;
* ``revenue_growth``: revenue (net of refunds) in H over H-1, minus 1 (NULL without a full H-1);
* ``repeat_revenue_share``: share of the last 365 days' net sales that came from repeat orders;
* ``retention_month1_mean`` and ``retention_stability_cv``: the mean and coefficient of variation of
  month-1 customer retention over the last six monthly cohorts whose month 1 is complete.

Rule (``decide_stage``):

* **initial** until the store has traded for a year *and* has 500 customers;
* **mature** once it has traded for two years, new-customer growth has levelled off (at most +10 % half-year
  over half-year), at least half of its revenue comes from repeat orders, and month-1 retention is stable
  across cohorts (coefficient of variation at most 0.25);
* **development** in between.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import ibis
import ibis.expr.types as ir

from shoplens.metrics._facts import money, numbered_orders, ratio, with_local_day
from shoplens.metrics._time import Zone

STAGE_RULE = (
    "initial until the store has traded for a year and has 500 customers; mature once it has traded for two "
    "years, new-customer growth has levelled off (at most +10% half-year over half-year), at least half of its "
    "revenue comes from repeat orders and month-1 retention is stable across cohorts (coefficient of variation "
    "at most 0.25); development in between."
)
HALF_YEAR_DAYS = 182
YEAR_DAYS = 365
MIN_DEVELOPMENT_DAYS = 365
MIN_DEVELOPMENT_CUSTOMERS = 500
MIN_MATURE_DAYS = 730
MAX_MATURE_NEW_CUSTOMER_GROWTH = 0.10
MIN_MATURE_REPEAT_REVENUE_SHARE = 0.5
MAX_MATURE_RETENTION_CV = 0.25
RETENTION_COHORTS = 6


def stage_evidence(orders: ir.Table, refunds: ir.Table, *, zone: Zone = "UTC") -> ir.Table:
    """One row of evidence about the store (see the module docstring)."""
    numbered = with_local_day(numbered_orders(orders, ["net"]), "ordered_at", zone)
    last_day = numbered.local_day.max().as_scalar()
    age = last_day.delta(numbered.local_day, unit="day")
    recent, before = age < HALF_YEAR_DAYS, (age >= HALF_YEAR_DAYS) & (age < 2 * HALF_YEAR_DAYS)
    last_year = age < YEAR_DAYS
    first = numbered.order_number == 0
    sales = numbered.aggregate(
        first_day=numbered.local_day.min(),
        last_day=numbered.local_day.max(),
        orders=numbered.count(),
        customers=numbered.customer_key.nunique(),
        new_recent=numbered.count(where=first & recent),
        new_before=numbered.count(where=first & before),
        net_recent=money(numbered.net.sum(where=recent).fill_null(0)),
        net_before=money(numbered.net.sum(where=before).fill_null(0)),
        net_last_year=money(numbered.net.sum(where=last_year).fill_null(0)),
        repeat_net_last_year=money(numbered.net.sum(where=last_year & (numbered.order_number >= 1)).fill_null(0)),
        key=ibis.literal(1),
    )
    given = with_local_day(refunds.filter(refunds.refunded_at.notnull()), "refunded_at", zone)
    given_age = last_day.delta(given.local_day, unit="day")
    returned = given.aggregate(
        refunds_recent=money(given.amount.sum(where=(given_age >= 0) & (given_age < HALF_YEAR_DAYS)).fill_null(0)),
        refunds_before=money(
            given.amount.sum(where=(given_age >= HALF_YEAR_DAYS) & (given_age < 2 * HALF_YEAR_DAYS)).fill_null(0)
        ),
        key=ibis.literal(1),
    )
    both = sales.inner_join(returned, "key")
    trading_days = both.last_day.delta(both.first_day, unit="day").cast("int64")
    full_before = trading_days >= 2 * HALF_YEAR_DAYS - 1
    revenue_recent = both.net_recent - both.refunds_recent
    revenue_before = both.net_before - both.refunds_before
    return both.select(
        "first_day",
        "last_day",
        trading_days=trading_days,
        customers=both.customers,
        orders=both.orders,
        new_customers_last_half_year=both.new_recent,
        new_customers_previous_half_year=both.new_before,
        new_customer_growth=ibis.ifelse(
            full_before, ratio(both.new_recent, both.new_before) - 1.0, ibis.null("float64")
        ),
        revenue_last_half_year=money(revenue_recent),
        revenue_previous_half_year=money(revenue_before),
        revenue_growth=ibis.ifelse(full_before, ratio(revenue_recent, revenue_before) - 1.0, ibis.null("float64")),
        repeat_revenue_share=ratio(both.repeat_net_last_year, both.net_last_year),
    )


def retention_stability(cohort_rows: Sequence[Mapping[str, Any]]) -> dict[str, float | int | None]:
    """Mean and coefficient of variation of month-1 retention over the last complete monthly cohorts.

    ``cohort_rows`` are rows of :func:`shoplens.metrics.cohorts` at month grain. A cohort's month 1 is
    complete when a later month exists in the data (the last month may be cut short by the export).
    """
    last = max((_months(row["cohort"]) + int(row["period_index"]) for row in cohort_rows), default=None)
    if last is None:
        return {"retention_month1_mean": None, "retention_stability_cv": None, "retention_cohorts": 0}
    month1 = sorted(
        (row["cohort"], float(row["retention"]))
        for row in cohort_rows
        if int(row["period_index"]) == 1 and row["retention"] is not None and _months(row["cohort"]) + 1 < last
    )[-RETENTION_COHORTS:]
    values = [v for _, v in month1]
    if len(values) < 3:
        return {"retention_month1_mean": None, "retention_stability_cv": None, "retention_cohorts": len(values)}
    mean = sum(values) / len(values)
    spread = math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))
    return {
        "retention_month1_mean": mean,
        "retention_stability_cv": spread / mean if mean > 0 else None,
        "retention_cohorts": len(values),
    }


def _months(day: date) -> int:
    return day.year * 12 + day.month


@dataclass(frozen=True)
class StageVerdict:
    stage: str
    reasons: list[str] = field(default_factory=list)
    next_stage_needs: list[str] = field(default_factory=list)


def _percent(value: float | None) -> str:
    return "unknown" if value is None else f"{value:+.0%}"


def decide_stage(evidence: Mapping[str, Any]) -> StageVerdict:
    """Apply the rule of the module docstring to the evidence."""
    days = int(evidence.get("trading_days") or 0)
    customers = int(evidence.get("customers") or 0)
    growth = evidence.get("new_customer_growth")
    repeat_share = evidence.get("repeat_revenue_share")
    cv = evidence.get("retention_stability_cv")
    development_needs = []
    if days < MIN_DEVELOPMENT_DAYS:
        development_needs.append(f"a full year of trading (now {days} days)")
    if customers < MIN_DEVELOPMENT_CUSTOMERS:
        development_needs.append(f"at least {MIN_DEVELOPMENT_CUSTOMERS} customers (now {customers})")
    if development_needs:
        return StageVerdict("initial", [f"still needs {n}" for n in development_needs], development_needs)
    mature_needs = []
    if days < MIN_MATURE_DAYS:
        mature_needs.append(f"two years of trading (now {days} days)")
    if growth is None or growth > MAX_MATURE_NEW_CUSTOMER_GROWTH:
        mature_needs.append(
            f"new-customer growth levelling off to at most {MAX_MATURE_NEW_CUSTOMER_GROWTH:+.0%} half-year over "
            f"half-year (now {_percent(growth)})"
        )
    if repeat_share is None or repeat_share < MIN_MATURE_REPEAT_REVENUE_SHARE:
        now = "unknown" if repeat_share is None else f"{repeat_share:.0%}"
        mature_needs.append(f"at least {MIN_MATURE_REPEAT_REVENUE_SHARE:.0%} of revenue from repeat orders (now {now})")
    if cv is None or cv > MAX_MATURE_RETENTION_CV:
        now = "unknown: too few complete cohorts" if cv is None else f"{cv:.2f}"
        mature_needs.append(
            f"stable month-1 retention across cohorts, coefficient of variation at most {MAX_MATURE_RETENTION_CV} "
            f"(now {now})"
        )
    if mature_needs:
        reasons = [f"{days} days of trading and {customers} customers: past the initial stage"]
        return StageVerdict("development", reasons, mature_needs)
    reasons = [
        f"{days} days of trading, new-customer growth {_percent(growth)}",
        f"{repeat_share:.0%} of revenue from repeat orders, month-1 retention CV {cv:.2f}",
    ]
    return StageVerdict("mature", reasons, [])
