"""Customer analytics as questions: KPIs, funnel, cohorts, RFM, lifecycle, stage, behaviour, baskets, products.

Each query is answered by the pure Ibis metrics of :mod:`shoplens.metrics` over the context's tables; the
computation below turns their tables into the typed result.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, ClassVar, Literal, cast

import ibis
from pydantic import BaseModel, Field, model_validator

from shoplens.errors import InputError
from shoplens.metrics import (
    LIFECYCLE_STATES,
    RFM_SCORING,
    SEGMENTS,
    STAGE_RULE,
    abc_classes,
    abc_summary,
    acquisition_effects,
    association_rules,
    basket_overview,
    basket_sizes,
    category_share,
    cohorts,
    decide_stage,
    discount_sensitivity,
    first_product_effect,
    funnel,
    gap_distribution,
    gap_summary,
    lifecycle,
    lifecycle_rule,
    lifecycle_summary,
    product_comebacks,
    product_performance,
    purchase_gaps,
    retention_stability,
    rfm_scores,
    rfm_segments,
    rfm_thresholds,
    sales_kpis,
    stage_evidence,
    supplier_returns,
    unattributed_refunds,
    weekday_hour,
)
from shoplens.queries._base import Query, Result, Row, answers
from shoplens.queries._context import FLOAT_DIGITS, QueryContext, one_row, rows


class _Window(Query):
    start: date | None = Field(None, description="first store-local day included")
    end: date | None = Field(None, description="last store-local day included")

    @model_validator(mode="after")
    def _ordered(self) -> _Window:
        if self.start is not None and self.end is not None and self.start > self.end:
            raise ValueError(f"--from {self.start} is after --to {self.end}")
        return self


class KpiQuery(_Window):
    kind: ClassVar[str] = "kpis"
    grain: Literal["day", "week", "month", "quarter"] = "month"
    by: Literal["channel", "device", "country", "segment"] | None = None


class FunnelQuery(_Window):
    kind: ClassVar[str] = "funnel"
    by: Literal["source", "medium", "device", "campaign"] | None = None


class CohortQuery(Query):
    kind: ClassVar[str] = "cohorts"
    grain: Literal["week", "month", "quarter"] = "month"
    by: Literal["channel", "device"] | None = None


class RfmQuery(Query):
    kind: ClassVar[str] = "rfm"
    as_of: date | None = Field(None, description="reference day; default: the last order day")


class LifecycleQuery(Query):
    kind: ClassVar[str] = "lifecycle"
    as_of: date | None = None
    active_days: int = Field(90, ge=1, le=3650)
    lapsed_days: int = Field(180, ge=2, le=3650)

    @model_validator(mode="after")
    def _ordered(self) -> LifecycleQuery:
        if self.active_days >= self.lapsed_days:
            raise ValueError("--active-days must be smaller than --lapsed-days")
        return self


class StageQuery(Query):
    kind: ClassVar[str] = "stage"


class BehaviourQuery(Query):
    kind: ClassVar[str] = "behaviour"
    window_days: int = Field(90, ge=1, le=3650, description="a customer repeats by ordering again within this")
    min_customers: int = Field(20, ge=1, description="smallest group shown in the first-product effect")
    top: int = Field(10, ge=1, le=1000)


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


class CohortResult(Result):
    query: CohortQuery
    rows: list[Row]


class SegmentRow(BaseModel):
    segment: str
    customers: int
    revenue: Decimal
    share_of_customers: float | None
    share_of_revenue: float | None
    mean_recency_days: float | None
    mean_frequency: float | None
    mean_monetary: float | None
    rule: str
    meaning: str
    action: str


class RfmResult(Result):
    query: RfmQuery
    as_of: date
    customers: int
    revenue: Decimal
    segments: list[SegmentRow]
    thresholds: list[Row]
    scoring: str


class LifecycleResult(Result):
    query: LifecycleQuery
    as_of: date
    rule: dict[str, str]
    states: list[Row]


class StageResult(Result):
    query: StageQuery = StageQuery()
    stage: Literal["initial", "development", "mature"]
    evidence: Row
    reasons: list[str]
    next_stage_needs: list[str]
    rule: str


class BehaviourResult(Result):
    query: BehaviourQuery
    inter_purchase: Row
    inter_purchase_distribution: list[Row]
    weekday_hour: list[Row]
    basket_sizes: list[Row]
    discounts: Row
    channels: list[Row]
    devices: list[Row]
    first_products_most_repeat: list[Row]
    first_products_least_repeat: list[Row]


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


# --- the computations ------------------------------------------------------------------------------


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


@answers(CohortQuery, CohortResult)
def answer_cohorts(context: QueryContext, query: CohortQuery) -> CohortResult:
    orders = context.customer_orders("group into cohorts")
    table = cohorts(orders, context.table("refunds"), grain=query.grain, zone=context.zone, by=query.by)
    return CohortResult(query=query, rows=rows(table))


@answers(RfmQuery, RfmResult)
def answer_rfm(context: QueryContext, query: RfmQuery) -> RfmResult:
    orders = context.customer_orders("score")
    scores = rfm_scores(orders, context.table("refunds"), zone=context.zone, as_of=query.as_of)
    per_segment = {row["segment"]: row for row in rows(rfm_segments(scores))}
    if not per_segment:
        raise InputError(f"no customer had ordered by {query.as_of}")
    customers = sum(int(r["customers"]) for r in per_segment.values())
    revenue = sum((Decimal(r["revenue"]) for r in per_segment.values()), Decimal("0.00"))
    segments = []
    for segment in SEGMENTS:
        found = per_segment.get(segment.name, {})
        size, money = int(found.get("customers", 0)), Decimal(found.get("revenue", Decimal("0.00")))
        segments.append(
            SegmentRow(
                segment=segment.name,
                customers=size,
                revenue=money,
                share_of_customers=round(size / customers, FLOAT_DIGITS) if customers else None,
                share_of_revenue=round(float(money / revenue), FLOAT_DIGITS) if revenue else None,
                mean_recency_days=found.get("mean_recency_days"),
                mean_frequency=found.get("mean_frequency"),
                mean_monetary=found.get("mean_monetary"),
                rule=segment.rule,
                meaning=segment.meaning,
                action=segment.action,
            )
        )
    as_of = query.as_of or one_row(scores.aggregate(day=scores.last_order_day.max()))["day"]
    return RfmResult(
        query=query,
        as_of=as_of,
        customers=customers,
        revenue=revenue,
        segments=segments,
        thresholds=rows(rfm_thresholds(scores)),
        scoring=RFM_SCORING,
    )


@answers(LifecycleQuery, LifecycleResult)
def answer_lifecycle(context: QueryContext, query: LifecycleQuery) -> LifecycleResult:
    orders = context.customer_orders("place in a lifecycle")
    per_customer = lifecycle(
        orders,
        context.table("refunds"),
        zone=context.zone,
        as_of=query.as_of,
        active_days=query.active_days,
        lapsed_days=query.lapsed_days,
    )
    found = {row["state"]: row for row in rows(lifecycle_summary(per_customer))}
    if not found:
        raise InputError(f"no customer had ordered by {query.as_of}")
    rule = lifecycle_rule(query.active_days, query.lapsed_days)
    states = [
        {
            "state": state,
            "customers": int(found.get(state, {}).get("customers", 0)),
            "share": found.get(state, {}).get("share", 0.0),
            "revenue": found.get(state, {}).get("revenue", Decimal("0.00")),
            "rule": rule[state],
        }
        for state in LIFECYCLE_STATES
    ]
    as_of = query.as_of or one_row(per_customer.aggregate(day=per_customer.last_day.max()))["day"]
    return LifecycleResult(query=query, as_of=as_of, rule=rule, states=states)


@answers(StageQuery, StageResult)
def answer_stage(context: QueryContext, query: StageQuery) -> StageResult:
    orders = context.orders()
    refunds = context.table("refunds")
    evidence = one_row(stage_evidence(orders, refunds, zone=context.zone))
    if context.count(orders.filter(orders.customer_key.notnull())) > 0:
        evidence.update(retention_stability(rows(cohorts(orders, refunds, zone=context.zone))))
    else:
        evidence.update(retention_stability([]))
    verdict = decide_stage(evidence)
    return StageResult(
        query=query,
        stage=cast(Any, verdict.stage),
        evidence=evidence,
        reasons=verdict.reasons,
        next_stage_needs=verdict.next_stage_needs,
        rule=STAGE_RULE,
    )


@answers(BehaviourQuery, BehaviourResult)
def answer_behaviour(context: QueryContext, query: BehaviourQuery) -> BehaviourResult:
    orders = context.customer_orders("follow between purchases")
    lines, refunds, zone = context.table("order_lines"), context.table("refunds"), context.zone
    gaps = purchase_gaps(orders, zone=zone)
    effects = first_product_effect(
        orders, lines, zone=zone, window_days=query.window_days, min_customers=query.min_customers
    )
    most = rows(effects.limit(query.top))
    least_table = effects.order_by(["repeat_rate", ibis.desc("customers"), "product_id"]).limit(query.top)
    return BehaviourResult(
        query=query,
        inter_purchase=one_row(gap_summary(gaps)),
        inter_purchase_distribution=rows(gap_distribution(gaps)),
        weekday_hour=rows(weekday_hour(orders, zone=zone)),
        basket_sizes=rows(basket_sizes(orders, lines)),
        discounts=one_row(discount_sensitivity(orders, zone=zone, window_days=query.window_days)),
        channels=rows(acquisition_effects(orders, refunds, by="channel", zone=zone, window_days=query.window_days)),
        devices=rows(acquisition_effects(orders, refunds, by="device", zone=zone, window_days=query.window_days)),
        first_products_most_repeat=most,
        first_products_least_repeat=rows(least_table),
    )


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
