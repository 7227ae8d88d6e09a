"""Profit as a question: the contribution margin per group of customers and its profit LTV curve.

The margin of each order is :func:`shoplens.metrics.order_margins` under the store's cost settings (payment fee,
shipping cost: ``Settings.payment_fee_percent``, ``payment_fee_fixed``, ``shipping_cost_per_order``, carried by
the runner like the time zone). A store whose sold products do not all have a cost gets NULL costs and margins and
a note saying what is missing, never a number made up in their place.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, ClassVar, Literal, get_args

import ibis
from pydantic import Field

from shoplens.metrics import (
    MARGIN_COLUMNS,
    CostRules,
    category_profit,
    customer_margin_events,
    customer_profit,
    data_span,
    first_purchase_groups,
    group_curves,
    lines_without_cost,
    order_margins,
    with_margin_rates,
)
from shoplens.queries._base import Query, Result, Row, answers
from shoplens.queries._context import QueryContext, one_row, rows

ProfitGrouping = Literal["channel", "cohort", "first-product", "first-discount-code", "category"]
PROFIT_BY: tuple[str, ...] = get_args(ProfitGrouping)
NO_COSTS = "products have no cost: import a products file with costs (shoplens import products.csv)"
SOME_COSTS = (
    "{missing:,} of {lines:,} order lines name a product without a cost: import a products file with costs for "
    "them (shoplens import products.csv)"
)
NEEDS_COSTS = ("cost_of_goods", "contribution_margin", "margin_rate", "contribution_margin_per_customer")


class ProfitQuery(Query):
    kind: ClassVar[str] = "profit"
    by: ProfitGrouping = Field(
        "channel",
        description="customers by the channel, month (cohort), first product or discount code of their first order; "
        "or product category (order lines)",
    )


class ProfitResult(Result):
    query: ProfitQuery
    as_of: date | None
    by: str
    costs_known: bool
    missing: list[str] = Field(description="the costs the store's data lack (empty when every cost is known)")
    costs: dict[str, Any] = Field(description="the cost settings the margins were computed with")
    notes: list[str]
    totals: Row = Field(description="every known customer (guest orders are left out)")
    groups: list[Row]


def describe_costs(costs: CostRules) -> dict[str, Any]:
    """The cost settings as the answer shows them, with the shipping rule in words."""
    shipping = costs.shipping_cost_per_order
    return {
        "payment_fee_percent": costs.payment_fee_percent,
        "payment_fee_fixed": costs.payment_fee_fixed,
        "shipping_cost_per_order": shipping,
        "shipping_rule": "shipping charged is passed through at cost"
        if shipping is None
        else f"each order costs {shipping:.2f} to ship, whatever was charged",
    }


def missing_costs(context: QueryContext) -> list[str]:
    """What the store lacks for a contribution margin: empty when every sold line's product has a cost."""
    counted = one_row(lines_without_cost(context.table("order_lines"), context.table("products")))
    lines, missing = int(counted.get("lines") or 0), int(counted.get("lines_without_cost") or 0)
    if lines == 0:
        return ["orders have no lines: import order lines with products, and a products file with costs"]
    if missing == 0:
        return []
    if missing == lines or int(counted.get("products_with_cost") or 0) == 0:
        return [NO_COSTS]
    return [SOME_COSTS.format(missing=missing, lines=lines)]


def _money_rows(found: list[Row], with_costs: bool) -> list[Row]:
    for row in found:
        for column in MARGIN_COLUMNS:
            row[column] = row.get(column) or Decimal(0)
        row["revenue"] = row["net_sales"] - row["refunds"]
        if not with_costs:
            row.update(dict.fromkeys(NEEDS_COSTS))
    return found


