"""Customers one by one, pseudonymous: who they are to the shop (segment, lifecycle, value), never who they are.

``customers`` pages through them; ``customer_detail`` is one customer: orders over time, the RFM segment at the end
of each recent quarter, the CLV model's figures and the preference profile. Both read only the analytic tables:
nothing from the personal-data vault is ever joined in, and a customer is named by the pseudonymous key alone.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, ClassVar

import ibis
from pydantic import Field, field_validator

from shoplens.errors import NotFoundError
from shoplens.ingest import KEY_HEX_CHARS, KEY_PREFIX
from shoplens.metrics import customer_months, customer_totals, data_end, lifecycle, rfm_scores
from shoplens.models import ModelName, load_fit
from shoplens.queries._base import Query, Result, Row, answers
from shoplens.queries._context import QueryContext, one_row, rows
from shoplens.queries._preferences import KEY_PATTERN, UNKNOWN_CUSTOMER, PreferenceQuery, PreferenceResult
from shoplens.queries._value import ClvPredictQuery, ClvPredictResult

MAX_PAGE_SIZE = 500


class CustomerListQuery(Query):
    """A page of customers, largest spenders first, optionally of one RFM segment or lifecycle state."""

    kind: ClassVar[str] = "customers"

    segment: str | None = None
    lifecycle: str | None = None
    offset: int = Field(0, ge=0)
    limit: int = Field(50, ge=1, le=MAX_PAGE_SIZE)


class CustomerListResult(Result):
    query: CustomerListQuery
    total: int
    offset: int
    limit: int
    customers: list[Row]


@answers(CustomerListQuery, CustomerListResult)
def answer_customers(context: QueryContext, query: CustomerListQuery) -> CustomerListResult:
    orders, refunds = context.table("orders"), context.table("refunds")
    known = orders.filter(orders.customer_key.notnull())
    scores = rfm_scores(known, refunds, zone=context.zone).select(
        "customer_key", "recency_days", "frequency", "monetary", "segment"
    )
    states = lifecycle(known, refunds, zone=context.zone).select("customer_key", "orders", "revenue", state="state")
    joined = scores.join(states, "customer_key")
    if query.segment is not None:
        joined = joined.filter(joined.segment == query.segment)
    if query.lifecycle is not None:
        joined = joined.filter(joined.state == query.lifecycle)
    total = context.count(joined)
    page = joined.order_by([ibis.desc("revenue"), "customer_key"]).limit(query.limit, offset=query.offset)
    return CustomerListResult(
        query=query,
        total=total,
        offset=query.offset,
        limit=query.limit,
        customers=[
            {
                "customer_key": row["customer_key"],
                "segment": row["segment"],
                "lifecycle": row["state"],
                "orders": row["orders"],
                "revenue": row["revenue"],
                "recency_days": row["recency_days"],
            }
            for row in rows(page)
        ],
    )


# --- one customer ------------------------------------------------------------------------------------------------

CLV_HORIZON_DAYS = 365  # the horizon of the CLV page and of GET /api/v1/clv
CLV_FITS: tuple[ModelName, ...] = ("bgnbd", "gamma-gamma")
NO_MODEL = (
    "no model fitted yet for the current data: shoplens clv fit --model bgnbd and shoplens clv fit --model gamma-gamma"
)
MODEL_FIELDS = (
    "expected_purchases",
    "p_alive",
    "p_no_purchase",
    "churn_risk",
    "expected_average_spend",
    "clv",
    "expected_next_order_date",
    "value_tier",
)
SEGMENT_FIELDS = ("segment", "r_score", "f_score", "m_score", "recency_days", "frequency", "monetary")
DETAIL_RULES = {
    "months": "store-local months with a purchase or a dated refund: orders and net sales when placed, refunds "
    "when given; revenue is net sales less refunds",
    "totals": "every purchase of the customer; revenue is net sales less every refund, dated or not (refunds "
    "without a date are in no month)",
    "segments": "the customer's RFM segment as of the last day of each recent complete quarter and as of the data "
    "end, scored against every customer with an order by then (shoplens rfm --as-of); null before the first order",
    "model": f"BG/NBD and Gamma-Gamma fits saved for the current data, over the next {CLV_HORIZON_DAYS} days "
    "(as GET /api/v1/clv); never fitted here",
}


class CustomerDetailQuery(Query):
    """One pseudonymous customer: orders over time, segment history, CLV figures and preferences."""

    kind: ClassVar[str] = "customer_detail"
    kept_on_disk: ClassVar[bool] = False  # the model figures depend on the fits saved, not only on the warehouse

    customer_key: str = Field(description="pseudonymous customer key (c_ and 20 hex digits)")
    quarters: int = Field(4, ge=1, le=20, description="complete quarters of segment history before the data end")

    @field_validator("customer_key")
    @classmethod
    def _a_key(cls, value: str) -> str:
        if not re.fullmatch(KEY_PATTERN, value):
            raise ValueError(f"not a customer key: a key is {KEY_PREFIX} and {KEY_HEX_CHARS} lowercase hex digits")
        return value


class CustomerDetailResult(Result):
    query: CustomerDetailQuery
    customer_key: str
    first_order_day: date
    last_order_day: date
    total_orders: int
    net_sales: Decimal
    refunds: Decimal
    undated_refunds: Decimal = Field(description="refunds without a date: in the totals, in no month")
    total_revenue: Decimal
    months: list[Row] = Field(description="per month: month, orders, net_sales, refunds, revenue")
    segments: list[Row] = Field(description="per reference day, oldest first: as_of, period, segment and scores")
    model: Row | None = Field(None, description="P(alive), expected purchases and CLV; null when no model is fitted")
    model_note: str = ""
    preferences: dict[str, Any] | None = Field(None, description="the preference profile (PreferenceQuery)")
    preferences_note: str = ""
    rules: dict[str, str] = DETAIL_RULES


def _quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def quarter_ends(last_day: date, quarters: int) -> list[date]:
    """The last days of the ``quarters`` complete quarters up to ``last_day``, and ``last_day``, oldest first."""
    following = last_day + timedelta(days=1)
    end = last_day if _quarter_start(following) == following else _quarter_start(last_day) - timedelta(days=1)
    ends = {last_day}
    for _ in range(quarters):
        ends.add(end)
        end = _quarter_start(end) - timedelta(days=1)
    return sorted(ends)


def _period(day: date, last_day: date) -> str:
    following = day + timedelta(days=1)
    if _quarter_start(following) == following:
        return f"{day.year} Q{(day.month - 1) // 3 + 1}"
    return "data end" if day == last_day else day.isoformat()


def _segment_history(context: QueryContext, key: str, last_day: date, quarters: int) -> list[Row]:
    """The customer's RFM segment as of each reference day (one query: every day's scores, united)."""
    orders, refunds = context.table("orders"), context.table("refunds")
    days = quarter_ends(last_day, quarters)
    parts = []
    for day in days:
        scores = rfm_scores(orders, refunds, zone=context.zone, as_of=day)
        mine = scores.filter(scores.customer_key == key)
        parts.append(
            mine.select(
                "segment",
                "r_score",
                "f_score",
                "m_score",
                "recency_days",
                "frequency",
                "monetary",
                as_of=ibis.date(day),
            )
        )
    found = {row["as_of"]: row for row in rows(ibis.union(*parts, distinct=False))}
    empty = dict.fromkeys(SEGMENT_FIELDS)
    history = []
    for day in days:
        row = found.get(day, empty)
        history.append({"as_of": day, "period": _period(day, last_day), **{k: row[k] for k in empty}})
    return history


def _model_figures(context: QueryContext, key: str) -> tuple[Row | None, str]:
    """The customer's row of the CLV prediction when both fits are saved for the current data, else why not."""
    models_dir = context.models_dir
    version = int(context.data_version or 0)
    for name in CLV_FITS:
        fit = load_fit(models_dir, name) if models_dir else None
        if fit is None or fit.data_version != version:
            return None, NO_MODEL
    prediction = context.run(ClvPredictQuery(horizon=CLV_HORIZON_DAYS), ClvPredictResult)
    found = next((row for row in prediction.rows if row["customer_key"] == key), None)
    if found is None:
        return None, "the CLV model has no prediction for this customer"
    figures = {name: found.get(name) for name in MODEL_FIELDS}
    return {
        **figures,
        "as_of": prediction.as_of,
        "horizon_days": prediction.horizon_days,
        "margin": prediction.margin,
        "margin_basis": prediction.margin_basis,
        "model": "bgnbd + gamma-gamma",
    }, ""


