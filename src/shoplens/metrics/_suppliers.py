"""Suppliers: what each supplier's products sell, earn and bring back as returns over a window of days.

* The **window** is a span of store-local days (first, last); orders count by their day, and so do the refunds of
  those orders (a refund that names no order counts by its own day), so the return rate is that of the window's
  sales.
* **Revenue** is product revenue as :func:`shoplens.metrics.product_performance` defines it (the line's share of
  its order's net sales, less the refunds placed on the product), summed over the supplier's products.
* **Margin** = revenue − cost × units sold (a refunded unit's cost is not recovered); NULL for a supplier with any
  unit sold of a product without a cost, never a margin over part of its goods.
* **Refund reasons**: a refund that names a product counts for that product's supplier; one that names only an
  order counts once for every supplier with goods in that order.
"""

from __future__ import annotations

from datetime import date

import ibis
import ibis.expr.types as ir

from shoplens.metrics._facts import MONEY, money, ratio, with_local_day, within
from shoplens.metrics._products import UNKNOWN, product_performance
from shoplens.metrics._time import Zone

NO_REASON = "(no reason given)"


def _window_orders(orders: ir.Table, zone: Zone, window: tuple[date, date]) -> ir.Table:
    return within(with_local_day(orders, "ordered_at", zone, grain="month"), *window)


def _window_refunds(refunds: ir.Table, orders: ir.Table, zone: Zone, window: tuple[date, date]) -> ir.Table:
    """The refunds of the window's orders, and refunds that name no order given on a day of the window."""
    start, end = window
    # One filter over a left join rather than a union of two filters: PostgreSQL's compiler cannot place the anti
    # join that keeps only purchases inside a union's branch.
    ids = orders.select(window_order=orders.order_id)
    joined = refunds.left_join(ids, refunds.order_id == ids.window_order)
    joined = with_local_day(joined, "refunded_at", zone)
    loose = joined.order_id.isnull() & (joined.local_day >= ibis.date(start)) & (joined.local_day <= ibis.date(end))
    return joined.filter(joined.window_order.notnull() | loose.fill_null(False)).select(*refunds.columns)


def supplier_sales(
    order_lines: ir.Table,
    orders: ir.Table,
    refunds: ir.Table,
    products: ir.Table,
    *,
    window: tuple[date, date],
    zone: Zone = "UTC",
) -> ir.Table:
    """Per supplier over ``window``: ``supplier, products, units, sales, refunds, revenue, revenue_share,
    cost_of_goods, uncosted_units, margin, margin_share, return_rate`` (largest revenue first). ``orders``,
    ``order_lines`` and ``refunds`` are the purchases' rows; products without a supplier group as ``(none)``."""
    sold = _window_orders(orders, zone, window)
    lines = order_lines.inner_join(sold.select("order_id"), "order_id").select(*order_lines.columns)
    performance = product_performance(lines, sold, _window_refunds(refunds, sold, zone, window), products)
    costs = products.select("product_id", "cost")
    costed = performance.left_join(costs, "product_id")
    costed = costed.mutate(
        cost_of_goods=(costed.cost * costed.units).cast(MONEY),
        uncosted_units=ibis.ifelse(costed.cost.isnull(), costed.units, 0),
    )
    per = costed.group_by("supplier").aggregate(
        products=costed.product_id.nunique(),
        units=costed.units.sum().cast("int64"),
        sales=money(costed.sales.sum()),
        refunds=money(costed.refunds.sum()),
        revenue=money(costed.revenue.sum()),
        cost_of_goods=money(costed.cost_of_goods.sum().fill_null(0)),
        uncosted_units=costed.uncosted_units.sum().cast("int64"),
    )
    per = per.mutate(
        margin=ibis.ifelse(per.uncosted_units == 0, money(per.revenue - per.cost_of_goods), ibis.null(MONEY))
    )
    # A share of margin only means something when every supplier's margin is known.
    all_costed = per.uncosted_units.sum().over() == 0
    return per.mutate(
        revenue_share=ratio(per.revenue, per.revenue.sum().over()),
        margin_share=ibis.ifelse(all_costed, ratio(per.margin, per.margin.sum().over()), ibis.null("float64")),
        return_rate=ratio(per.refunds, per.sales),
    ).order_by([ibis.desc("revenue"), "supplier"])


def supplier_monthly_units(
    order_lines: ir.Table,
    orders: ir.Table,
    products: ir.Table,
    *,
    window: tuple[date, date],
    zone: Zone = "UTC",
) -> ir.Table:
    """Units sold per supplier and store-local month of ``window``: ``supplier, period, units`` (months without
    a sale are absent)."""
    sold = _window_orders(orders, zone, window).select("order_id", "period")
    lines = order_lines.select("order_id", "product_id", "quantity").inner_join(sold, "order_id")
    lines = lines.left_join(products.select("product_id", "supplier"), "product_id")
    lines = lines.mutate(supplier=lines.supplier.fill_null(UNKNOWN))
    return (
        lines.group_by(["supplier", "period"])
        .aggregate(units=lines.quantity.sum().cast("int64"))
        .order_by(["supplier", "period"])
    )


def supplier_refund_reasons(
    order_lines: ir.Table,
    orders: ir.Table,
    refunds: ir.Table,
    products: ir.Table,
    *,
    window: tuple[date, date],
    zone: Zone = "UTC",
) -> ir.Table:
    """Refunds per supplier and reason over ``window`` (as :func:`supplier_sales` counts them): ``supplier,
    reason, refunds`` (most frequent first)."""
    sold = _window_orders(orders, zone, window)
    given = _window_refunds(refunds, sold, zone, window)
    given = given.mutate(reason=given.reason.fill_null(NO_REASON))
    suppliers = products.select("product_id", "supplier")
    named = given.filter(given.product_id.notnull()).select("refund_id", "reason", "product_id")
    named = named.left_join(suppliers, "product_id").select("refund_id", "reason", "supplier")
    order_level = given.filter(given.product_id.isnull()).select("refund_id", "reason", "order_id")
    in_order = order_lines.select("order_id", "product_id").left_join(suppliers, "product_id")
    in_order = in_order.select("order_id", "supplier")
    spread = order_level.inner_join(in_order, "order_id").select("refund_id", "reason", "supplier")
    touched = ibis.union(named, spread, distinct=False)
    touched = touched.mutate(supplier=touched.supplier.fill_null(UNKNOWN))
    touched = touched.select("refund_id", "reason", "supplier").distinct()
    per = touched.group_by(["supplier", "reason"]).aggregate(refunds=touched.count())
    return per.order_by(["supplier", ibis.desc("refunds"), "reason"])
