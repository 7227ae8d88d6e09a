"""Purchase behaviour and what drives it.

* **Inter-purchase time**: days between consecutive orders of the same customer (store-local calendar days;
  two orders on one day are 0 days apart), summarised and bucketed.
* **When people buy**: orders and net sales by store-local day of week (0 = Monday) and hour.
* **Basket size**: orders by number of distinct products.
* **Discount sensitivity**: share of orders with a discount, and the repeat rate of customers whose first
  order was discounted versus full price.
* **Channel and device effects**: per channel (device) of the first order: customers, repeat rate, mean
  orders and revenue per customer.
* **First-product effect**: repeat rate of customers by a product in their first order.

A customer **repeats** when they order again within ``window_days`` (default 90) of their first order; only
customers whose window had closed by the last order day in the data are counted, so recent customers do not
drag the rate down.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from shoplens.metrics._facts import (
    customer_purchases,
    first_orders,
    money,
    numbered_orders,
    order_units,
    ratio,
    with_local_day,
)
from shoplens.metrics._time import Zone

GAP_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("same day", 0, 0),
    ("1-7 days", 1, 7),
    ("8-30 days", 8, 30),
    ("31-60 days", 31, 60),
    ("61-90 days", 61, 90),
    ("91-180 days", 91, 180),
    ("181-365 days", 181, 365),
    ("over a year", 366, None),
)
BASKET_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("1", 1, 1),
    ("2", 2, 2),
    ("3", 3, 3),
    ("4-5", 4, 5),
    ("6-10", 6, 10),
    ("11-20", 11, 20),
    ("over 20", 21, None),
)


def _bucket(value: ir.IntegerValue, buckets: tuple[tuple[str, int, int | None], ...]) -> ir.StringValue:
    branches = [
        ((value >= low) & (value <= high) if high is not None else value >= low, ibis.literal(label))
        for label, low, high in buckets
    ]
    return ibis.cases(*branches)


def _bucket_order(value: ir.StringValue, buckets: tuple[tuple[str, int, int | None], ...]) -> ir.IntegerValue:
    return ibis.cases(*[(value == label, ibis.literal(i)) for i, (label, _, _) in enumerate(buckets)])


def purchase_gaps(orders: ir.Table, *, zone: Zone = "UTC") -> ir.Table:
    """One row per repeat order: ``customer_key, order_number, gap_days`` since the customer's previous order."""
    known = with_local_day(numbered_orders(orders.filter(orders.customer_key.notnull()), []), "ordered_at", zone)
    before = known.local_day.lag().over(group_by=known.customer_key, order_by=known.order_number)
    gaps = known.mutate(gap_days=known.local_day.delta(before, unit="day").cast("int64"))
    return gaps.filter(gaps.order_number >= 1).select("customer_key", "order_number", "gap_days")


def gap_summary(gaps: ir.Table) -> ir.Table:
    """One row: ``repeat_orders, customers, mean_days, median_days, p25_days, p75_days, p90_days``."""
    days = gaps.gap_days.cast("float64")
    return gaps.aggregate(
        repeat_orders=gaps.count(),
        customers=gaps.customer_key.nunique(),
        mean_days=days.mean(),
        median_days=days.quantile(0.5),
        p25_days=days.quantile(0.25),
        p75_days=days.quantile(0.75),
        p90_days=days.quantile(0.9),
    )


def gap_distribution(gaps: ir.Table) -> ir.Table:
    """``bucket, repeat_orders, share`` in bucket order (same day, 1-7 days, ... over a year)."""
    labelled = gaps.mutate(bucket=_bucket(gaps.gap_days, GAP_BUCKETS))
    counts = labelled.group_by("bucket").aggregate(repeat_orders=labelled.count())
    counts = counts.mutate(
        share=ratio(counts.repeat_orders, counts.repeat_orders.sum().over()),
        position=_bucket_order(counts.bucket, GAP_BUCKETS),
    )
    return counts.order_by("position").drop("position")


def weekday_hour(orders: ir.Table, *, zone: Zone = "UTC") -> ir.Table:
    """``weekday`` (0 = Monday), ``hour``, ``orders``, ``net_sales``, ``share`` of orders (store-local time)."""
    local = with_local_day(orders, "ordered_at", zone)
    local = local.mutate(
        weekday=local.local_at.day_of_week.index().cast("int64"), hour=local.local_at.hour().cast("int64")
    )
    per = local.group_by(["weekday", "hour"]).aggregate(orders=local.count(), net_sales=money(local.net.sum()))
    return per.mutate(share=ratio(per.orders, per.orders.sum().over())).order_by(["weekday", "hour"])