def _preferences(context: QueryContext, key: str) -> tuple[dict[str, Any] | None, str]:
    try:
        return context.run(PreferenceQuery(customer=key), PreferenceResult).profile, ""
    except NotFoundError as refused:  # a customer who refused consent, or who is not in the customers table
        return None, str(refused)


@answers(CustomerDetailQuery, CustomerDetailResult)
def answer_customer_detail(context: QueryContext, query: CustomerDetailQuery) -> CustomerDetailResult:
    key = query.customer_key
    orders, refunds = context.table("orders"), context.table("refunds")
    mine_orders = orders.filter(orders.customer_key == key)
    mine_refunds = refunds.filter(refunds.customer_key == key)
    totals = one_row(customer_totals(mine_orders, mine_refunds, zone=context.zone))
    if not totals:
        raise NotFoundError(UNKNOWN_CUSTOMER)
    months = customer_months(mine_orders, mine_refunds, zone=context.zone).drop("customer_key").order_by("month")
    last_day = data_end(orders, refunds, context.zone).to_pyarrow().as_py()
    model, model_note = _model_figures(context, key)
    preferences, preferences_note = _preferences(context, key)
    return CustomerDetailResult(
        query=query,
        customer_key=key,
        first_order_day=totals["first_order_day"],
        last_order_day=totals["last_order_day"],
        total_orders=totals["orders"],
        net_sales=totals["net_sales"],
        refunds=totals["refunds"],
        undated_refunds=totals["undated_refunds"],
        total_revenue=totals["revenue"],
        months=rows(months),
        segments=_segment_history(context, key, last_day, query.quarters),
        model=model,
        model_note=model_note,
        preferences=preferences,
        preferences_note=preferences_note,
    )
