"""Basket analysis: which products are bought together, as association rules A → B.

Over all orders with at least one line (guests included), counting each product once per order:

* ``support`` = share of orders containing both A and B; only pairs with ``support >= min_support`` are kept
  (and, by the apriori property, only products that reach it on their own are paired at all);
* ``confidence`` = P(B | A) = orders with A and B / orders with A;
* ``lift`` = confidence / P(B): above 1 means A makes B more likely than it is anyway.

Both directions of each pair are rules; the strongest come first (lift, then support).
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from shoplens.errors import InputError
from shoplens.metrics._facts import ratio


def association_rules(
    order_lines: ir.Table,
    products: ir.Table | None = None,
    *,
    min_support: float = 0.01,
    min_confidence: float = 0.0,
    limit: int | None = 50,
) -> ir.Table:
    """``antecedent, consequent, orders, support, confidence, lift`` (plus product names when ``products``
    is given) for every rule whose pair reaches ``min_support``."""
    if not 0 < min_support <= 1:
        raise InputError(f"min_support must be in (0, 1], not {min_support}")
    baskets = order_lines.filter(order_lines.product_id.notnull()).select("order_id", "product_id").distinct()
    totals = baskets.aggregate(total=baskets.order_id.nunique())  # one row, joined where needed
    singles = baskets.group_by("product_id").aggregate(item_orders=baskets.count()).cross_join(totals)
    singles = singles.filter(singles.item_orders >= singles.total * min_support)
    frequent = baskets.semi_join(singles, "product_id")
    left = frequent.select(order_id="order_id", antecedent="product_id")
    right = frequent.select(order_id="order_id", consequent="product_id")
    pairs = left.inner_join(right, [left.order_id == right.order_id, left.antecedent < right.consequent])
    pair_counts = pairs.group_by(["antecedent", "consequent"]).aggregate(orders=pairs.count())
    both_ways = ibis.union(
        pair_counts,
        pair_counts.select(antecedent="consequent", consequent="antecedent", orders="orders"),
        distinct=False,
    )
    a = singles.select(antecedent="product_id", antecedent_orders="item_orders", total="total")
    b = singles.select(consequent="product_id", consequent_orders="item_orders")
    rules = both_ways.inner_join(a, "antecedent").inner_join(b, "consequent")
    rules = rules.filter(rules.orders >= rules.total * min_support)
    rules = rules.mutate(
        support=ratio(rules.orders, rules.total),
        confidence=ratio(rules.orders, rules.antecedent_orders),
        # Written symmetrically so A → B and B → A get bit-identical lifts on every engine.
        lift=ratio(rules.orders * rules.total, rules.antecedent_orders * rules.consequent_orders),
    )
    if min_confidence > 0:
        rules = rules.filter(rules.confidence >= min_confidence)
    columns: list[str] = ["antecedent", "consequent", "orders", "support", "confidence", "lift"]
    if products is not None:
        names = products.select("product_id", "name")
        rules = rules.left_join(names.select(antecedent="product_id", antecedent_name="name"), "antecedent")
        rules = rules.left_join(names.select(consequent="product_id", consequent_name="name"), "consequent")
        columns[2:2] = ["antecedent_name", "consequent_name"]
    ordered = rules.select(*columns).order_by(
        [ibis.desc("lift"), ibis.desc("orders"), ibis.asc("antecedent"), ibis.asc("consequent")]
    )
    return ordered.limit(limit) if limit is not None else ordered


def basket_overview(order_lines: ir.Table) -> ir.Table:
    """One row: ``orders`` with a line, ``multi_product_orders`` (two or more products), ``products``."""
    per_order = (
        order_lines.filter(order_lines.product_id.notnull())
        .group_by("order_id")
        .aggregate(products=order_lines.product_id.nunique())
    )
    return per_order.aggregate(
        orders=per_order.count(),
        multi_product_orders=per_order.count(where=per_order.products >= 2),
        mean_products=per_order.products.cast("float64").mean(),
    )
