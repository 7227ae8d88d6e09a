"""The product and service range: what sells, what brings customers back, what comes back as returns.

* **Product revenue**: a line's share of its order's net sales (line amount less its share of the order's
  discount, pro rata, to the cent), less the refunds of that product. A refund that names a product counts
  for it; a refund that names only an order is spread over that order's lines by amount; a refund that names
  neither cannot be placed and is reported apart as ``unattributed``.
* **ABC (Pareto)**: products by revenue, largest first; class A holds the products that make the first
  ``a_share`` (80 %) of revenue, B the next up to ``b_share`` (95 %), C the rest.
* ``return_rate`` = refunds / sales, by product and by supplier (supplier impact).
* **Comeback rate** of a product: share of its buyers who ordered again (anything) after first buying it —
  products that bring customers back versus one-off purchases.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from shoplens.metrics._facts import MONEY, money, pro_rata, ratio, with_local_day, zero_money
from shoplens.metrics._time import Zone, check_grain

UNKNOWN = "(none)"


def _line_sales(order_lines: ir.Table, orders: ir.Table) -> ir.Table:
    """Order lines with ``sales``: the line's share of its order's net (discounts spread pro rata)."""
    header = orders.select("order_id", "customer_key", "ordered_at", "gross", "net")
    lines = order_lines.inner_join(header, "order_id")
    share = pro_rata(lines.net, lines.amount, lines.gross)
    return lines.mutate(sales=ibis.ifelse(lines.gross == lines.net, lines.amount.cast(MONEY), share))


def _product_refunds(refunds: ir.Table, order_lines: ir.Table) -> tuple[ir.Table, ir.Table]:
    """(refunds per product, one-row table of refunds that name neither a product nor a known order)."""
    named = refunds.filter(refunds.product_id.notnull()).select("product_id", "amount", "quantity")
    order_level = refunds.filter(refunds.product_id.isnull())
    line_amounts = order_lines.select("order_id", "product_id", "amount")
    order_totals = line_amounts.group_by("order_id").aggregate(order_amount=line_amounts.amount.sum())
    spread = order_level.select("order_id", refund=order_level.amount).inner_join(line_amounts, "order_id")
    spread = spread.inner_join(order_totals, "order_id")
    spread = spread.select(
        "product_id",
        amount=pro_rata(spread.refund, spread.amount, spread.order_amount),
        quantity=ibis.null("int64"),
    )
    named = named.select("product_id", amount=named.amount.cast(MONEY), quantity=named.quantity.cast("int64"))
    per_product = ibis.union(named, spread, distinct=False)
    per_product = per_product.group_by("product_id").aggregate(
        refunds=money(per_product.amount.sum()), refunded_units=per_product.quantity.sum().cast("int64")
    )
    unplaced = order_level.anti_join(order_totals, "order_id")
    unattributed = unplaced.aggregate(
        unattributed_refunds=money(unplaced.amount.sum().fill_null(0)), refunds=unplaced.count()
    )
    return per_product, unattributed


def product_performance(order_lines: ir.Table, orders: ir.Table, refunds: ir.Table, products: ir.Table) -> ir.Table:
    """One row per product sold or refunded: ``product_id, name, category, supplier, units, orders, customers,
    sales, refunds, revenue, return_rate``."""
    lines = _line_sales(order_lines, orders)
    sold = lines.group_by("product_id").aggregate(
        units=lines.quantity.sum().cast("int64"),
        orders=lines.order_id.nunique(),
        customers=lines.customer_key.nunique(),
        sales=money(lines.sales.sum()),
    )
    per_product, _ = _product_refunds(refunds, order_lines)
    joined = sold.outer_join(per_product, "product_id")
    joined = joined.select(
        product_id=joined.product_id.coalesce(joined.product_id_right),
        units=joined.units.fill_null(0),
        orders=joined.orders.fill_null(0),
        customers=joined.customers.fill_null(0),
        sales=joined.sales.fill_null(zero_money()),
        refunds=joined.refunds.fill_null(zero_money()),
    )
    joined = joined.filter(joined.product_id.notnull())
    described = joined.left_join(products.select("product_id", "name", "category", "supplier"), "product_id")
    return described.select(
        "product_id",
        "name",
        category=described.category.fill_null(UNKNOWN),
        supplier=described.supplier.fill_null(UNKNOWN),
        units=described.units,
        orders=described.orders,
        customers=described.customers,
        sales=described.sales,
        refunds=described.refunds,
        revenue=money(described.sales - described.refunds),
        return_rate=ratio(described.refunds, described.sales),
    )


def unattributed_refunds(refunds: ir.Table, order_lines: ir.Table) -> ir.Table:
    """One row: refunds (count and amount) that name neither a product nor an order with lines."""
    return _product_refunds(refunds, order_lines)[1]


def abc_classes(performance: ir.Table, *, a_share: float = 0.8, b_share: float = 0.95) -> ir.Table:
    """``performance`` ranked by revenue with ``rank, cumulative_share, abc_class``."""
    ranked_window = ibis.window(order_by=[ibis.desc(performance.revenue), performance.product_id])
    running = ibis.window(
        order_by=[ibis.desc(performance.revenue), performance.product_id], preceding=None, following=0
    )
    total = performance.revenue.sum().over()
    ranked = performance.mutate(
        rank=(ibis.row_number().over(ranked_window) + 1).cast("int64"),
        before_share=ratio(performance.revenue.sum().over(running) - performance.revenue, total),
        cumulative_share=ratio(performance.revenue.sum().over(running), total),
    )
    klass = ibis.cases(
        (ranked.before_share < a_share, ibis.literal("A")),
        (ranked.before_share < b_share, ibis.literal("B")),
        else_=ibis.literal("C"),
    )
    return ranked.mutate(abc_class=klass).drop("before_share").order_by("rank")


def abc_summary(classes: ir.Table) -> ir.Table:
    """Per class: ``abc_class, products, revenue, revenue_share, product_share``."""
    summary = classes.group_by("abc_class").aggregate(products=classes.count(), revenue=money(classes.revenue.sum()))
    return summary.mutate(
        revenue_share=ratio(summary.revenue, summary.revenue.sum().over()),
        product_share=ratio(summary.products, summary.products.sum().over()),
    ).order_by("abc_class")


def category_share(
    order_lines: ir.Table, orders: ir.Table, products: ir.Table, *, grain: str = "month", zone: Zone = "UTC"
) -> ir.Table:
    """Sales per category and period and each category's share of the period: ``period, category, sales,
    share``, so a category's trend is its share over time."""
    check_grain(grain)
    lines = with_local_day(_line_sales(order_lines, orders), "ordered_at", zone, grain)
    lines = lines.left_join(products.select("product_id", "category"), "product_id")
    lines = lines.mutate(category=lines.category.fill_null(UNKNOWN))
    per = lines.group_by(["period", "category"]).aggregate(sales=money(lines.sales.sum()))
    return per.mutate(share=ratio(per.sales, per.sales.sum().over(group_by=per.period))).order_by(
        ["period", "category"]
    )


