"""The dashboard: server-rendered pages over the same runners the API uses (no numbers computed here).

Pages need a logged-in session: without one the browser is sent to ``/login``; a role that may not see a page
(vendors on customer-level pages) gets 403. Results come through the app's :class:`StoreReader`, so a page seen
before is drawn again without opening the warehouse.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from shoplens.actions import export_flags
from shoplens.appdb import PartnerPlan, PartnerPlanStore, PlanStore, recent_jobs
from shoplens.errors import InputError, NotFoundError
from shoplens.metrics import SEGMENT_NAMES
from shoplens.privacy import DEFAULT_K
from shoplens.queries import (
    AcquisitionQuery,
    AcquisitionResult,
    BasketQuery,
    BasketResult,
    BehaviourQuery,
    BehaviourResult,
    BudgetSpec,
    BudgetStatusQuery,
    BudgetStatusResult,
    ClvSummaryQuery,
    ClvSummaryResult,
    CohortQuery,
    CohortResult,
    CustomerDetailQuery,
    CustomerDetailResult,
    CustomerListQuery,
    CustomerListResult,
    CustomerSuggestQuery,
    CustomerSuggestResult,
    FunnelQuery,
    FunnelResult,
    GuardQuery,
    GuardResult,
    KpiComparisonQuery,
    KpiComparisonResult,
    KpiQuery,
    KpiResult,
    LifecycleQuery,
    LifecycleResult,
    NeedsQuery,
    NeedsResult,
    PlanProgressQuery,
    PlanProgressResult,
    PreferenceShiftQuery,
    PreferenceShiftResult,
    ProductQuery,
    ProductResult,
    ProfitQuery,
    ProfitResult,
    QueryRunner,
    RecommendQuery,
    RecommendResult,
    RfmQuery,
    RfmResult,
    ServiceQuery,
    ServiceResult,
    StageQuery,
    StageResult,
    SupplierResult,
    TargetPacingQuery,
    TargetPacingResult,
    ThemesQuery,
    ThemesResult,
    target_specs,
)
from shoplens.reports import (
    NumberStyle,
    bar_chart,
    build_monthly_report,
    dataset_descriptions,
    explanation,
    line_chart,
    parse_month,
    render_html,
    render_pdf,
    sparkline,
)
from shoplens.voice import analyse_survey, list_surveys
from shoplens.web._api import store_of, supplier_query
from shoplens.web._cohort_table import GRAIN_WORDS, cohort_grid
from shoplens.web._deps import ANALYSTS, app_database
from shoplens.web._empty import needs_orders
from shoplens.web._errors import ApiError
from shoplens.web._pages import (
    JOBS_SHOWN,
    AnalystViewer,
    CustomerViewer,
    Viewer,
    analysis,
    as_number,
    evidence_rows,
    hidden_need_tables,
    page_empty_state,
    problem,
    render,
    table,
    table_download,
    trouble,
    welcome,
)
from shoplens.web._share import ShareFormatQuery, ShareK, download, share_exports
from shoplens.web._tables import TABLE_PARAMS_DEPENDENCY, number_style, shown_table
from shoplens.web._vendor import CUSTOMER_LEVEL_SPLITS, is_vendor, vendor_k, vendor_result
from shoplens.web._warehouse import PageReader, StillComputingError, UnansweredError

KPI_FIELDS = (
    ("revenue", "Revenue"),
    ("orders", "Orders"),
    ("customers", "Customers"),
    ("new_customers", "New customers"),
    ("aov", "Average order value"),
    ("repeat_rate", "Repeat rate"),
    ("refund_rate", "Refund rate"),
)
# the columns of the overview's table by period, and of its tables of last year's revenue and of first and repeat
# orders' sales
KPI_COLUMNS = (
    ("revenue", "Revenue"),
    ("orders", "Orders"),
    ("customers", "Customers"),
    ("new_customers", "New"),
    ("aov", "Average order"),
    ("repeat_rate", "Repeat rate"),
    ("refund_rate", "Refund rate"),
)
TREND_COLUMNS = ["period", "revenue", "last_year_period", "last_year_revenue"]
SPLIT_COLUMNS = ["period", "first_order_sales", "repeat_order_sales"]
LOWER_IS_BETTER = frozenset({"refund_rate"})  # a KPI whose rise the overview shows in red
PAGE_SIZE = 50
PROFIT_COLUMNS = [
    "channel",
    "customers",
    "orders",
    "net_sales",
    "cost_of_goods",
    "payment_fees",
    "refunds",
    "contribution_margin",
    "margin_rate",
    "contribution_margin_per_customer",
]
PROFIT_CURVE_MONTHS = (0, 1, 2, 3, 6, 9, 12, 18, 24)  # the curve's points the page shows (the API has every month)
# a page waits this long for a result; then it says what is being computed and reloads itself until it is ready
PAGE_WAIT_SECONDS = 3.0
PAGE_TROUBLE = (ApiError, InputError, StillComputingError, UnansweredError)
SPLITS = ("channel", "device", "country", "segment")
# the voice page asks the default questions, as `shoplens voice themes|needs`, the API and the monthly report do
VOICE_THEMES = ThemesQuery()
VOICE_NEEDS = NeedsQuery()
# survey answers are few and short: keywords group them in a moment
SURVEY_THEME_METHOD: Literal["keywords"] = "keywords"


# the questions the pages ask with their default parameters, computed in the background after an import (see
# StoreReader): the overview first, then the pages that take longest to compute on a large store
WARM_QUERIES = (
    KpiQuery(),
    KpiComparisonQuery(),
    FunnelQuery(),
    ProductQuery(),
    BasketQuery(),
    RfmQuery(),
    LifecycleQuery(),
    StageQuery(),
    RecommendQuery(),
    CohortQuery(),
    BehaviourQuery(),
    ClvSummaryQuery(horizon=365, model="bgnbd"),
    ServiceQuery(),
    AcquisitionQuery(),
    AcquisitionQuery(by="landing_page"),
    KpiQuery(by="channel"),  # the overview's first split
    VOICE_THEMES,
    VOICE_NEEDS,
)


def segment_pages(runner: QueryRunner) -> list[CustomerListQuery]:
    """The first page of each segment's customers (the customers page's drill-down), warmed after the rest."""
    rfm = runner.run(RfmQuery(), RfmResult)
    return [CustomerListQuery(segment=row.segment, offset=0, limit=PAGE_SIZE) for row in rfm.segments]


def page_store(request: Request) -> PageReader:
    return PageReader(store_of(request), PAGE_WAIT_SECONDS)


routes = APIRouter(include_in_schema=False, dependencies=[TABLE_PARAMS_DEPENDENCY])


def router() -> APIRouter:
    """The dashboard's pages (their templates are the app's, ``app.state.templates``)."""
    return routes


@routes.get("/", response_class=HTMLResponse)
def overview(
    request: Request,
    principal: Viewer,
    start: Annotated[date | None, Query()] = None,
    end: Annotated[date | None, Query()] = None,
    grain: Annotated[Literal["day", "week", "month", "quarter"], Query()] = "month",
    by: Annotated[str, Query(description="split the table by channel, device, country or segment")] = "",
) -> Response:
    try:
        query = KpiQuery(start=start, end=end, grain=grain)
    except (ValueError, InputError):
        return problem(request, principal, "The start of the date range is after its end.")
    vendor = is_vendor(principal)
    splits = [s for s in SPLITS if not (vendor and s in CUSTOMER_LEVEL_SPLITS)]
    if by and by not in splits:
        return problem(request, principal, f"The table can be split by {', '.join(splits)}, not by {by[:20]!r}.")
    store = page_store(request)
    try:
        result = store.answer(query, KpiResult)
        compared = store.answer(KpiComparisonQuery(start=start, end=end, grain=grain), KpiComparisonResult)
        split = store.answer(query.model_copy(update={"by": by}), KpiResult) if by else None
    except PAGE_TROUBLE as exc:
        if needs_orders(exc):  # a new store: what to import first and how
            return welcome(request, principal, exc)
        return trouble(request, principal, exc)
    if vendor:  # the rows a vendor sees through the API, no more
        result = vendor_result(result, vendor_k(request))
        compared = vendor_result(compared, vendor_k(request))
        split = vendor_result(split, vendor_k(request)) if split else None
    latest = result.rows[-1] if result.rows else {}
    shown_rows = split.rows if split else result.rows
    period_columns = ["period", *([by] if by else []), *(key for key, _ in KPI_COLUMNS)]
    tables = [
        table("By period", "kpi-table", shown_rows, period_columns),
        table("Revenue against last year", "revenue-trend", compared.trend, TREND_COLUMNS),
        table("Net sales from first and from repeat orders", "new-returning", compared.new_vs_returning, SPLIT_COLUMNS),
    ]
    download = table_download(request, principal, tables)
    if download is not None:
        return download
    against = _against_targets(request, store, latest)
    style = number_style(request)
    cards = kpi_cards(style, result.rows, compared, against)
    return render(
        request,
        "overview.html",
        principal,
        cards=cards,
        latest=latest,
        compared=compared,
        trend=Markup(_revenue_trend(compared)) if len(compared.trend) > 1 else "",
        rows=shown_rows,
        tables=[shown_table(request, style, found) for found in tables[1:]],
        kpi_columns=KPI_COLUMNS,
        kpi_csv="?" + urlencode([*request.query_params.multi_items(), ("csv", "kpi-table")]),
        fmt_explain=explanation,
        against=against,
        start=start,
        end=end,
        grain=grain,
        by=by,
        splits=splits,
        fmt=style,
    )


def chart_figure(svg: str, title: str, table_title: str) -> Markup:
    """A chart with its text alternative: a figure named by its title, whose caption names the page's table that
    holds the same numbers (a screen reader reads the table; the drawing itself is hidden from it)."""
    caption = f"{title}; the same numbers are in the table {table_title} below."
    return Markup(
        '<figure role="group" aria-label="{title}"><div aria-hidden="true">{svg}</div>'
        "<figcaption>{caption}</figcaption></figure>"
    ).format(title=title, svg=Markup(svg), caption=caption)


def _revenue_trend(compared: KpiComparisonResult) -> str:
    """Monthly revenue of the last twelve months with the same months a year earlier drawn over them."""
    recent = compared.trend[-12:]
    records = [
        {"month": row["period"].isoformat(), "revenue": float(row["revenue"]), "year": "these months"} for row in recent
    ]
    records += [
        {"month": row["period"].isoformat(), "revenue": float(row["last_year_revenue"]), "year": "a year earlier"}
        for row in recent
        if row["last_year_revenue"] is not None
    ]
    title = "Revenue per month, with the same month a year earlier"
    svg = line_chart(records, x="month", y="revenue", series="year", x_kind="month", title=title, width=640)
    return chart_figure(svg, title, "Revenue against last year")


def kpi_cards(
    style: NumberStyle, rows: list[dict[str, Any]], compared: KpiComparisonResult, against: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The overview's cards: the latest period's value of each KPI, its change against the period before and the
    same days last year (percentage points for rates), its target where one is set, and a sparkline."""
    latest = rows[-1] if rows else {}
    changes = {c["kpi"]: c for c in compared.changes}
    targets = {t["kpi"]: t for t in against if not t.get("channel")}
    cards = []
    for key, label in KPI_FIELDS:
        found = changes.get(key, {})
        deltas = []
        for when, field in (("previous period", "change_vs_previous"), ("last year", "change_vs_last_year")):
            delta = found.get(field)
            written = style.points(delta) if found.get("change_kind") == "points" else style.change(delta)
            direction = "" if not delta else ("up" if delta > 0 else "down")
            tone = "" if not direction else ("bad" if (direction == "up") == (key in LOWER_IS_BETTER) else "good")
            deltas.append({"against": when, "text": written, "direction": direction, "tone": tone, "field": field})
        target = targets.get(key)
        cards.append(
            {
                "key": key,
                "label": label,
                "value": latest.get(key),
                "text": style.cell(key, latest.get(key)),
                "explanation": explanation(key),
                "deltas": deltas,
                "target": None
                if target is None
                else {
                    "target": style.cell(key, target["target"]),
                    "projected": style.cell(key, target.get("projected")),
                    "on_track": target.get("on_track"),
                },
                "spark": Markup(sparkline([as_number(r.get(key)) for r in rows])) if len(rows) > 1 else "",
            }
        )
    return cards


