"""``recommend``: the ranked list of things to do, from the rules of :mod:`shoplens.actions` over the store's data."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import ClassVar

import ibis

from shoplens.actions import (
    HORIZON_DAYS,
    STORE_WIDE,
    Recommendation,
    backtest,
    late_deliveries,
    one_time_buyers,
    overdue_regulars,
    ranked,
    regulars,
    returned_products,
    sales_after,
    second_orders,
    weak_channels,
)
from shoplens.metrics import delivery_times, product_performance, with_local_day
from shoplens.queries._analytics import last_day_with_data
from shoplens.queries._base import Query, Result, answers
from shoplens.queries._context import QueryContext, one_row, rows
from shoplens.queries._plans import AcquisitionQuery, AcquisitionResult
from shoplens.queries._service import ServiceQuery, ServiceResult


class RecommendQuery(Query):
    kind: ClassVar[str] = "recommend"


class RecommendResult(Result):
    query: RecommendQuery = RecommendQuery()
    as_of: date
    backtest_day: date
    recommendations: list[Recommendation]


@answers(RecommendQuery, RecommendResult)
def answer_recommend(context: QueryContext, query: RecommendQuery) -> RecommendResult:
    orders = context.customer_orders("recommend to")
    refunds, zone = context.table("refunds"), context.zone
    end = last_day_with_data(context)
    then = end - timedelta(days=HORIZON_DAYS)
    later = sales_after(orders, zone=zone, after=then, days=HORIZON_DAYS)

    current = regulars(orders, refunds, zone=zone, as_of=end).filter(ibis._.overdue)
    now = current.group_by("segment").aggregate(
        customers=current.count(),
        median_usual_gap_days=current.usual_gap_days.median(),
        median_days_since_last=current.days_since_last.median(),
    )
    past = regulars(orders, refunds, zone=zone, as_of=then)
    past = past.filter(past.overdue | past.on_schedule)
    by_segment = backtest(past, later, ["segment", "overdue"])
    store_wide = backtest(past, later, ["overdue"]).mutate(segment=ibis.literal(STORE_WIDE))
    history = rows(by_segment) + rows(store_wide)
    found = overdue_regulars(rows(now.order_by("segment")), history, backtest_day=then)

    newcomers = context.count(one_time_buyers(orders, refunds, zone=zone, as_of=end))
    past_newcomers = backtest(one_time_buyers(orders, refunds, zone=zone, as_of=then).mutate(all=1), later, ["all"])
    found += second_orders(newcomers, one_row(past_newcomers) or None, backtest_day=then)

    performance = product_performance(context.table("order_lines"), orders, refunds, context.table("products"))
    totals = one_row(performance.aggregate(sales=performance.sales.sum(), refunds=performance.refunds.sum()))
    store_rate = float(totals["refunds"] / totals["sales"]) if totals.get("sales") else None
    found += returned_products(rows(performance.filter(performance.orders >= 1)), store_rate)

    service = context.run(ServiceQuery(), ServiceResult)
    times = delivery_times(orders, context.table("customers"), zone=zone)
    times = with_local_day(times, "delivered_at", zone)
    recent = times.filter((times.local_day > ibis.date(then)) & times.late)
    late = one_row(recent.aggregate(orders=recent.count(), customers=recent.customer_key.nunique()))
    order_value = one_row(orders.aggregate(value=orders.net.mean())).get("value")
    found += late_deliveries(
        service.after_late_delivery,
        late_orders=int(late.get("orders") or 0),
        late_customers=int(late.get("customers") or 0),
        order_value=None if order_value is None else Decimal(str(order_value)).quantize(Decimal("0.01")),
        by_country=service.delivery.get("country", []),
    )

    acquisition = context.run(AcquisitionQuery(), AcquisitionResult)
    if acquisition.spend_from is not None and acquisition.spend_through is not None:
        spend_days = (acquisition.spend_through - acquisition.spend_from).days + 1
        found += weak_channels(acquisition.channels, spend_days=spend_days, basis=acquisition.basis)
    return RecommendResult(query=query, as_of=end, backtest_day=then, recommendations=ranked(found))
