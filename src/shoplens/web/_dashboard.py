"""The dashboard: server-rendered pages over the same runners the API uses (no numbers computed here).

Pages need a logged-in session: without one the browser is sent to ``/login``; a role that may not see a page
(vendors on customer-level pages) gets 403. Results come through the app's :class:`StoreReader`, so a page seen
before is drawn again without opening the warehouse.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from shoplens.appdb import recent_jobs
from shoplens.errors import InputError
from shoplens.metrics import (
    BasketQuery,
    BasketResult,
    BehaviourQuery,
    BehaviourResult,
    CohortQuery,
    CohortResult,
    FunnelQuery,
    FunnelResult,
    KpiQuery,
    KpiResult,
    LifecycleQuery,
    LifecycleResult,
    ProductQuery,
    ProductResult,
    RfmQuery,
    RfmResult,
    StageQuery,
    StageResult,
)
from shoplens.privacy import DEFAULT_K
from shoplens.reports import (
    bar_chart,
    build_monthly_report,
    dataset_descriptions,
    heatmap,
    parse_month,
    render_html,
    render_pdf,
    sparkline,
)
from shoplens.voice import NeedsQuery, ThemesQuery, analyse_survey, list_surveys, run_needs, run_themes
from shoplens.warehouse import Warehouse
from shoplens.web._api import clv_totals, customer_listing, store_of
from shoplens.web._auth import Principal
from shoplens.web._deps import ANALYSTS, CUSTOMER_LEVEL, EVERYONE, app_database, principal_of
from shoplens.web._errors import ApiError
from shoplens.web._share import ShareFormatQuery, ShareK, download, share_exports
from shoplens.web._warehouse import PageReader, StillComputingError

KPI_FIELDS = (
    ("revenue", "Revenue"),
    ("orders", "Orders"),
    ("customers", "Customers"),
    ("new_customers", "New customers"),
    ("aov", "Average order value"),
    ("repeat_rate", "Repeat rate"),
    ("refund_rate", "Refund rate"),
)
PAGE_SIZE = 50
# a page waits this long for a result; then it says what is being computed and reloads itself until it is ready
PAGE_WAIT_SECONDS = 3.0
PAGE_TROUBLE = (ApiError, InputError, StillComputingError)
COMPUTING = {
    "kpis": "the KPIs",
    "rfm": "the RFM segments",
    "lifecycle": "the lifecycle states",
    "stage": "the development stage",
    "cohorts": "the cohorts",
    "funnel": "the funnel over every web session",
    "behaviour": "the purchase behaviour",
    "products": "the product performance",
    "basket": "the baskets",
    "customers": "this segment's customers",
    "clv": "the customer lifetime values",
    "voice-themes": "the feedback themes",
    "voice-needs": "the hidden needs",
    "share-package": "the package to share (the download starts when it is ready)",
}
JOBS_SHOWN = 20
SPLITS = ("channel", "device", "country", "segment")
# (path, label, customer-level): the menu; vendors see only the store-level pages
NAVIGATION = (
    ("/", "Overview", False),
    ("/funnel", "Funnel", False),
    ("/products", "Products", False),
    ("/customers", "Customers", True),
    ("/cohorts", "Cohorts", True),
    ("/behaviour", "Behaviour", True),
    ("/voice", "Voice", True),
    ("/clv", "CLV & churn", True),
    ("/surveys", "Surveys", True),
    ("/sharing", "Sharing", False),
    ("/jobs", "Jobs", True),
)
# the voice pages use keywords: sentence embeddings take seconds per thousand texts, too slow for a page
VOICE_METHOD: Literal["keywords"] = "keywords"


class PageDeniedError(Exception):
    """A dashboard page refused: ``login`` (no session) or ``role`` (a role that may not see it)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def page_roles(*roles: str) -> Any:
    def check(request: Request) -> Principal:
        found = principal_of(request)
        if found is None:
            raise PageDeniedError("login")
        if found.role not in roles:
            raise PageDeniedError("role")
        return found

    check.roles = roles  # type: ignore[attr-defined]  # read by the route audit test
    return Depends(check)


Viewer = Annotated[Principal, page_roles(*EVERYONE)]
CustomerViewer = Annotated[Principal, page_roles(*CUSTOMER_LEVEL)]


def page_store(request: Request) -> PageReader:
    return PageReader(store_of(request), PAGE_WAIT_SECONDS)


def table(title: str, table_id: str, records: list[dict[str, Any]], columns: list[str] | None = None) -> dict[str, Any]:
    """A table for ``analysis.html``: its columns are the first record's keys unless given."""
    return {
        "title": title,
        "id": table_id,
        "columns": columns or (list(records[0]) if records else []),
        "rows": records,
    }


