"""The analytics API under ``/api/v1``: each route takes a typed query (as query parameters), hands it to the same
runner the CLI uses and returns the typed result.

Results carry an ``ETag`` made from the query, the warehouse's data version and the store's time zone; a request
whose ``If-None-Match`` matches gets ``304 Not Modified`` without the numbers being computed again, and a repeated
question is answered from the app's memory without opening the warehouse (see :class:`StoreReader`). Vendors see
store-level figures (KPIs, funnel, products, baskets, also-bought pairs) under the share package's k rule, every
row backed by at least k people (:mod:`shoplens.web._vendor`); customer-level routes and splits answer them 403.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from shoplens.actions import export_flags, period_label, period_start
from shoplens.appdb import PlanStore
from shoplens.ingest import KEY_HEX_CHARS, KEY_PREFIX
from shoplens.queries import (
    MAX_PAGE_SIZE,
    AcquisitionQuery,
    AlsoBoughtQuery,
    BasketQuery,
    BehaviourQuery,
    ClvFitQuery,
    ClvSummaryQuery,
    CohortQuery,
    CustomerDetailQuery,
    CustomerListQuery,
    CustomerSuggestQuery,
    ForecastQuery,
    FunnelQuery,
    GuardQuery,
    GuardResult,
    KpiComparisonQuery,
    KpiQuery,
    LifecycleQuery,
    NeedsQuery,
    PreferenceQuery,
    PreferenceShiftQuery,
    ProductQuery,
    ProfitQuery,
    RecommendQuery,
    Result,
    RfmQuery,
    ServiceQuery,
    StageQuery,
    SupplierQuery,
    ThemesQuery,
    target_specs,
)
from shoplens.queries import (
    Query as Question,
)
from shoplens.voice import analyse_sentiment_with, sentiment_method
from shoplens.web._deps import EVERYONE, Analysts, AppDb, CustomerLevel, require_roles
from shoplens.web._errors import API_PREFIX, ApiError
from shoplens.web._vendor import refuse_customer_splits, vendor_document, vendor_k, vendor_of
from shoplens.web._warehouse import StoreReader

MAX_SENTIMENT_TEXTS = 1000
CUSTOMER_KEY = rf"^{KEY_PREFIX}[0-9a-f]{{{KEY_HEX_CHARS}}}$"


class SentimentRequest(BaseModel):
    """Texts to score (``shoplens voice sentiment``), up to 1,000 at a time."""

    model_config = ConfigDict(extra="forbid")
    texts: list[Annotated[str, Field(max_length=10_000)]] = Field(min_length=1, max_length=MAX_SENTIMENT_TEXTS)
    method: Literal["auto", "embedding-logreg", "tfidf-logreg", "vader"] = "auto"


def store_of(request: Request) -> StoreReader:
    store = request.app.state.store
    assert isinstance(store, StoreReader)
    return store


def _matches(request: Request, tag: str) -> bool:
    return tag in {t.strip() for t in request.headers.get("if-none-match", "").split(",")}


def answer(request: Request, query: Question) -> Response:
    """A query's answer as JSON with its ETag: 304 when the client has it. The answer is the same kept result the
    dashboard draws from, and its JSON bytes are kept next to it. A vendor gets the answer under the k rule
    (:mod:`shoplens.web._vendor`), kept apart from everyone else's."""
    store = store_of(request)
    version = store.version()
    vendor = vendor_of(request)
    k = vendor_k(request)
    if vendor:
        refuse_customer_splits(query)
    described = query.model_dump_json() + (f"|vendor k={k}" if vendor else "")
    tag = store.etag(query.kind, described, version)
    headers = {"ETag": tag, "Cache-Control": "private, no-cache"}
    if _matches(request, tag):
        return Response(status_code=304, headers=headers)

    def body() -> bytes:
        document = store.answer(query, Result).model_dump(mode="json")
        if vendor:
            document = vendor_document(query.kind, document, k)
        return bytes(JSONResponse(jsonable_encoder(document)).body)

    kept = store.remember(f"{query.kind}.json", described, version, body)
    return Response(kept, media_type="application/json", headers=headers)


