"""Customer analytics as questions: cohorts, RFM segments, lifecycle, development stage, behaviour.

Each query is answered by the pure Ibis metrics of :mod:`shoplens.metrics` over the context's tables; the
computation below turns their tables into the typed result.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal, cast

import ibis
from pydantic import BaseModel, BeforeValidator, Field, model_validator

from shoplens.errors import FieldError, InputError
from shoplens.metrics import (
    LIFECYCLE_STATES,
    RFM_SCORING,
    SEGMENTS,
    STAGE_RULE,
    WINDOW_RULE,
    FirstOrderFilters,
    acquisition_effects,
    basket_sizes,
    classify_window,
    cohorts,
    data_span,
    decide_stage,
    discount_sensitivity,
    evidence_text,
    first_order_customers,
    first_product_effect,
    gap_distribution,
    gap_summary,
    lifecycle,
    lifecycle_rule,
    lifecycle_summary,
    new_customer_trend,
    purchase_gaps,
    retention_stability,
    rfm_scores,
    rfm_segments,
    rfm_thresholds,
    round_evidence,
    stage_evidence,
    weekday_hour,
    window_evidence,
)
from shoplens.queries._base import Query, Result, Row, answers
from shoplens.queries._context import FLOAT_DIGITS, QueryContext, one_row, rows


def _blank_is_none(value: Any) -> Any:
    """A filter left empty (an empty form field or query parameter) is no filter."""
    if isinstance(value, str):
        return value.strip() or None
    return value


FilterValue = Annotated[Annotated[str, Field(max_length=200)] | None, BeforeValidator(_blank_is_none)]
# how each cohort filter reads in a sentence (the note of an empty answer)
COHORT_FILTER_WORDS = {
    "first_product": "first order contains product",
    "first_category": "first order contains a product of category",
    "discount_code": "first order used discount code",
    "channel": "first order came through channel",
    "country": "country is",
}


class CohortQuery(Query):
    """Acquisition cohorts; the filters keep only the customers whose first order matches all of them."""

    kind: ClassVar[str] = "cohorts"
    grain: Literal["week", "month", "quarter"] = "month"
    by: Literal["channel", "device"] | None = None
    first_product: FilterValue = Field(None, description="the first order contains this product id")
    first_category: FilterValue = Field(None, description="the first order contains a product of this category")
    discount_code: FilterValue = Field(None, description="the first order used this discount code")
    channel: FilterValue = Field(None, description="the first order's channel (else the channel acquired)")
    country: FilterValue = Field(None, description="the customer's country")

    def filters(self) -> FirstOrderFilters:
        return FirstOrderFilters(
            first_product=self.first_product,
            first_category=self.first_category,
            discount_code=self.discount_code,
            channel=self.channel,
            country=self.country,
        )


class RfmQuery(Query):
    kind: ClassVar[str] = "rfm"
    as_of: date | None = Field(None, description="reference day; default: the data end (last day with data)")


class LifecycleQuery(Query):
    kind: ClassVar[str] = "lifecycle"
    as_of: date | None = Field(None, description="reference day; default: the data end (last day with data)")
    active_days: int = Field(90, ge=1, le=3650)
    lapsed_days: int = Field(180, ge=2, le=3650)

    @model_validator(mode="after")
    def _ordered(self) -> LifecycleQuery:
        if self.active_days >= self.lapsed_days:
            raise FieldError("{active_days} must be smaller than {lapsed_days}")
        return self


class StageQuery(Query):
    kind: ClassVar[str] = "stage"


class BehaviourQuery(Query):
    kind: ClassVar[str] = "behaviour"
    window_days: int = Field(90, ge=1, le=3650, description="a customer repeats by ordering again within this")
    min_customers: int = Field(20, ge=1, description="smallest group shown in the first-product effect")
    top: int = Field(10, ge=1, le=1000)


class CohortResult(Result):
    query: CohortQuery
    rows: list[Row]
    note: str | None = Field(None, description="why there are no rows when the filters match no customer")


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
    data_end: date
    customers: int
    revenue: Decimal
    segments: list[SegmentRow]
    thresholds: list[Row]
    scoring: str


class LifecycleResult(Result):
    query: LifecycleQuery
    as_of: date
    data_end: date
    rule: dict[str, str]
    states: list[Row]


class StageResult(Result):
    query: StageQuery = StageQuery()
    stage: Literal["initial", "development", "mature"]
    window: Literal["young store", "window into an established store", "too short to tell"]
    window_signals: list[str]
    evidence: Row = Field(description="floats to 4 significant digits; the verdict reads them unrounded")
    reasons: list[str]
    next_stage_needs: list[str]
    rule: str
    window_rule: str

    def evidence_shown(self) -> list[tuple[str, str]]:
        """The evidence as a person reads it: (label, value) with shares as percentages (at most one decimal)."""
        return [(name.replace("_", " "), evidence_text(name, value)) for name, value in self.evidence.items()]


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


@answers(CohortQuery, CohortResult)
def answer_cohorts(context: QueryContext, query: CohortQuery) -> CohortResult:
    orders = context.customer_orders("group into cohorts")
    filters = query.filters()
    members = None
    if filters.given():
        members = _first_order_customers(context, orders, filters)
        if context.count(members) == 0:
            return CohortResult(query=query, rows=[], note=_nobody_matches(context, orders, filters))
    table = cohorts(
        orders, context.table("refunds"), grain=query.grain, zone=context.zone, by=query.by, members=members
    )
    return CohortResult(query=query, rows=rows(table))


def _first_order_customers(context: QueryContext, orders: ibis.Table, filters: FirstOrderFilters) -> ibis.Table:
    given = filters.given()
    return first_order_customers(
        orders,
        filters,
        order_lines=context.table("order_lines") if {"first_product", "first_category"} & set(given) else None,
        products=context.table("products") if "first_category" in given else None,
        customers=context.table("customers") if {"channel", "country"} & set(given) else None,
    )


def _nobody_matches(context: QueryContext, orders: ibis.Table, filters: FirstOrderFilters) -> str:
    """The note of an empty answer: which filter matches no customer on its own, or that only the combination
    matches nobody."""
    given = filters.given()
    alone_empty = [
        name
        for name in given
        if len(given) == 1 or context.count(_first_order_customers(context, orders, filters.only(name))) == 0
    ]
    if alone_empty:
        nobody = "; ".join(f"no customer's {COHORT_FILTER_WORDS[name]} {given[name]!r}" for name in alone_empty)
        return f"No customer matches: {nobody}."
    together = "; ".join(f"{COHORT_FILTER_WORDS[name]} {given[name]!r}" for name in given)
    return f"No customer matches all of these together: {together} (each alone matches some customers)."


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
    end = last_day_with_data(context)
    return RfmResult(
        query=query,
        as_of=query.as_of or end,
        data_end=end,
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
    end = last_day_with_data(context)
    return LifecycleResult(query=query, as_of=query.as_of or end, data_end=end, rule=rule, states=states)


def last_day_with_data(context: QueryContext) -> date:
    """The data end: the last store-local day with a purchase or a refund (the default "as of")."""
    found = one_row(data_span(context.table("orders"), context.table("refunds"), context.zone))["last_day"]
    assert isinstance(found, date)
    return found


@answers(StageQuery, StageResult)
def answer_stage(context: QueryContext, query: StageQuery) -> StageResult:
    orders = context.orders()
    refunds = context.table("refunds")
    evidence = one_row(stage_evidence(orders, refunds, zone=context.zone))
    known = context.count(orders.filter(orders.customer_key.notnull())) > 0
    cohort_rows = rows(cohorts(orders, refunds, zone=context.zone)) if known else []
    evidence.update(retention_stability(cohort_rows))
    evidence.update(new_customer_trend(cohort_rows))
    evidence.update(one_row(window_evidence(orders, zone=context.zone)) if known else {})
    window, signals = classify_window(evidence)
    verdict = decide_stage({**evidence, "window": window})
    return StageResult(
        query=query,
        stage=cast(Any, verdict.stage),
        window=cast(Any, window),
        window_signals=signals,
        evidence={name: round_evidence(value) for name, value in evidence.items()},
        reasons=verdict.reasons,
        next_stage_needs=verdict.next_stage_needs,
        rule=STAGE_RULE,
        window_rule=WINDOW_RULE,
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
