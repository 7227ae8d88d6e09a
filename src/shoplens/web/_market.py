"""The market over the API and the dashboard: competitors' figures and market-size estimates (read by everyone who
sees the Acquisition page, changed by owners only, each change written to the audit log) and the store's position,
``GET /api/v1/market/position``, the same kept answer the Market page draws.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup, escape
from pydantic import BaseModel, ConfigDict, Field

from shoplens.actions import (
    MARKET_MEASURES,
    Benchmarks,
    check_benchmarks,
    check_market_period,
    check_name,
    check_size,
)
from shoplens.appdb import MarketStore
from shoplens.queries import MarketPositionQuery, MarketPositionResult, market_position_query
from shoplens.reports import line_chart
from shoplens.web._api import answer
from shoplens.web._dashboard import PAGE_TROUBLE, page_store
from shoplens.web._deps import CUSTOMER_LEVEL, app_database, audit, principal_of, require_roles
from shoplens.web._errors import API_PREFIX, ApiError
from shoplens.web._pages import CustomerViewer, analysis, page_empty_state, table, trouble
from shoplens.web._tables import TABLE_PARAMS_DEPENDENCY

MARKET_EDITORS = ("owner",)
Readers = require_roles(*CUSTOMER_LEVEL)
Editors = require_roles(*MARKET_EDITORS)


class CompetitorChange(BaseModel):
    """A competitor's figures as ``shoplens market competitor add`` takes them (each optional)."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(max_length=200)
    price_index: float | None = None
    delivery_days: float | None = None
    returns_days: int | None = None
    range_size: int | None = None
    rating: float | None = None
    note: str = Field("", max_length=300)
    as_of: date | None = None


class SizeChange(BaseModel):
    """An online market-size estimate for a month (YYYY-MM) or a year (YYYY), in the store's currency."""

    model_config = ConfigDict(extra="forbid")
    period: str = Field(max_length=16)
    size: float
    source: str = Field("", max_length=300)


class OwnChange(BaseModel):
    """The store's own return window in days."""

    model_config = ConfigDict(extra="forbid")
    returns_days: int


def _store(request: Request) -> MarketStore:
    return MarketStore(app_database(request))


def _actor(request: Request) -> str:
    principal = principal_of(request)
    assert principal is not None, "require_roles ran first"
    return principal.actor


def position_query(request: Request) -> MarketPositionQuery:
    """The question over what the store's app database holds now."""
    store = _store(request)
    return market_position_query(store.competitors(), store.sizes(), store.own())


def router() -> APIRouter:
    routes = APIRouter(prefix=f"{API_PREFIX}/market", tags=["market"])

    @routes.get("/competitors", dependencies=[Readers])
    def competitors(request: Request) -> dict[str, Any]:
        """Every competitor entered, by name (``shoplens market competitor list``)."""
        return {"competitors": [c.as_dict() for c in _store(request).competitors()]}

    @routes.post("/competitors", dependencies=[Editors])
    def add_competitor(request: Request, body: CompetitorChange) -> dict[str, Any]:
        """Add a competitor or replace its figures; owners only, written to the audit log."""
        name = check_name(body.name)
        figures = check_benchmarks(
            Benchmarks(body.price_index, body.delivery_days, body.returns_days, body.range_size, body.rating)
        )
        found, replaced = _store(request).set_competitor(
            name=name, **figures.__dict__, note=body.note.strip(), as_of=body.as_of
        )
        row = found.as_dict()
        details = {key: row[key] for key in ("name", *MARKET_MEASURES)}
        entry = audit(request, _actor(request), "market.competitor_set", {**details, "replaced": replaced})
        return {"competitor": row, "replaced": replaced, "audit_entry": entry.id}

    @routes.delete("/competitors/{name}", dependencies=[Editors])
    def delete_competitor(request: Request, name: Annotated[str, Path(max_length=200)]) -> dict[str, Any]:
        """Delete one competitor; 404 for a name never added."""
        chosen = check_name(name)
        if not _store(request).delete_competitor(chosen):
            raise ApiError(404, "not_found", f"no competitor named {chosen!r}")
        entry = audit(request, _actor(request), "market.competitor_delete", {"name": chosen})
        return {"deleted": {"name": chosen}, "audit_entry": entry.id}

    @routes.get("/sizes", dependencies=[Readers])
    def sizes(request: Request) -> dict[str, Any]:
        """Every market-size estimate, by period (``shoplens market size list``)."""
        return {"sizes": [s.as_dict() for s in _store(request).sizes()]}

    @routes.post("/sizes", dependencies=[Editors])
    def set_size(request: Request, body: SizeChange) -> dict[str, Any]:
        """Set the online market's size of a period, replacing one set before; owners only, audited."""
        period = check_market_period(body.period)
        check_size(body.size)
        found, replaced = _store(request).set_size(period=period, size=body.size, source=body.source.strip())
        details = {"period": period, "size": body.size, "replaced": replaced}
        entry = audit(request, _actor(request), "market.size_set", details)
        return {"size": found.as_dict(), "replaced": replaced, "audit_entry": entry.id}

    @routes.delete("/sizes/{period}", dependencies=[Editors])
    def delete_size(request: Request, period: Annotated[str, Path(max_length=16)]) -> dict[str, Any]:
        """Delete one estimate; 404 for a period never set."""
        chosen = check_market_period(period)
        if not _store(request).delete_size(chosen):
            raise ApiError(404, "not_found", f"no market-size estimate for {chosen}")
        entry = audit(request, _actor(request), "market.size_delete", {"period": chosen})
        return {"deleted": {"period": chosen}, "audit_entry": entry.id}

    @routes.post("/own", dependencies=[Editors])
    def set_own(request: Request, body: OwnChange) -> dict[str, Any]:
        """Set the store's own return window (``shoplens market own set``); owners only, audited."""
        check_benchmarks(Benchmarks(returns_days=body.returns_days))
        _store(request).set_own("returns_days", float(body.returns_days))
        entry = audit(request, _actor(request), "market.own_set", {"returns_days": body.returns_days})
        return {"own": {"returns_days": body.returns_days}, "audit_entry": entry.id}

    @routes.get("/position", dependencies=[Readers])
    def position(request: Request) -> Response:
        """The store's measured figures against each competitor's with its rank per measure, and its estimated
        online market share per period with the change and the least-squares trend (``MarketPositionQuery``)."""
        return answer(request, position_query(request))

    return routes