VendorsToo = require_roles(*EVERYONE)
routes = APIRouter(prefix=API_PREFIX, tags=["analytics"])


def router() -> APIRouter:
    """The analytics routes, one per question."""
    return routes


@routes.get("/kpis", dependencies=[VendorsToo])
def kpis(request: Request, query: Annotated[KpiQuery, Query()]) -> Response:
    """Revenue, orders, customers, AOV, refund and repeat rates per period (``KpiQuery``)."""
    return answer(request, query)


@routes.get("/kpis/compare", dependencies=[VendorsToo])
def kpi_comparison(request: Request, query: Annotated[KpiComparisonQuery, Query()]) -> Response:
    """The latest period's KPIs against the period before and the same days last year, the monthly revenue with
    last year's beside it, and net sales from first and repeat orders (``KpiComparisonQuery``)."""
    return answer(request, query)


@routes.get("/funnel", dependencies=[VendorsToo])
def funnel(request: Request, query: Annotated[FunnelQuery, Query()]) -> Response:
    """Sessions through product view, cart, checkout and purchase (``FunnelQuery``)."""
    return answer(request, query)


@routes.get("/products", dependencies=[VendorsToo])
def products(request: Request, query: Annotated[ProductQuery, Query()]) -> Response:
    """Product performance, ABC classes, categories and supplier returns (``ProductQuery``)."""
    return answer(request, query)


@routes.get("/products/{product_id}/also-bought", dependencies=[VendorsToo])
def also_bought(
    request: Request,
    product_id: str,
    min_customers: Annotated[int, Query(ge=1, le=100_000, description="customers who bought both")] = 2,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
) -> Response:
    """Products bought by the customers who bought this one, by cosine similarity, with lift (``AlsoBoughtQuery``).
    Vendors see only pairs bought together by at least k = 10 customers (the store's k-anonymity rule); 404 for
    a product the store does not know."""
    k = vendor_k(request) if vendor_of(request) else None  # the pairs are cut before ``limit``, not after
    return answer(request, AlsoBoughtQuery(product_id=product_id, min_customers=min_customers, k=k, limit=limit))


@routes.get("/basket", dependencies=[VendorsToo])
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
    """Retention, revenue retention and cumulative revenue per customer of each acquisition cohort by period,
    optionally only for customers whose first order matches ``first_product``, ``first_category``,
    ``discount_code``, ``channel`` and ``country`` (``CohortQuery``); no match gives empty rows and a ``note``."""
    return answer(request, query)


@routes.get("/lifecycle", dependencies=[CustomerLevel])
def lifecycle_states(request: Request, query: Annotated[LifecycleQuery, Query()]) -> Response:
    """Customers per lifecycle state: new, active, at risk, lapsed (``LifecycleQuery``)."""
    return answer(request, query)


@routes.get("/stage", dependencies=[CustomerLevel])
def stage(request: Request) -> Response:
    """The business's development stage with its evidence (``StageQuery``)."""
    return answer(request, StageQuery())


@routes.get("/recommendations", dependencies=[CustomerLevel])
def recommendations(request: Request) -> Response:
    """Ranked recommendations, each with its segment, customers, expected value, method and evidence
    (``RecommendQuery``)."""
    return answer(request, RecommendQuery())


@routes.get("/service", dependencies=[CustomerLevel])
def service(request: Request, query: Annotated[ServiceQuery, Query()]) -> Response:
    """Support times per channel, stock-outs with estimated lost sales, the repeat rate after a slow answer
    (``ServiceQuery``)."""
    return answer(request, query)


@routes.get("/guard", dependencies=[Analysts])
def guard(request: Request, database: AppDb, query: Annotated[GuardQuery, Query()]) -> JSONResponse:
    """Abuse and fraud flags with their evidence and scores, export volumes by user included (``GuardQuery``);
    owners and analysts only."""
    result = store_of(request).answer(query, GuardResult)
    flags = result.flags + export_flags(database.audit_rows(), people_per_day=query.export_people_per_day)
    document = {**result.model_dump(mode="json"), "flags": [flag.model_dump(mode="json") for flag in flags]}
    return JSONResponse(jsonable_encoder(document))


