"""Acquisition cohorts: customers grouped by the period of their first order, followed period by period.

For cohort ``c`` (first-order period, store-local) and ``period_index`` k = 0, 1, 2, ... (periods since
``c``):

* ``cohort_customers``: customers acquired in ``c``; ``customers``: how many of them ordered in period c+k;
  ``retention = customers / cohort_customers`` (1 at k = 0);
* ``revenue``: their net sales in c+k less the refunds they were given in c+k (net of refunds);
  ``revenue_retention = revenue / revenue at k = 0`` (net revenue retention, can exceed 1);
* ``cumulative_revenue_per_customer``: revenue of periods 0..k divided by ``cohort_customers``.

The triangle is complete: every cohort gets a row for every later period in which the store sold anything,
with zeros where nobody in the cohort bought. With ``by="channel"`` the cohorts are split by the channel of
the customer's first order. Guests cannot be followed and are left out.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from shoplens.errors import FieldError
from shoplens.metrics._facts import money, numbered_orders, ratio, with_local_day, zero_money
from shoplens.metrics._time import Zone, check_grain, period_ordinal

COHORT_GRAINS: tuple[str, ...] = ("week", "month", "quarter")
COHORT_SPLITS: tuple[str, ...] = ("channel", "device")


def cohorts(
    orders: ir.Table, refunds: ir.Table, *, grain: str = "month", zone: Zone = "UTC", by: str | None = None
) -> ir.Table:
    """The cohort triangle in long form: ``cohort, [by,] period_index, cohort_customers, customers, retention,
    revenue, revenue_retention, cumulative_revenue_per_customer``."""
    check_grain(grain, COHORT_GRAINS)
    if by is not None and by not in COHORT_SPLITS:
        raise FieldError(f"cohorts {{by}} must be one of {', '.join(COHORT_SPLITS)}, not {by!r}")
    known = numbered_orders(orders.filter(orders.customer_key.notnull()), ["net", *([by] if by else [])])
    known = with_local_day(known, "ordered_at", zone, grain)
    first = known.filter(known.order_number == 0).select(
        "customer_key",
        cohort=known.period,
        group=known[by] if by is not None else ibis.null("string"),
    )
    bought = known.group_by(["customer_key", "period"]).aggregate(net=money(known.net.sum()), bought=ibis.literal(1))
    given = with_local_day(
        refunds.filter(refunds.customer_key.notnull() & refunds.refunded_at.notnull()), "refunded_at", zone, grain
    )
    returned = given.group_by(["customer_key", "period"]).aggregate(
        net=money(-given.amount.sum()), bought=ibis.literal(0)
    )
    activity = ibis.union(bought, returned, distinct=False)
    activity = activity.group_by(["customer_key", "period"]).aggregate(
        revenue=money(activity.net.sum()), active=activity.bought.max()
    )
    activity = activity.inner_join(first, "customer_key")
    activity = activity.filter(activity.period >= activity.cohort)  # refunds of orders from before the data
    cells = activity.group_by(["cohort", "group", "period"]).aggregate(
        customers=activity.active.sum().cast("int64"), revenue=money(activity.revenue.sum())
    )
    sizes = first.group_by(["cohort", "group"]).aggregate(cohort_customers=first.count())
    periods = known.select("period").distinct()
    spine = sizes.cross_join(periods)
    spine = spine.filter(spine.period >= spine.cohort)
    triangle = spine.left_join(
        cells, [spine.cohort == cells.cohort, _same(spine.group, cells.group), spine.period == cells.period]
    )
    triangle = triangle.select(
        cohort=spine.cohort,
        group=spine.group,
        period=spine.period,
        cohort_customers=spine.cohort_customers,
        customers=cells.customers.fill_null(0),
        revenue=cells.revenue.fill_null(zero_money()),
    )
    triangle = triangle.mutate(
        period_index=(period_ordinal(triangle.period, grain) - period_ordinal(triangle.cohort, grain)).cast("int64")
    )
    window = ibis.window(group_by=[triangle.cohort, triangle.group], order_by=triangle.period_index)
    cumulative = ibis.window(
        group_by=[triangle.cohort, triangle.group], order_by=triangle.period_index, preceding=None, following=0
    )
    first_revenue = triangle.revenue.first().over(window)
    result = triangle.mutate(
        retention=ratio(triangle.customers, triangle.cohort_customers),
        revenue_retention=ratio(triangle.revenue, first_revenue),
        cumulative_revenue_per_customer=ratio(triangle.revenue.sum().over(cumulative), triangle.cohort_customers),
    )
    columns = [
        "cohort",
        "period_index",
        "cohort_customers",
        "customers",
        "retention",
        "revenue",
        "revenue_retention",
        "cumulative_revenue_per_customer",
    ]
    if by is not None:
        result = result.rename({by: "group"})
        columns.insert(1, by)
    order = ["cohort", *([ibis.asc(by, nulls_first=True)] if by else []), "period_index"]
    return result.select(*columns).order_by(order)


def _same(left: ir.Value, right: ir.Value) -> ir.BooleanValue:
    """Equality that also matches NULL with NULL (an unknown channel is one group)."""
    return (left == right) | (left.isnull() & right.isnull())