# --- the dashboard page ----------------------------------------------------------------------------------------


def share_summary(result: MarketPositionResult) -> str:
    """The share chart's text alternative: every period's share, and the trend."""
    if not result.share:
        return "No market-size estimates, so no market share to show."
    shares = ", ".join(f"{row['period']} {row['share']:.2%}" for row in result.share)
    told = f"Estimated online market share: {shares}."
    if result.slope_per_month is not None:
        told += f" Trend {result.trend}, {result.slope_per_month * 100:+.3f} points a month."
    return told


def _share_chart(result: MarketPositionResult) -> Markup:
    records = [{"period": row["period"], "share": row["share"]} for row in result.share]
    svg = line_chart(records, x="period", y="share", title="Estimated online market share", y_format="%")
    told = escape(share_summary(result))
    return Markup(f'<figure><div role="img" aria-label="{told}">{svg}</div><figcaption>{told}</figcaption></figure>')


def _position_rows(result: MarketPositionResult) -> list[dict[str, Any]]:
    rows = []
    for row in result.position:
        found: dict[str, Any] = {"measure": row["measure"], "better is": row["better_is"], "this store": row["store"]}
        found.update({name: value for name, value in row["competitors"].items()})
        found["store rank"] = f"{row['store_rank']} of {row['ranked']}" if row["store_rank"] else None
        found["better than"] = ", ".join(row["better_than"]) or None
        found["worse than"] = ", ".join(row["worse_than"]) or None
        rows.append(found)
    return rows


def page_router() -> APIRouter:
    routes = APIRouter(include_in_schema=False, dependencies=[TABLE_PARAMS_DEPENDENCY])

    @routes.get("/market", response_class=HTMLResponse)
    def market_page(request: Request, principal: CustomerViewer) -> Response:
        """The positioning table and the share over time of ``GET /api/v1/market/position``."""
        try:
            result = page_store(request).answer(position_query(request), MarketPositionResult)
        except PAGE_TROUBLE as exc:
            return trouble(request, principal, exc)
        names = [c["name"] for c in result.competitors]
        columns = ["measure", "better is", "this store", *names, "store rank", "better than", "worse than"]
        share_columns = ["period", "revenue", "market_size", "share", "change", "partial", "source"]
        shares = [{**row, "share": round(row["share"], 6)} for row in result.share]
        tables = [
            table("Positioning", "market-position", _position_rows(result), columns),
            table("Estimated online market share", "market-share", shares, share_columns),
        ]
        charts = [_share_chart(result)] if result.share else []
        notes = [f"Data to {result.as_of}.", *result.notes]
        empty = [] if (result.competitors or result.share) else [page_empty_state(principal, "market")]
        return analysis(request, principal, "Market", notes=notes, charts=charts, tables=tables, empty_states=empty)

    return routes
