"""Customers one by one, pseudonymous: who they are to the shop (segment, lifecycle), never who they are.

Reads only the analytic ``orders`` and ``refunds`` tables: nothing from the personal-data vault is ever joined in.
"""

from __future__ import annotations

from typing import ClassVar

import ibis
from pydantic import Field

from shoplens.metrics import lifecycle, rfm_scores
from shoplens.queries._base import Query, Result, Row, answers
from shoplens.queries._context import QueryContext, rows

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