def _against_targets(request: Request, store: PageReader, latest: dict[str, Any]) -> list[dict[str, Any]]:
    """The targets of the latest period's month, paced (empty without targets or data)."""
    period = latest.get("period")
    if not isinstance(period, date):
        return []
    month = f"{period:%Y-%m}"
    chosen = tuple(t for t in target_specs(PlanStore(app_database(request)).targets()) if t.period == month)
    if not chosen:
        return []
    return store.answer(TargetPacingQuery(targets=chosen), TargetPacingResult).targets


@routes.get("/customers", response_class=HTMLResponse)
def customers(
    request: Request,
    principal: CustomerViewer,
    segment: Annotated[str | None, Query(max_length=64)] = None,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    store = page_store(request)
    try:
        rfm = store.answer(RfmQuery(), RfmResult)
        states = store.answer(LifecycleQuery(), LifecycleResult)
        stage = store.answer(StageQuery(), StageResult)
        advice = store.answer(RecommendQuery(), RecommendResult)
        listing = None
        if segment:
            listing = store.answer(
                CustomerListQuery(segment=segment, offset=offset, limit=PAGE_SIZE), CustomerListResult
            ).model_dump()
    except PAGE_TROUBLE as exc:
        return trouble(request, principal, exc)
    return render(
        request,
        "customers.html",
        principal,
        rfm=rfm,
        states=states,
        stage=stage,
        advice=advice,
        evidence=evidence_rows(stage, number_style(request)),
        segment=segment,
        listing=listing,
        page_size=PAGE_SIZE,
    )


@routes.get("/cohorts", response_class=HTMLResponse)
def cohort_page(
    request: Request,
    principal: CustomerViewer,
    grain: Annotated[Literal["week", "month", "quarter"], Query()] = "month",
    first_product: Annotated[str, Query()] = "",
    first_category: Annotated[str, Query()] = "",
    discount_code: Annotated[str, Query()] = "",
    channel: Annotated[str, Query()] = "",
    country: Annotated[str, Query()] = "",
) -> Response:
    chosen = {
        "first_product": first_product,
        "first_category": first_category,
        "discount_code": discount_code,
        "channel": channel,
        "country": country,
    }
    try:
        query = CohortQuery(grain=grain, **chosen)
    except ValueError:
        return problem(request, principal, "A cohort filter is at most 200 characters long.")
    try:
        result = page_store(request).answer(query, CohortResult)
    except PAGE_TROUBLE as exc:
        return trouble(request, principal, exc)
    word = GRAIN_WORDS[grain].lower()
    style = number_style(request)
    grids = [
        cohort_grid(
            result.rows,
            grain,
            "retention",
            "Customer retention",
            f"The share of each cohort's customers who ordered in each {word} since the {word} of their first order",
            style,
        ),
        cohort_grid(
            result.rows,
            grain,
            "revenue_retention",
            "Revenue retention",
            f"Each {word}'s revenue from the cohort as a share of its revenue in the {word} of "
            "the first order (net of refunds; can pass 100%)",
            style,
        ),
        cohort_grid(
            result.rows,
            grain,
            "cumulative_revenue_per_customer",
            "Cumulative revenue per customer",
            f"The cohort's revenue up to and including each {word}, divided by its customers",
            style,
        ),
    ]
    return render(
        request,
        "cohorts.html",
        principal,
        grids=grids,
        note=result.note,
        empty_state=None if result.rows else page_empty_state(principal, "cohorts"),
        grain=grain,
        chosen=query.model_dump(include=set(chosen)),
    )


@routes.get("/funnel", response_class=HTMLResponse)
def funnel_page(request: Request, principal: Viewer) -> Response:
    try:
        result = page_store(request).answer(FunnelQuery(), FunnelResult)
    except PAGE_TROUBLE as exc:
        return trouble(request, principal, exc)
    if is_vendor(principal):
        result = vendor_result(result, vendor_k(request))
    title = "Sessions reaching each step"
    chart = chart_figure(bar_chart(result.steps, category="step", value="sessions", title=title), title, "Steps")
    steps = table("Steps", "funnel-steps", result.steps, ["step", "sessions", "conversion", "drop_off"])
    return analysis(request, principal, "Funnel", charts=[chart], tables=[steps])


@routes.get("/behaviour", response_class=HTMLResponse)
def behaviour_page(request: Request, principal: CustomerViewer) -> Response:
    try:
        result = page_store(request).answer(BehaviourQuery(), BehaviourResult)
    except PAGE_TROUBLE as exc:
        return trouble(request, principal, exc)
    gaps = result.inter_purchase
    discounts = result.discounts
    style = number_style(request)
    notes = [
        f"Half of the repeat orders come within {gaps.get('median_days')} days of the customer's previous "
        f"order; a quarter within {gaps.get('p25_days')} days, nine in ten within {gaps.get('p90_days')}."
        if gaps.get("median_days") is not None
        else "No customer has ordered twice yet: the days between orders come with the first repeat order.",
        f"{discounts.get('discounted_orders')} of {discounts.get('orders')} orders were discounted. Customers "
        f"won with a discount repeat at {style.share(discounts.get('discount_acquired_repeat_rate'))}, those "
        f"won at full price at {style.share(discounts.get('full_price_repeat_rate'))}.",
    ]
    title = "Days between a customer's orders"
    chart = chart_figure(
        bar_chart(result.inter_purchase_distribution, category="bucket", value="repeat_orders", title=title),
        title,
        "Days between orders",
    )
    tables = [
        table("Days between orders", "gaps", result.inter_purchase_distribution),
        table("Products per order", "basket-sizes", result.basket_sizes),
        table("By acquisition channel", "channels", result.channels),
        table("By device", "devices", result.devices),
        table("First products that bring customers back", "first-most", result.first_products_most_repeat),
        table("First products after which customers rarely return", "first-least", result.first_products_least_repeat),
    ]
    return analysis(request, principal, "Behaviour", notes=notes, charts=[chart], tables=tables)


@routes.get("/products", response_class=HTMLResponse)
def products_page(request: Request, principal: Viewer) -> Response:
    store = page_store(request)
    try:
        products = store.answer(ProductQuery(), ProductResult)
        baskets = store.answer(BasketQuery(), BasketResult)
    except PAGE_TROUBLE as exc:
        return trouble(request, principal, exc)
    if is_vendor(principal):
        products, baskets = vendor_result(products, vendor_k(request)), vendor_result(baskets, vendor_k(request))
    top = products.top_products[:10]
    records = [{"name": r["name"], "revenue": float(r["revenue"])} for r in top]
    title = "Top products by revenue"
    chart = chart_figure(bar_chart(records, category="name", value="revenue", title=title), title, "Top products")
    notes = [f"{baskets.multi_product_orders} of {baskets.orders} orders hold more than one product."]
    tables = [
        table("Top products", "top-products", top, ["name", "category", "units", "customers", "revenue", "abc_class"]),
        table("ABC classes", "abc", products.abc, ["abc_class", "products", "revenue", "revenue_share"]),
        table("Bought together", "basket-rules", baskets.rules[:20]),
    ]
    return analysis(request, principal, "Products & baskets", notes=notes, charts=[chart], tables=tables)


def _rounded(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Shares and rates shown to three decimals."""
    return [{k: round(v, 3) if isinstance(v, float) else v for k, v in record.items()} for record in records]


@routes.get("/clv", response_class=HTMLResponse)
def clv_page(request: Request, principal: CustomerViewer) -> Response:
    store = page_store(request)
    try:
        # the same kept answer as GET /api/v1/clv?horizon=365&model=bgnbd
        summary = store.answer(ClvSummaryQuery(horizon=365, model="bgnbd"), ClvSummaryResult).model_dump()
    except PAGE_TROUBLE as exc:
        return trouble(request, principal, exc)
    notes = [
        f"Expected value of {summary['n_customers']} customers over the next {summary['horizon_days']} days "
        f"(margin {summary['margin']:.3f}, {summary['margin_basis']}: {summary['margin_note']}): "
        f"{number_style(request).money(summary['totals']['clv'])}.",
    ]
    title = "Customers by churn risk"
    chart = chart_figure(
        bar_chart(summary["by_churn_risk"], category="churn_risk", value="customers", title=title),
        title,
        "By churn risk",
    )
    churn = summary["churn"]
    notes.append(
        f"Churn risk is the chance of no purchase in the next {churn['window_days']:.0f} days: medium from "
        f"{churn['medium_from']:.3f}, high from {churn['high_from']:.3f} (cut-offs chosen on the {churn['chosen_on']})."
    )
    tables = [
        table("By churn risk", "clv-risk", summary["by_churn_risk"]),
        table("By value tier", "clv-tier", summary["by_value_tier"]),
    ]
    validation = churn["validation"]
    if validation is not None:
        notes.append(
            f"In the {validation['window_days']:.0f} days after {validation['calibration_end']} (the holdout, to "
            f"{validation['observation_end']}; {validation['customers']} customers, "
            f"{validation['holdout_purchase_rate']:.1%} bought): AUC "
            f"{validation['auc']:.3f} for no purchase (1 − P(alive) would give {validation['auc_p_alive']:.3f}); "
            f"Brier score {validation['brier']:.3f} against {validation['brier_base_rate']:.3f} for the base rate."
        )
        tables += [
            table(
                "Churn bands on the holdout",
                "churn-validation",
                _rounded(validation["bands"]),
                ["band", "customers", "share", "holdout_purchase_rate", "predicted_purchase_rate"],
            ),
            table(
                "Calibration: predicted against observed purchase, by decile",
                "churn-calibration",
                _rounded(validation["calibration"]),
            ),
        ]
    return analysis(request, principal, "CLV & churn", notes=notes, charts=[chart], tables=tables)


@routes.get("/voice", response_class=HTMLResponse)
def voice_page(request: Request, principal: CustomerViewer) -> Response:
    store = page_store(request)
    try:
        themes = store.answer(VOICE_THEMES, ThemesResult).model_dump()
        needs = store.answer(VOICE_NEEDS, NeedsResult).model_dump()
    except PAGE_TROUBLE as exc:
        return trouble(request, principal, exc)
    notes = [
        f"{themes['texts']} texts, themes by {themes['method']}"
        + (f" ({themes['encoder']})" if themes["encoder"] else "")
        + f"; {themes['polarity_is']}",
        f"Hidden needs: {needs['critical_texts']} critical texts ({needs['critical_is']}); complaint themes are "
        f"ranked by {needs['ranked_by']}.",
    ]
    empty = [page_empty_state(principal, "feedback")] if not themes["texts"] else []
    return analysis(
        request,
        principal,
        "Voice of the customer",
        notes=notes,
        tables=hidden_need_tables(themes, needs),
        empty_states=empty,
    )


@routes.get("/sharing", response_class=HTMLResponse)
def sharing_page(request: Request, principal: Viewer) -> Response:
    """What the vendor and web-designer package holds, its download, and (for analysts) who downloaded it."""
    exports = share_exports(request) if principal.role in ANALYSTS else []
    return render(request, "sharing.html", principal, k=DEFAULT_K, datasets=dataset_descriptions(), exports=exports)


@routes.get("/sharing/package")
def sharing_download(
    request: Request, principal: Viewer, output_format: ShareFormatQuery = "csv", k: ShareK = DEFAULT_K
) -> Response:
    """The package as a zip download; written to the audit log."""
    try:
        return download(request, principal, k, output_format, wait=PAGE_WAIT_SECONDS)
    except PAGE_TROUBLE as exc:
        return trouble(request, principal, exc)


@routes.get("/surveys", response_class=HTMLResponse)
def surveys_page(
    request: Request, principal: CustomerViewer, survey: Annotated[str | None, Query(max_length=64)] = None
) -> Response:
    """The store's surveys; with ``survey``, its results: response rate, NPS and CSAT with intervals, choices."""
    database = app_database(request)
    surveys = list_surveys(database)
    results = None
    if survey is not None:
        if survey not in {s["survey_id"] for s in surveys}:
            return problem(request, principal, f"There is no survey {survey[:64]!r}.")
        results = analyse_survey(database, survey, theme_method=SURVEY_THEME_METHOD)
    empty = page_empty_state(principal, "surveys")
    return render(request, "surveys.html", principal, surveys=surveys, results=results, empty_state=empty)


@routes.get("/jobs", response_class=HTMLResponse)
def jobs_page(request: Request, principal: CustomerViewer) -> Response:
    """Imports, demo builds and model fits started from the command line, with their progress."""
    jobs = recent_jobs(app_database(request), limit=JOBS_SHOWN)
    return render(request, "jobs.html", principal, jobs=jobs, empty_state=page_empty_state(principal, "jobs"))


@routes.get("/reports/monthly")
def monthly_report(
    request: Request,
    principal: CustomerViewer,
    month: Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}$")] = None,
    output_format: Annotated[Literal["html", "pdf"], Query(alias="format")] = "html",
) -> Response:
    """The monthly online customer report to download, as HTML or PDF."""
    try:
        targets = target_specs(PlanStore(app_database(request)).targets())
        report = build_monthly_report(store_of(request).runner, parse_month(month) if month else None, targets)
    except PAGE_TROUBLE as exc:
        return trouble(request, principal, exc)
    html = render_html(report, number_style(request))
    name = f"shoplens-report-{report.month:%Y-%m}.{output_format}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"}
    if output_format == "pdf":
        return Response(render_pdf(html), media_type="application/pdf", headers=headers)
    return HTMLResponse(html, headers=headers)