def basket_sizes(orders: ir.Table, order_lines: ir.Table) -> ir.Table:
    """``products`` (distinct products per order, bucketed), ``orders``, ``share``, ``aov``."""
    sized = orders.select("order_id", "net").inner_join(order_units(order_lines), "order_id")
    sized = sized.mutate(bucket=_bucket(sized.products, BASKET_BUCKETS))
    per = sized.group_by("bucket").aggregate(orders=sized.count(), net_sales=money(sized.net.sum()))
    per = per.mutate(
        share=ratio(per.orders, per.orders.sum().over()),
        aov=ratio(per.net_sales, per.orders),
        position=_bucket_order(per.bucket, BASKET_BUCKETS),
    )
    return per.order_by("position").select(products="bucket", orders="orders", share="share", aov="aov")


def discount_sensitivity(orders: ir.Table, *, zone: Zone = "UTC", window_days: int = 90) -> ir.Table:
    """One row: ``orders, discounted_orders, discounted_share, discount_acquired, discount_acquired_repeat_rate,
    full_price_acquired, full_price_repeat_rate``."""
    discounted = (orders.discount.fill_null(0) > 0) | orders.discount_code.notnull()
    order_side = orders.aggregate(
        orders=orders.count(), discounted_orders=orders.count(where=discounted), key=ibis.literal(1)
    )
    first = first_orders(orders, zone, window_days)
    customer_side = first.aggregate(
        discount_acquired=first.count(where=first.discounted),
        discount_acquired_repeaters=first.count(where=first.discounted & first.repeated.fill_null(False)),
        discount_acquired_eligible=first.count(where=first.discounted & first.repeated.notnull()),
        full_price_acquired=first.count(where=~first.discounted),
        full_price_repeaters=first.count(where=~first.discounted & first.repeated.fill_null(False)),
        full_price_eligible=first.count(where=~first.discounted & first.repeated.notnull()),
        key=ibis.literal(1),
    )
    both = order_side.inner_join(customer_side, "key")
    return both.select(
        "orders",
        "discounted_orders",
        discounted_share=ratio(both.discounted_orders, both.orders),
        discount_acquired=both.discount_acquired,
        discount_acquired_repeat_rate=ratio(both.discount_acquired_repeaters, both.discount_acquired_eligible),
        full_price_acquired=both.full_price_acquired,
        full_price_repeat_rate=ratio(both.full_price_repeaters, both.full_price_eligible),
    )


def acquisition_effects(
    orders: ir.Table, refunds: ir.Table, *, by: str, zone: Zone = "UTC", window_days: int = 90
) -> ir.Table:
    """Per ``by`` (``channel`` or ``device``) of the first order: ``customers, repeat_rate, orders_per_customer,
    revenue_per_customer`` (lifetime, net of refunds)."""
    acquired = first_orders(orders, zone, window_days)
    first = acquired.select("customer_key", "repeated", group=acquired[by])
    purchases = customer_purchases(orders, zone).select("customer_key", "orders", "net_sales")
    given = refunds.filter(refunds.customer_key.notnull())
    returned = given.group_by("customer_key").aggregate(refunded=given.amount.sum())
    joined = first.inner_join(purchases, "customer_key").left_join(returned, "customer_key")
    per = joined.group_by("group").aggregate(
        customers=joined.count(),
        repeaters=joined.count(where=joined.repeated.fill_null(False)),
        eligible=joined.count(where=joined.repeated.notnull()),
        orders=joined.orders.sum(),
        revenue=money(joined.net_sales.sum() - joined.refunded.sum().fill_null(0)),
    )
    per = per.mutate(
        repeat_rate=ratio(per.repeaters, per.eligible),
        orders_per_customer=ratio(per.orders, per.customers),
        revenue_per_customer=ratio(per.revenue, per.customers),
    )
    return (
        per.rename({by: "group"})
        .select(by, "customers", "repeat_rate", "orders_per_customer", "revenue_per_customer")
        .order_by([ibis.desc("customers"), ibis.asc(by, nulls_first=True)])
    )


def first_product_effect(
    orders: ir.Table, order_lines: ir.Table, *, zone: Zone = "UTC", window_days: int = 90, min_customers: int = 20
) -> ir.Table:
    """Per product in first orders (bought first by at least ``min_customers``): ``product_id, customers,
    repeat_rate`` and ``lift`` against the repeat rate of all customers."""
    first = first_orders(orders, zone, window_days)
    first = first.filter(first.repeated.notnull())
    lines = order_lines.select("order_id", "product_id").distinct()
    with_products = first.select("customer_key", "order_id", "repeated").inner_join(lines, "order_id")
    baseline = first.aggregate(rate=ratio(first.count(where=first.repeated), first.count())).rate.as_scalar()
    per = with_products.group_by("product_id").aggregate(
        customers=with_products.customer_key.nunique(),
        repeaters=with_products.customer_key.nunique(where=with_products.repeated),
    )
    per = per.filter(per.customers >= min_customers)
    per = per.mutate(repeat_rate=ratio(per.repeaters, per.customers))
    per = per.mutate(lift=ratio(per.repeat_rate, baseline))
    return per.select("product_id", "customers", "repeat_rate", "lift").order_by(
        [ibis.desc("repeat_rate"), ibis.desc("customers"), "product_id"]
    )
