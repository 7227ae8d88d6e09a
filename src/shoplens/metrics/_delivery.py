"""Delivery against the promised day, and what a late delivery does to the customer's next purchase.

- **Late.** An order is *delivered late* when the store-local day of ``delivered_at`` is after its
  ``promised_delivery_date``; ``days_late`` is the number of days between them (0 when on time), and
  ``delivery_days`` the store-local days from the order to its delivery. Only orders with both dates are counted.
- **After a late delivery.** For each delivered order of a known customer whose following ``AFTER_DAYS`` (90)
  ended by the data end: was it late, how many purchases had the customer made before it, and did they buy again
  in the 90 days after the delivery? Late is compared with on time within strata of the customer's segment (the
  channel that acquired them), their country (where parcels go, and so how late they tend to be) and the band of
  prior purchases (0, 1, 2-3, 4+), see :func:`shoplens.metrics.matched_difference`.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from shoplens.metrics._facts import ratio, with_local_day
from shoplens.metrics._service import AFTER_DAYS, prior_band
from shoplens.metrics._time import Zone

UNKNOWN = "(unknown)"


def delivery_times(orders: ir.Table, customers: ir.Table, *, zone: Zone) -> ir.Table:
    """One row per order with a promised and a delivered date: ``order_id, customer_key, ordered_at, delivered_at,
    channel, country, segment, month, delivery_days, days_late, late`` (``month``: first day of the store-local
    month of the order; ``segment``: the customer's acquisition channel)."""
    dated = orders.filter(orders.delivered_at.notnull() & orders.promised_delivery_date.notnull())
    dated = with_local_day(dated, "ordered_at", zone, "month").rename(ordered_day="local_day", month="period")
    dated = with_local_day(dated.drop("local_at"), "delivered_at", zone).rename(delivered_day="local_day")
    who = customers.select("customer_key", customer_country="country", segment="channel_acquired")
    dated = dated.left_join(who, "customer_key")
    days_after = dated.delivered_day.delta(dated.promised_delivery_date, unit="day")
    return dated.select(
        "order_id",
        "customer_key",
        "ordered_at",
        "delivered_at",
        channel=dated.channel.fill_null(UNKNOWN),
        country=dated.customer_country.fill_null(UNKNOWN),
        segment=dated.segment.fill_null(UNKNOWN),
        month=dated.month,
        delivery_days=dated.delivered_day.delta(dated.ordered_day, unit="day"),
        days_late=ibis.greatest(days_after, 0),
        late=days_after > 0,
    )


def delivery_summary(times: ir.Table, by: str) -> ir.Table:
    """Per value of ``by``: ``delivered, late, late_share, median_days_late`` (over the late orders),
    ``median_delivery_days``."""
    return times.group_by(by).aggregate(
        delivered=times.count(),
        late=times.late.sum().cast("int64"),
        late_share=ratio(times.late.sum(), times.count()),
        median_days_late=times.days_late.quantile(0.5, where=times.late),
        median_delivery_days=times.delivery_days.quantile(0.5),
    )


def after_deliveries(times: ir.Table, orders: ir.Table, *, data_end: ir.TimestampValue) -> ir.Table:
    """Per (stratum, late): ``stratum, late, orders, bought_again`` over the delivered orders of known customers
    whose 90 days after the delivery ended by ``data_end``; a stratum is ``segment / country / prior band``."""
    known = times.filter(
        times.customer_key.notnull() & (times.delivered_at + ibis.interval(days=AFTER_DAYS) <= data_end)
    ).select("order_id", "customer_key", "ordered_at", "delivered_at", "segment", "country", "late")
    bought = orders.filter(orders.customer_key.notnull()).select(
        "customer_key", other_order="order_id", other_at="ordered_at"
    )
    pairs = known.left_join(bought, "customer_key")
    before = (pairs.other_at < pairs.ordered_at) | (
        (pairs.other_at == pairs.ordered_at) & (pairs.other_order < pairs.order_id)
    )
    after = (pairs.other_at > pairs.delivered_at) & (
        pairs.other_at <= pairs.delivered_at + ibis.interval(days=AFTER_DAYS)
    )
    per = pairs.group_by(["order_id", "segment", "country", "late"]).aggregate(
        prior=before.fill_null(False).sum().cast("int64"),
        again=after.fill_null(False).any(),
    )
    per = per.mutate(stratum=per.segment.concat(" / ", per.country, " / ", prior_band(per.prior)))
    return per.group_by(["stratum", "late"]).aggregate(orders=per.count(), bought_again=per.again.sum().cast("int64"))
