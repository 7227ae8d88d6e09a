"""Abuse and fraud guards: refunds far above the store's rate, discount codes that leaked or were stacked, orders
just under an approval limit. Each rule has a tunable threshold (:class:`GuardLimits`) and states its evidence.

- **Refunds by customer / by product.** A subject's refund rate is refunds ÷ net sales (customers: their own
  purchases; products: their lines' sales). It is flagged when it has at least ``min_refunds`` refunds and its rate
  is at least ``refund_factor`` times the store's; the score is its rate ÷ the store's.
- **Leaked discount code.** A code posted where it was not meant to be (a coupon site, a forum) shows as a burst:
  a week of at least ``leak_min_uses`` uses and at least ``leak_spike`` times the code's median week (over the
  weeks it was used), in a week that no special event of the calendar explains (none from three days before the
  week to three days after it). The score is the peak week ÷ the median week.
- **Stacked discounts.** Orders whose discount is at least ``stack_discount_share`` of their gross, or that name
  more than one code (``A+B``, ``A,B``, ``A;B``); a customer with at least ``stack_min_orders`` of them is flagged.
  The score is the number of such orders.
- **Just under the approval limit.** With an ``approval_limit`` set: orders of net value in
  [``just_under_share`` × limit, limit); a customer with at least ``just_under_min_orders`` of them, making up at
  least half of their orders, is flagged. The score is that count.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
from pydantic import BaseModel, Field

from shoplens.metrics._facts import money, ratio, with_local_day
from shoplens.metrics._products import product_performance
from shoplens.metrics._time import Zone

CODE_SEPARATORS = r"[+,;]"
EVENT_MARGIN_DAYS = 3


class GuardLimits(BaseModel):
    """The thresholds of the guards; every one can be set on the command line."""

    min_refunds: int = Field(3, ge=1)
    refund_factor: float = Field(3.0, gt=1)
    leak_min_uses: int = Field(10, ge=2)
    leak_spike: float = Field(4.0, gt=1)
    stack_discount_share: float = Field(0.5, gt=0, le=1)
    stack_min_orders: int = Field(2, ge=1)
    approval_limit: float | None = Field(None, gt=0)
    just_under_share: float = Field(0.9, gt=0, lt=1)
    just_under_min_orders: int = Field(3, ge=1)
    shared_address_accounts: int = Field(4, ge=2)
    export_people_per_day: int = Field(1000, ge=1)


def store_refund_rate(orders: ir.Table, refunds: ir.Table) -> ir.FloatingValue:
    """Refunds ÷ net sales over the whole store."""
    return ratio(refunds.amount.sum().as_scalar(), orders.net.sum().as_scalar())


def customer_refunds_flagged(orders: ir.Table, refunds: ir.Table, limits: GuardLimits) -> ir.Table:
    """``subject, refunds, refunded, sales, refund_rate, store_rate, score`` per flagged customer."""
    known = orders.filter(orders.customer_key.notnull())
    sales = known.group_by("customer_key").aggregate(sales=money(known.net.sum()))
    given = refunds.filter(refunds.customer_key.notnull())
    refunded = given.group_by("customer_key").aggregate(refunds=given.count(), refunded=money(given.amount.sum()))
    joined = refunded.join(sales, "customer_key")
    return _flag_rates(joined.rename(subject="customer_key"), store_refund_rate(orders, refunds), limits)


def product_refunds_flagged(
    order_lines: ir.Table, orders: ir.Table, refunds: ir.Table, products: ir.Table, limits: GuardLimits
) -> ir.Table:
    """``subject, refunds, refunded, sales, refund_rate, store_rate, score`` per flagged product."""
    performance = product_performance(order_lines, orders, refunds, products)
    named = refunds.filter(refunds.product_id.notnull())
    counts = named.group_by("product_id").aggregate(refunds=named.count())
    joined = performance.select("product_id", "sales", refunded=performance.refunds).join(counts, "product_id")
    return _flag_rates(joined.rename(subject="product_id"), store_refund_rate(orders, refunds), limits)


def _flag_rates(per: ir.Table, store_rate: ir.FloatingValue, limits: GuardLimits) -> ir.Table:
    per = per.mutate(refund_rate=ratio(per.refunded, per.sales), store_rate=store_rate)
    per = per.mutate(score=ratio(per.refund_rate, per.store_rate))
    flagged = per.filter((per.refunds >= limits.min_refunds) & (per.score >= limits.refund_factor))
    return flagged.select("subject", "refunds", "refunded", "sales", "refund_rate", "store_rate", "score").order_by(
        [ibis.desc("score"), "subject"]
    )


def leaked_codes(orders: ir.Table, calendar: ir.Table, limits: GuardLimits, *, zone: Zone) -> ir.Table:
    """``subject, uses, weeks_used, median_weekly_uses, peak_week, peak_uses, score`` per code that looks leaked:
    a week of uses at least ``leak_spike`` times its usual week, and at least ``leak_min_uses``, that no special
    event of the calendar explains."""
    coded = orders.filter(orders.discount_code.notnull() & (orders.discount_code.strip() != ""))
    coded = with_local_day(coded.mutate(code=coded.discount_code.strip().upper()), "ordered_at", zone, "week")
    weekly = coded.group_by(["code", "period"]).aggregate(week_uses=coded.count())
    per = weekly.group_by("code").aggregate(
        uses=weekly.week_uses.sum(),
        weeks_used=weekly.count(),
        median_weekly_uses=weekly.week_uses.cast("float64").median(),
        peak_uses=weekly.week_uses.max(),
    )
    peaks = weekly.join(per, [weekly.code == per.code, weekly.week_uses == per.peak_uses])
    peaks = peaks.group_by(peaks.code).aggregate(
        peak_week=peaks.period.min(),
        uses=peaks.uses.first(),
        weeks_used=peaks.weeks_used.first(),
        median_weekly_uses=peaks.median_weekly_uses.first(),
        peak_uses=peaks.peak_uses.first(),
    )
    peaks = peaks.mutate(score=ratio(peaks.peak_uses, peaks.median_weekly_uses))
    spiking = peaks.filter((peaks.peak_uses >= limits.leak_min_uses) & (peaks.score >= limits.leak_spike))
    days = calendar.select(day=calendar.date.cast("date"))
    explained = spiking.join(
        days,
        (days.day >= spiking.peak_week - ibis.interval(days=EVENT_MARGIN_DAYS))
        & (days.day <= spiking.peak_week + ibis.interval(days=6 + EVENT_MARGIN_DAYS)),
    ).select("code")
    flagged = spiking.anti_join(explained.distinct(), "code").rename(subject="code")
    return flagged.select(
        "subject", "uses", "weeks_used", "median_weekly_uses", "peak_week", "peak_uses", "score"
    ).order_by([ibis.desc("score"), "subject"])


def stacked_discounts(orders: ir.Table, limits: GuardLimits) -> ir.Table:
    """``subject, stacked_orders, orders, largest_discount_share, score`` per flagged customer."""
    known = orders.filter(orders.customer_key.notnull())
    share = ratio(known.discount.fill_null(0), known.gross)
    several = known.discount_code.fill_null("").re_search(CODE_SEPARATORS)
    stacked = (share >= limits.stack_discount_share).fill_null(False) | several
    per = known.group_by(subject=known.customer_key).aggregate(
        stacked_orders=stacked.sum().cast("int64"),
        orders=known.count(),
        largest_discount_share=share.max(),
    )
    per = per.mutate(score=per.stacked_orders.cast("float64"))
    flagged = per.filter(per.stacked_orders >= limits.stack_min_orders)
    return flagged.order_by([ibis.desc("score"), "subject"])


def just_under_limit(orders: ir.Table, limits: GuardLimits) -> ir.Table:
    """``subject, just_under_orders, orders, limit, score`` per flagged customer; empty without a limit."""
    known = orders.filter(orders.customer_key.notnull())
    limit = limits.approval_limit or 0.0
    under = (known.net >= limits.just_under_share * limit) & (known.net < limit)
    per = known.group_by(subject=known.customer_key).aggregate(
        just_under_orders=under.sum().cast("int64"), orders=known.count()
    )
    per = per.mutate(limit=ibis.literal(limit), score=per.just_under_orders.cast("float64"))
    flagged = per.filter(
        (per.just_under_orders >= limits.just_under_min_orders) & (per.just_under_orders * 2 >= per.orders)
    )
    if limits.approval_limit is None:
        flagged = flagged.filter(ibis.literal(False))
    return flagged.order_by([ibis.desc("score"), "subject"])
