"""Building blocks shared by the metrics: store-local times, order numbers, units, and safe ratios.

Conventions every metric follows (README "Customer analytics"):

* an **order** is a row of ``orders``; guest orders (``customer_key`` NULL) count as orders and as sales,
  never as customers;
* **net sales** is ``orders.net`` (gross merchandise value less discounts; shipping and tax apart);
  **refunds** come from ``refunds.amount`` and count in the period in which they were given
  (``refunded_at``); **revenue** is net sales less refunds;
* a customer's orders are numbered 0, 1, 2, ... by time (ties broken by order id): order 0 is the first
  purchase, and every later order is a **repeat** order;
* periods and days are the store's own (``Settings.timezone``), not UTC.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from shoplens.metrics._time import Zone, local_time, period_start

MONEY = dt.Decimal(38, 2)


def ratio(numerator: ir.NumericValue, denominator: ir.NumericValue) -> ir.FloatingValue:
    """``numerator / denominator`` as a float, NULL (never NaN, never an error) when the denominator is 0."""
    return numerator.cast("float64") / denominator.cast("float64").nullif(0.0)


def money(value: ir.NumericValue) -> ir.DecimalValue:
    return value.cast(MONEY)


def zero_money() -> ir.DecimalValue:
    return ibis.literal(0).cast(MONEY)


def pro_rata(total: ir.NumericValue, part: ir.NumericValue, whole: ir.NumericValue) -> ir.DecimalValue:
    """``total * part / whole`` to the cent, rounded half up, in integer cents so every engine agrees exactly.

    For non-negative amounts; NULL when ``whole`` is 0.
    """

    def in_cents(value: ir.NumericValue) -> ir.IntegerValue:
        return (value * 100).round(0).cast("int64")

    numerator = in_cents(total) * in_cents(part) * 2 + in_cents(whole)
    result = numerator // (in_cents(whole) * 2).nullif(0)
    return (result.cast(MONEY) * ibis.literal(Decimal("0.01"), type=dt.Decimal(3, 2))).cast(MONEY)


def numbered_orders(orders: ir.Table, keep: Sequence[str] | None = None) -> ir.Table:
    """``orders`` plus ``order_number``: 0 for a customer's first order, 1 for the second ...; NULL for guests.

    With ``keep``, only ``order_id, customer_key, ordered_at`` and those columns go through the window (engines
    sort every column a window carries, so narrow input is much faster on wide order tables).
    """
    if keep is not None:
        orders = orders.select(*dict.fromkeys(["order_id", "customer_key", "ordered_at", *keep]))
    number = ibis.row_number().over(group_by=orders.customer_key, order_by=[orders.ordered_at, orders.order_id])
    return orders.mutate(order_number=ibis.ifelse(orders.customer_key.isnull(), ibis.null("int64"), number))


def with_local_day(table: ir.Table, column: str, zone: Zone, grain: str | None = None) -> ir.Table:
    """Add ``local_at`` and ``local_day`` (store-local) from the UTC ``column``, and ``period`` when given a grain."""
    local = local_time(table[column], zone)
    table = table.mutate(local_at=local)
    table = table.mutate(local_day=table.local_at.date())
    if grain is not None:
        table = table.mutate(period=period_start(table.local_at, grain))
    return table


def within(table: ir.Table, start: date | None, end: date | None) -> ir.Table:
    """Rows whose ``local_day`` is in [start, end] (either bound may be open)."""
    if start is not None:
        table = table.filter(table.local_day >= ibis.date(start))
    if end is not None:
        table = table.filter(table.local_day <= ibis.date(end))
    return table


def order_quantities(order_lines: ir.Table) -> ir.Table:
    """Units per order: ``order_id, units``."""
    return order_lines.group_by("order_id").aggregate(units=order_lines.quantity.sum().cast("int64"))


def order_units(order_lines: ir.Table) -> ir.Table:
    """Units and distinct products per order: ``order_id, units, lines, products``."""
    return order_lines.group_by("order_id").aggregate(
        units=order_lines.quantity.sum().cast("int64"),
        lines=order_lines.count(),
        products=order_lines.product_id.nunique(),
    )


def customer_purchases(orders: ir.Table, zone: Zone) -> ir.Table:
    """One row per known customer: first and last order (UTC and store-local day), orders and net sales."""
    known = with_local_day(orders.filter(orders.customer_key.notnull()), "ordered_at", zone)
    return known.group_by("customer_key").aggregate(
        first_order_at=known.ordered_at.min(),
        last_order_at=known.ordered_at.max(),
        first_day=known.local_day.min(),
        last_day=known.local_day.max(),
        orders=known.count(),
        net_sales=money(known.net.sum()),
    )


def customer_refunds(refunds: ir.Table, *, until: ir.TimestampValue | None = None) -> ir.Table:
    """Refunded amount per known customer: ``customer_key, refunds``."""
    known = refunds.filter(refunds.customer_key.notnull())
    if until is not None:
        known = known.filter(known.refunded_at.isnull() | (known.refunded_at <= until))
    return known.group_by("customer_key").aggregate(refunds=money(known.amount.sum()))


def first_orders(orders: ir.Table, zone: Zone, window_days: int) -> ir.Table:
    """The first order of every known customer and whether they ordered again within ``window_days``.

    Columns: ``customer_key, order_id, ordered_at, local_day, channel, device, discounted, orders,
    repeated`` where ``repeated`` is NULL for customers whose window has not closed by the last order day
    in the data (they could still come back), so repeat rates compare customers who all had the full window.
    """
    known = orders.filter(orders.customer_key.notnull())
    numbered = with_local_day(
        numbered_orders(known, ["channel", "device", "discount", "discount_code"]), "ordered_at", zone
    )
    last_day = with_local_day(orders.select("ordered_at"), "ordered_at", zone).local_day.max().as_scalar()
    second = numbered.filter(numbered.order_number == 1).select("customer_key", second_day=numbered.local_day)
    counts = numbered.group_by("customer_key").aggregate(orders=numbered.count())
    first = numbered.filter(numbered.order_number == 0)
    first = first.mutate(
        discounted=(first.discount.fill_null(0) > 0) | first.discount_code.notnull(),
        window_closed=last_day.delta(first.local_day, unit="day") >= window_days,
    )
    joined = first.left_join(second, "customer_key").left_join(counts, "customer_key")
    came_back = joined.second_day.notnull() & (joined.second_day.delta(joined.local_day, unit="day") <= window_days)
    return joined.select(
        "customer_key",
        "order_id",
        "ordered_at",
        "local_day",
        "channel",
        "device",
        "discounted",
        "orders",
        repeated=ibis.ifelse(joined.window_closed, came_back, ibis.null("boolean")),
    )
