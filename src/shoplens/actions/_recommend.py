"""Recommendations: transparent rules over the store's own figures, each with the evidence it rests on.

Every rule says who (a segment and how many customers), what to do, what it is worth and how that worth was
estimated. Worth is measured on the store's own history wherever it can be:

- **Overdue regulars** (win-back). A regular is a customer with at least two orders; their usual interval is the
  median of their gaps between orders. A regular is *overdue* when the days since their last order exceed
  ``OVERDUE_FACTOR`` (1.5) times that interval, and not more than ``FORGOTTEN_DAYS`` (365): past a year, a win-back
  message is a new acquisition. The value is back-tested: on the day ``HORIZON_DAYS`` (90) before the data end, the
  same rule splits that day's regulars into overdue and on schedule, and their net sales over the next 90 days are
  counted. ``expected_value`` = overdue customers now × (90-day sales per on-schedule regular − 90-day sales per
  overdue regular) in the back-test: what restoring their usual rhythm would be worth. The comparison is made
  within the RFM segment when both groups had at least ``MIN_BACKTEST_CUSTOMERS`` (30) then, else store-wide.
  Where the overdue regulars of the back-test spent as much as those on schedule (they came back on their own, as
  before a seasonal peak), there is nothing to win and no recommendation.
- **One-time buyers** (second-order nudge). Customers whose only order was 30-90 days ago. Back-tested the same way:
  of that day's one-time buyers of the same age, the share who ordered again within 90 days and their sales.
  ``expected_value`` = customers × back-tested 90-day sales per such customer: the revenue a nudge protects.
- **Products returned far more than the rest** (fix the listing). Products with at least ``MIN_PRODUCT_ORDERS``
  orders whose refunds are at least twice the store's refund share of sales and at least 10 % of their sales.
  ``expected_value`` = their refunds above the store's rate (sales × (their rate − the store's rate)).

- **Channels whose customers do not pay back** (move budget). Paid channels (spend known) whose LTV:CAC (observed
  value per customer ÷ CAC, see ``shoplens acquisition``) is under ``HEALTHY_LTV_CAC`` (3, the usual rule of thumb)
  while another paid channel's is higher. ``expected_value`` = the channel's spend per 90 days (its spend over the
  days the spend data covers × 90) × half the gap between the best paid channel's LTV:CAC and its own: what the
  same money would buy there if the better channel lost half its edge as it grows (channels saturate; start with
  part of the budget and watch its CAC).
- **Late deliveries that cost repeat purchases** (keep the promised day). When the measured effect of a late
  delivery on the 90-day repeat rate (``shoplens service``: late against on time, matched on segment, country and
  prior purchases) is negative with its whole 95 % interval below zero, ``expected_value`` = late deliveries of the
  last 90 days × the lost repeat rate (−estimate) × the mean value of a purchase: the repeat orders that keeping
  the promise would have kept, one average order each. The evidence names the countries with the highest late
  share (of at least ``MIN_DELIVERIES`` (30) deliveries).

Rules report nothing rather than a weak guess: a segment with fewer than ``MIN_CUSTOMERS`` (10) customers, or a
back-test with no customers to learn from, gives no recommendation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import ibis
import ibis.expr.types as ir
from pydantic import BaseModel, Field

from shoplens.metrics import UNKNOWN_DELIVERY_GROUP as UNKNOWN
from shoplens.metrics import Zone, money, purchase_gaps, rfm_scores, with_local_day

OVERDUE_FACTOR = 1.5
FORGOTTEN_DAYS = 365
HORIZON_DAYS = 90
MIN_CUSTOMERS = 10
MIN_BACKTEST_CUSTOMERS = 30
NEW_BUYER_DAYS = (30, 90)
MIN_PRODUCT_ORDERS = 20
RETURN_RATE_FACTOR = 2.0
MIN_RETURN_RATE = 0.10
STORE_WIDE = "all customers"
HEALTHY_LTV_CAC = 3.0
MIN_DELIVERIES = 30


class Recommendation(BaseModel):
    """One thing to do, for whom, what it is worth and the numbers it rests on."""

    rule: str = Field(description="the rule that made it: overdue_regulars, one_time_buyers, returned_products")
    title: str
    action: str
    segment: str
    customers: int
    expected_value: Decimal = Field(description="in the store's currency, over the next 90 days")
    expected_value_method: str
    evidence: dict[str, Any]
    link: str = Field(description="the dashboard page that shows the figures")


def regulars(orders: ir.Table, refunds: ir.Table, *, zone: Zone, as_of: date) -> ir.Table:
    """One row per customer with at least two orders on or before ``as_of``: ``customer_key, orders,
    usual_gap_days, days_since_last, overdue, on_schedule, segment`` (the RFM segment as of that day)."""
    until = with_local_day(orders, "ordered_at", zone)
    until = until.filter(until.local_day <= ibis.date(as_of)).drop("local_at", "local_day")
    gaps = purchase_gaps(until, zone=zone)
    usual = gaps.group_by("customer_key").aggregate(usual_gap_days=gaps.gap_days.cast("float64").median())
    scores = rfm_scores(until, refunds, zone=zone, as_of=as_of)
    joined = usual.join(scores.select("customer_key", "frequency", "recency_days", "segment"), "customer_key")
    overdue = (joined.recency_days > OVERDUE_FACTOR * joined.usual_gap_days) & (joined.recency_days <= FORGOTTEN_DAYS)
    return joined.select(
        "customer_key",
        "segment",
        orders=joined.frequency,
        usual_gap_days=joined.usual_gap_days,
        days_since_last=joined.recency_days,
        overdue=overdue,
        on_schedule=joined.recency_days <= OVERDUE_FACTOR * joined.usual_gap_days,
    )


def one_time_buyers(orders: ir.Table, refunds: ir.Table, *, zone: Zone, as_of: date) -> ir.Table:
    """Customers whose one order on or before ``as_of`` was 30 to 90 days before it: ``customer_key``."""
    until = with_local_day(orders, "ordered_at", zone)
    until = until.filter(until.local_day <= ibis.date(as_of)).drop("local_at", "local_day")
    scores = rfm_scores(until, refunds, zone=zone, as_of=as_of)
    youngest, oldest = NEW_BUYER_DAYS
    picked = scores.filter(
        (scores.frequency == 1) & (scores.recency_days >= youngest) & (scores.recency_days <= oldest)
    )
    return picked.select("customer_key")


def sales_after(orders: ir.Table, *, zone: Zone, after: date, days: int) -> ir.Table:
    """Net sales per known customer on the ``days`` days after ``after``: ``customer_key, sales_next``."""
    local = with_local_day(orders.filter(orders.customer_key.notnull()), "ordered_at", zone)
    window = local.filter(
        (local.local_day > ibis.date(after)) & (local.local_day <= ibis.date(after + timedelta(days)))
    )
    return window.group_by("customer_key").aggregate(sales_next=money(window.net.sum()))


def backtest(group: ir.Table, later_sales: ir.Table, by: Sequence[str]) -> ir.Table:
    """Per ``by`` of ``group``: ``customers, returned`` (ordered in the window) and ``sales_next`` (their sales)."""
    joined = group.left_join(later_sales, "customer_key").drop("customer_key_right")
    sales = joined.sales_next.fill_null(0)
    return joined.group_by(list(by)).aggregate(
        customers=joined.count(),
        returned=(sales > 0).sum().cast("int64"),
        sales_next=money(sales.sum()),
    )


def _per_customer(row: Mapping[str, Any] | None) -> Decimal | None:
    if not row or not row["customers"]:
        return None
    return Decimal(row["sales_next"]) / int(row["customers"])


def _cents(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"))


def overdue_regulars(
    now: Sequence[Mapping[str, Any]], then: Sequence[Mapping[str, Any]], *, backtest_day: date
) -> list[Recommendation]:
    """Win-back per RFM segment from ``now`` (segment, customers overdue) and the back-test ``then`` (segment,
    overdue, customers, returned, sales_next; a ``segment`` of ``STORE_WIDE`` for the whole store)."""
    cells = {(row["segment"], bool(row["overdue"])): row for row in then}
    found = []
    for row in now:
        if row["customers"] < MIN_CUSTOMERS:
            continue
        segment = row["segment"]
        late, timely = cells.get((segment, True)), cells.get((segment, False))
        basis = segment
        if not (late and timely and min(late["customers"], timely["customers"]) >= MIN_BACKTEST_CUSTOMERS):
            late, timely, basis = cells.get((STORE_WIDE, True)), cells.get((STORE_WIDE, False)), STORE_WIDE
        late_value, timely_value = _per_customer(late), _per_customer(timely)
        if late is None or timely is None or late_value is None or timely_value is None:
            continue
        gap = timely_value - late_value
        if gap <= 0:  # in the back-test, overdue regulars came back on their own: nothing to win
            continue
        found.append(
            Recommendation(
                rule="overdue_regulars",
                title=(f"{row['customers']:,} {segment} have not ordered for {OVERDUE_FACTOR:g}× their usual interval"),
                action="Win them back: a personal reminder of what they usually buy, timed at their usual interval.",
                segment=segment,
                customers=row["customers"],
                expected_value=_cents(gap * row["customers"]),
                expected_value_method=(
                    f"customers × (90-day sales per on-schedule regular − per overdue regular) measured on "
                    f"{backtest_day}, compared within {'the segment' if basis == segment else 'the whole store'}"
                ),
                evidence={
                    "median_usual_interval_days": row["median_usual_gap_days"],
                    "median_days_since_last_order": row["median_days_since_last"],
                    "backtest_day": backtest_day.isoformat(),
                    "backtest_basis": basis,
                    "backtest_overdue_customers": late["customers"],
                    "backtest_overdue_returned": late["returned"],
                    "backtest_overdue_sales_per_customer": _cents(late_value),
                    "backtest_on_schedule_customers": timely["customers"],
                    "backtest_on_schedule_returned": timely["returned"],
                    "backtest_on_schedule_sales_per_customer": _cents(timely_value),
                },
                link="/customers",
            )
        )
    return found


def second_orders(customers: int, then: Mapping[str, Any] | None, *, backtest_day: date) -> list[Recommendation]:
    """The second-order nudge for ``customers`` one-time buyers, valued by the back-test ``then``."""
    value = _per_customer(then)
    if customers < MIN_CUSTOMERS or then is None or value is None:
        return []
    youngest, oldest = NEW_BUYER_DAYS
    return [
        Recommendation(
            rule="one_time_buyers",
            title=f"{customers:,} customers bought once {youngest}-{oldest} days ago and not again",
            action="Nudge the second order: a follow-up on their first purchase with a related product.",
            segment="one-time buyers",
            customers=customers,
            expected_value=_cents(value * customers),
            expected_value_method=(
                f"customers × 90-day sales per one-time buyer of the same age on {backtest_day}: the revenue at "
                "stake if they repeat at the store's past rate"
            ),
            evidence={
                "backtest_day": backtest_day.isoformat(),
                "backtest_customers": then["customers"],
                "backtest_ordered_again": then["returned"],
                "backtest_repeat_rate": round(then["returned"] / then["customers"], 4),
                "backtest_sales_per_customer": _cents(value),
            },
            link="/behaviour",
        )
    ]


def returned_products(products: Sequence[Mapping[str, Any]], store_rate: float | None) -> list[Recommendation]:
    """Fix the listing of products refunded far more than the store's rate (rows of ``product_performance``)."""
    if not store_rate:
        return []
    floor = max(RETURN_RATE_FACTOR * store_rate, MIN_RETURN_RATE)
    picked = [
        p
        for p in products
        if p["orders"] >= MIN_PRODUCT_ORDERS and p["return_rate"] is not None and p["return_rate"] >= floor
    ]
    if not picked:
        return []
    picked.sort(key=lambda p: (-float(p["refunds"]), str(p["product_id"])))
    excess = sum((Decimal(p["refunds"]) - Decimal(p["sales"]) * Decimal(str(store_rate)) for p in picked), Decimal(0))
    return [
        Recommendation(
            rule="returned_products",
            title=(
                f"{len(picked)} {'product is' if len(picked) == 1 else 'products are'} refunded at "
                f"{RETURN_RATE_FACTOR:g}× the store's rate or more"
            ),
            action="Check their descriptions, photos and size guides, and the reasons customers give for returns.",
            segment=STORE_WIDE,
            customers=sum(int(p["customers"]) for p in picked),
            expected_value=_cents(excess),
            expected_value_method="their refunds above the store's refund rate (sales × (their rate − store rate))",
            evidence={
                "store_return_rate": round(store_rate, 4),
                "products": [
                    {
                        "product_id": p["product_id"],
                        "name": p["name"],
                        "orders": p["orders"],
                        "return_rate": round(p["return_rate"], 4),
                    }
                    for p in picked[:5]
                ],
            },
            link="/products",
        )
    ]