def supplier_returns(performance: ir.Table) -> ir.Table:
    """Per supplier: ``supplier, products, sales, refunds, return_rate`` (worst first)."""
    per = performance.group_by("supplier").aggregate(
        products=performance.count(), sales=money(performance.sales.sum()), refunds=money(performance.refunds.sum())
    )
    per = per.mutate(return_rate=ratio(per.refunds, per.sales))
    return per.order_by([ibis.desc("return_rate"), "supplier"])


def product_comebacks(order_lines: ir.Table, orders: ir.Table, *, min_buyers: int = 20) -> ir.Table:
    """Per product bought by at least ``min_buyers`` known customers: ``product_id, buyers, came_back,
    comeback_rate`` where ``came_back`` counts buyers with a later order after their first purchase of it."""
    header = orders.filter(orders.customer_key.notnull()).select("order_id", "customer_key", "ordered_at")
    lines = order_lines.select("order_id", "product_id").inner_join(header, "order_id")
    first_buy = lines.group_by(["customer_key", "product_id"]).aggregate(first_at=lines.ordered_at.min())
    last_order = header.group_by("customer_key").aggregate(last_at=header.ordered_at.max())
    joined = first_buy.inner_join(last_order, "customer_key")
    per = joined.group_by("product_id").aggregate(
        buyers=joined.count(), came_back=joined.count(where=joined.last_at > joined.first_at)
    )
    per = per.filter(per.buyers >= min_buyers)
    return per.mutate(comeback_rate=ratio(per.came_back, per.buyers)).order_by(
        [ibis.desc("comeback_rate"), ibis.desc("buyers"), "product_id"]
    )
