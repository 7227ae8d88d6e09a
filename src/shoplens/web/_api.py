"""The analytics API under ``/api/v1``: each route takes a typed query (as query parameters), hands it to the same
runner the CLI uses and returns the typed result.

Results carry an ``ETag`` made from the query, the warehouse's data version and the store's time zone; a request
whose ``If-None-Match`` matches gets ``304 Not Modified`` without the numbers being computed again, and a repeated
question is answered from the app's memory without opening the warehouse (see :class:`StoreReader`). Vendors see
store-level figures (KPIs, funnel, products, baskets); customer-level routes answer them 403.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any, Literal

import ibis
from fastapi import APIRouter, Query, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from shoplens.config import Settings
from shoplens.metrics import (
    BasketQuery,
    BehaviourQuery,
    CohortQuery,
    FunnelQuery,
    KpiQuery,
    LifecycleQuery,
    MetricQuery,
    MetricResult,
    MetricsRunner,
    ProductQuery,
    RfmQuery,
    StageQuery,
    lifecycle,
    rfm_scores,
    rows,
)
from shoplens.models.runners import (
    ClvFitQuery,
    ClvPredictQuery,
    ForecastQuery,
    TransactionModelName,
    run_clv_fit,
    run_clv_predict,
    run_forecast,
)
from shoplens.voice import NeedsQuery, ThemesQuery, analyse_sentiment, run_needs, run_themes
from shoplens.warehouse import Warehouse
from shoplens.web._deps import EVERYONE, Analysts, CustomerLevel, require_roles
from shoplens.web._errors import API_PREFIX
from shoplens.web._warehouse import PageReader, StoreReader

MAX_PAGE_SIZE = 500
MAX_SENTIMENT_TEXTS = 1000


class SentimentRequest(BaseModel):
    """Texts to score (``shoplens voice sentiment``), up to 1,000 at a time."""

    model_config = ConfigDict(extra="forbid")
    texts: list[Annotated[str, Field(max_length=10_000)]] = Field(min_length=1, max_length=MAX_SENTIMENT_TEXTS)
    method: Literal["tfidf-logreg", "vader"] = "tfidf-logreg"


def store_of(request: Request) -> StoreReader:
    store = request.app.state.store
    assert isinstance(store, StoreReader)
    return store


def _matches(request: Request, tag: str) -> bool:
    return tag in {t.strip() for t in request.headers.get("if-none-match", "").split(",")}


def _json_answer(request: Request, kind: str, described: str, document: Callable[[StoreReader, int], Any]) -> Response:
    """``document``'s JSON with its ETag: 304 when the client has it; the bytes are kept next to the result."""
    store = store_of(request)
    version = store.version()
    tag = store.etag(kind, described, version)
    headers = {"ETag": tag, "Cache-Control": "private, no-cache"}
    if _matches(request, tag):
        return Response(status_code=304, headers=headers)

    def body() -> bytes:
        return bytes(JSONResponse(jsonable_encoder(document(store, version))).body)

    return Response(
        store.remember(f"{kind}.json", described, version, body), media_type="application/json", headers=headers
    )


def respond(request: Request, kind: str, described: str, compute: Callable[[Warehouse], Any]) -> Response:
    """``compute``'s answer as JSON (see :meth:`StoreReader.result`: computed once, shared with the dashboard)."""
    return _json_answer(
        request, kind, described, lambda store, version: store.result(kind, described, version, compute)
    )


def answer(request: Request, query: MetricQuery) -> Response:
    """A metric query's result as JSON: the same kept result the dashboard draws from."""

    def document(store: StoreReader, version: int) -> Any:
        return store.metric(query, MetricResult, version).model_dump(mode="json")

    return _json_answer(request, query.kind, query.model_dump_json(), document)


def customer_listing(
    store: StoreReader | PageReader, *, segment: str | None, state: str | None, offset: int, limit: int, version: int
) -> dict[str, Any]:
    """A page of :func:`customer_page`, computed once per data version for the API and the dashboard alike."""
    return store.result(
        "customers",
        f"{segment}|{state}|{offset}|{limit}",
        version,
        lambda warehouse: customer_page(
            store.runner_for(warehouse), segment=segment, state=state, offset=offset, limit=limit
        ),
    )