def weak_channels(channels: Sequence[Mapping[str, Any]], *, spend_days: int, basis: str) -> list[Recommendation]:
    """Move budget from paid channels with LTV:CAC under 3 to the best paid one (rows of ``shoplens acquisition``)."""
    paid = [c for c in channels if c.get("ltv_cac") is not None and c.get("spend")]
    if len(paid) < 2 or spend_days <= 0:
        return []
    best = max(paid, key=lambda c: (float(c["ltv_cac"]), str(c["channel"])))
    found = []
    for channel in paid:
        ratio = float(channel["ltv_cac"])
        if channel is best or ratio >= HEALTHY_LTV_CAC:
            continue
        per_90_days = Decimal(str(channel["spend"])) * HORIZON_DAYS / spend_days
        gain = per_90_days * Decimal(str((float(best["ltv_cac"]) - ratio) / 2))
        found.append(
            Recommendation(
                rule="weak_channels",
                title=(
                    f"{channel['channel']} brings customers with LTV:CAC {ratio:.2f}: move budget to "
                    f"{best['channel']} ({float(best['ltv_cac']):.2f})"
                ),
                action=(
                    f"Shift part of the {channel['channel']} budget to {best['channel']} and watch its CAC as it "
                    "grows; keep a target on new customers per channel."
                ),
                segment=f"new customers from {channel['channel']}",
                customers=int(channel["new_customers"]),
                expected_value=_cents(gain),
                expected_value_method=(
                    f"its spend per 90 days × half the gap between {best['channel']}'s LTV:CAC and its own, value on "
                    f"a {basis} basis (the better channel is assumed to lose half its edge as it grows)"
                ),
                evidence={
                    "channel": channel["channel"],
                    "spend": channel["spend"],
                    "cac": channel["cac"],
                    "value_per_customer": channel["value_per_customer"],
                    "ltv_cac": round(ratio, 4),
                    "best_channel": best["channel"],
                    "best_ltv_cac": round(float(best["ltv_cac"]), 4),
                    "spend_days": spend_days,
                },
                link="/acquisition",
            )
        )
    return found


