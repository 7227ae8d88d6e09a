"""``preferences``: one customer's preference profile, or the store's overview of them; ``preference_shifts``: what
each RFM segment buys in the last six months against the six before (rules in :mod:`shoplens.metrics`, module
``_preferences``; the statistics are kept current by :mod:`shoplens.queries._preference_state`)."""

from __future__ import annotations

import re
from datetime import date
from typing import Any, ClassVar, Literal

import ibis
import ibis.expr.types as ir
import pyarrow as pa
from pydantic import Field, field_validator

from shoplens.errors import InputError, NotFoundError
from shoplens.ingest import KEY_HEX_CHARS, KEY_PREFIX
from shoplens.metrics import SEGMENT_NAMES, data_end, money, ratio, rfm_scores, with_local_day
from shoplens.metrics._preferences import (
    BUSINESS_RULE,
    NO_CATEGORY,
    PRICE_BANDS,
    WEEKDAYS,
    customer_traits,
    home_country,
    store_levels,
    top_categories,
    top_products,
)
from shoplens.queries._base import Query, Result, Row, answers
from shoplens.queries._context import QueryContext, one_row, rows
from shoplens.queries._preference_state import PreferenceState, StateUpdate, Statistics, full_statistics

KEY_PATTERN = rf"{KEY_PREFIX}[0-9a-f]{{{KEY_HEX_CHARS}}}"
UNKNOWN_CUSTOMER = "no customer with this key has orders in the store"
NO_CONSENT = "this customer has refused consent to marketing and personalisation, so no preference profile is shown"
RULES = {
    "preferred": "top 3 products and categories by line spend (before discounts), share of the customer's spend",
    "price_band": "the customer's median unit price against the store's price quartiles (nearest rank over every "
    "purchase line): below Q1 budget, below Q2 mid, below Q3 premium, else luxury",
    "discount_share": "share of the customer's orders with a discount or a discount code",
    "habits": "channel, device, weekday and hour: the most frequent among the customer's orders, store-local time",
    "order_size": "median units and median net per order",
    "international": "the customer's country is not the store's home country (its most common customer country)",
    "business_buyer": BUSINESS_RULE,
    "consent": "customers who refused marketing consent (consent_marketing false) get no profile",
}


