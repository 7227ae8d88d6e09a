"""The store's development stage — initial, development or mature — decided from the shape of its customer base,
with what it would take to reach the next stage.

An export is a *window*: it may start on the store's first day, or in the middle of its life. A one-year export
of an established shop looks like a young store to a calendar (a year of trading, every customer "new" in the
first month), so the stage is read from the customers, and the window is first classified (``classify_window``)
from evidence of *left-censoring* — customers who were already buying before the window began.

Evidence (``stage_evidence`` and ``window_evidence``, one row each; ``H`` = the last 182 days up to the last order
day, ``H-1`` the 182 days before them; the window's *opening* = its first 28 days):

* ``trading_days``: first to last order day of the window; ``customers``, ``orders``;
* ``new_customer_growth``: customers first seen in H over those first seen in H-1, minus 1 (NULL without a full
  H-1); ``revenue_growth`` likewise for revenue (net of refunds);
* ``repeat_revenue_share``: share of the last 365 days' net sales that came from repeat orders (a customer's
  second and later orders in the window);
* ``retention_month1_mean`` and ``retention_stability_cv``: the mean and coefficient of variation of month-1
  customer retention over the last six monthly cohorts whose month 1 is complete (the window's first month is
  left out: it is cut short by the export, and in a window into an established store it holds the customers who
  were buying before the window, not a cohort);
* ``new_customer_trend``: customers first seen per month, later half of the complete months over the earlier
  half, minus 1 (the window's first and last months left out; months without a new customer count as 0);
* left-censoring: ``opening_repeat_revenue_share`` — share of the opening's net sales (known customers) from
  customers who ordered on two or more days of the opening; ``opening_return_rate`` — share of customers first
  seen in the opening who order again within 28 days of that first order; ``later_return_rate`` — the same for
  customers first seen on days 56–83, who are far more likely to be really new; ``opening_return_ratio`` — the
  first over the second; ``opening_new_customer_ratio`` — customers first seen in the opening over the mean per
  28 days of those first seen on days 28–83. All NULL when the window is shorter than 112 days.

Window (``classify_window``): a **window into an established store** when at least two of the three
left-censoring signals hold — opening repeat revenue share at least 30 %, opening return ratio at least 1.5, opening
new-customer ratio at least 1.5 —, **too short to tell** when the evidence is NULL (fewer than 112 days, or fewer
than 30 customers in the opening or on days 56–83), else a **young store** (observed from, or close to, its start).

Rule (``decide_stage``):

* **initial** while the customer base is still mostly one-off buyers: fewer than 200 customers, or less than
  30 % of revenue from repeat orders, or a young store with less than half a year of orders;
* **mature** once at least half of revenue comes from repeat orders, month-1 retention is stable across cohorts
  (coefficient of variation at most 0.25 over at least three cohorts), acquisition has levelled off (new-customer
  trend at most +10 %), and the base has had time to form: the window is into an established store, or a young
  store has been observed for two years;
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
    "initial while the customer base is mostly one-off buyers (fewer than 200 customers, under 30% of revenue from "
    "repeat orders, or a young store with under half a year of orders); mature once at least half of revenue comes "
    "from repeat orders, month-1 retention is stable across cohorts (coefficient of variation at most 0.25), "
    "acquisition has levelled off (new-customer trend at most +10%) and the base has had time to form (a window "
    "into an established store, or two years of a young store); development in between."
)
WINDOW_RULE = (
    "a window into an established store when at least two of three signals hold: at least 30% of the first 28 "
    "days' sales from customers who ordered on two or more of those days; customers first seen in those days "
    "coming back within 28 days at least 1.5x as often as those first seen on days 56-83; at least 1.5x as many "
    "first-seen customers in the first 28 days as in the 28 days that follow on average. Too short to tell with "
    "under 112 days or under 30 customers in either group; a young store otherwise."
)
HALF_YEAR_DAYS = 182
YEAR_DAYS = 365
MIN_CUSTOMERS = 200
MIN_REPEAT_REVENUE_SHARE = 0.30
MIN_YOUNG_DEVELOPMENT_DAYS = 182
MIN_YOUNG_MATURE_DAYS = 730
MAX_MATURE_NEW_CUSTOMER_TREND = 0.10
MIN_MATURE_REPEAT_REVENUE_SHARE = 0.5
MAX_MATURE_RETENTION_CV = 0.25
RETENTION_COHORTS = 6
MIN_TREND_MONTHS = 4

OPENING_DAYS = 28
LATER_FROM_DAY = 56  # customers first seen on days 56..83 of the window are the comparison group
MIN_WINDOW_DAYS = LATER_FROM_DAY + 2 * OPENING_DAYS  # the later group's 28 days to return must be observed
FOLLOWING_SPANS = (MIN_WINDOW_DAYS - 2 * OPENING_DAYS) // OPENING_DAYS  # days 28..83: two spans of 28 days
MIN_GROUP_CUSTOMERS = 30
CENSORED_OPENING_REPEAT_SHARE = 0.30
CENSORED_RETURN_RATIO = 1.5
CENSORED_NEW_CUSTOMER_RATIO = 1.5
MIN_CENSORING_SIGNALS = 2
YOUNG_STORE = "young store"
ESTABLISHED_WINDOW = "window into an established store"
TOO_SHORT = "too short to tell"
WINDOWS = (YOUNG_STORE, ESTABLISHED_WINDOW, TOO_SHORT)

# How the evidence reads to a person: shares and growth as percentages, ratios as plain numbers.
SHARE_EVIDENCE = frozenset(
    {
        "repeat_revenue_share",
        "retention_month1_mean",
        "opening_repeat_revenue_share",
        "opening_return_rate",
        "later_return_rate",
    }
)
GROWTH_EVIDENCE = frozenset({"new_customer_growth", "revenue_growth", "new_customer_trend"})


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


def window_evidence(orders: ir.Table, *, zone: Zone = "UTC") -> ir.Table:
    """One row of left-censoring evidence about the export's window (see the module docstring)."""
    days = with_local_day(orders.select("customer_key", "ordered_at", "net"), "ordered_at", zone)
    start = days.local_day.min().as_scalar()
    known = days.filter(days.customer_key.notnull())
    known = known.mutate(day_index=known.local_day.delta(start, unit="day").cast("int64"))
    first = known.group_by("customer_key").aggregate(first_index=known.day_index.min())
    joined = known.inner_join(first, "customer_key")
    in_opening = joined.day_index < OPENING_DAYS
    gap = joined.day_index - joined.first_index
    per_customer = joined.group_by("customer_key").aggregate(
        first_index=joined.first_index.max(),
        opening_days=joined.local_day.nunique(where=in_opening),
        opening_net=joined.net.sum(where=in_opening),
        returns=joined.count(where=(gap >= 1) & (gap <= OPENING_DAYS)),
    )
    opening = per_customer.first_index < OPENING_DAYS
    following = (per_customer.first_index >= OPENING_DAYS) & (per_customer.first_index < MIN_WINDOW_DAYS - OPENING_DAYS)
    later = (per_customer.first_index >= LATER_FROM_DAY) & (per_customer.first_index < MIN_WINDOW_DAYS - OPENING_DAYS)
    returned = per_customer.returns > 0
    groups = per_customer.aggregate(
        opening_customers=per_customer.count(where=opening),
        following_customers=per_customer.count(where=following),
        later_customers=per_customer.count(where=later),
        opening_net=per_customer.opening_net.sum(where=opening),
        opening_repeat_net=per_customer.opening_net.sum(where=opening & (per_customer.opening_days >= 2)).fill_null(0),
        opening_returned=per_customer.count(where=opening & returned),
        later_returned=per_customer.count(where=later & returned),
        key=ibis.literal(1),
    )
    span = days.aggregate(
        window_days=days.local_day.max().delta(days.local_day.min(), unit="day").cast("int64"), key=ibis.literal(1)
    )
    both = groups.inner_join(span, "key")
    long_enough = both.window_days >= MIN_WINDOW_DAYS

    def measured(value: ir.FloatingValue) -> ir.FloatingValue:
        return ibis.ifelse(long_enough, value, ibis.null("float64"))

    opening_rate = ratio(both.opening_returned, both.opening_customers)
    later_rate = ratio(both.later_returned, both.later_customers)
    return both.select(
        opening_customers=both.opening_customers,
        later_customers=both.later_customers,
        opening_repeat_revenue_share=measured(ratio(both.opening_repeat_net, both.opening_net)),
        opening_return_rate=measured(opening_rate),
        later_return_rate=measured(later_rate),
        opening_return_ratio=measured(opening_rate / later_rate.nullif(0.0)),
        opening_new_customer_ratio=measured(
            ratio(both.opening_customers, both.following_customers) * float(FOLLOWING_SPANS)
        ),
    )


