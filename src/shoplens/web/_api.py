"""The analytics API under ``/api/v1``: each route takes a typed query (as query parameters), hands it to the one
:class:`shoplens.metrics.MetricsRunner` and returns the typed result.

Results carry an ``ETag`` made from the query and the warehouse's data version; a request whose ``If-None-Match``
matches gets ``304 Not Modified`` without the numbers being computed again. Vendors see store-level figures
(KPIs, funnel, products, baskets); customer-level routes answer them 403.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import ibis
from fastapi import APIRouter, Query, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from shoplens.config import Settings
from shoplens.metrics import (
    BasketQuery,
    CohortQuery,
    FunnelQuery,
    KpiQuery,
    LifecycleQuery,
    MetricQuery,
    MetricsRunner,
    ProductQuery,
    RfmQuery,
    StageQuery,
    lifecycle,
    rfm_scores,
    rows,
)
from shoplens.models.runners import ClvPredictQuery, run_clv_predict
from shoplens.voice import ThemesQuery, run_themes
from shoplens.web._deps import EVERYONE, CustomerLevel, require_roles
from shoplens.web._errors import API_PREFIX
from shoplens.web._warehouse import etag, metrics_runner, read_only_warehouse

MAX_PAGE_SIZE = 500


def _settings(request: Request) -> Settings:
    settings = request.app.state.settings
    assert isinstance(settings, Settings)
    return settings


def answer(request: Request, kind: str, query: MetricQuery, runner: MetricsRunner) -> Response:
    """The result of ``query`` as JSON with its ETag, or 304 when the client has it already."""
    tag = etag(kind, query, runner)
    headers = {"ETag": tag, "Cache-Control": "private, no-cache"}
    if tag in {t.strip() for t in request.headers.get("if-none-match", "").split(",")}:
        return Response(status_code=304, headers=headers)
    result = runner.run(query)
    return JSONResponse(jsonable_encoder(result.model_dump(mode="json")), headers=headers)


def customer_page(
    runner: MetricsRunner, *, segment: str | None, state: str | None, offset: int, limit: int
) -> dict[str, Any]:
    """Pseudonymous customers with their RFM segment and lifecycle state, largest spenders first.

    Reads only the analytic ``orders`` and ``refunds`` tables: nothing from the PII vault is ever joined in.
    """
    orders = runner.table("orders")
    refunds = runner.table("refunds")
    known = orders.filter(orders.customer_key.notnull())
    scores = rfm_scores(known, refunds, zone=runner.zone).select(
        "customer_key", "recency_days", "frequency", "monetary", "segment"
    )
    states = lifecycle(known, refunds, zone=runner.zone).select("customer_key", "orders", "revenue", state="state")
    joined = scores.join(states, "customer_key")
    if segment is not None:
        joined = joined.filter(joined.segment == segment)
    if state is not None:
        joined = joined.filter(joined.state == state)
    total = int(joined.count().execute())
    page = joined.order_by([ibis.desc("revenue"), "customer_key"]).limit(limit, offset=offset)
    return {
        "total": total,
        "offset": offset,
        "limit": limit,
        "customers": [
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
    }


def router() -> APIRouter:
    vendors_too = require_roles(*EVERYONE)
    routes = APIRouter(prefix=API_PREFIX, tags=["analytics"])

    @routes.get("/kpis", dependencies=[vendors_too])
    def kpis(request: Request, query: Annotated[KpiQuery, Query()]) -> Response:
        """Revenue, orders, customers, AOV, refund and repeat rates per period (``KpiQuery``)."""
        with metrics_runner(_settings(request)) as runner:
            return answer(request, "kpis", query, runner)

    @routes.get("/funnel", dependencies=[vendors_too])
    def funnel(request: Request, query: Annotated[FunnelQuery, Query()]) -> Response:
        """Sessions through product view, cart, checkout and purchase (``FunnelQuery``)."""
        with metrics_runner(_settings(request)) as runner:
            return answer(request, "funnel", query, runner)

    @routes.get("/products", dependencies=[vendors_too])
    def products(request: Request, query: Annotated[ProductQuery, Query()]) -> Response:
        """Product performance, ABC classes, categories and supplier returns (``ProductQuery``)."""
        with metrics_runner(_settings(request)) as runner:
            return answer(request, "products", query, runner)

    @routes.get("/basket", dependencies=[vendors_too])
    def basket(request: Request, query: Annotated[BasketQuery, Query()]) -> Response:
        """Basket overview and association rules (``BasketQuery``)."""
        with metrics_runner(_settings(request)) as runner:
            return answer(request, "basket", query, runner)

    @routes.get("/rfm", dependencies=[CustomerLevel])
    def rfm(request: Request, query: Annotated[RfmQuery, Query()]) -> Response:
        """RFM segments with size, revenue, meaning and suggested action (``RfmQuery``)."""
        with metrics_runner(_settings(request)) as runner:
            return answer(request, "rfm", query, runner)

    @routes.get("/cohorts", dependencies=[CustomerLevel])
    def cohort_table(request: Request, query: Annotated[CohortQuery, Query()]) -> Response:
        """Retention and revenue of each acquisition cohort by period (``CohortQuery``)."""
        with metrics_runner(_settings(request)) as runner:
            return answer(request, "cohorts", query, runner)

    @routes.get("/lifecycle", dependencies=[CustomerLevel])
    def lifecycle_states(request: Request, query: Annotated[LifecycleQuery, Query()]) -> Response:
        """Customers per lifecycle state: new, active, at risk, lapsed (``LifecycleQuery``)."""
        with metrics_runner(_settings(request)) as runner:
            return answer(request, "lifecycle", query, runner)

    @routes.get("/stage", dependencies=[CustomerLevel])
    def stage(request: Request) -> Response:
        """The business's development stage with its evidence (``StageQuery``)."""
        with metrics_runner(_settings(request)) as runner:
            return answer(request, "stage", StageQuery(), runner)

    @routes.get("/customers", dependencies=[CustomerLevel])
    def customers(
        request: Request,
        segment: Annotated[str | None, Query(max_length=64)] = None,
        lifecycle_state: Annotated[str | None, Query(alias="lifecycle", max_length=32)] = None,
        offset: Annotated[int, Query(ge=0)] = 0,
        limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
    ) -> Response:
        """Pseudonymous customers (key, segment, lifecycle state), paginated; never anything from the PII vault."""
        with metrics_runner(_settings(request)) as runner:
            described = f"{segment}|{lifecycle_state}|{offset}|{limit}"
            tag = etag("customers", described, runner)
            headers = {"ETag": tag, "Cache-Control": "private, no-cache"}
            if tag in {t.strip() for t in request.headers.get("if-none-match", "").split(",")}:
                return Response(status_code=304, headers=headers)
            page = customer_page(runner, segment=segment, state=lifecycle_state, offset=offset, limit=limit)
            return JSONResponse(jsonable_encoder(page), headers=headers)

    @routes.get("/clv", dependencies=[CustomerLevel])
    def clv_summary(
        request: Request,
        horizon: Annotated[int, Query(ge=1, le=3650, description="days ahead")] = 365,
        model: Annotated[Literal["bgnbd", "pareto-nbd"], Query()] = "bgnbd",
    ) -> Response:
        """CLV and churn risk (``ClvPredictQuery``): totals by churn risk and value tier, no per-customer rows."""
        settings = _settings(request)
        query = ClvPredictQuery(horizon=horizon, model=model, limit=1)
        with read_only_warehouse(settings) as warehouse:
            version = warehouse.data_version
            warehouse.con.execute("SELECT 1").fetchall()  # drain the open result data_version leaves behind
            tag = etag("clv", f"{horizon}|{model}|{version}", None)
            if _matches(request, tag):
                return Response(status_code=304, headers=_cache_headers(tag))
            document = clv_summary_of(warehouse.ibis(), query, settings, version)
        return JSONResponse(jsonable_encoder(document), headers=_cache_headers(tag))

    @routes.get("/voice/themes", dependencies=[CustomerLevel])
    def voice_themes(request: Request, query: Annotated[ThemesQuery, Query()]) -> Response:
        """Themes in the customers' feedback with quotes, negative share and value at risk (``ThemesQuery``)."""
        with read_only_warehouse(_settings(request)) as warehouse:
            version = warehouse.data_version
            warehouse.con.execute("SELECT 1").fetchall()
            tag = etag("voice-themes", f"{query.model_dump_json()}|{version}", None)
            if _matches(request, tag):
                return Response(status_code=304, headers=_cache_headers(tag))
            document = run_themes(warehouse.ibis(), query)
        return JSONResponse(jsonable_encoder(document), headers=_cache_headers(tag))

    return routes


def clv_summary_of(backend: Any, query: ClvPredictQuery, settings: Settings, version: int) -> dict[str, Any]:
    """The CLV runner's answer without its per-customer rows."""
    document = run_clv_predict(
        backend, query, data_version=version, models_dir=settings.home / "models", timezone=settings.store_timezone
    )
    document.pop("rows", None)
    return document


def _cache_headers(tag: str) -> dict[str, str]:
    return {"ETag": tag, "Cache-Control": "private, no-cache"}


def _matches(request: Request, tag: str) -> bool:
    return tag in {t.strip() for t in request.headers.get("if-none-match", "").split(",")}