def _top_segments(segments: dict[str, float], shown: int = 3) -> str:
    """The RFM segments with the largest shares of a group's customers, as "Loyal 40%, New 30%"."""
    ranked = sorted(segments.items(), key=lambda item: (-item[1], item[0]))[:shown]
    return ", ".join(f"{name} {part:.0%}" for name, part in ranked)


@routes.get("/acquisition", response_class=HTMLResponse)
def acquisition_page(request: Request, principal: CustomerViewer) -> Response:
    """Targets and their pacing, budgets against spend, and what each acquisition channel's customers are worth."""
    plans = PlanStore(app_database(request))
    targets = target_specs(plans.targets())
    budgets = tuple(BudgetSpec(channel=b.channel, period=b.period, amount=b.amount) for b in plans.budgets())
    store = page_store(request)
    try:
        acquisition = store.answer(AcquisitionQuery(), AcquisitionResult)
        # the same kept answer as GET /api/v1/acquisition?by=landing_page
        landing = store.answer(AcquisitionQuery(by="landing_page"), AcquisitionResult)
        pacing = store.answer(TargetPacingQuery(targets=targets), TargetPacingResult) if targets else None
        spend = store.answer(BudgetStatusQuery(budgets=budgets), BudgetStatusResult) if budgets else None
        partner_plans = PartnerPlanStore(app_database(request)).plans()
        # the same kept answers as GET /api/v1/plans/{id}/progress
        progress = [
            (plan, store.answer(PlanProgressQuery(kpis=target_specs(plan.kpis)), PlanProgressResult))
            for plan in partner_plans
        ]
        # the same kept answer as GET /api/v1/profit?by=channel
        profit = store.answer(ProfitQuery(by="channel"), ProfitResult)
    except PAGE_TROUBLE as exc:
        return trouble(request, principal, exc)
    notes = [f"Customer value on a {acquisition.basis} basis, as of {acquisition.as_of}.", *acquisition.notes]
    notes += [f"Contribution margin: {note}." for note in profit.notes]
    if pacing is None:
        notes.append("No targets yet: set one with shoplens targets set --kpi revenue --period YYYY-MM --value V.")
    columns = ["channel", "new_customers", "repeat_rate_90d", "cac", "roas", "ltv_cac", "payback_days", "predicted_clv"]
    tables = [table("By acquisition channel", "acquisition-channels", _rounded(acquisition.channels), columns)]
    pages = [{**row, "segments": _top_segments(row["segments"])} for row in _rounded(landing.groups)]
    landing_columns = ["landing_page", "sessions", "new_customers", "repeat_rate_90d", "predicted_clv", "segments"]
    tables.append(
        table("By landing page of the first web session", "acquisition-landing-pages", pages, landing_columns)
    )
    tables.append(
        table("Contribution margin by acquisition channel", "profit-channels", _rounded(profit.groups), PROFIT_COLUMNS)
    )
    curve = [
        {"channel": row["channel"], **point}
        for row in profit.groups
        for point in row["curve"]
        if point["month"] in PROFIT_CURVE_MONTHS
    ]
    tables.append(
        table(
            "Profit LTV: cumulative contribution margin per customer by months since the first order",
            "profit-curve",
            _rounded(curve),
            ["channel", "month", "customers_observed", "cumulative_margin_per_customer"],
        )
    )
    charts = []
    if profit.costs_known and curve:
        title = "Cumulative contribution margin per customer"
        svg = line_chart(
            _rounded(curve),
            x="month",
            y="cumulative_margin_per_customer",
            series="channel",
            x_kind="number",
            title=title,
        )
        charts.append(
            chart_figure(
                svg, title, "Profit LTV: cumulative contribution margin per customer by months since the first order"
            )
        )
    if pacing is not None:
        pacing_columns = ["period", "kpi", "channel", "target", "actual", "projected", "low", "high", "on_track"]
        tables.insert(0, table("Targets and pacing", "target-pacing", _rounded(pacing.targets), pacing_columns))
    if spend is not None:
        tables.append(table("Budgets against spend", "budgets", _rounded(spend.budgets)))
    if progress:
        tables.append(table("Joint plans with partners", "partner-plans", _plan_rows(progress), PLAN_COLUMNS))
    else:
        notes.append(
            "No joint plans with partners yet: shoplens plans create --partner NAME --kind K --starts D --ends D."
        )
    empty = [] if acquisition.spend_known else [page_empty_state(principal, "spend")]
    return analysis(
        request, principal, "Acquisition & plans", notes=notes, charts=charts, tables=tables, empty_states=empty
    )


