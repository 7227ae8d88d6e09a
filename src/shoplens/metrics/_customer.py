"""One customer over time: orders, net sales and refunds per store-local month, and the totals they add up to.

The rules are those of every other analysis (:mod:`shoplens.metrics._facts`): ``orders`` are counted as purchases
of known customers, on the store-local day they were placed, at their net sales; refunds count in the month they
were given, against the customer they name. A refund without a date belongs to no month: it is in the customer's
totals (``undated_refunds``), as it is in their RFM monetary value and their lifecycle revenue.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from shoplens.metrics._facts import customer_orders, customer_purchases, money, with_local_day, zero_money
from shoplens.metrics._time import Zone, period_start


def customer_months(orders: ir.Table, refunds: ir.Table, *, zone: Zone = "UTC") -> ir.Table:
    """One row per known customer and store-local month with a purchase or a dated refund.

    Columns: ``customer_key, month`` (its first day), ``orders, net_sales, refunds, revenue`` (net sales less
    refunds). ``refunds`` are the refunds of purchases (:func:`shoplens.metrics.purchase_refunds`); filter both
    tables to one customer first to get that customer's months.
    """
    bought = customer_orders(orders, zone)
    bought = bought.mutate(month=period_start(bought.local_at, "month"))
    sales = bought.group_by(["customer_key", "month"]).aggregate(
        orders=bought.count(), net_sales=money(bought.net.sum())
    )
    dated = refunds.filter(refunds.customer_key.notnull(), refunds.refunded_at.notnull())
    dated = with_local_day(dated.select("customer_key", "refunded_at", "amount"), "refunded_at", zone, grain="month")
    given = dated.group_by(["customer_key", dated.period.name("month")]).aggregate(refunds=money(dated.amount.sum()))
    both = sales.outer_join(given, [sales.customer_key == given.customer_key, sales.month == given.month])
    both = both.select(
        customer_key=ibis.coalesce(both.customer_key, both.customer_key_right),
        month=ibis.coalesce(both.month, both.month_right),
        orders=both.orders.fill_null(0).cast("int64"),
        net_sales=money(both.net_sales.fill_null(zero_money())),
        refunds=money(both.refunds.fill_null(zero_money())),
    )
    return both.mutate(revenue=money(both.net_sales - both.refunds))


def customer_totals(orders: ir.Table, refunds: ir.Table, *, zone: Zone = "UTC") -> ir.Table:
    """One row per known customer with a purchase: ``customer_key, first_order_day, last_order_day, orders,
    net_sales, refunds, undated_refunds, revenue`` (net sales less every refund, dated or not)."""
    bought = customer_purchases(orders, zone)
    known = refunds.filter(refunds.customer_key.notnull())
    given = known.group_by("customer_key").aggregate(
        refunds=money(known.amount.sum()),
        undated_refunds=money(known.amount.sum(where=known.refunded_at.isnull())),
    )
    joined = bought.left_join(given, "customer_key")
    joined = joined.select(
        customer_key=joined.customer_key,
        first_order_day=joined.first_day,
        last_order_day=joined.last_day,
        orders=joined.orders.cast("int64"),
        net_sales=joined.net_sales,
        refunds=money(joined.refunds.fill_null(zero_money())),
        undated_refunds=money(joined.undated_refunds.fill_null(zero_money())),
    )
    return joined.mutate(revenue=money(joined.net_sales - joined.refunds))
