"""The facts every analysis shares: what a purchase is, store-local days, order numbers, units, safe ratios.

This module is the one definition of these facts; metrics, models, voice and sharing all read them from here
(README "Customer analytics", *One rule for purchases, refunds and days*):

* a **purchase** is an order whose status is not in :data:`NOT_PURCHASED_STATUSES` (cancelled, voided, failed,
  deleted, draft and test orders never became sales). :func:`purchases`, :func:`purchase_lines` and
  :func:`purchase_refunds` read the warehouse's ``orders``, ``order_lines`` and ``refunds`` that way;
  the lines and refunds of an order that is not a purchase are left out with it;
* guest orders (``customer_key`` NULL) count as orders and as sales, never as customers;
* **net sales** is ``orders.net`` (gross merchandise value less discounts; shipping and tax apart), counted
  when the order is placed; **refunds** come from ``refunds.amount`` and count when they were given
  (``refunded_at``), against the customer, order and product they name; **revenue** is net sales less
  refunds. A purchase *occasion* (the transaction models, the demand forecast) is counted at its net sales,
  before refunds: a refund is a later event, not a smaller purchase;
* a customer's orders are numbered 0, 1, 2, ... by time (ties broken by order id): order 0 is the first
  purchase, and every later order is a **repeat** order;
* days and periods are the store's own (``Settings.timezone``), exact across daylight-saving changes
  (:func:`shoplens.metrics._time.local_time`), not UTC; money is DECIMAL, never float;
* the **days with data** run from the first to the last store-local day with a purchase or a refund
  (:func:`data_span`): the **data end** is the reference day ("as of") of RFM and the lifecycle unless one is
  given, and a period that ends after it (or starts before the data begin) is **partial**.
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

# Statuses (compared in lower case, trimmed) of orders that never became sales, so no analysis counts them:
# cancelled orders (Shopify writes "cancelled" when "Cancelled at" is set; WooCommerce and the demo store too;
# "canceled" is the American spelling other shop systems use), payments voided before capture (Shopify "voided")
# or never authorised ("expired") or failed (WooCommerce "failed"), orders deleted ("trash") or never placed
# ("checkout-draft") in WooCommerce, and test orders (a generic mapping can map a test flag to "test"). Refunded
# orders did happen: they stay purchases, and their refunds are netted like any other.
NOT_PURCHASED_STATUSES: tuple[str, ...] = (
    "cancelled",
    "canceled",
    "voided",
    "expired",
    "failed",
    "trash",
    "checkout-draft",
    "test",
)


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


def is_purchase(orders: ir.Table) -> ir.BooleanValue:
    """True for the orders that count as purchases (an order without a status is one)."""
    return ~orders.status.strip().lower().isin(NOT_PURCHASED_STATUSES).fill_null(False)


def purchases(orders: ir.Table) -> ir.Table:
    """The warehouse's ``orders`` that count as purchases (see :data:`NOT_PURCHASED_STATUSES`)."""
    return orders.filter(is_purchase(orders))


def _not_purchased(orders: ir.Table) -> ir.Table:
    return orders.filter(~is_purchase(orders)).select("order_id")


def purchase_lines(order_lines: ir.Table, orders: ir.Table) -> ir.Table:
    """The lines of purchases: ``order_lines`` without those of orders that are not purchases."""
    return order_lines.anti_join(_not_purchased(orders), "order_id")


def purchase_refunds(refunds: ir.Table, orders: ir.Table) -> ir.Table:
    """``refunds`` without those of orders that are not purchases (money given back on an order that never
    became a sale is no refund of a sale). Refunds that name no order, or an order not in the warehouse (credit
    notes), stay. ``orders`` is the warehouse's ``orders`` table, not :func:`purchases` of it."""
    return refunds.anti_join(_not_purchased(orders), "order_id")


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


def data_span(orders: ir.Table, refunds: ir.Table, zone: Zone) -> ir.Table:
    """One row, ``first_day, last_day``: the store-local days of the first and the last purchase or refund.

    ``orders`` and ``refunds`` are the purchases and their refunds (refunds without a date are left out); both
    columns are NULL when there are none.
    """
    bought = with_local_day(orders.select(at=orders.ordered_at), "at", zone)
    given = refunds.filter(refunds.refunded_at.notnull())
    given = with_local_day(given.select(at=given.refunded_at), "at", zone)
    days = ibis.union(bought.select("local_day"), given.select("local_day"), distinct=False)
    return days.aggregate(first_day=days.local_day.min(), last_day=days.local_day.max())


def data_end(orders: ir.Table, refunds: ir.Table, zone: Zone) -> ir.DateValue:
    """The data end (the last day of :func:`data_span`) as a scalar expression."""
    return data_span(orders, refunds, zone).last_day.as_scalar()


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


def customer_orders(orders: ir.Table, zone: Zone = "UTC") -> ir.Table:
    """Every purchase of a known customer, one row per order, on its store-local day.

    Columns: ``customer_key, order_id, ordered_at`` (UTC), ``local_at, local_day, net``. ``orders`` may be the
    warehouse's table as it is: orders that are not purchases and guest orders are left out here.
    """
    bought = purchases(orders)
    known = bought.filter(bought.customer_key.notnull()).select("customer_key", "order_id", "ordered_at", "net")
    return with_local_day(known, "ordered_at", zone)


def customer_purchases(orders: ir.Table, zone: Zone = "UTC") -> ir.Table:
    """One row per known customer: first and last order (UTC and store-local day), orders and net sales."""
    known = customer_orders(orders, zone)
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


def recent_spend(orders: ir.Table, refunds: ir.Table, *, days: int) -> ir.Table:
    """What each known customer spent in the last ``days`` days of the data: ``customer_key, spend``.

    ``spend`` (DECIMAL) is the net sales of the customer's purchases in the window less the refunds given to
    them since it began, so it is revenue, as everywhere else; customers without a purchase in the window are
    absent. The window ends at the last purchase in the store. Takes the warehouse's ``orders`` and ``refunds``
    as they are.
    """
    bought = purchases(orders)
    end = bought.ordered_at.max().as_scalar()
    start = end - ibis.interval(days=days)
    known = bought.filter(bought.customer_key.notnull(), bought.ordered_at > start)
    sales = known.group_by("customer_key").aggregate(net_sales=money(known.net.sum()))
    given = purchase_refunds(refunds, orders)
    given = given.filter(given.customer_key.notnull(), given.refunded_at > start)
    returned = given.group_by("customer_key").aggregate(refunds=money(given.amount.sum()))
    joined = sales.left_join(returned, "customer_key")
    return joined.select(
        customer_key=joined.customer_key,
        spend=money(joined.net_sales - joined.refunds.fill_null(zero_money())),
    )


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