@routes.get("/customers", dependencies=[CustomerLevel])
def customers(
    request: Request,
    segment: Annotated[str | None, Query(max_length=64)] = None,
    lifecycle_state: Annotated[str | None, Query(alias="lifecycle", max_length=32)] = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
) -> Response:
    """Pseudonymous customers (key, segment, lifecycle state), paginated; never anything from the PII vault."""
    query = CustomerListQuery(segment=segment, lifecycle=lifecycle_state, offset=offset, limit=limit)
    return answer(request, query)


@routes.get("/customers/{key}", dependencies=[CustomerLevel])
def customer_detail(
    request: Request,
    key: Annotated[str, Path(pattern=CUSTOMER_KEY, description="pseudonymous customer key")],
    quarters: Annotated[int, Query(ge=1, le=20, description="complete quarters of segment history")] = 4,
) -> Response:
    """One pseudonymous customer (``CustomerDetailQuery``): orders, net sales and refunds per month with the
    first and last order day and the totals; the RFM segment at the end of each recent quarter; P(alive), expected
    purchases and CLV when the models are fitted for the current data; the preference profile. Never anything from
    the vault. 404 for a key with no purchase in the store."""
    return answer(request, CustomerDetailQuery(customer_key=key, quarters=quarters))


@routes.get("/customers/{key}/preferences", dependencies=[CustomerLevel])
def customer_preferences(
    request: Request,
    key: Annotated[str, Path(pattern=CUSTOMER_KEY, description="pseudonymous customer key")],
) -> Response:
    """One customer's preference profile (``PreferenceQuery``): top categories and products, price band, discount
    share, usual channel, device, weekday and hour, order size, international, business buyer. 404 for a key the
    store does not know and for a customer who refused marketing consent."""
    return answer(request, PreferenceQuery(customer=key))


@routes.get("/preferences/shifts", dependencies=[CustomerLevel])
def preference_shifts(request: Request, query: Annotated[PreferenceShiftQuery, Query()]) -> Response:
    """What each RFM segment buys in the last months against the months before (``PreferenceShiftQuery``)."""
    return answer(request, query)


@routes.get("/customers/{customer_key}/suggestions", dependencies=[CustomerLevel])
def customer_suggestions(
    request: Request, customer_key: str, limit: Annotated[int, Query(ge=1, le=100)] = 10
) -> Response:
    """The next products to suggest to one customer: item-kNN over what they bought, nothing they already bought,
    filled with popular products (``CustomerSuggestQuery``); 404 for a customer the store does not know."""
    return answer(request, CustomerSuggestQuery(customer_key=customer_key, limit=limit))


@routes.get("/acquisition", dependencies=[CustomerLevel])
def acquisition(request: Request, query: Annotated[AcquisitionQuery, Query()]) -> Response:
    """New customers, 90-day repeat rate, predicted CLV, CAC and RFM segments per acquisition channel, or per
    source, medium, campaign, landing page or referring site of their first web session (``AcquisitionQuery``)."""
    return answer(request, query)


@routes.get("/profit", dependencies=[CustomerLevel])
def profit(request: Request, query: Annotated[ProfitQuery, Query()]) -> Response:
    """Contribution margin (net sales + shipping charged − shipping cost − cost of goods − payment fees − refunds)
    per group of customers by the channel, month, first product or discount code of their first order, or per
    product category, with the profit LTV curve per group; costs and margins are null, and ``missing`` says why,
    when a product cost is unknown (``ProfitQuery``, as ``shoplens profit``; fees and shipping cost are the
    store's settings)."""
    return answer(request, query)