PLAN_COLUMNS = [
    "plan_id",
    "partner",
    "kind",
    "dates",
    "datasets",
    "kpi",
    "period",
    "channel",
    "target",
    "actual",
    "projected",
    "on_track",
]


def _plan_rows(progress: list[tuple[PartnerPlan, PlanProgressResult]]) -> list[dict[str, Any]]:
    """One row per shared KPI of each plan (a plan without KPIs gets one row of its own)."""
    found = []
    for plan, result in progress:
        about = {
            "plan_id": plan.plan_id,
            "partner": plan.partner_name,
            "kind": plan.partner_kind,
            "dates": f"{plan.starts} to {plan.ends}",
            "datasets": ", ".join(plan.datasets),
        }
        found += [{**about, **row} for row in _rounded(result.kpis)] or [about]
    return found


@routes.get("/service", response_class=HTMLResponse)
def service_page(request: Request, principal: CustomerViewer) -> Response:
    """Support times, stock-outs with their estimated lost sales, delivery against the promised day, and the repeat
    rate after a slow answer and after a late delivery."""
    store = page_store(request)
    try:
        service = store.answer(ServiceQuery(), ServiceResult)
    except PAGE_TROUBLE as exc:
        return trouble(request, principal, exc)
    after = service.after_slow_answer
    style = number_style(request)
    notes = [f"Not measured: {gap}." for gap in service.missing]
    if after["estimate"] is not None:
        notes.insert(
            0,
            f"After a slow answer (over {service.response_limit_hours} hours, or none) the 90-day repeat rate differs "
            f"by {after['estimate']:+.3f} (95 % interval {after['low']:+.3f} to {after['high']:+.3f}; "
            f"{after['slow_tickets']} slow and {after['prompt_tickets']} prompt tickets, matched on prior purchases).",
        )
    outs = service.stock_out_totals
    if outs["lost_units"] is not None:
        notes.insert(
            0,
            f"Stock-outs: {outs['products']} products out of stock on {outs['stockout_days']} product-days "
            f"({outs['whole_days_out']} whole days); estimated lost units {outs['lost_units']:.1f} (95 % interval "
            f"{outs['lost_units_low']:.1f} to {outs['lost_units_high']:.1f}), lost sales "
            f"{style.money(outs['lost_sales'])} ({style.money(outs['lost_sales_low'])} to "
            f"{style.money(outs['lost_sales_high'])}).",
        )
    late = service.after_late_delivery
    if late["estimate"] is not None:
        notes.insert(
            0,
            f"After a late delivery the 90-day repeat rate differs by {late['estimate']:+.3f} (95 % interval "
            f"{late['low']:+.3f} to {late['high']:+.3f}, against {late['baseline']:.3f} after one on time; "
            f"{late['late_orders']} late and {late['on_time_orders']} on-time orders, matched on segment, country and "
            "prior purchases).",
        )
    tables = [
        table("Support", "support", _rounded(service.support)),
        table("Stock-outs by estimated lost sales", "stock-outs", _rounded(service.stock_outs)),
    ]
    for by, title in (("channel", "sales channel"), ("country", "country"), ("month", "month of the order")):
        if service.delivery.get(by):
            tables.append(
                table(
                    f"Deliveries against the promised day by {title}", f"delivery-{by}", _rounded(service.delivery[by])
                )
            )
    empty = [page_empty_state(principal, "service")] if not (service.support or service.stock_outs) else []
    return analysis(request, principal, "Service", notes=notes, tables=tables, empty_states=empty)


