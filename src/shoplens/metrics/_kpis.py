"""Sales KPIs per day, week, month or quarter, optionally split by channel, device, country or RFM segment.

Definitions (per period, and per group with ``by``):

* ``orders``: orders placed (guests included); ``gross_sales``, ``discounts``, ``net_sales`` from ``orders``;
  ``refunds``: amounts given back in the period; ``revenue = net_sales - refunds`` (net of refunds);
* ``customers``: distinct known customers who ordered; ``new_customers``: those whose first order ever falls in
  the period; ``returning_customers = customers - new_customers``;
* ``aov = net_sales / orders``; ``units_per_order = units / orders``; ``refund_rate = refunds / net_sales``
  (can exceed 1 when more is refunded than sold);
* ``repeat_rate``: share of the period's customers who have ordered at least twice by its end (returning
  customers and new customers who came back within the period); ``repeat_revenue_share``: share of net sales
  from repeat orders (a known customer's second or later order);
* ``sessions`` (web sessions starting in the period) and ``conversion_rate = orders / sessions``, where events
  exist and the split allows it (no split, or by device);
* ``revenue_change``, ``orders_change``, ``customers_change``: relative change against the previous calendar
  period (NULL when that period has no row).
"""

from __future__ import annotations

from datetime import date
from typing import Literal

import ibis
import ibis.expr.types as ir

from shoplens.errors import FieldError, InputError
from shoplens.metrics._facts import (
    money,
    numbered_orders,
    order_quantities,
    ratio,
    with_local_day,
    within,
)
from shoplens.metrics._time import Zone, check_grain, period_ordinal

KpiSplit = Literal["channel", "device", "country", "segment"]
KPI_SPLITS: tuple[str, ...] = ("channel", "device", "country", "segment")


def _order_dimension(orders: ir.Table, by: str | None, customers: ir.Table, segments: ir.Table | None) -> ir.Table:
    if by is None:
        return orders.mutate(group=ibis.null("string"))
    if by in ("channel", "device"):
        return orders.mutate(group=orders[by])
    lookup = _customer_lookup(by, customers, segments)
    return orders.left_join(lookup, "customer_key").drop("customer_key_right")


def _refund_dimension(
    refunds: ir.Table, orders: ir.Table, by: str | None, customers: ir.Table, segments: ir.Table | None
) -> ir.Table:
    if by is None:
        return refunds.mutate(group=ibis.null("string"))
    if by in ("channel", "device"):
        # The refunded order's channel; refunds that name no known order (credit notes) stay unattributed.
        lookup = orders.select("order_id", group=orders[by])
        return refunds.left_join(lookup, "order_id").drop("order_id_right")
    lookup = _customer_lookup(by, customers, segments)
    return refunds.left_join(lookup, "customer_key").drop("customer_key_right")


def _customer_lookup(by: str, customers: ir.Table, segments: ir.Table | None) -> ir.Table:
    if by == "country":
        return customers.select("customer_key", group=customers.country)
    if by == "segment":
        if segments is None:
            raise InputError("KPIs by segment need the RFM segments of the customers")
        return segments.select("customer_key", group=segments.segment)
    raise FieldError(f"{{by}} must be one of {', '.join(KPI_SPLITS)}, not {by!r}")