def late_deliveries(
    effect: Mapping[str, Any],
    *,
    late_orders: int,
    late_customers: int,
    order_value: Decimal | None,
    by_country: Sequence[Mapping[str, Any]],
) -> list[Recommendation]:
    """Keep the promised delivery day where late deliveries measurably cost repeat purchases (``effect`` is the
    ``after_late_delivery`` of ``shoplens service``; the counts are of the last 90 days)."""
    if effect.get("estimate") is None or effect["high"] >= 0 or late_customers < MIN_CUSTOMERS or not order_value:
        return []
    lost_rate = -float(effect["estimate"])
    worth = Decimal(late_orders) * Decimal(str(lost_rate)) * Decimal(str(order_value))
    worst = sorted(
        (c for c in by_country if c["delivered"] >= MIN_DELIVERIES and c["country"] != UNKNOWN),
        key=lambda c: (-float(c["late_share"]), str(c["country"])),
    )[:3]
    return [
        Recommendation(
            rule="late_deliveries",
            title=(
                f"Late deliveries cost repeat purchases: the 90-day repeat rate is {100 * lost_rate:.1f} points lower "
                f"after one ({late_orders} late in the last 90 days)"
            ),
            action=(
                "Find where orders miss the promised day (the countries and months with the highest late share), "
                "promise only what the courier keeps, and contact customers whose parcel arrives late with an "
                "apology and a reason to order again."
            ),
            segment="customers with a late delivery in the last 90 days",
            customers=late_customers,
            expected_value=_cents(worth),
            expected_value_method=(
                "late deliveries of the last 90 days × the fall in the 90-day repeat rate after a late delivery "
                "(matched on segment, country and prior purchases) × the mean value of a purchase"
            ),
            evidence={
                "repeat_rate_difference": effect["estimate"],
                "low": effect["low"],
                "high": effect["high"],
                "repeat_rate_after_on_time": effect["baseline"],
                "late_orders_measured": effect["late_orders"],
                "late_orders_last_90_days": late_orders,
                "mean_order_value": str(order_value),
                "worst_countries": [
                    {"country": c["country"], "delivered": c["delivered"], "late_share": c["late_share"]} for c in worst
                ],
            },
            link="/service",
        )
    ]


def ranked(recommendations: Sequence[Recommendation]) -> list[Recommendation]:
    """Highest expected value first; ties by rule and segment, so the order never changes between runs."""
    return sorted(recommendations, key=lambda r: (-r.expected_value, r.rule, r.segment))