SHIFT_COLUMNS = ["share_now", "share_before", "change", "spend_now", "spend_before"]


@routes.get("/segment-shifts", response_class=HTMLResponse)
def segment_shifts_page(
    request: Request,
    principal: CustomerViewer,
    segment: Annotated[str | None, Query(max_length=64)] = None,
    by: Annotated[Literal["category", "product"], Query()] = "category",
    months: Annotated[int, Query(ge=1, le=24)] = 6,
    top: Annotated[int, Query(ge=1, le=100)] = 10,
) -> Response:
    """What each RFM segment buys now against before: the answer of ``GET /api/v1/preferences/shifts`` with the
    same parameters (segment, by, months, top; the form's empty segment is every segment), one table per segment,
    largest share now first."""
    query = PreferenceShiftQuery(segment=segment or None, by=by, months=months, top=top)
    try:
        result = page_store(request).answer(query, PreferenceShiftResult)
    except PAGE_TROUBLE as exc:
        return trouble(request, principal, exc)
    notes = [
        f"Share of each segment's line spend on each {query.by} in the last {query.months} months "
        f"({result.now['first_day']} to {result.now['last_day']}) against the {query.months} before "
        f"({result.before['first_day']} to {result.before['last_day']}); change = now − before. Segments are the "
        "customers' RFM segments today."
    ]
    tables = []
    for shift in result.segments:
        title = f"{shift['segment']}: {shift['customers_now']} customers buying now, {shift['customers_before']} before"
        slug = "shifts-" + str(shift["segment"]).lower().replace(" ", "-").replace("'", "")
        tables.append(table(title, slug, _rounded(shift["items"]), [query.by, *SHIFT_COLUMNS]))
    empty = []
    if not tables:
        tables.append(table("Segments", "shifts", []))
        empty.append(page_empty_state(principal, "shifts"))
    filters = [
        {
            "name": "segment",
            "label": "Segment",
            "options": [("", "every segment"), *((name, name) for name in SEGMENT_NAMES)],
            "selected": query.segment or "",
        },
        {
            "name": "by",
            "label": "Compare",
            "options": [("category", "categories"), ("product", "products")],
            "selected": query.by,
        },
        {
            "name": "months",
            "label": "Months in each window",
            "options": [(str(m), str(m)) for m in (3, 6, 12)],
            "selected": str(query.months),
        },
    ]
    return analysis(
        request,
        principal,
        "What each segment buys now against six months ago"
        if query.months == 6
        else f"What each segment buys now against {query.months} months ago",
        notes=notes,
        tables=tables,
        filters=filters,
        filters_action="/segment-shifts",
        empty_states=empty,
    )