class PreferenceQuery(Query):
    kind: ClassVar[str] = "preferences"
    customer: str | None = Field(
        None, description="pseudonymous customer key (c_ and 20 hex digits); none: the store's overview"
    )

    @field_validator("customer")
    @classmethod
    def _a_key(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(KEY_PATTERN, value):
            raise ValueError(f"not a customer key: a key is {KEY_PREFIX} and {KEY_HEX_CHARS} lowercase hex digits")
        return value


class PreferenceResult(Result):
    query: PreferenceQuery = PreferenceQuery()
    profile: dict[str, Any] | None = Field(None, description="the customer's profile (with --customer)")
    store: Row = Field(
        description="the store's levels: price quartiles, median quantity per line and units per order, home country"
    )
    overview: Row | None = Field(None, description="customers profiled, business buyers, price bands, international")
    state: Row = Field(description="how the statistics were brought up to date: mode, orders read, orders held")
    rules: dict[str, str] = RULES


def statistics_of(context: QueryContext) -> tuple[Statistics, StateUpdate]:
    """The store's preference statistics: kept current in the store's cache, or computed afresh without one."""
    orders = context.customer_orders("profile")
    lines = context.table("order_lines")
    if context.preferences_dir is None:
        statistics, ledger = full_statistics(orders, lines, context.zone)
        return statistics, StateUpdate("full", ledger.num_rows, ledger.num_rows, 0.0)
    state = PreferenceState(context.preferences_dir)
    return state.update(orders, lines, context.zone, data_version=context.data_version)


def _memtables(statistics: Statistics) -> dict[str, ir.Table]:
    return {name: ibis.memtable(table) for name, table in statistics.items()}


def _local(table: ir.Table) -> ir.Table:
    """A warehouse table brought next to the statistics (which live in memory, on the in-process engine)."""
    return ibis.memtable(table.to_pyarrow())


def _only(statistics: Statistics, key: str) -> Statistics:
    found: Statistics = {}
    for name, table in statistics.items():
        keep = pa.compute.equal(table["customer_key"], pa.scalar(key))
        found[name] = table.filter(pa.compute.fill_null(keep, False))
    return found


def _store_row(memtables: dict[str, ir.Table], home: str | None) -> tuple[ir.Table, Row]:
    levels = store_levels(memtables["prices"], memtables["quantities"], memtables["sizes"])
    return levels, {**one_row(levels), "home_country": home}


@answers(PreferenceQuery, PreferenceResult)
def answer_preferences(context: QueryContext, query: PreferenceQuery) -> PreferenceResult:
    statistics, update = statistics_of(context)
    customers_table = context.table("customers")
    state = {"mode": update.mode, "orders_read": update.orders_read, "orders_held": update.orders_held}
    if query.customer is not None:
        return _one_profile(context, query, statistics, customers_table, state)
    customers = _local(customers_table.select("customer_key", "country"))
    home = _scalar(home_country(customers))
    memtables = _memtables(statistics)
    levels, store = _store_row(memtables, home)
    traits = customer_traits(memtables, customers, levels, home_country=home)
    overview = one_row(
        traits.aggregate(
            customers=traits.count(),
            business_buyers=traits.count(where=traits.business_buyer),
            international=traits.count(where=traits.international),
            domestic=traits.count(where=~traits.international),
            discount_buyers=traits.count(where=traits.discount_share >= 0.5),
            **{f"band_{band}": traits.count(where=traits.price_band == band) for band in PRICE_BANDS},
        )
    )
    bands = {band: overview.pop(f"band_{band}") for band in PRICE_BANDS}
    return PreferenceResult(query=query, store=store, overview={**overview, "price_bands": bands}, state=state)


def _scalar(expression: ir.Scalar) -> Any:
    return expression.to_pyarrow().as_py()


def _without_key(found: list[Row]) -> list[Row]:
    return [{k: v for k, v in row.items() if k != "customer_key"} for row in found]


def _one_profile(
    context: QueryContext,
    query: PreferenceQuery,
    statistics: Statistics,
    customers_table: ir.Table,
    state: Row,
) -> PreferenceResult:
    key = query.customer
    assert key is not None
    person = one_row(
        customers_table.filter(customers_table.customer_key == key).select("customer_key", "consent_marketing")
    )
    if not person:
        raise NotFoundError(UNKNOWN_CUSTOMER)
    if person.get("consent_marketing") is False:
        raise NotFoundError(NO_CONSENT)
    mine = _only(statistics, key)
    if mine["totals"].num_rows == 0:
        raise NotFoundError(UNKNOWN_CUSTOMER)
    customers = _local(customers_table.select("customer_key", "country"))
    home = _scalar(home_country(customers))
    memtables = _memtables(statistics)
    levels, store = _store_row(memtables, home)
    mine_tables = _memtables(mine)
    traits = one_row(customer_traits(mine_tables, customers, levels, home_country=home))
    bought = mine_tables["products"].select("product_id")
    products_table = context.table("products")
    ids = [r["product_id"] for r in rows(bought) if r["product_id"] is not None]
    products = _local(products_table.filter(products_table.product_id.isin(ids or [""])))
    products = products.select("product_id", "name", "category")
    top = _without_key(rows(top_products(mine_tables["products"], products)))
    categories = _without_key(rows(top_categories(mine_tables["products"], products)))
    weekday = traits.get("weekday")
    profile = {
        "customer_key": key,
        "orders": traits["orders"],
        "spend": traits["spend"],
        "top_categories": categories,
        "top_products": top,
        "price_band": traits["price_band"],
        "median_unit_price": traits["median_unit_price"],
        "discount_share": traits["discount_share"],
        "discounted_orders": traits["discounted_orders"],
        "channel": traits["channel"],
        "device": traits["device"],
        "weekday": WEEKDAYS[weekday] if weekday is not None else None,
        "hour": traits["hour"],
        "median_units": traits["median_units"],
        "median_net": traits["median_net"],
        "median_quantity_per_line": traits["median_quantity"],
        "country": traits["country"],
        "international": traits["international"],
        "business_buyer": traits["business_buyer"],
    }
    return PreferenceResult(query=query, profile=profile, store=store, state=state)


# --- segment shifts ------------------------------------------------------------------------------------------------


class PreferenceShiftQuery(Query):
    kind: ClassVar[str] = "preference_shifts"
    segment: str | None = Field(None, description="an RFM segment name; none: every segment")
    months: int = Field(6, ge=1, le=24, description="length of each window, in months")
    by: Literal["category", "product"] = Field("category", description="compare category or product shares")
    top: int = Field(10, ge=1, le=100, description="items per segment, largest share now first")


class PreferenceShiftResult(Result):
    query: PreferenceShiftQuery = PreferenceShiftQuery()
    now: dict[str, date] = Field(description="first and last store-local day of the recent window")
    before: dict[str, date] = Field(description="first and last day of the window before it")
    segments: list[Row] = Field(
        description="per segment: customers buying in each window and per item the share "
        "of the segment's line spend now, before, and the change (now - before)"
    )


def _months_back(day: date, months: int) -> date:
    month = day.year * 12 + day.month - 1 - months
    year, index = divmod(month, 12)
    last = [
        31,
        29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28,
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ][index]
    return date(year, index + 1, min(day.day, last))


@answers(PreferenceShiftQuery, PreferenceShiftResult)
def answer_preference_shifts(context: QueryContext, query: PreferenceShiftQuery) -> PreferenceShiftResult:
    if query.segment is not None and query.segment not in SEGMENT_NAMES:
        raise InputError(f"segment must be one of: {', '.join(SEGMENT_NAMES)}; not {query.segment!r}")
    orders = context.customer_orders("compare")
    refunds = context.table("refunds")
    zone = context.zone
    end = data_end(orders, refunds, zone).to_pyarrow().as_py()
    start_now = _months_back(end, query.months)  # the windows are (start, end]: the day after start is the first
    start_before = _months_back(start_now, query.months)
    scores = rfm_scores(orders, refunds, zone=zone).select("customer_key", "segment")
    if query.segment is not None:
        scores = scores.filter(scores.segment == query.segment)
    local = with_local_day(orders.filter(orders.customer_key.notnull()), "ordered_at", zone)
    local = local.filter((local.local_day > start_before) & (local.local_day <= end))
    local = local.select(
        "order_id", "customer_key", window=ibis.ifelse(local.local_day > start_now, "now", "before")
    ).inner_join(scores, "customer_key")
    lines = context.table("order_lines").select("order_id", "product_id", "amount")
    bought = lines.inner_join(local, "order_id")
    if query.by == "category":
        products = context.table("products").select("product_id", "category")
        bought = bought.left_join(products, "product_id")
        bought = bought.mutate(item=bought.category.fill_null(NO_CATEGORY))
    else:
        bought = bought.mutate(item=bought.product_id.fill_null("(no product)"))
    per = bought.group_by(["segment", "window", "item"]).aggregate(spend=bought.amount.sum())
    per = per.mutate(share=ratio(per.spend, per.spend.sum().over(group_by=[per.segment, per.window])))
    now = per.filter(per.window == "now").select("segment", "item", spend_now="spend", share_now="share")
    before = per.filter(per.window == "before").select("segment", "item", spend_before="spend", share_before="share")
    both = now.outer_join(before, [now.segment == before.segment, now.item == before.item])
    both = both.select(
        segment=ibis.coalesce(both.segment, both.segment_right),
        item=ibis.coalesce(both.item, both.item_right),
        spend_now=money(both.spend_now.fill_null(0)),
        spend_before=money(both.spend_before.fill_null(0)),
        share_now=both.share_now.fill_null(0.0),
        share_before=both.share_before.fill_null(0.0),
    )
    both = both.mutate(change=both.share_now - both.share_before)
    rank = ibis.row_number().over(
        group_by=both.segment, order_by=[ibis.desc(both.share_now), ibis.desc(both.share_before), both.item]
    )
    both = both.mutate(rank=rank).filter(lambda t: t["rank"] < query.top)
    people = local.group_by(["segment"]).aggregate(
        customers_now=local.customer_key.nunique(where=local.window == "now"),
        customers_before=local.customer_key.nunique(where=local.window == "before"),
    )
    items: dict[str, list[Row]] = {}
    for row in rows(both.order_by(["segment", "rank"]).drop("rank")):
        segment = row.pop("segment")
        items.setdefault(segment, []).append({query.by: row.pop("item"), **row})
    order = {name: index for index, name in enumerate(SEGMENT_NAMES)}
    segments = [
        {**row, "items": items.get(row["segment"], [])}
        for row in sorted(rows(people), key=lambda r: order.get(r["segment"], len(order)))
    ]
    return PreferenceShiftResult(
        query=query,
        now={"first_day": _next(start_now), "last_day": end},
        before={"first_day": _next(start_before), "last_day": start_now},
        segments=segments,
    )


def _next(day: date) -> date:
    return date.fromordinal(day.toordinal() + 1)
