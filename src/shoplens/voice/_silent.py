"""Silent dissatisfaction: what customers do, without writing a word, when something is wrong.

Four signals, each an Ibis expression (``Table -> Table``, no connection inside) giving one row per customer who
shows it, as of the last order day in the store (*day 0* below):

* **rising returns** — returned more of what she bought in the last 90 days than in the 90 days before
  (refund amount / net order value, at least 10 percentage points more, with a refund in the last 90 days);
* **overdue repeat buyer** — at least 3 orders, and the days since her last order exceed both twice her median gap
  between orders and her longest gap so far: she has broken her own rhythm;
* **abandoned after shipping costs** — in the last 90 days, a web session in which she looked at shipping costs
  (``events.type = 'shipping_view'``) and did not order afterwards;
* **discount-only buyer** — at least 2 orders, every one of them discounted.

Orders are the store's purchases (:func:`shoplens.metrics.purchases`: no cancelled or voided orders), days are its
local days, and spend is DECIMAL, as in the metrics.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from shoplens.metrics import Zone, purchase_gaps, purchase_refunds, purchases, with_local_day
from shoplens.voice._customers import total_spend

RECENT_DAYS = 90
RISING_RETURNS_MIN_INCREASE = 0.10
OVERDUE_MIN_ORDERS = 3
OVERDUE_MEDIAN_MULTIPLE = 2.0
DISCOUNT_ONLY_MIN_ORDERS = 2
NO_ORDERS = "no orders yet"
SIGNALS: dict[str, str] = {
    "rising_returns": (
        f"refunds / net order value at least {RISING_RETURNS_MIN_INCREASE:.0%} points higher in the last "
        f"{RECENT_DAYS} days than in the {RECENT_DAYS} days before, with a refund in the last {RECENT_DAYS} days"
    ),
    "overdue_repeat_buyers": (
        f"{OVERDUE_MIN_ORDERS}+ orders and days since the last order above both {OVERDUE_MEDIAN_MULTIPLE:g}x the "
        "customer's median gap and her longest gap so far"
    ),
    "abandoned_after_shipping_view": (
        f"a session in the last {RECENT_DAYS} days that viewed shipping costs and placed no order after that"
    ),
    "discount_only_buyers": f"{DISCOUNT_ONLY_MIN_ORDERS}+ orders, every one discounted",
}


def _day_zero(orders: ir.Table) -> ir.Scalar:
    return orders.ordered_at.max().as_scalar()


def rising_returns(orders: ir.Table, refunds: ir.Table) -> ir.Table:
    """``customer_key, recent_return_rate, previous_return_rate`` for customers whose returns are rising."""
    end = _day_zero(orders)
    recent_start = end - ibis.interval(days=RECENT_DAYS)
    previous_start = end - ibis.interval(days=2 * RECENT_DAYS)
    known = orders.filter(orders.customer_key.notnull())
    bought = known.group_by("customer_key").aggregate(
        recent_net=known.net.sum(where=known.ordered_at > recent_start).cast("float64"),
        previous_net=known.net.sum(where=(known.ordered_at > previous_start) & (known.ordered_at <= recent_start)).cast(
            "float64"
        ),
    )
    given = refunds.filter(refunds.customer_key.notnull())
    returned = given.group_by("customer_key").aggregate(
        recent_refunds=given.amount.sum(where=given.refunded_at > recent_start).cast("float64"),
        previous_refunds=given.amount.sum(
            where=(given.refunded_at > previous_start) & (given.refunded_at <= recent_start)
        ).cast("float64"),
    )
    joined = bought.join(returned, "customer_key", how="left")
    rates = joined.mutate(
        recent_return_rate=(joined.recent_refunds.fill_null(0.0) / joined.recent_net.nullif(0.0)),
        previous_return_rate=(joined.previous_refunds.fill_null(0.0) / joined.previous_net.nullif(0.0)).fill_null(0.0),
    )
    rising = rates.filter(
        (rates.recent_refunds > 0)
        & (rates.recent_return_rate - rates.previous_return_rate >= RISING_RETURNS_MIN_INCREASE)
    )
    return rising.select("customer_key", "recent_return_rate", "previous_return_rate")


def overdue_repeat_buyers(orders: ir.Table, *, zone: Zone = "UTC") -> ir.Table:
    """``customer_key, orders, median_gap_days, longest_gap_days, days_since_last`` for customers off their rhythm.

    Gaps and days since the last order are counted in store-local days (``zone``)."""
    gaps = purchase_gaps(orders, zone=zone)
    rhythm = gaps.group_by("customer_key").aggregate(
        orders=gaps.count() + 1,
        median_gap_days=gaps.gap_days.cast("float64").median(),
        longest_gap_days=gaps.gap_days.max(),
    )
    local = with_local_day(orders, "ordered_at", zone)
    known = local.filter(local.customer_key.notnull())
    last = known.group_by("customer_key").aggregate(last_day=known.local_day.max())
    end = local.local_day.max().as_scalar()
    since = last.mutate(days_since_last=end.delta(last.last_day, unit="day").cast("int64"))
    joined = rhythm.join(since, "customer_key")
    overdue = joined.filter(
        (joined.orders >= OVERDUE_MIN_ORDERS)
        & (joined.days_since_last > OVERDUE_MEDIAN_MULTIPLE * joined.median_gap_days)
        & (joined.days_since_last > joined.longest_gap_days)
    )
    return overdue.select("customer_key", "orders", "median_gap_days", "longest_gap_days", "days_since_last")


def abandoned_after_shipping_view(events: ir.Table, orders: ir.Table) -> ir.Table:
    """``customer_key, sessions`` — her recent sessions that saw shipping costs and ended without an order."""
    start = _day_zero(orders) - ibis.interval(days=RECENT_DAYS)
    recent = events.filter((events.at > start) & events.type.isin(["shipping_view", "order"]))
    per_session = recent.group_by("session_id").aggregate(
        customer_key=recent.customer_key.max(),
        shipping_seen=recent.at.min(where=recent.type == "shipping_view"),
        ordered=recent.at.max(where=recent.type == "order"),
    )
    abandoned = per_session.filter(
        per_session.shipping_seen.notnull()
        & per_session.customer_key.notnull()
        & (per_session.ordered.isnull() | (per_session.ordered < per_session.shipping_seen))
    )
    return abandoned.group_by("customer_key").aggregate(sessions=abandoned.count())


def shipping_view_sessions(events: ir.Table, orders: ir.Table) -> ir.Table:
    """One row: recent ``sessions`` that saw shipping costs and how many of them ended ``without_order``."""
    start = _day_zero(orders) - ibis.interval(days=RECENT_DAYS)
    recent = events.filter((events.at > start) & events.type.isin(["shipping_view", "order"]))
    per_session = recent.group_by("session_id").aggregate(
        shipping_seen=recent.at.min(where=recent.type == "shipping_view"),
        ordered=recent.at.max(where=recent.type == "order"),
    )
    seen = per_session.filter(per_session.shipping_seen.notnull())
    return seen.aggregate(
        sessions=seen.count(),
        without_order=seen.count(where=seen.ordered.isnull() | (seen.ordered < seen.shipping_seen)),
    )


def discount_only_buyers(orders: ir.Table) -> ir.Table:
    """``customer_key, orders`` for customers who have only ever bought with a discount."""
    known = orders.filter(orders.customer_key.notnull())
    discounted = (known.discount.fill_null(0) > 0) | known.discount_code.notnull()
    per = known.group_by("customer_key").aggregate(orders=known.count(), discounted=known.count(where=discounted))
    return per.filter((per.orders >= DISCOUNT_ONLY_MIN_ORDERS) & (per.discounted == per.orders)).select(
        "customer_key", "orders"
    )


def silent_dissatisfaction(
    backend: Any, profiles: pd.DataFrame, spend: Mapping[str, Decimal], *, zone: Zone = "UTC"
) -> dict[str, Any]:
    """Customers showing each signal, per RFM segment, with their spend in the last 365 days.

    Customers with a signal but no order (logged-in visitors) are counted in the row "no orders yet".
    """
    stored = backend.table("orders")
    orders, refunds = purchases(stored), purchase_refunds(backend.table("refunds"), stored)
    found: dict[str, set[str]] = {
        "rising_returns": set(rising_returns(orders, refunds).customer_key.to_pandas()),
        "overdue_repeat_buyers": set(overdue_repeat_buyers(orders, zone=zone).customer_key.to_pandas()),
        "discount_only_buyers": set(discount_only_buyers(orders).customer_key.to_pandas()),
    }
    events = backend.table("events")  # a canonical table: present, perhaps empty
    found["abandoned_after_shipping_view"] = set(abandoned_after_shipping_view(events, orders).customer_key.to_pandas())
    totals = shipping_view_sessions(events, orders).to_pandas().iloc[0]
    sessions, without = int(totals["sessions"]), int(totals["without_order"])
    shipping = {
        "sessions": sessions,
        "without_order": without,
        "abandonment_rate": round(without / sessions, 4) if sessions else None,
    }
    segment_of = dict(zip(profiles["customer_key"], profiles["segment"], strict=True))
    sizes = {str(k): int(v) for k, v in profiles["segment"].value_counts().items()}
    segments = sorted(sizes, key=lambda s: (-sizes[s], s))
    # Visitors who browse logged in but never ordered have no RFM segment; they get a row of their own.
    outside = {k for keys in found.values() for k in keys if k not in segment_of}
    if outside:
        segments.append(NO_ORDERS)
        sizes[NO_ORDERS] = len(outside)
    by_segment = []
    for segment in segments:
        row: dict[str, Any] = {"segment": segment, "customers": sizes[segment]}
        for signal, keys in found.items():
            members = [k for k in keys if segment_of.get(k, NO_ORDERS) == segment]
            row[signal] = {
                "customers": len(members),
                "share": round(len(members) / sizes[segment], 4),
                "spend": total_spend(spend, members),
            }
        by_segment.append(row)
    return {
        "signals": {
            name: {
                "rule": SIGNALS[name],
                "customers": len(keys),
                "spend": total_spend(spend, keys),
            }
            for name, keys in found.items()
        },
        "shipping_view_sessions": shipping,
        "by_segment": by_segment,
    }