@routes.get("/guard", response_class=HTMLResponse)
def guard_page(request: Request, principal: AnalystViewer, query: Annotated[GuardQuery, Query()]) -> Response:
    """The abuse and fraud flags of ``GET /api/v1/guard``, with its thresholds, highest score first per kind."""
    try:
        result = page_store(request).answer(query, GuardResult)
    except PAGE_TROUBLE as exc:
        return trouble(request, principal, exc)
    audit_rows = app_database(request).audit_rows()
    flags = result.flags + export_flags(audit_rows, people_per_day=query.export_people_per_day)
    notes = [f"Not checked: {gap}." for gap in result.not_checked]
    notes.insert(
        0,
        f"{len(flags)} flags. The thresholds are those of shoplens guard (its --help explains each), given here as "
        "query parameters: /guard?min_refunds=2&refund_factor=2&approval_limit=1000.",
    )
    rows = [
        {
            "kind": flag.kind.replace("_", " "),
            "subject": flag.subject,
            "score": round(flag.score, 3),
            "evidence": "; ".join(f"{name.replace('_', ' ')}: {value}" for name, value in flag.evidence.items()),
        }
        for flag in sorted(flags, key=lambda flag: (flag.kind, -flag.score))
    ]
    # a flag's subject is a customer key, a product id, a discount code or a user: the customer keys link
    tables = [
        table("Flags", "guard-flags", rows, ["kind", "subject", "score", "evidence"], customer_columns=("subject",))
    ]
    return analysis(request, principal, "Guards", notes=notes, tables=tables)


