"""Product suggestions as questions: what else a product's buyers bought, what a customer may buy next, and an
offline evaluation of both against popularity on a time split (rules in :mod:`shoplens.metrics`, ``_suggest``).

The evaluation is honest about tuning: the item-kNN settings are chosen on a validation window that ends where the
test window starts (trained on what came before it), and only the chosen settings are scored on the test window.
"""

from __future__ import annotations

import time
from datetime import date, timedelta
from typing import Any, ClassVar

import ibis
from pydantic import Field

from shoplens.errors import InputError, NotFoundError
from shoplens.metrics import (
    KnnSettings,
    data_span,
    item_similarity,
    knn_suggestions,
    new_products,
    popularity_suggestions,
    purchases_between,
    suggestion_scores,
)
from shoplens.privacy import suppress_small_cells
from shoplens.queries._base import Query, Result, Row, answers
from shoplens.queries._context import QueryContext, one_row, rows

# the validation grid: neighbours kept per product × recency half-life in days (None: no recency weighting)
NEIGHBOUR_GRID = (5, 10, 20)
HALF_LIFE_GRID: tuple[int | None, ...] = (None, 90)


class AlsoBoughtQuery(Query):
    kind: ClassVar[str] = "also_bought"
    product_id: str = Field(min_length=1, max_length=200)
    min_customers: int = Field(2, ge=1, le=100_000, description="customers who bought both (minimum support)")
    k: int | None = Field(None, description="k-anonymity: leave out pairs bought together by fewer than k customers")
    limit: int = Field(10, ge=1, le=100)


class AlsoBoughtResult(Result):
    query: AlsoBoughtQuery
    product_id: str
    name: str | None
    buyers: int = Field(description="known customers who bought the product")
    also_bought: list[Row] = Field(
        description="product_id, name, customers (bought both), cosine, lift, share (of this product's buyers)"
    )
    suppressed_pairs: int = Field(description="pairs left out by the k-anonymity rule (0 without k)")
    method: str


class CustomerSuggestQuery(Query):
    kind: ClassVar[str] = "customer_suggestions"
    customer_key: str = Field(min_length=1, max_length=200)
    limit: int = Field(10, ge=1, le=100)


class CustomerSuggestResult(Result):
    query: CustomerSuggestQuery
    customer_key: str
    products_bought: int
    settings: dict[str, Any]
    suggestions: list[Row] = Field(description="rank, product_id, name, score, method (item-knn or popular)")
    method: str


class SuggestEvaluationQuery(Query):
    kind: ClassVar[str] = "suggest_evaluation"
    cutoff: date | None = Field(None, description="first day of the test window (default: window_days before the end)")
    window_days: int = Field(90, ge=7, le=730, description="days of the test window, and of the validation window")
    limit: int = Field(10, ge=1, le=100)


class SuggestEvaluationResult(Result):
    query: SuggestEvaluationQuery
    split: dict[str, date]
    validation: list[Row] = Field(description="each setting tried (and popularity) on the validation window")
    chosen: dict[str, Any]
    test: dict[str, Row] = Field(description="item_knn and popularity on the test window")
    beats_popularity: bool
    seconds: float
    method: str


METHOD_ALSO = (
    "co-purchase within customers (any of their orders); pairs need min_customers customers who bought both; "
    "ranked by cosine = both / sqrt(buyers of each)"
)
METHOD_NEXT = (
    "item-kNN: score = sum over bought products of recency weight x cosine, over each product's nearest "
    "neighbours; products already bought are left out; filled with the most popular products not bought"
)


def _names(context: QueryContext) -> ibis.Table:
    """One name per product: the first in sort order when the catalogue repeats a product id. (An aggregate every
    engine has; ``distinct(on=..., keep="first")`` needs ``first()``, which PostgreSQL lacks, and picks any row.)"""
    products = context.table("products")
    return products.group_by("product_id").aggregate(name=products.name.min())


@answers(AlsoBoughtQuery, AlsoBoughtResult)
def answer_also_bought(context: QueryContext, query: AlsoBoughtQuery) -> AlsoBoughtResult:
    orders = context.orders()
    lines = context.table("order_lines")
    known = context.count(lines.filter(lines.product_id == query.product_id).limit(1))
    products = context.table("products")
    listed = context.count(products.filter(products.product_id == query.product_id).limit(1))
    if not known and not listed:
        raise NotFoundError(f"no product {query.product_id!r} in the store")
    bought = purchases_between(orders, lines, zone=context.zone, start=None, end=None)
    mine = item_similarity(bought, min_customers=query.min_customers, of=query.product_id)
    suppressed = 0
    if query.k is not None:
        split = suppress_small_cells(mine.mutate(people=mine.customers), k=query.k)
        mine = split.released.drop("people")
        suppressed = split.counts()[0]
    names = _names(context).select(also_bought="product_id", also_name="name")
    named = mine.left_join(names, "also_bought")
    found = rows(
        named.select(
            product_id=named.also_bought,
            name=named.also_name,
            customers=named.customers,
            cosine=named.cosine,
            lift=named.lift,
            share=named.share,
        )
        .order_by([ibis.desc("cosine"), ibis.desc("customers"), ibis.asc("product_id")])
        .limit(query.limit)
    )
    buyers = one_row(
        bought.filter(bought.product_id == query.product_id).aggregate(buyers=bought.customer_key.nunique())
    )
    name = one_row(_names(context).filter(lambda t: t.product_id == query.product_id)).get("name")
    return AlsoBoughtResult(
        query=query,
        product_id=query.product_id,
        name=name,
        buyers=int(buyers.get("buyers") or 0),
        also_bought=found,
        suppressed_pairs=suppressed,
        method=METHOD_ALSO,
    )