def sales_kpis(
    orders: ir.Table,
    order_lines: ir.Table,
    refunds: ir.Table,
    customers: ir.Table,
    *,
    grain: str = "month",
    zone: Zone = "UTC",
    start: date | None = None,
    end: date | None = None,
    by: str | None = None,
    events: ir.Table | None = None,
    segments: ir.Table | None = None,
) -> ir.Table:
    """One row per period (and group): see the module docstring for every column.

    ``start`` and ``end`` are store-local days, both included. The group column is named after ``by``.
    """
    check_grain(grain)
    if by is not None and by not in KPI_SPLITS:
        raise FieldError(f"{{by}} must be one of {', '.join(KPI_SPLITS)}, not {by!r}")
    numbered = numbered_orders(orders, ["gross", "discount", "net", *([by] if by in ("channel", "device") else [])])
    placed = within(with_local_day(numbered, "ordered_at", zone, grain), start, end)
    placed = _order_dimension(placed, by, customers, segments)
    placed = placed.left_join(order_quantities(order_lines), "order_id").drop("order_id_right")
    known = placed.customer_key.notnull()
    repeat_order = placed.order_number >= 1
    sales = placed.group_by(["period", "group"]).aggregate(
        orders=placed.count(),
        customers=placed.customer_key.nunique(),
        new_customers=placed.customer_key.nunique(where=known & (placed.order_number == 0)),
        repeat_customers=placed.customer_key.nunique(where=repeat_order),
        units=placed.units.sum().cast("int64"),
        gross_sales=money(placed.gross.sum()),
        discounts=money(placed.discount.sum()),
        net_sales=money(placed.net.sum()),
        repeat_net_sales=money(placed.net.sum(where=repeat_order)),
        refunds=ibis.null("decimal(38, 2)"),
        sessions=ibis.null("int64"),
    )
    given = within(
        with_local_day(refunds.filter(refunds.refunded_at.notnull()), "refunded_at", zone, grain), start, end
    )
    given = _refund_dimension(given, orders, by, customers, segments)
    returned = given.group_by(["period", "group"]).aggregate(refunds=money(given.amount.sum()))
    parts = [sales, _null_like(sales, returned)]
    if events is not None and by in (None, "device"):
        sessions = _sessions(events, zone, grain, start, end, by)
        parts.append(_null_like(sales, sessions))
    combined = ibis.union(*parts, distinct=False)
    totals = combined.group_by(["period", "group"]).aggregate(
        orders=combined.orders.sum().fill_null(0).cast("int64"),
        customers=combined.customers.sum().fill_null(0).cast("int64"),
        new_customers=combined.new_customers.sum().fill_null(0).cast("int64"),
        repeat_customers=combined.repeat_customers.sum().fill_null(0).cast("int64"),
        units=combined.units.sum().fill_null(0).cast("int64"),
        gross_sales=money(combined.gross_sales.sum().fill_null(0)),
        discounts=money(combined.discounts.sum().fill_null(0)),
        net_sales=money(combined.net_sales.sum().fill_null(0)),
        repeat_net_sales=money(combined.repeat_net_sales.sum().fill_null(0)),
        refunds=money(combined.refunds.sum().fill_null(0)),
        sessions=combined.sessions.sum().cast("int64"),
    )
    with_rates = totals.mutate(
        returning_customers=totals.customers - totals.new_customers,
        revenue=money(totals.net_sales - totals.refunds),
        aov=ratio(totals.net_sales, totals.orders),
        units_per_order=ratio(totals.units, totals.orders),
        refund_rate=ratio(totals.refunds, totals.net_sales),
        repeat_rate=ratio(totals.repeat_customers, totals.customers),
        repeat_revenue_share=ratio(totals.repeat_net_sales, totals.net_sales),
        conversion_rate=ratio(totals.orders, totals.sessions),
        ordinal=period_ordinal(totals.period, grain),
    )
    window = ibis.window(group_by=with_rates.group, order_by=with_rates.period)
    previous_is_adjacent = with_rates.ordinal.lag().over(window) == with_rates.ordinal - 1

    def change(column: str) -> ir.FloatingValue:
        before = with_rates[column].lag().over(window)
        return ibis.ifelse(previous_is_adjacent, ratio(with_rates[column] - before, before.abs()), ibis.null("float64"))

    result = with_rates.mutate(
        revenue_change=change("revenue"), orders_change=change("orders"), customers_change=change("customers")
    )
    columns = [
        "period",
        "orders",
        "revenue",
        "gross_sales",
        "discounts",
        "net_sales",
        "refunds",
        "customers",
        "new_customers",
        "returning_customers",
        "repeat_customers",
        "units",
        "aov",
        "units_per_order",
        "refund_rate",
        "repeat_rate",
        "repeat_revenue_share",
        "sessions",
        "conversion_rate",
        "revenue_change",
        "orders_change",
        "customers_change",
    ]
    if by is not None:
        result = result.rename({by: "group"})
        columns.insert(1, by)
    return result.select(*columns).order_by(["period", *([ibis.asc(by, nulls_first=True)] if by else [])])


def _sessions(
    events: ir.Table, zone: Zone, grain: str, start: date | None, end: date | None, by: str | None
) -> ir.Table:
    first = events.group_by("session_id").aggregate(started_at=events.at.min(), device=events.device.min())
    first = within(with_local_day(first, "started_at", zone, grain), start, end)
    first = first.mutate(group=first.device if by == "device" else ibis.null("string"))
    return first.group_by(["period", "group"]).aggregate(sessions=first.count())


def _null_like(template: ir.Table, part: ir.Table) -> ir.Table:
    """``part`` with the columns of ``template`` (those it lacks are NULL), ready for a UNION ALL."""
    schema = template.schema()
    return part.select(
        *[
            part[name].cast(dtype) if name in part.columns else ibis.null(dtype).name(name)
            for name, dtype in schema.items()
        ]
    )