MONTH_COLUMNS = ["month", "orders", "net_sales", "refunds", "revenue"]


def _monthly_charts(months: list[dict[str, Any]]) -> list[Markup]:
    """Orders and net sales per month, as lines over the months with an order or a refund."""
    if not months:
        return []
    records = [
        {"month": row["month"].isoformat(), "orders": row["orders"], "net_sales": float(row["net_sales"])}
        for row in months
    ]
    charts = []
    for measure, words in (("net_sales", "Net sales"), ("orders", "Orders")):
        title = f"{words} per month"
        svg = line_chart(records, x="month", y=measure, x_kind="month", title=title)
        charts.append(chart_figure(svg, title, "Orders by month"))
    return charts


@routes.get("/customers/{key}", response_class=HTMLResponse)
def customer_page(request: Request, principal: CustomerViewer, key: Annotated[str, Path(max_length=64)]) -> Response:
    """One pseudonymous customer, as ``GET /api/v1/customers/{key}`` gives them (the same kept answer): orders over
    time, segment history, the CLV model's figures and preferences, with the next products of
    ``GET /api/v1/customers/{key}/suggestions``; never anything from the vault."""
    store = page_store(request)
    try:
        query = CustomerDetailQuery(customer_key=key)
    except ValueError:
        return problem(request, principal, "That is not a customer key.", status_code=404)
    try:
        detail = store.answer(query, CustomerDetailResult)
        suggested = store.answer(CustomerSuggestQuery(customer_key=key), CustomerSuggestResult)
    except UnansweredError as exc:
        if isinstance(exc.reason, NotFoundError):
            return problem(request, principal, f"{exc.reason}.", status_code=404)
        return trouble(request, principal, exc)
    except PAGE_TROUBLE as exc:
        return trouble(request, principal, exc)
    style = number_style(request)
    notes = [
        f"Customer {key} (a pseudonymous key): {style.count(detail.total_orders)} orders from "
        f"{style.day(detail.first_order_day)} to {style.day(detail.last_order_day)}, net sales "
        f"{style.money(detail.net_sales)}, refunds {style.money(detail.refunds)}, revenue "
        f"{style.money(detail.total_revenue)}.",
    ]
    if detail.undated_refunds:
        notes.append(f"{style.money(detail.undated_refunds)} of refunds have no date: in the totals, in no month.")
    totals = {
        "first_order_day": detail.first_order_day,
        "last_order_day": detail.last_order_day,
        "orders": detail.total_orders,
        "net_sales": detail.net_sales,
        "refunds": detail.refunds,
        "revenue": detail.total_revenue,
    }
    tables = [
        table("Totals", "customer-totals", [totals]),
        table(
            "Orders by month", "customer-months", detail.months, ["month", "orders", "net_sales", "refunds", "revenue"]
        ),
        table("Segment at each quarter end", "segment-history", detail.segments),
    ]
    if detail.model is None:
        notes.append(f"Model: {detail.model_note}.")
    else:
        model = detail.model
        notes.append(
            f"Model ({model['model']}, as of {style.day(model['as_of'])}): the next {model['horizon_days']} days, CLV "
            f"at a margin of {model['margin']:.3f} ({model['margin_basis']})."
        )
        columns = ["p_alive", "expected_purchases", "clv", "churn_risk", "value_tier", "expected_next_order_date"]
        tables.append(table("Model figures", "customer-model", [model], columns))
    profile = detail.preferences or {}
    if detail.preferences is None:
        notes.append(f"Preferences: {detail.preferences_note}.")
    lists = {name: value for name, value in profile.items() if isinstance(value, list)}
    measures = [
        {"measure": name.replace("_", " "), "value": "" if value is None else value, "measure_key": name}
        for name, value in profile.items()
        if name not in lists and name != "customer_key"
    ]
    if profile:
        columns = ["measure", "value"]
        tables.append(table("Preferences", "preferences", _rounded(measures), columns, value_named_by="measure_key"))
    tables += [
        table(name.replace("_", " ").capitalize(), name.replace("_", "-"), _rounded(rows))
        for name, rows in lists.items()
    ]
    columns = ["rank", "product_id", "name", "score", "method"]
    tables.append(table("Suggested next products", "suggestions", _rounded(suggested.suggestions), columns))
    notes.append(f"{suggested.products_bought} products bought; suggestions by {suggested.method}.")
    charts = _monthly_charts(detail.months)
    return analysis(request, principal, "Customer", notes=notes, charts=charts, tables=tables)


