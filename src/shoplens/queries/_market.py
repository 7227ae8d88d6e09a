"""Market position as a question: the store's own figures against the competitors', and its estimated share of the
online market per period with the trend.

The competitors, the market-size estimates and the store's own return window live in the app database; the caller
reads them and puts them into the question (:func:`market_position_query`), so an answer is cached under what was
entered. The definitions are in :mod:`shoplens.actions` (``_market``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from shoplens.actions import (
    MARKET_MEASURES,
    NO_COMPETITORS,
    NO_ESTIMATES,
    STORE_LABEL,
    STORE_PRICE_INDEX,
    WINDOW_DAYS,
    SalesTables,
    market_period_bounds,
    market_position,
    monthly_kpis,
    own_delivery_days,
    own_range_size,
    own_rating,
    share_changes,
    share_slope,
    window_start,
)
from shoplens.metrics import data_span
from shoplens.queries._base import Query, Result, Row, answers
from shoplens.queries._context import QueryContext, one_row, rows


class CompetitorSpec(BaseModel):
    """One competitor as entered: its name and figures (None when not known)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    name: str
    price_index: float | None = None
    delivery_days: float | None = None
    returns_days: int | None = None
    range_size: int | None = None
    rating: float | None = None
    note: str = ""
    as_of: date | None = None


