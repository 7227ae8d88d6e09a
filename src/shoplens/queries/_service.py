"""``service``: support response and resolution times, stock-outs and their estimated lost sales, delivery against
the promised day, and the repeat rate after a slow answer or a late delivery against a prompt one (rules in
:mod:`shoplens.metrics`, modules ``_service`` and ``_delivery``)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar

import ibis
from pydantic import Field

from shoplens.metrics import (
    RESPONSE_LIMIT_HOURS,
    after_deliveries,
    after_tickets,
    delivery_summary,
    delivery_times,
    matched_difference,
    stock_outs,
    summed_interval,
    support_summary,
)
from shoplens.metrics import ticket_times as per_ticket
from shoplens.queries._base import Query, Result, Row, answers
from shoplens.queries._context import QueryContext, one_row, rows

NO_DELIVERY_DATES = (
    "delivery: no order holds both a promised and a delivered date, so delivery times cannot be measured"
)
LATE_ARMS = ("late_orders", "on_time_orders")


class ServiceQuery(Query):
    kind: ClassVar[str] = "service"
    top: int = Field(10, ge=1, le=1000, description="how many products with the largest estimated lost sales")


class ServiceResult(Result):
    query: ServiceQuery = ServiceQuery()
    response_limit_hours: int = RESPONSE_LIMIT_HOURS
    support: list[Row] = Field(description="per ticket channel, and 'all' for every ticket")
    after_slow_answer: dict[str, Any] = Field(
        description="repeat rate within 90 days after a slow answer minus after a prompt one, matched on prior "
        "purchases: estimate, 95 % interval, tickets"
    )
    stock_outs: list[Row] = Field(
        description="per product with a stock-out day, largest estimated lost sales first: days out, whole days out, "
        "estimated lost units and lost sales with their 95 % interval (_low, _high)"
    )
    stock_out_totals: Row = Field(
        description="over every product: days out, whole days out, lost units and lost sales with their 95 % "
        "interval (the products taken as independent: their variances add)"
    )
    delivery: dict[str, list[Row]] = Field(
        default_factory=dict,
        description="delivered orders, late ones, late share, median days late and median delivery days: 'all', "
        "and per 'channel', 'country' and 'month'",
    )
    after_late_delivery: dict[str, Any] = Field(
        default_factory=lambda: matched_difference([], arms=LATE_ARMS),
        description="repeat rate within 90 days after a late delivery minus after one on time, matched on segment, "
        "country and prior purchases: estimate, 95 % interval, baseline (the on-time rate), orders",
    )
    missing: list[str] = Field(description="what the data lacks for the rest of the diagnostics")


def _stock_out_totals(summed: Row) -> Row:
    """Totals with the 95 % intervals of the lost units and the lost sales from the products' summed variances."""
    units, sales = float(summed["lost_units"] or 0.0), float(summed["lost_sales"] or 0.0)
    units_low, units_high = summed_interval(units, float(summed.pop("lost_units_variance") or 0.0))
    sales_low, sales_high = summed_interval(sales, float(summed.pop("lost_sales_variance") or 0.0))
    return {
        **summed,
        "lost_units_low": round(units_low, 6),
        "lost_units_high": round(units_high, 6),
        "lost_sales_low": _cents(sales_low),
        "lost_sales_high": _cents(sales_high),
    }


def _cents(value: float) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


@answers(ServiceQuery, ServiceResult)
def answer_service(context: QueryContext, query: ServiceQuery) -> ServiceResult:
    orders = context.orders()
    missing: list[str] = []
    delivery: dict[str, list[Row]] = {}
    after_late: dict[str, Any] = matched_difference([], arms=LATE_ARMS)
    times = delivery_times(orders, context.table("customers"), zone=context.zone)
    if context.count(times):
        delivery["all"] = rows(delivery_summary(times.mutate(all=ibis.literal("all")), "all").drop("all"))
        for by in ("channel", "country", "month"):
            delivery[by] = rows(delivery_summary(times, by).order_by(by))
        cells = rows(after_deliveries(times, orders, data_end=orders.ordered_at.max()))
        after_late = matched_difference(cells, stratum="stratum", treated="late", units="orders", arms=LATE_ARMS)
    else:
        missing.append(NO_DELIVERY_DATES)
    tickets = context.table("tickets")
    support: list[Row] = []
    after: dict[str, Any] = matched_difference([])
    if context.count(tickets):
        ticket_times = per_ticket(tickets)
        support = rows(support_summary(ticket_times).order_by("channel"))
        support += rows(support_summary(ticket_times.mutate(channel=ibis.literal("all"))))
        end = orders.ordered_at.max()
        after = matched_difference(rows(after_tickets(ticket_times, orders, data_end=end)))
    else:
        missing.append("support: no tickets imported (shoplens import tickets.csv)")
    inventory = context.table("inventory")
    outs: list[Row] = []
    totals: Row = {
        "products": 0,
        "stockout_days": 0,
        "whole_days_out": 0,
        "lost_units": None,
        "lost_units_low": None,
        "lost_units_high": None,
        "lost_sales": None,
        "lost_sales_low": None,
        "lost_sales_high": None,
    }
    if context.count(inventory):
        found = stock_outs(inventory, context.table("order_lines"), orders, zone=context.zone)
        outs = rows(found.drop("lost_units_variance", "lost_sales_variance").limit(query.top))
        summed = one_row(
            found.aggregate(
                products=found.count(),
                stockout_days=found.stockout_days.sum(),
                whole_days_out=found.whole_days_out.sum(),
                lost_units=found.lost_units.sum(),
                lost_units_variance=found.lost_units_variance.sum(),
                lost_sales=found.lost_sales.sum(),
                lost_sales_variance=found.lost_sales_variance.sum(),
            )
        )
        totals = _stock_out_totals(summed)
    else:
        missing.append("stock: no inventory snapshots imported (shoplens import inventory.csv)")
    return ServiceResult(
        query=query,
        support=support,
        after_slow_answer=after,
        stock_outs=outs,
        stock_out_totals=totals,
        delivery=delivery,
        after_late_delivery=after_late,
        missing=missing,
    )
