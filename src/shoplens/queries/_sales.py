"""The store's sales as questions: KPIs per period, the web funnel, baskets and products.

Each query is answered by the pure Ibis metrics of :mod:`shoplens.metrics` over the context's tables.
"""

from __future__ import annotations

from datetime import date
from typing import ClassVar, Literal

import ibis
from pydantic import Field, model_validator

from shoplens.errors import FieldError, InputError
from shoplens.metrics import (
    abc_classes,
    abc_summary,
    association_rules,
    basket_overview,
    category_share,
    funnel,
    product_comebacks,
    product_performance,
    rfm_scores,
    sales_kpis,
    session_conversion,
    supplier_returns,
    unattributed_refunds,
)
from shoplens.queries._base import Query, Result, Row, answers
from shoplens.queries._context import QueryContext, one_row, rows


class _Window(Query):
    start: date | None = Field(None, description="first store-local day included")
    end: date | None = Field(None, description="last store-local day included")

    @model_validator(mode="after")
    def _ordered(self) -> _Window:
        if self.start is not None and self.end is not None and self.start > self.end:
            raise FieldError(f"{{start}} {self.start} is after {{end}} {self.end}")
        return self


class KpiQuery(_Window):
    kind: ClassVar[str] = "kpis"
    grain: Literal["day", "week", "month", "quarter"] = "month"
    by: Literal["channel", "device", "country", "segment"] | None = None


class FunnelQuery(_Window):
    kind: ClassVar[str] = "funnel"
    by: Literal["source", "medium", "device", "campaign"] | None = None


class SessionQuery(Query):
    kind: ClassVar[str] = "sessions"
    by: Literal["visitor_type", "month", "weekend", "traffic_type", "region", "browser"] | None = None


class BasketQuery(Query):
    kind: ClassVar[str] = "basket"
    min_support: float = Field(0.01, gt=0, le=1)
    min_confidence: float = Field(0.0, ge=0, le=1)
    limit: int = Field(50, ge=1, le=10_000)


class ProductQuery(Query):
    kind: ClassVar[str] = "products"
    top: int = Field(20, ge=1, le=10_000)
    min_buyers: int = Field(20, ge=1)
    grain: Literal["month", "quarter"] = "month"


class KpiResult(Result):
    query: KpiQuery
    rows: list[Row]


class FunnelResult(Result):
    query: FunnelQuery
    steps: list[Row]


class SessionResult(Result):
    query: SessionQuery
    total: Row
    groups: list[Row]


class BasketResult(Result):
    query: BasketQuery
    orders: int
    multi_product_orders: int
    rules: list[Row]


class ProductResult(Result):
    query: ProductQuery
    products: int
    abc: list[Row]
    top_products: list[Row]
    highest_return_rates: list[Row]
    suppliers: list[Row]
    categories: list[Row]
    comeback_products: list[Row]
    one_off_products: list[Row]
    unattributed_refunds: Row


@answers(KpiQuery, KpiResult)
def answer_kpis(context: QueryContext, query: KpiQuery) -> KpiResult:
    orders = context.orders()
    segments = None
    if query.by == "segment":
        segments = rfm_scores(orders, context.table("refunds"), zone=context.zone)
    table = sales_kpis(
        orders,
        context.table("order_lines"),
        context.table("refunds"),
        context.table("customers"),
        grain=query.grain,
        zone=context.zone,
        start=query.start,
        end=query.end,
        by=query.by,
        events=context.events(),
        segments=segments,
    )
    found = rows(table)
    if not found:
        raise InputError(f"no orders or refunds between {query.start or 'the start'} and {query.end or 'the end'}")
    return KpiResult(query=query, rows=found)


@answers(FunnelQuery, FunnelResult)
def answer_funnel(context: QueryContext, query: FunnelQuery) -> FunnelResult:
    events = context.events()
    if events is None:
        raise InputError("no web session events in the warehouse: the funnel needs the store's events export")
    steps = rows(funnel(events, zone=context.zone, start=query.start, end=query.end, by=query.by))
    if not steps:
        raise InputError("no sessions in the chosen days")
    return FunnelResult(query=query, steps=steps)


@answers(SessionQuery, SessionResult)
def answer_sessions(context: QueryContext, query: SessionQuery) -> SessionResult:
    try:
        sessions = context.table("sessions")
    except Exception:  # a backend without the sessions table: no sessions to count
        sessions = None
    if sessions is None or context.count(sessions) == 0:
        raise InputError("no sessions in the warehouse: import a sessions export (e.g. --profile shoppers-sessions)")
    groups = rows(session_conversion(sessions, by=query.by)) if query.by is not None else []
    return SessionResult(query=query, total=one_row(session_conversion(sessions)), groups=groups)


@answers(BasketQuery, BasketResult)
def answer_basket(context: QueryContext, query: BasketQuery) -> BasketResult:
    context.orders()
    lines = context.table("order_lines")
    overview = one_row(basket_overview(lines))
    rules = association_rules(
        lines,
        context.table("products"),
        min_support=query.min_support,
        min_confidence=query.min_confidence,
        limit=query.limit,
    )
    return BasketResult(
        query=query,
        orders=int(overview.get("orders") or 0),
        multi_product_orders=int(overview.get("multi_product_orders") or 0),
        rules=rows(rules),
    )


@answers(ProductQuery, ProductResult)
def answer_products(context: QueryContext, query: ProductQuery) -> ProductResult:
    orders = context.orders()
    lines, refunds, products = context.table("order_lines"), context.table("refunds"), context.table("products")
    performance = product_performance(lines, orders, refunds, products)
    classes = abc_classes(performance)
    comebacks = product_comebacks(lines, orders, min_buyers=query.min_buyers)
    enough_buyers = performance.filter(performance.customers >= query.min_buyers)
    return ProductResult(
        query=query,
        products=context.count(performance),
        abc=rows(abc_summary(classes)),
        top_products=rows(classes.limit(query.top)),
        highest_return_rates=rows(
            enough_buyers.order_by([ibis.desc("return_rate"), ibis.desc("sales"), "product_id"]).limit(query.top)
        ),
        suppliers=rows(supplier_returns(performance)),
        categories=rows(category_share(lines, orders, products, grain=query.grain, zone=context.zone)),
        comeback_products=rows(comebacks.limit(query.top)),
        one_off_products=rows(
            comebacks.order_by(["comeback_rate", ibis.desc("buyers"), "product_id"]).limit(query.top)
        ),
        unattributed_refunds=one_row(unattributed_refunds(refunds, lines)),
    )