class MarketSizeSpec(BaseModel):
    """One estimate of the online market's size in a month (YYYY-MM) or a year (YYYY), in the store's currency."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    period: str
    size: float
    source: str = ""


class MarketPositionQuery(Query):
    kind: ClassVar[str] = "market_position"
    competitors: tuple[CompetitorSpec, ...] = ()
    sizes: tuple[MarketSizeSpec, ...] = ()
    returns_days: int | None = Field(None, description="the store's own return window in days, as entered")


class MarketPositionResult(Result):
    query: MarketPositionQuery
    as_of: date
    window: dict[str, date]
    store: Row
    competitors: list[Row]
    position: list[Row]
    share: list[Row]
    slope_per_month: float | None
    slope_per_year: float | None
    trend: str | None
    left_out: list[str]
    notes: list[str]


def market_position_query(
    competitors: Iterable[Any], sizes: Iterable[Any], own: Mapping[str, float]
) -> MarketPositionQuery:
    """The question over what the app database holds (competitor rows, market-size rows, the own figures)."""
    returns_days = own.get("returns_days")
    return MarketPositionQuery(
        competitors=tuple(
            CompetitorSpec(
                name=c.name,
                price_index=c.price_index,
                delivery_days=c.delivery_days,
                returns_days=c.returns_days,
                range_size=c.range_size,
                rating=c.rating,
                note=c.note or "",
                as_of=c.as_of,
            )
            for c in competitors
        ),
        sizes=tuple(MarketSizeSpec(period=s.period, size=s.size, source=s.source or "") for s in sizes),
        returns_days=None if returns_days is None else int(returns_days),
    )


def _months(start: date, end: date) -> list[date]:
    found, month = [], date(start.year, start.month, 1)
    while month <= end:
        found.append(month)
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return found


def _label(month: date) -> str:
    return f"{month:%Y-%m}"


@answers(MarketPositionQuery, MarketPositionResult)
def answer_market_position(context: QueryContext, query: MarketPositionQuery) -> MarketPositionResult:
    orders = context.orders()
    tables = SalesTables(orders, context.table("order_lines"), context.table("refunds"), context.table("customers"))
    zone = context.zone
    span = one_row(data_span(tables.orders, tables.refunds, zone))
    first_day, data_end = span["first_day"], span["last_day"]
    since = max(first_day, window_start(data_end))
    notes = [
        f"price_index: this store is {STORE_PRICE_INDEX:g} by definition; each competitor's index is as entered (its "
        "price level against this store's for comparable products): shoplens holds no competitor prices per product "
        "to compute one",
        f"delivery_days and range_size are measured on the purchases placed from {since} to {data_end} (the "
        f"{WINDOW_DAYS} days to the data end); rating is the mean of every rating in the feedback",
    ]
    delivered = one_row(own_delivery_days(orders, zone=zone, start=since, end=data_end))
    sold = one_row(own_range_size(orders, tables.order_lines, zone=zone, start=since, end=data_end))
    rated = one_row(own_rating(context.table("feedback")))
    store = {
        "name": STORE_LABEL,
        "is_store": True,
        "price_index": STORE_PRICE_INDEX,
        "delivery_days": delivered.get("median_delivery_days") if delivered.get("delivered") else None,
        "returns_days": query.returns_days,
        "range_size": int(sold.get("products") or 0),
        "rating": rated.get("rating") if rated.get("ratings") else None,
        "delivered_orders": int(delivered.get("delivered") or 0),
        "ratings": int(rated.get("ratings") or 0),
    }
    if store["delivery_days"] is None:
        notes.append("delivery_days is unknown: no purchase in the window has a delivered_at")
    if query.returns_days is None:
        notes.append(
            "returns_days is unknown: enter the store's return window with shoplens market own set --returns-days N"
        )
    if store["rating"] is None:
        notes.append("rating is unknown: the feedback holds no ratings (import reviews with --profile feedback)")
    competitors = [
        {
            "name": c.name,
            "is_store": False,
            **{m: getattr(c, m) for m in MARKET_MEASURES},
            "note": c.note or None,
            "as_of": c.as_of,
        }
        for c in query.competitors
    ]
    if not competitors:
        notes.append(NO_COMPETITORS)
    position = market_position(store, {c["name"]: c for c in competitors})
    share, left_out = _share(context, tables, query, first_day, data_end, notes)
    complete = [(row["period"], row["share"]) for row in share if not row["partial"]]
    slope = share_slope(complete)
    trend = None if slope is None else ("rising" if slope > 0 else "falling" if slope < 0 else "flat")
    return MarketPositionResult(
        query=query,
        as_of=data_end,
        window={"from": since, "through": data_end},
        store=store,
        competitors=competitors,
        position=position,
        share=share,
        slope_per_month=slope,
        slope_per_year=None if slope is None else slope * 12,
        trend=trend,
        left_out=left_out,
        notes=notes,
    )


def _share(
    context: QueryContext,
    tables: SalesTables,
    query: MarketPositionQuery,
    first_day: date,
    data_end: date,
    notes: list[str],
) -> tuple[list[Row], list[str]]:
    """The share rows (one per estimate with sales data, by period) and the months with sales left out."""
    if not query.sizes:
        notes.append(NO_ESTIMATES)
        return [], []
    bounds = {size.period: market_period_bounds(size.period) for size in query.sizes}
    start = min(first for first, _ in bounds.values())
    end = max(last for _, last in bounds.values())
    revenue: dict[date, float] = {}
    if start <= data_end and end >= first_day:
        months = monthly_kpis(tables, zone=context.zone, start=max(start, first_day), end=min(end, data_end))
        revenue = {row["period"]: float(row["revenue"] or 0) for row in rows(months)}
    found: list[Row] = []
    for size in sorted(query.sizes, key=lambda s: (bounds[s.period], s.period)):
        first, last = bounds[size.period]
        covered = (min(last, data_end) - max(first, first_day)).days + 1
        if covered <= 0:
            notes.append(
                f"{size.period} is left out: the sales data run from {first_day} to {data_end}, none in the period"
            )
            continue
        days = (last - first).days + 1
        earned = sum(value for month, value in revenue.items() if first <= month <= last)
        found.append(
            {
                "period": size.period,
                "market_size": size.size,
                "revenue": round(earned, 2),
                "share": earned / size.size,
                "partial": covered < days,
                "days_with_data": covered,
                "days_in_period": days,
                "source": size.source or None,
            }
        )
        if covered < days:
            notes.append(
                f"{size.period} is covered by the sales data on {covered} of its {days} days, so its share is "
                "understated; it is left out of the trend"
            )
    for row, (change, relative) in zip(found, share_changes([(r["period"], r["share"]) for r in found]), strict=True):
        row["change"], row["relative_change"] = change, relative
    estimated = {_label(month) for first, last in bounds.values() for month in _months(first, last)}
    left_out = [_label(m) for m in _months(first_day, data_end) if _label(m) not in estimated]
    if left_out:
        notes.append(
            f"{len(left_out)} month(s) with sales data have no market-size estimate and are left out "
            f"({left_out[0]} to {left_out[-1]})"
        )
    return found, left_out