@answers(CustomerSuggestQuery, CustomerSuggestResult)
def answer_customer_suggestions(context: QueryContext, query: CustomerSuggestQuery) -> CustomerSuggestResult:
    orders = context.orders()
    customers = context.table("customers")
    who = customers.filter(customers.customer_key == query.customer_key).select("customer_key")
    if context.count(who) == 0:
        raise NotFoundError(f"no customer {query.customer_key!r} in the store")
    bought = purchases_between(orders, context.table("order_lines"), zone=context.zone, start=None, end=None)
    as_of = one_row(data_span(orders, context.table("refunds"), context.zone))["last_day"]
    settings = KnnSettings()
    suggested = knn_suggestions(bought, who, as_of=as_of, settings=settings, limit=query.limit)
    names = _names(context)
    named = suggested.left_join(names, "product_id").drop("product_id_right")
    found = rows(named.select("rank", "product_id", "name", "score", "method").order_by("rank"))
    owned = context.count(bought.filter(bought.customer_key == query.customer_key))
    return CustomerSuggestResult(
        query=query,
        customer_key=query.customer_key,
        products_bought=owned,
        settings=settings.describe(),
        suggestions=found,
        method=METHOD_NEXT,
    )


def _scores(suggested: ibis.Table, relevant: ibis.Table) -> Row:
    found = one_row(suggestion_scores(suggested, relevant))
    return {key: found.get(key) for key in ("customers", "hit_rate", "recall", "relevant_products", "hits")}


@answers(SuggestEvaluationQuery, SuggestEvaluationResult)
def answer_suggest_evaluation(context: QueryContext, query: SuggestEvaluationQuery) -> SuggestEvaluationResult:
    started = time.perf_counter()
    orders = context.customer_orders("suggest products to")
    lines, zone = context.table("order_lines"), context.zone
    span = one_row(data_span(orders, context.table("refunds"), zone))
    window = timedelta(days=query.window_days)
    cutoff = query.cutoff or span["last_day"] - window + timedelta(days=1)
    validation_from = cutoff - window
    if validation_from <= span["first_day"]:
        raise InputError(
            f"cutoff {cutoff} leaves no history before the validation window ({validation_from}); the data starts "
            f"{span['first_day']}: choose a later cutoff or a shorter window_days"
        )
    if cutoff > span["last_day"]:
        raise InputError(f"cutoff {cutoff} is after the last day with data ({span['last_day']})")

    def split(start: date, end: date) -> tuple[ibis.Table, ibis.Table, ibis.Table]:
        history = purchases_between(orders, lines, zone=zone, start=None, end=start)
        later = purchases_between(orders, lines, zone=zone, start=start, end=end)
        relevant = new_products(history, later)
        return history, relevant, relevant.select("customer_key").distinct()

    history, relevant, who = split(validation_from, cutoff)
    tried: list[Row] = []
    as_of = validation_from - timedelta(days=1)
    for neighbours in NEIGHBOUR_GRID:
        for half_life in HALF_LIFE_GRID:
            settings = KnnSettings(neighbours=neighbours, half_life_days=half_life)
            suggested = knn_suggestions(history, who, as_of=as_of, settings=settings, limit=query.limit)
            tried.append({"method": "item_knn", **settings.describe(), **_scores(suggested, relevant)})
    popular = popularity_suggestions(history, who, limit=query.limit)
    tried.append({"method": "popularity", **_scores(popular, relevant)})
    best = max(
        (row for row in tried if row["method"] == "item_knn"),
        key=lambda row: (row["hit_rate"] or 0.0, row["recall"] or 0.0),
    )
    chosen = KnnSettings(
        min_customers=int(best["min_customers"]),
        neighbours=int(best["neighbours"]),
        half_life_days=best["half_life_days"],
    )
    test_end = cutoff + window
    history, relevant, who = split(cutoff, test_end)
    as_of = cutoff - timedelta(days=1)
    knn = knn_suggestions(history, who, as_of=as_of, settings=chosen, limit=query.limit)
    test = {
        "item_knn": _scores(knn, relevant),
        "popularity": _scores(popularity_suggestions(history, who, limit=query.limit), relevant),
    }
    beats = (test["item_knn"]["hit_rate"] or 0.0) > (test["popularity"]["hit_rate"] or 0.0)
    return SuggestEvaluationResult(
        query=query,
        split={
            "validation_train_before": validation_from,
            "validation_from": validation_from,
            "validation_to": cutoff - timedelta(days=1),
            "test_train_before": cutoff,
            "test_from": cutoff,
            "test_to": min(test_end - timedelta(days=1), span["last_day"]),
        },
        validation=tried,
        chosen=chosen.describe(),
        test=test,
        beats_popularity=beats,
        seconds=round(time.perf_counter() - started, 1),
        method=f"{METHOD_NEXT}; at most {query.limit} suggestions per customer",
    )