def retention_stability(cohort_rows: Sequence[Mapping[str, Any]]) -> dict[str, float | int | None]:
    """Mean and coefficient of variation of month-1 retention over the last complete monthly cohorts.

    ``cohort_rows`` are rows of :func:`shoplens.metrics.cohorts` at month grain. A cohort's month 1 is
    complete when a later month exists in the data (the last month may be cut short by the export); the window's
    first month is no cohort (module docstring) and is left out.
    """
    months = [_months(row["cohort"]) + int(row["period_index"]) for row in cohort_rows]
    if not months:
        return {"retention_month1_mean": None, "retention_stability_cv": None, "retention_cohorts": 0}
    first, last = min(months), max(months)
    month1 = sorted(
        (row["cohort"], float(row["retention"]))
        for row in cohort_rows
        if int(row["period_index"]) == 1
        and row["retention"] is not None
        and first < _months(row["cohort"])
        and _months(row["cohort"]) + 1 < last
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


def new_customer_trend(cohort_rows: Sequence[Mapping[str, Any]]) -> dict[str, float | int | None]:
    """Customers first seen per month: the later half of the complete months over the earlier half, minus 1.

    The window's first month (inflated in a window into an established store, cut short in any export) and its
    last month (cut short) are left out; months in between without a new customer count as 0. With an odd
    number of months the middle one is in neither half. NULL with fewer than four months.
    """
    months = [_months(row["cohort"]) + int(row["period_index"]) for row in cohort_rows]
    if not months:
        return {"new_customer_trend": None, "new_customer_trend_months": 0}
    sizes = {_months(row["cohort"]): int(row["cohort_customers"]) for row in cohort_rows}
    inner = [sizes.get(month, 0) for month in range(min(months) + 1, max(months))]
    if len(inner) < MIN_TREND_MONTHS:
        return {"new_customer_trend": None, "new_customer_trend_months": len(inner)}
    half = len(inner) // 2
    earlier, later = sum(inner[:half]), sum(inner[-half:])
    return {
        "new_customer_trend": later / earlier - 1.0 if earlier else None,
        "new_customer_trend_months": len(inner),
    }


def classify_window(evidence: Mapping[str, Any]) -> tuple[str, list[str]]:
    """Young store, window into an established store, or too short to tell — with the signals that decided it."""
    opening_share = evidence.get("opening_repeat_revenue_share")
    return_ratio = evidence.get("opening_return_ratio")
    new_ratio = evidence.get("opening_new_customer_ratio")
    enough = (
        int(evidence.get("opening_customers") or 0) >= MIN_GROUP_CUSTOMERS
        and int(evidence.get("later_customers") or 0) >= MIN_GROUP_CUSTOMERS
    )
    if opening_share is None or not enough:
        return TOO_SHORT, [
            f"the window needs {MIN_WINDOW_DAYS} days and {MIN_GROUP_CUSTOMERS} customers first seen in its first "
            f"{OPENING_DAYS} days and on days {LATER_FROM_DAY}-{MIN_WINDOW_DAYS - OPENING_DAYS - 1} to tell whether "
            "it starts at the store's beginning"
        ]
    signals = [
        (
            opening_share >= CENSORED_OPENING_REPEAT_SHARE,
            f"{percent(opening_share)} of the first {OPENING_DAYS} days' sales came from customers who ordered on "
            f"two or more of those days (established from {percent(CENSORED_OPENING_REPEAT_SHARE)})",
        ),
        (
            return_ratio is not None and return_ratio >= CENSORED_RETURN_RATIO,
            f"customers first seen in the first {OPENING_DAYS} days came back within {OPENING_DAYS} days "
            f"{_times(return_ratio)} as often as customers first seen on days {LATER_FROM_DAY}-"
            f"{MIN_WINDOW_DAYS - OPENING_DAYS - 1} (established from {CENSORED_RETURN_RATIO:g}x)",
        ),
        (
            new_ratio is not None and new_ratio >= CENSORED_NEW_CUSTOMER_RATIO,
            f'the first {OPENING_DAYS} days saw {_times(new_ratio)} the "new" customers of the '
            f"{OPENING_DAYS} days that followed on average (established from {CENSORED_NEW_CUSTOMER_RATIO:g}x)",
        ),
    ]
    held = sum(1 for holds, _ in signals if holds)
    window = ESTABLISHED_WINDOW if held >= MIN_CENSORING_SIGNALS else YOUNG_STORE
    return window, [f"{text} — {'holds' if holds else 'does not hold'}" for holds, text in signals]


def _times(value: float | None) -> str:
    return "unknown" if value is None else f"{value:.2f}x"


def percent(value: float | None, *, signed: bool = False) -> str:
    """A share as a percentage with at most one decimal (``20.4%``; ``+12%`` signed); ``unknown`` for NULL."""
    if value is None:
        return "unknown"
    text = f"{value * 100:{'+' if signed else ''}.1f}".removesuffix(".0")
    return f"{text}%"


def _short_of(value: float | None, threshold: float) -> str:
    """``value`` as a percentage that never reads as the threshold it falls short of (49.99%, not 50%)."""
    shown = percent(value)
    if value is not None and value < threshold and shown == percent(threshold):
        return f"{value * 100:.2f}%"
    return shown


def evidence_text(name: str, value: Any) -> str:
    """One evidence value as a person reads it: shares and growth as percentages, ratios to two decimals."""
    if value is None:
        return "–"
    if isinstance(value, float):
        if name in SHARE_EVIDENCE:
            return percent(value)
        if name in GROWTH_EVIDENCE:
            return percent(value, signed=True)
        return f"{value:.2f}"
    return str(value)


def round_evidence(value: Any) -> Any:
    """JSON keeps evidence floats to 4 significant digits (the display rounds further)."""
    return float(f"{value:.4g}") if isinstance(value, float) else value


def _months(day: date) -> int:
    return day.year * 12 + day.month


@dataclass(frozen=True)
class StageVerdict:
    stage: str
    reasons: list[str] = field(default_factory=list)
    next_stage_needs: list[str] = field(default_factory=list)


def decide_stage(evidence: Mapping[str, Any]) -> StageVerdict:
    """Apply the rule of the module docstring to the evidence (with ``window`` from :func:`classify_window`)."""
    # trading_days runs from the first to the last order day: a store open for N days of orders has N - 1
    trading_days = evidence.get("trading_days")
    days = int(trading_days) + 1 if trading_days is not None else 0
    customers = int(evidence.get("customers") or 0)
    window = evidence.get("window") or TOO_SHORT
    established = window == ESTABLISHED_WINDOW
    trend = evidence.get("new_customer_trend")
    repeat_share = evidence.get("repeat_revenue_share")
    cv = evidence.get("retention_stability_cv")
    development_needs = []
    if customers < MIN_CUSTOMERS:
        development_needs.append(f"at least {MIN_CUSTOMERS} customers (now {customers})")
    if repeat_share is None or repeat_share < MIN_REPEAT_REVENUE_SHARE:
        development_needs.append(
            f"at least {percent(MIN_REPEAT_REVENUE_SHARE)} of revenue from repeat orders (now "
            f"{_short_of(repeat_share, MIN_REPEAT_REVENUE_SHARE)})"
        )
    if not established and days < MIN_YOUNG_DEVELOPMENT_DAYS:
        development_needs.append(f"half a year of orders to show how customers come back (now {days} days)")
    if development_needs:
        return StageVerdict("initial", [f"still needs {n}" for n in development_needs], development_needs)
    mature_needs = []
    if repeat_share is None or repeat_share < MIN_MATURE_REPEAT_REVENUE_SHARE:
        mature_needs.append(
            f"at least {percent(MIN_MATURE_REPEAT_REVENUE_SHARE)} of revenue from repeat orders (now "
            f"{_short_of(repeat_share, MIN_MATURE_REPEAT_REVENUE_SHARE)})"
        )
    if cv is None or cv > MAX_MATURE_RETENTION_CV:
        now = "unknown: too few complete cohorts" if cv is None else f"{cv:.2f}"
        mature_needs.append(
            f"stable month-1 retention across cohorts, coefficient of variation at most {MAX_MATURE_RETENTION_CV} "
            f"(now {now})"
        )
    if trend is None or trend > MAX_MATURE_NEW_CUSTOMER_TREND:
        mature_needs.append(
            f"new customers per month levelling off to at most {percent(MAX_MATURE_NEW_CUSTOMER_TREND, signed=True)} "
            f"later half over earlier half (now {percent(trend, signed=True)})"
        )
    if not established and days < MIN_YOUNG_MATURE_DAYS:
        mature_needs.append(
            f"two years of orders for a young store (now {days} days; the window shows no customers from before it)"
        )
    if established:
        base = f"a window into an established store ({days} days of orders)"
    elif window == YOUNG_STORE:
        base = f"a young store with {days} days of orders"
    else:
        base = f"{days} days of orders (too short to tell whether they start at the store's beginning)"
    if mature_needs:
        reasons = [
            f"{base}, {customers} customers and {percent(repeat_share)} of revenue from repeat orders: past the "
            "initial stage"
        ]
        return StageVerdict("development", reasons, mature_needs)
    reasons = [
        f"{base}: {percent(repeat_share)} of revenue from repeat orders",
        f"month-1 retention CV {cv:.2f} across cohorts, new customers per month {percent(trend, signed=True)}",
    ]
    return StageVerdict("mature", reasons, [])