SUPPLIERS_CHARTED = 6  # lines on the demand chart: the suppliers with the most revenue


def _supplier_rows(result: SupplierResult) -> list[dict[str, Any]]:
    rows = []
    for supplier in result.suppliers:
        ahead = supplier["forecast"][0]
        row = {
            "supplier": supplier["supplier"],
            "products": supplier["products"],
            "units": supplier["units"],
            "revenue": supplier["revenue"],
            "revenue_share": supplier["revenue_share"],
            "margin": supplier["margin"],
            "margin_share": supplier["margin_share"],
            "return_rate": supplier["return_rate"],
            "refunds": supplier["refund_count"],
            "top_reasons": "; ".join(f"{r['reason']} ({r['refunds']})" for r in supplier["top_reasons"]),
            "trend_units_per_month": supplier["trend_units_per_month"],
            "next_month_units": ahead["forecast"],
            "next_month_range": "–" if ahead["lower"] is None else f"{ahead['lower']:g} to {ahead['upper']:g}",
        }
        if result.target is not None:
            row["target_units"] = supplier.get("target_units")
        rows.append(row)
    return _rounded(rows)


@routes.get("/suppliers", response_class=HTMLResponse)
def suppliers_page(
    request: Request,
    principal: AnalystViewer,
    months: Annotated[int, Query(ge=1, le=120)] = 12,
    target_period: Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}$")] = None,
) -> Response:
    """The suppliers of ``GET /api/v1/suppliers`` (the same kept answer): the table, and a chart of the units per
    month of the suppliers with the most revenue, with the same numbers as a table for those who cannot see it."""
    try:
        query = supplier_query(app_database(request), months, 3, target_period)
        result = page_store(request).answer(query, SupplierResult)
    except PAGE_TROUBLE as exc:
        return trouble(request, principal, exc)
    if not result.available:
        empty = [page_empty_state(principal, "suppliers")]
        return analysis(request, principal, "Suppliers", notes=[result.message or "No suppliers."], empty_states=empty)
    notes = [
        f"{len(result.suppliers)} suppliers, {result.start} to {result.end} ({len(result.months)} complete months). "
        f"Next month's units: {result.forecast_method}, {result.interval_level:.0%} interval.",
        *result.notes,
    ]
    if result.target is not None:
        notes.append(
            f"Units for the {result.target['period']} revenue target of "
            f"{number_style(request).money(result.target['value'])}: "
            f"{result.target['method']}."
        )
    charted = result.suppliers[:SUPPLIERS_CHARTED]
    records = [
        {"month": month["period"].isoformat(), "units": month["units"], "supplier": supplier["supplier"]}
        for supplier in charted
        for month in supplier["monthly_units"]
    ]
    title = f"Units per month, the {len(charted)} suppliers with the most revenue"
    svg = line_chart(records, x="month", y="units", series="supplier", x_kind="month", title=title)
    chart = chart_figure(svg, title, "Units per month")
    months_shown = [month.isoformat()[:7] for month in result.months]
    per_month = [
        {"supplier": supplier["supplier"]}
        | {m: point["units"] for m, point in zip(months_shown, supplier["monthly_units"], strict=True)}
        for supplier in result.suppliers
    ]
    tables = [
        table("Suppliers", "suppliers", _supplier_rows(result)),
        table("Units per month", "supplier-months", per_month, ["supplier", *months_shown]),
    ]
    return analysis(request, principal, "Suppliers", notes=notes, charts=[chart], tables=tables)
