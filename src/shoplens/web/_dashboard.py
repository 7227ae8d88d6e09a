"""The dashboard: server-rendered pages over the same runners the API uses (no numbers computed here).

Pages need a logged-in session: without one the browser is sent to ``/login``; a role that may not see a page
(vendors on customer-level pages) gets 403.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from shoplens.errors import InputError
from shoplens.metrics import (
    BasketQuery,
    BasketResult,
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
from shoplens.models.runners import ClvPredictQuery
from shoplens.reports import bar_chart, build_monthly_report, heatmap, parse_month, render_html, render_pdf, sparkline
from shoplens.voice import ThemesQuery, run_themes
from shoplens.web._api import clv_summary_of, customer_page
from shoplens.web._auth import Principal
from shoplens.web._deps import CUSTOMER_LEVEL, EVERYONE, principal_of
from shoplens.web._errors import ApiError
from shoplens.web._warehouse import metrics_runner, read_only_warehouse

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


def router(templates: Jinja2Templates) -> APIRouter:
    routes = APIRouter(include_in_schema=False)

    def render(request: Request, name: str, principal: Principal, **context: Any) -> HTMLResponse:
        context.update(principal=principal, csrf_token=principal.csrf_token, page=name.removesuffix(".html"))
        return templates.TemplateResponse(request, name, context, headers={"Cache-Control": "no-store"})

    def problem(request: Request, principal: Principal, message: str) -> HTMLResponse:
        return render(request, "no_data.html", principal, message=message)

    @routes.get("/", response_class=HTMLResponse)
    def overview(
        request: Request,
        principal: Viewer,
        start: Annotated[date | None, Query()] = None,
        end: Annotated[date | None, Query()] = None,
        grain: Annotated[Literal["day", "week", "month", "quarter"], Query()] = "month",
    ) -> HTMLResponse:
        try:
            query = KpiQuery(start=start, end=end, grain=grain)
        except ValueError:
            return problem(request, principal, "The start of the date range is after its end.")
        try:
            with metrics_runner(request.app.state.settings) as runner:
                result = runner.run_as(query, KpiResult)
        except (ApiError, InputError) as exc:
            return problem(request, principal, str(exc))
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
            rows=result.rows,
            start=start,
            end=end,
            grain=grain,
        )

    @routes.get("/customers", response_class=HTMLResponse)
    def customers(
        request: Request,
        principal: CustomerViewer,
        segment: Annotated[str | None, Query(max_length=64)] = None,
        offset: Annotated[int, Query(ge=0)] = 0,
    ) -> HTMLResponse:
        try:
            with metrics_runner(request.app.state.settings) as runner:
                rfm = runner.run_as(RfmQuery(), RfmResult)
                states = runner.run_as(LifecycleQuery(), LifecycleResult)
                stage = runner.run_as(StageQuery(), StageResult)
                listing = (
                    customer_page(runner, segment=segment, state=None, offset=offset, limit=PAGE_SIZE)
                    if segment
                    else None
                )
        except (ApiError, InputError) as exc:
            return problem(request, principal, str(exc))
        return render(
            request,
            "customers.html",
            principal,
            rfm=rfm,
            states=states,
            stage=stage,
            segment=segment,
            listing=listing,
            page_size=PAGE_SIZE,
        )

    @routes.get("/cohorts", response_class=HTMLResponse)
    def cohort_page(request: Request, principal: CustomerViewer) -> HTMLResponse:
        try:
            with metrics_runner(request.app.state.settings) as runner:
                result = runner.run_as(CohortQuery(), CohortResult)
        except (ApiError, InputError) as exc:
            return problem(request, principal, str(exc))
        records = [
            {"cohort": str(r["cohort"]), "period_index": r["period_index"], "retention": r["retention"]}
            for r in result.rows
        ]
        chart = Markup(heatmap(records, x="period_index", y="cohort", value="retention", title="Retention by cohort"))
        return render(request, "cohorts.html", principal, chart=chart, rows=result.rows)

    def table(title: str, table_id: str, records: list[dict[str, Any]], columns: list[str]) -> dict[str, Any]:
        return {"title": title, "id": table_id, "columns": columns, "rows": records}

    @routes.get("/funnel", response_class=HTMLResponse)
    def funnel_page(request: Request, principal: Viewer) -> HTMLResponse:
        try:
            with metrics_runner(request.app.state.settings) as runner:
                result = runner.run_as(FunnelQuery(), FunnelResult)
        except (ApiError, InputError) as exc:
            return problem(request, principal, str(exc))
        chart = Markup(bar_chart(result.steps, category="step", value="sessions", title="Sessions reaching each step"))
        steps = table("Steps", "funnel-steps", result.steps, ["step", "sessions", "conversion", "drop_off"])
        return render(request, "analysis.html", principal, title="Funnel", notes=[], charts=[chart], tables=[steps])

    @routes.get("/products", response_class=HTMLResponse)
    def products_page(request: Request, principal: Viewer) -> HTMLResponse:
        try:
            with metrics_runner(request.app.state.settings) as runner:
                products = runner.run_as(ProductQuery(), ProductResult)
                baskets = runner.run_as(BasketQuery(), BasketResult)
        except (ApiError, InputError) as exc:
            return problem(request, principal, str(exc))
        top = products.top_products[:10]
        records = [{"name": r["name"], "revenue": float(r["revenue"])} for r in top]
        chart = Markup(bar_chart(records, category="name", value="revenue", title="Top products by revenue"))
        notes = [f"{baskets.multi_product_orders} of {baskets.orders} orders hold more than one product."]
        tables = [
            table(
                "Top products", "top-products", top, ["name", "category", "units", "customers", "revenue", "abc_class"]
            ),
            table("ABC classes", "abc", products.abc, ["abc_class", "products", "revenue", "revenue_share"]),
            table(
                "Bought together", "basket-rules", baskets.rules[:20], list(baskets.rules[0]) if baskets.rules else []
            ),
        ]
        return render(
            request, "analysis.html", principal, title="Products & baskets", notes=notes, charts=[chart], tables=tables
        )

    @routes.get("/clv", response_class=HTMLResponse)
    def clv_page(request: Request, principal: CustomerViewer) -> HTMLResponse:
        settings = request.app.state.settings
        try:
            with read_only_warehouse(settings) as warehouse:
                version = warehouse.data_version
                warehouse.con.execute("SELECT 1").fetchall()  # drain the result data_version leaves open
                summary = clv_summary_of(warehouse.ibis(), ClvPredictQuery(horizon=365, limit=1), settings, version)
        except (ApiError, InputError) as exc:
            return problem(request, principal, str(exc))
        notes = [
            f"Expected value of {summary['n_customers']} customers over the next {summary['horizon_days']} days "
            f"(margin {summary['margin']}): {summary['totals']['clv']:,.2f}.",
        ]
        chart = Markup(
            bar_chart(
                summary["by_churn_risk"], category="churn_risk", value="customers", title="Customers by churn risk"
            )
        )
        risk = summary["by_churn_risk"]
        tables = [
            table("By churn risk", "clv-risk", risk, list(risk[0]) if risk else []),
            table("By value tier", "clv-tier", summary["by_value_tier"], list(summary["by_value_tier"][0])),
        ]
        return render(
            request, "analysis.html", principal, title="CLV & churn", notes=notes, charts=[chart], tables=tables
        )

    @routes.get("/voice", response_class=HTMLResponse)
    def voice_page(request: Request, principal: CustomerViewer) -> HTMLResponse:
        try:
            with read_only_warehouse(request.app.state.settings) as warehouse:
                document = run_themes(warehouse.ibis(), ThemesQuery(n_themes=6, method="keywords"))
        except (ApiError, InputError) as exc:
            return problem(request, principal, str(exc))
        themes = [
            {
                "theme": t["name"],
                "texts": t["texts"],
                "negative_share": t["negative_share"],
                "customers": t["customers"],
                "value_at_risk": t["value_at_risk"],
                "quote": (t.get("quotes") or [""])[0],
            }
            for t in document["themes"]
        ]
        notes = [f"{document['texts']} texts, themes by keywords (the API offers sentence embeddings: method=auto)."]
        columns = ["theme", "texts", "negative_share", "customers", "value_at_risk", "quote"]
        return render(
            request,
            "analysis.html",
            principal,
            title="Voice of the customer",
            notes=notes,
            charts=[],
            tables=[table("Themes", "voice-themes", themes, columns)],
        )

    @routes.get("/reports/monthly")
    def monthly_report(
        request: Request,
        principal: CustomerViewer,
        month: Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}$")] = None,
        output_format: Annotated[Literal["html", "pdf"], Query(alias="format")] = "html",
    ) -> Response:
        """The monthly online customer report to download, as HTML or PDF."""
        try:
            with metrics_runner(request.app.state.settings) as runner:
                report = build_monthly_report(runner, parse_month(month) if month else None)
        except (ApiError, InputError) as exc:
            return problem(request, principal, str(exc))
        html = render_html(report)
        name = f"shoplens-report-{report.month:%Y-%m}.{output_format}"
        headers = {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"}
        if output_format == "pdf":
            return Response(render_pdf(html), media_type="application/pdf", headers=headers)
        return HTMLResponse(html, headers=headers)

    return routes


def _number(value: Any) -> float | None:
    return float(value) if value is not None else None