@routes.get("/clv", dependencies=[CustomerLevel])
def clv_summary(
    request: Request,
    horizon: Annotated[int, Query(ge=1, le=3650, description="days ahead")] = 365,
    model: Annotated[Literal["bgnbd", "pareto-nbd"], Query()] = "bgnbd",
) -> Response:
    """CLV and churn risk (``ClvSummaryQuery``): totals by churn risk and value tier, no per-customer rows; ``churn``
    holds the churn score's window, the band cut-offs and how they did on the holdout they were chosen on."""
    return answer(request, ClvSummaryQuery(horizon=horizon, model=model))


@routes.post("/clv/fit", dependencies=[Analysts])
def clv_fit(
    request: Request,
    model: Annotated[Literal["bgnbd", "pareto-nbd", "gamma-gamma"], Query()] = "bgnbd",
    calibration_end: Annotated[date | None, Query(description="last day of calibration")] = None,
    observation_end: Annotated[date | None, Query(description="last day of the holdout")] = None,
    time_unit: Annotated[Literal["D", "W"], Query()] = "D",
) -> Response:
    """Fit a customer-base model and save it for CLV predictions (``ClvFitQuery``, as ``shoplens clv fit``):
    parameters, log-likelihood, warnings, the churn cut-offs with their validation (``churn_validation``) and, with
    a calibration end before the last order, the holdout."""
    query = ClvFitQuery(
        model=model, calibration_end=calibration_end, observation_end=observation_end, time_unit=time_unit
    )
    return answer(request, query)


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
    return answer(request, query)


def supplier_query(database: Any, months: int, horizon: int, target_period: str | None) -> SupplierQuery:
    """The suppliers question as ``shoplens suppliers`` asks it: with ``target_period``, the whole-shop revenue
    target of that month from the app database (404 when none is set)."""
    target = None
    if target_period is not None:
        month = period_label(period_start(target_period))
        chosen = [t for t in target_specs(PlanStore(database).targets(period=month)) if t.kpi == "revenue"]
        target = next((t for t in chosen if not t.channel), None)
        if target is None:
            raise ApiError(404, "not_found", f"no revenue target for {month}")
    return SupplierQuery(months=months, horizon=horizon, target=target)


@routes.get("/suppliers", dependencies=[Analysts])
def suppliers(
    request: Request,
    database: AppDb,
    months: Annotated[int, Query(ge=1, le=120, description="complete calendar months of history")] = 12,
    horizon: Annotated[int, Query(ge=1, le=24, description="months of units to forecast")] = 3,
    target_period: Annotated[
        str | None, Query(pattern=r"^\d{4}-\d{2}$", description="a month with a revenue target (YYYY-MM)")
    ] = None,
) -> Response:
    """Per supplier: units, revenue and margin with their shares, return rate and reasons, monthly units with a
    trend and forecast, and with ``target_period`` the units the month's revenue target needs (``SupplierQuery``,
    as ``shoplens suppliers``); owners and analysts only. Pricing rules are a file of the command line
    (``shoplens suppliers --rules``)."""
    return answer(request, supplier_query(database, months, horizon, target_period))


@routes.post("/voice/sentiment", dependencies=[CustomerLevel])
def voice_sentiment(body: SentimentRequest) -> dict[str, Any]:
    """The sentiment of each text: label positive, neutral or negative and a score from -1 to +1."""
    method = sentiment_method(body.method)
    found = analyse_sentiment_with(body.texts, method)
    return {"method": method.name, "results": [s.as_dict() for s in found]}


@routes.get("/voice/themes", dependencies=[CustomerLevel])
def voice_themes(request: Request, query: Annotated[ThemesQuery, Query()]) -> Response:
    """Themes in the customers' feedback with quotes, negative share and value at risk (``ThemesQuery``)."""
    return answer(request, query)


@routes.get("/voice/needs", dependencies=[CustomerLevel])
def voice_needs(request: Request, query: Annotated[NeedsQuery, Query()]) -> Response:
    """Hidden needs (``NeedsQuery``): complaint themes by value at risk, service-upgrade wishes, and silent
    dissatisfaction (customers who stopped buying without saying why)."""
    return answer(request, query)
