"""Sales KPIs per day, week, month or quarter, optionally split by channel, device, country or RFM segment.

Definitions (per period, and per group with ``by``):

* ``orders``: orders placed (guests included); ``gross_sales``, ``discounts``, ``net_sales`` from ``orders``;
  ``refunds``: amounts given back in the period; ``revenue = net_sales - refunds`` (net of refunds);
* ``customers``: distinct known customers who ordered; ``new_customers``: those whose first order ever falls in
  the period; ``returning_customers = customers - new_customers``;
* ``aov = net_sales / orders``; ``units_per_order = units / orders``; ``refund_rate = refunds / net_sales``
  (can exceed 1 when more is refunded than sold);
* ``repeat_rate``: share of the period's customers who have ordered at least twice by its end (returning
  customers and new customers who came back within the period); ``repeat_net_sales``: net sales of repeat orders
  (a known customer's second or later order) and ``repeat_revenue_share`` their share of net sales;
* ``sessions`` (web sessions starting in the period) and ``conversion_rate = orders / sessions``, where events
  exist and the split allows it (no split, or by device);
* ``period_end``, ``days_in_period``; ``covers_from``, ``through`` and ``days_with_data``: the days of the period
  the row covers, within the days with data (:func:`shoplens.metrics._facts.data_span`: the first to the last
  store-local day with a purchase or a refund) and within ``start`` and ``end``; ``partial`` is true when that
  is fewer days than the period has (a month the data end in, or one cut by ``start`` or ``end``);
* ``revenue_change``, ``orders_change``, ``customers_change``: relative change against the previous calendar
  period, like with like: a complete period against the whole previous period, a partial one against the same
  days of the previous period (1-9 December against 1-9 November; the same day offsets for weeks and quarters,
  cut at the previous period's end). ``comparison`` says which (``whole_period`` or ``same_days``),
  ``compared_from`` and ``compared_through`` are the days compared against (within the days with data, and
  read outside ``start`` and ``end`` when need be), and ``previous_revenue``, ``previous_orders`` and
  ``previous_customers`` their figures. All of them are NULL when those days have no orders or refunds.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

import ibis
import ibis.expr.types as ir

from shoplens.errors import FieldError, InputError
from shoplens.metrics._facts import (
    data_span,
    money,
    numbered_orders,
    order_quantities,
    ratio,
    with_local_day,
    within,
)
from shoplens.metrics._time import (
    Zone,
    add_days,
    check_grain,
    period_end,
    previous_period_start,
)

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
    dated = _order_dimension(with_local_day(numbered, "ordered_at", zone, grain), by, customers, segments)
    placed = within(dated, start, end)
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
    every_refund = with_local_day(refunds.filter(refunds.refunded_at.notnull()), "refunded_at", zone, grain)
    every_refund = _refund_dimension(every_refund, orders, by, customers, segments)
    given = within(every_refund, start, end)
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
    )
    covered = _coverage(with_rates, data_span(orders, refunds, zone), grain, start, end)
    compared = _compared_figures(covered, dated, every_refund, by is not None)
    joined = covered.left_join(compared, _same_row(covered, compared, by is not None))
    joined = joined.drop(*[name for name in joined.columns if name.endswith("_right")])

    def change(column: str) -> ir.FloatingValue:
        before = joined[f"previous_{column}"]
        return ratio(joined[column] - before, before.abs())

    result = joined.mutate(
        comparison=ibis.ifelse(
            joined.previous_orders.isnull(),
            ibis.null("string"),
            ibis.ifelse(joined.partial, ibis.literal("same_days"), ibis.literal("whole_period")),
        ),
        compared_from=ibis.ifelse(joined.previous_orders.isnull(), ibis.null("date"), joined.compared_from),
        compared_through=ibis.ifelse(joined.previous_orders.isnull(), ibis.null("date"), joined.compared_through),
        revenue_change=change("revenue"),
        orders_change=change("orders"),
        customers_change=change("customers"),
    )
    columns = [
        "period",
        "period_end",
        "days_in_period",
        "covers_from",
        "through",
        "days_with_data",
        "partial",
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
        "repeat_net_sales",
        "sessions",
        "conversion_rate",
        "comparison",
        "compared_from",
        "compared_through",
        "previous_revenue",
        "previous_orders",
        "previous_customers",
        "revenue_change",
        "orders_change",
        "customers_change",
    ]
    if by is not None:
        result = result.rename({by: "group"})
        columns.insert(1, by)
    return result.select(*columns).order_by(["period", *([ibis.asc(by, nulls_first=True)] if by else [])])


def _coverage(table: ir.Table, span: ir.Table, grain: str, start: date | None, end: date | None) -> ir.Table:
    """``table`` (one row per period) plus the days each row covers and the previous period's days to compare."""
    first_day, last_day = span.first_day.as_scalar(), span.last_day.as_scalar()
    ends = period_end(table.period, grain)
    covers_from = ibis.greatest(table.period, first_day, *([ibis.date(start)] if start else []))
    through = ibis.least(ends, last_day, *([ibis.date(end)] if end else []))
    table = table.mutate(period_end=ends, covers_from=covers_from, through=through)
    spanned = table.through.delta(table.covers_from, unit="day").cast("int64") + 1
    table = table.mutate(
        days_in_period=(table.period_end.delta(table.period, unit="day") + 1).cast("int64"),
        # a period with web sessions only, after the last sale, covers no day with data
        days_with_data=ibis.greatest(spanned, 0),
    )
    table = table.mutate(partial=table.days_with_data < table.days_in_period)
    previous = previous_period_start(table.period, grain)
    previous_end = add_days(table.period, ibis.literal(-1))
    same_from = add_days(previous, table.covers_from.delta(table.period, unit="day").cast("int64"))
    same_through = ibis.least(
        add_days(previous, table.through.delta(table.period, unit="day").cast("int64")), previous_end
    )
    return table.mutate(
        previous_period=previous,
        compared_from=ibis.greatest(ibis.ifelse(table.partial, same_from, previous), first_day),
        compared_through=ibis.least(ibis.ifelse(table.partial, same_through, previous_end), last_day),
    )