def clv_totals(
    store: StoreReader | PageReader, *, horizon: int, model: TransactionModelName, version: int
) -> dict[str, Any]:
    """The CLV summary (:func:`clv_summary_of`), computed once per data version for the API and the dashboard."""
    query = ClvPredictQuery(horizon=horizon, model=model, limit=1)
    return store.result(
        "clv", f"{horizon}|{model}", version, lambda warehouse: clv_summary_of(warehouse, query, store.settings)
    )


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


def clv_summary_of(warehouse: Warehouse, query: ClvPredictQuery, settings: Settings) -> dict[str, Any]:
    """The CLV runner's answer without its per-customer rows."""
    document = run_clv_predict(
        warehouse.ibis(),
        query,
        data_version=warehouse.data_version,
        models_dir=settings.home / "models",
        timezone=settings.timezone,
    )
    document.pop("rows", None)
    return document


def router() -> APIRouter:
    vendors_too = require_roles(*EVERYONE)
    routes = APIRouter(prefix=API_PREFIX, tags=["analytics"])

    @routes.get("/kpis", dependencies=[vendors_too])
    def kpis(request: Request, query: Annotated[KpiQuery, Query()]) -> Response:
        """Revenue, orders, customers, AOV, refund and repeat rates per period (``KpiQuery``)."""
        return answer(request, query)

    @routes.get("/funnel", dependencies=[vendors_too])
    def funnel(request: Request, query: Annotated[FunnelQuery, Query()]) -> Response:
        """Sessions through product view, cart, checkout and purchase (``FunnelQuery``)."""
        return answer(request, query)

    @routes.get("/products", dependencies=[vendors_too])
    def products(request: Request, query: Annotated[ProductQuery, Query()]) -> Response:
        """Product performance, ABC classes, categories and supplier returns (``ProductQuery``)."""
        return answer(request, query)

    @routes.get("/basket", dependencies=[vendors_too])
    def basket(request: Request, query: Annotated[BasketQuery, Query()]) -> Response:
        """Basket overview and association rules (``BasketQuery``)."""
        return answer(request, query)

    @routes.get("/behaviour", dependencies=[CustomerLevel])
    def behaviour(request: Request, query: Annotated[BehaviourQuery, Query()]) -> Response:
        """Purchase gaps, weekday and hour, basket sizes, discount sensitivity, first-product effect
        (``BehaviourQuery``)."""
        return answer(request, query)

    @routes.get("/rfm", dependencies=[CustomerLevel])
    def rfm(request: Request, query: Annotated[RfmQuery, Query()]) -> Response:
        """RFM segments with size, revenue, meaning and suggested action (``RfmQuery``)."""
        return answer(request, query)

    @routes.get("/cohorts", dependencies=[CustomerLevel])
    def cohort_table(request: Request, query: Annotated[CohortQuery, Query()]) -> Response:
        """Retention and revenue of each acquisition cohort by period (``CohortQuery``)."""
        return answer(request, query)

    @routes.get("/lifecycle", dependencies=[CustomerLevel])
    def lifecycle_states(request: Request, query: Annotated[LifecycleQuery, Query()]) -> Response:
        """Customers per lifecycle state: new, active, at risk, lapsed (``LifecycleQuery``)."""
        return answer(request, query)

    @routes.get("/stage", dependencies=[CustomerLevel])
    def stage(request: Request) -> Response:
        """The business's development stage with its evidence (``StageQuery``)."""
        return answer(request, StageQuery())

    @routes.get("/customers", dependencies=[CustomerLevel])
    def customers(
        request: Request,
        segment: Annotated[str | None, Query(max_length=64)] = None,
        lifecycle_state: Annotated[str | None, Query(alias="lifecycle", max_length=32)] = None,
        offset: Annotated[int, Query(ge=0)] = 0,
        limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
    ) -> Response:
        """Pseudonymous customers (key, segment, lifecycle state), paginated; never anything from the PII vault."""
        described = f"{segment}|{lifecycle_state}|{offset}|{limit}"

        def listing(store: StoreReader, version: int) -> dict[str, Any]:
            return customer_listing(
                store, segment=segment, state=lifecycle_state, offset=offset, limit=limit, version=version
            )

        return _json_answer(request, "customers", described, listing)

    @routes.get("/clv", dependencies=[CustomerLevel])
    def clv_summary(
        request: Request,
        horizon: Annotated[int, Query(ge=1, le=3650, description="days ahead")] = 365,
        model: Annotated[Literal["bgnbd", "pareto-nbd"], Query()] = "bgnbd",
    ) -> Response:
        """CLV and churn risk (``ClvPredictQuery``): totals by churn risk and value tier, no per-customer rows."""
        return _json_answer(
            request,
            "clv",
            f"{horizon}|{model}",
            lambda store, version: clv_totals(store, horizon=horizon, model=model, version=version),
        )

    @routes.post("/clv/fit", dependencies=[Analysts])
    def clv_fit(
        request: Request,
        model: Annotated[Literal["bgnbd", "pareto-nbd", "gamma-gamma"], Query()] = "bgnbd",
        calibration_end: Annotated[date | None, Query(description="last day of calibration")] = None,
        observation_end: Annotated[date | None, Query(description="last day of the holdout")] = None,
        time_unit: Annotated[Literal["D", "W"], Query()] = "D",
    ) -> Response:
        """Fit a customer-base model and save it for CLV predictions (``ClvFitQuery``, as ``shoplens clv fit``):
        parameters, log-likelihood, warnings and, with a calibration end before the last order, the holdout."""
        store = store_of(request)
        query = ClvFitQuery(
            model=model, calibration_end=calibration_end, observation_end=observation_end, time_unit=time_unit
        )

        def fit(warehouse: Warehouse) -> dict[str, Any]:
            settings = store.settings
            return run_clv_fit(
                warehouse.ibis(),
                query,
                data_version=warehouse.data_version,
                models_dir=settings.home / "models",
                timezone=settings.timezone,
            )

        return respond(request, "clv-fit", f"{model}|{calibration_end}|{observation_end}|{time_unit}", fit)

    @routes.get("/forecast", dependencies=[CustomerLevel])
    def forecast(
        request: Request,
        metric: Annotated[Literal["revenue", "orders"], Query()] = "revenue",
        grain: Annotated[Literal["day", "week"], Query()] = "day",
        horizon: Annotated[int | None, Query(ge=1, le=730, description="periods ahead (28 days or 8 weeks)")] = None,
        by_category: Annotated[bool, Query()] = False,
        backtest_weeks: Annotated[int, Query(ge=0, le=104)] = 8,
        use_events: Annotated[bool, Query()] = True,
    ) -> Response:
        """Revenue or orders ahead with intervals, and the backtest against seasonal naive (``ForecastQuery``)."""
        query = ForecastQuery(
            metric=metric,
            grain=grain,
            horizon=horizon or (28 if grain == "day" else 8),
            by_category=by_category,
            backtest_weeks=backtest_weeks,
            use_events=use_events,
        )
        zone = store_of(request).settings.timezone
        return respond(request, "forecast", repr(query), lambda w: run_forecast(w.ibis(), query, timezone=zone))

    @routes.post("/voice/sentiment", dependencies=[CustomerLevel])
    def voice_sentiment(body: SentimentRequest) -> dict[str, Any]:
        """The sentiment of each text: label positive, neutral or negative and a score from -1 to +1."""
        found = analyse_sentiment(body.texts, body.method)
        return {"method": body.method, "results": [s.as_dict() for s in found]}

    @routes.get("/voice/themes", dependencies=[CustomerLevel])
    def voice_themes(request: Request, query: Annotated[ThemesQuery, Query()]) -> Response:
        """Themes in the customers' feedback with quotes, negative share and value at risk (``ThemesQuery``)."""
        return respond(request, "voice-themes", query.model_dump_json(), lambda w: run_themes(w.ibis(), query))

    @routes.get("/voice/needs", dependencies=[CustomerLevel])
    def voice_needs(request: Request, query: Annotated[NeedsQuery, Query()]) -> Response:
        """Hidden needs (``NeedsQuery``): complaint themes by value at risk, service-upgrade wishes, and silent
        dissatisfaction (customers who stopped buying without saying why)."""
        zone = store_of(request).settings.timezone
        return respond(request, "voice-needs", query.model_dump_json(), lambda w: run_needs(w.ibis(), query, zone=zone))

    return routes