def router(templates: Jinja2Templates) -> APIRouter:
    routes = APIRouter(include_in_schema=False)

    def render(request: Request, name: str, principal: Principal, **context: Any) -> HTMLResponse:
        jobs = context.get("jobs") or recent_jobs(app_database(request), limit=JOBS_SHOWN)
        menu = [
            {"path": path, "label": label, "current": request.url.path == path}
            for path, label, customer_level in NAVIGATION
            if principal.role in CUSTOMER_LEVEL or not customer_level
        ]
        context.update(
            principal=principal,
            csrf_token=principal.csrf_token,
            page=name.removesuffix(".html"),
            menu=menu,
            running_jobs=[job for job in jobs if job.state == "running"],
        )
        return templates.TemplateResponse(request, name, context, headers={"Cache-Control": "no-store"})

    def problem(request: Request, principal: Principal, message: str) -> HTMLResponse:
        return render(request, "no_data.html", principal, message=message)

    def trouble(request: Request, principal: Principal, exc: Exception) -> HTMLResponse:
        """A page that could not be drawn: still computing (it reloads itself), or the reason."""
        if isinstance(exc, StillComputingError):
            what = COMPUTING.get(exc.kind, exc.kind.replace("-", " "))
            return render(request, "computing.html", principal, what=what, seconds=exc.seconds)
        return problem(request, principal, str(exc))

    def analysis(request: Request, principal: Principal, title: str, **parts: Any) -> HTMLResponse:
        parts.setdefault("notes", [])
        parts.setdefault("charts", [])
        parts.setdefault("tables", [])
        return render(request, "analysis.html", principal, title=title, **parts)

    @routes.get("/", response_class=HTMLResponse)
    def overview(
        request: Request,
        principal: Viewer,
        start: Annotated[date | None, Query()] = None,
        end: Annotated[date | None, Query()] = None,
        grain: Annotated[Literal["day", "week", "month", "quarter"], Query()] = "month",
        by: Annotated[str, Query(description="split the table by channel, device, country or segment")] = "",
    ) -> HTMLResponse:
        try:
            query = KpiQuery(start=start, end=end, grain=grain)
        except ValueError:
            return problem(request, principal, "The start of the date range is after its end.")
        if by and by not in SPLITS:
            return problem(request, principal, f"The table can be split by {', '.join(SPLITS)}, not by {by[:20]!r}.")
        store = page_store(request)
        try:
            result = store.metric(query, KpiResult)
            split = store.metric(query.model_copy(update={"by": by}), KpiResult) if by else None
        except PAGE_TROUBLE as exc:
            return trouble(request, principal, exc)
        latest = result.rows[-1] if result.rows else {}
        cards = [
            {
                "key": key,
                "label": label,
                "value": latest.get(key),
                "spark": Markup(sparkline([_number(r.get(key)) for r in result.rows])) if len(result.rows) > 1 else "",
            }
            for key, label in KPI_FIELDS
        ]
        return render(
            request,
            "overview.html",
            principal,
            cards=cards,
            latest=latest,
            rows=split.rows if split else result.rows,
            start=start,
            end=end,
            grain=grain,
            by=by,
        )

    @routes.get("/customers", response_class=HTMLResponse)
    def customers(
        request: Request,
        principal: CustomerViewer,
        segment: Annotated[str | None, Query(max_length=64)] = None,
        offset: Annotated[int, Query(ge=0)] = 0,
    ) -> HTMLResponse:
        store = page_store(request)
        try:
            version = store.version()
            rfm = store.metric(RfmQuery(), RfmResult, version)
            states = store.metric(LifecycleQuery(), LifecycleResult, version)
            stage = store.metric(StageQuery(), StageResult, version)
            listing = None
            if segment:
                listing = customer_listing(
                    store, segment=segment, state=None, offset=offset, limit=PAGE_SIZE, version=version
                )
        except PAGE_TROUBLE as exc:
            return trouble(request, principal, exc)
        return render(
            request,
            "customers.html",
            principal,
            rfm=rfm,
            states=states,
            stage=stage,
            evidence=_evidence(stage.evidence),
            segment=segment,
            listing=listing,
            page_size=PAGE_SIZE,
        )

    @routes.get("/cohorts", response_class=HTMLResponse)
    def cohort_page(request: Request, principal: CustomerViewer) -> HTMLResponse:
        try:
            result = page_store(request).metric(CohortQuery(), CohortResult)
        except PAGE_TROUBLE as exc:
            return trouble(request, principal, exc)
        records = [
            {"cohort": str(r["cohort"]), "period_index": r["period_index"], "retention": r["retention"]}
            for r in result.rows
        ]
        chart = Markup(heatmap(records, x="period_index", y="cohort", value="retention", title="Retention by cohort"))
        return render(request, "cohorts.html", principal, chart=chart, rows=result.rows)

    @routes.get("/funnel", response_class=HTMLResponse)
    def funnel_page(request: Request, principal: Viewer) -> HTMLResponse:
        try:
            result = page_store(request).metric(FunnelQuery(), FunnelResult)
        except PAGE_TROUBLE as exc:
            return trouble(request, principal, exc)
        chart = Markup(bar_chart(result.steps, category="step", value="sessions", title="Sessions reaching each step"))
        steps = table("Steps", "funnel-steps", result.steps, ["step", "sessions", "conversion", "drop_off"])
        return analysis(request, principal, "Funnel", charts=[chart], tables=[steps])

    @routes.get("/behaviour", response_class=HTMLResponse)
    def behaviour_page(request: Request, principal: CustomerViewer) -> HTMLResponse:
        try:
            result = page_store(request).metric(BehaviourQuery(), BehaviourResult)
        except PAGE_TROUBLE as exc:
            return trouble(request, principal, exc)
        gaps = result.inter_purchase
        discounts = result.discounts
        notes = [
            f"Half of the repeat orders come within {gaps.get('median_days')} days of the customer's previous "
            f"order; a quarter within {gaps.get('p25_days')} days, nine in ten within {gaps.get('p90_days')}.",
            f"{discounts.get('discounted_orders')} of {discounts.get('orders')} orders were discounted. Customers "
            f"won with a discount repeat at {discounts.get('discount_acquired_repeat_rate')}, those won at full "
            f"price at {discounts.get('full_price_repeat_rate')}.",
        ]
        chart = Markup(
            bar_chart(
                result.inter_purchase_distribution,
                category="bucket",
                value="repeat_orders",
                title="Days between a customer's orders",
            )
        )
        tables = [
            table("Days between orders", "gaps", result.inter_purchase_distribution),
            table("Products per order", "basket-sizes", result.basket_sizes),
            table("By acquisition channel", "channels", result.channels),
            table("By device", "devices", result.devices),
            table("First products that bring customers back", "first-most", result.first_products_most_repeat),
            table(
                "First products after which customers rarely return", "first-least", result.first_products_least_repeat
            ),
        ]
        return analysis(request, principal, "Behaviour", notes=notes, charts=[chart], tables=tables)

    @routes.get("/products", response_class=HTMLResponse)
    def products_page(request: Request, principal: Viewer) -> HTMLResponse:
        store = page_store(request)
        try:
            version = store.version()
            products = store.metric(ProductQuery(), ProductResult, version)
            baskets = store.metric(BasketQuery(), BasketResult, version)
        except PAGE_TROUBLE as exc:
            return trouble(request, principal, exc)
        top = products.top_products[:10]
        records = [{"name": r["name"], "revenue": float(r["revenue"])} for r in top]
        chart = Markup(bar_chart(records, category="name", value="revenue", title="Top products by revenue"))
        notes = [f"{baskets.multi_product_orders} of {baskets.orders} orders hold more than one product."]
        tables = [
            table(
                "Top products", "top-products", top, ["name", "category", "units", "customers", "revenue", "abc_class"]
            ),
            table("ABC classes", "abc", products.abc, ["abc_class", "products", "revenue", "revenue_share"]),
            table("Bought together", "basket-rules", baskets.rules[:20]),
        ]
        return analysis(request, principal, "Products & baskets", notes=notes, charts=[chart], tables=tables)

    @routes.get("/clv", response_class=HTMLResponse)
    def clv_page(request: Request, principal: CustomerViewer) -> HTMLResponse:
        store = page_store(request)
        try:
            # the same kept answer as GET /api/v1/clv?horizon=365&model=bgnbd
            summary = clv_totals(store, horizon=365, model="bgnbd", version=store.version())
        except PAGE_TROUBLE as exc:
            return trouble(request, principal, exc)
        notes = [
            f"Expected value of {summary['n_customers']} customers over the next {summary['horizon_days']} days "
            f"(margin {summary['margin']}): {summary['totals']['clv']:,.2f}.",
        ]
        chart = Markup(
            bar_chart(
                summary["by_churn_risk"], category="churn_risk", value="customers", title="Customers by churn risk"
            )
        )
        tables = [
            table("By churn risk", "clv-risk", summary["by_churn_risk"]),
            table("By value tier", "clv-tier", summary["by_value_tier"]),
        ]
        return analysis(request, principal, "CLV & churn", notes=notes, charts=[chart], tables=tables)

    @routes.get("/voice", response_class=HTMLResponse)
    def voice_page(request: Request, principal: CustomerViewer) -> HTMLResponse:
        store = page_store(request)
        themes_query = ThemesQuery(n_themes=6, method=VOICE_METHOD)
        needs_query = NeedsQuery(n_themes=6, method=VOICE_METHOD)
        zone = store.settings.timezone

        def themes_of(warehouse: Warehouse) -> dict[str, Any]:
            return run_themes(warehouse.ibis(), themes_query)

        def needs_of(warehouse: Warehouse) -> dict[str, Any]:
            return run_needs(warehouse.ibis(), needs_query, zone=zone)

        try:
            version = store.version()
            themes = store.result("voice-themes", themes_query.model_dump_json(), version, themes_of)
            needs = store.result("voice-needs", needs_query.model_dump_json(), version, needs_of)
        except PAGE_TROUBLE as exc:
            return trouble(request, principal, exc)
        notes = [
            f"{themes['texts']} texts, themes by keywords (the API offers sentence embeddings: method=auto).",
            f"Hidden needs: {needs['critical_texts']} critical texts ({needs['critical_is']}); complaint themes are "
            f"ranked by {needs['ranked_by']}.",
        ]
        return analysis(
            request, principal, "Voice of the customer", notes=notes, tables=hidden_need_tables(themes, needs)
        )

    @routes.get("/sharing", response_class=HTMLResponse)
    def sharing_page(request: Request, principal: Viewer) -> HTMLResponse:
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
    ) -> HTMLResponse:
        """The store's surveys; with ``survey``, its results: response rate, NPS and CSAT with intervals, choices."""
        database = app_database(request)
        surveys = list_surveys(database)
        results = None
        if survey is not None:
            if survey not in {s["survey_id"] for s in surveys}:
                return problem(request, principal, f"There is no survey {survey[:64]!r}.")
            results = analyse_survey(database, survey, theme_method=VOICE_METHOD)
        return render(request, "surveys.html", principal, surveys=surveys, results=results)

    @routes.get("/jobs", response_class=HTMLResponse)
    def jobs_page(request: Request, principal: CustomerViewer) -> HTMLResponse:
        """Imports, demo builds and model fits started from the command line, with their progress."""
        return render(request, "jobs.html", principal, jobs=recent_jobs(app_database(request), limit=JOBS_SHOWN))

    @routes.get("/reports/monthly")
    def monthly_report(
        request: Request,
        principal: CustomerViewer,
        month: Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}$")] = None,
        output_format: Annotated[Literal["html", "pdf"], Query(alias="format")] = "html",
    ) -> Response:
        """The monthly online customer report to download, as HTML or PDF."""
        try:
            with store_of(request).runner() as runner:
                report = build_monthly_report(runner, parse_month(month) if month else None)
        except PAGE_TROUBLE as exc:
            return trouble(request, principal, exc)
        html = render_html(report)
        name = f"shoplens-report-{report.month:%Y-%m}.{output_format}"
        headers = {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"}
        if output_format == "pdf":
            return Response(render_pdf(html), media_type="application/pdf", headers=headers)
        return HTMLResponse(html, headers=headers)

    return routes


def hidden_need_tables(themes: dict[str, Any], needs: dict[str, Any]) -> list[dict[str, Any]]:
    """The voice page's tables: themes, complaint themes by value at risk, upgrade wishes, silent signals."""
    theme_rows = [
        {
            "theme": t["name"],
            "texts": t["texts"],
            "negative_share": t["negative_share"],
            "customers": t["customers"],
            "value_at_risk": t["value_at_risk"],
            "quote": (t.get("quotes") or [""])[0],
        }
        for t in themes["themes"]
    ]
    complaints = [
        {
            "complaint": t["name"],
            "texts": t["texts"],
            "customers": t["customers"],
            "value_at_risk": t["value_at_risk"],
            "growth": t.get("growth"),
            "quote": (t.get("quotes") or [""])[0],
        }
        for t in needs["complaint_themes"]
    ]
    wishes = [
        {
            "wish": w["name"],
            "texts": w["texts"],
            "customers": w["customers"],
            "spend": w["value"],
            "quote": w["quotes"][0],
        }
        for w in needs["upgrade_wishes"]
        if w["quotes"]
    ]
    silent = needs.get("silent_dissatisfaction") or {}
    signals = [
        {"signal": name.replace("_", " "), "customers": s["customers"], "spend": s["spend"], "rule": s["rule"]}
        for name, s in (silent.get("signals") or {}).items()
    ]
    return [
        table(
            "Themes",
            "voice-themes",
            theme_rows,
            ["theme", "texts", "negative_share", "customers", "value_at_risk", "quote"],
        ),
        table("Hidden needs: complaints by value at risk", "needs-complaints", complaints),
        table("Hidden needs: service upgrades customers ask for", "needs-wishes", wishes),
        table("Hidden needs: silent dissatisfaction (what customers do, not say)", "needs-silent", signals),
    ]


def _evidence(evidence: dict[str, Any]) -> list[dict[str, Any]]:
    """The stage evidence as labelled rows, in the order the stage rule reads them."""
    return [{"name": key.replace("_", " "), "value": value} for key, value in evidence.items()]


def _number(value: Any) -> float | None:
    return float(value) if value is not None else None