def _totals(groups: list[Row], with_costs: bool) -> Row:
    totals: Row = {name: sum((Decimal(row[name] or 0) for row in groups), Decimal(0)) for name in MARGIN_COLUMNS}
    totals["customers"] = sum(int(row["customers"]) for row in groups)
    totals["orders"] = sum(int(row["orders"] or 0) for row in groups)
    totals["revenue"] = totals["net_sales"] - totals["refunds"]
    margin, net = totals["contribution_margin"], totals["net_sales"]
    totals["margin_rate"] = float(margin / net) if net else None
    totals["contribution_margin_per_customer"] = float(margin / totals["customers"]) if totals["customers"] else None
    if not with_costs:
        totals.update(dict.fromkeys(NEEDS_COSTS))
    return totals


@answers(ProfitQuery, ProfitResult)
def answer_profit(context: QueryContext, query: ProfitQuery) -> ProfitResult:
    orders = context.customer_orders("follow")
    lines, refunds, products = context.table("order_lines"), context.table("refunds"), context.table("products")
    zone = context.zone
    missing = missing_costs(context)
    with_costs = not missing
    notes = [f"no margin: {reason}" for reason in missing]
    if context.costs.payment_fee_percent == 0 and context.costs.payment_fee_fixed == 0:
        notes.append(
            "no payment fee is set, so fees are 0: set SHOPLENS_PAYMENT_FEE_PERCENT and SHOPLENS_PAYMENT_FEE_FIXED, "
            "or pass --fee-percent and --fee-fixed"
        )
    if context.costs.shipping_cost_per_order is None:
        notes.append(
            "shipping is passed through at cost (no SHOPLENS_SHIPPING_COST_PER_ORDER): free shipping costs nothing here"
        )
    margins = order_margins(orders, lines, products, refunds, context.costs)
    data_end = one_row(data_span(orders, refunds, zone))["last_day"]
    customers = first_purchase_groups(orders, lines, zone=zone)
    events = customer_margin_events(margins, refunds, zone=zone)
    guests = context.count(orders.filter(orders.customer_key.isnull()))
    if guests:
        notes.append(f"{guests:,} guest orders have no customer to follow and are left out")
    grouping = "channel" if query.by == "category" else query.by
    per_group, by_month, by_observed = customer_profit(customers, events, by=grouping, data_end=ibis.date(data_end))
    customer_groups = _money_rows(rows(with_margin_rates(per_group)), with_costs)
    totals = _totals(customer_groups, with_costs)
    if query.by == "category":
        known = margins.filter(margins.customer_key.notnull())
        table = with_margin_rates(category_profit(orders, lines, products, known, with_costs=with_costs))
        groups = _money_rows(rows(table.rename(group="category")), with_costs)
        notes.append(
            "per category, what is known per order (net sales after the order's code, shipping, fees, refunds) is "
            "split over its lines by their value; there is no curve per category (a customer buys across them)"
        )
    else:
        groups = customer_groups
        curves = group_curves(rows(by_month), rows(by_observed))
        for row in groups:
            curve = curves.get(row["group"], [])
            row["curve"] = (
                curve if with_costs else [point | {"cumulative_margin_per_customer": None} for point in curve]
            )
    ordered = sorted(groups, key=lambda row: (-int(row["customers"]), str(row["group"])))
    if query.by == "cohort":
        ordered = sorted(groups, key=lambda row: str(row["group"]))
    found = [{query.by: row.pop("group"), **row} for row in ordered]
    return ProfitResult(
        query=query,
        as_of=data_end,
        by=query.by,
        costs_known=with_costs,
        missing=missing,
        costs=describe_costs(context.costs),
        notes=notes,
        totals=totals,
        groups=found,
    )


def contribution_margin_rate(context: QueryContext) -> tuple[float | None, str]:
    """The store's contribution margin ÷ net sales over its known customers (what CLV multiplies the expected
    spend by), or None with the reason when a cost is missing."""
    if context.count(context.table("orders")) == 0:
        return None, "the store has no orders"  # the question asked says so in its own words
    profit = context.run(ProfitQuery(), ProfitResult)
    if not profit.costs_known:
        return None, "; ".join(profit.missing)
    rate = profit.totals.get("margin_rate")
    if rate is None:
        return None, "the store has no net sales to take a margin of"
    return float(rate), "the store's contribution margin ÷ net sales (shoplens profit)"