def _compared_figures(covered: ir.Table, orders: ir.Table, refunds: ir.Table, split: bool) -> ir.Table:
    """Orders, customers and revenue on each row's compared days: ``period, group, previous_orders, ...``.

    ``orders`` and ``refunds`` carry ``period``, ``group`` and ``local_day`` and are not cut to the row window, so
    the period before the first row shown is compared too. The equality on the period keeps the joins cheap.
    """
    windows = covered.select(
        target_period=covered.period,
        target_group=covered.group,
        previous_period=covered.previous_period,
        compared_from=covered.compared_from,
        compared_through=covered.compared_through,
    )

    def on_compared_days(table: ir.Table) -> list[ir.BooleanValue]:
        predicates = [
            windows.previous_period == table.period,
            table.local_day >= windows.compared_from,
            table.local_day <= windows.compared_through,
        ]
        if split:
            predicates.append(windows.target_group.identical_to(table.group))
        return predicates

    bought = windows.inner_join(orders, on_compared_days(orders))
    sales = bought.group_by(period=bought.target_period, group=bought.target_group).aggregate(
        previous_orders=bought.count(),
        previous_customers=bought.customer_key.nunique(),
        previous_net_sales=money(bought.net.sum()),
        previous_refunds=ibis.null("decimal(38, 2)"),
    )
    given = windows.inner_join(refunds, on_compared_days(refunds))
    returned = given.group_by(period=given.target_period, group=given.target_group).aggregate(
        previous_refunds=money(given.amount.sum())
    )
    both = ibis.union(sales, _null_like(sales, returned), distinct=False)
    return both.group_by(["period", "group"]).aggregate(
        previous_orders=both.previous_orders.sum().fill_null(0).cast("int64"),
        previous_customers=both.previous_customers.sum().fill_null(0).cast("int64"),
        previous_revenue=money(both.previous_net_sales.sum().fill_null(0) - both.previous_refunds.sum().fill_null(0)),
    )


def _same_row(left: ir.Table, right: ir.Table, split: bool) -> list[ir.BooleanValue]:
    predicates = [left.period == right.period]
    if split:
        predicates.append(left.group.identical_to(right.group))
    return predicates


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
