"""The dashboard's page furniture: the menu, role checks for pages, tables, and the one way a page is drawn."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates

from shoplens.appdb import recent_jobs
from shoplens.errors import InputError
from shoplens.queries import StageResult
from shoplens.reports import NumberStyle, kind_of
from shoplens.web._auth import Principal
from shoplens.web._deps import ANALYSTS, CUSTOMER_LEVEL, EVERYONE, OWNERS, app_database, principal_of
from shoplens.web._empty import EXPORTS, IMPORT_PAGE, empty_state, state_for
from shoplens.web._tables import CUSTOMER_COLUMNS, csv_download, number_style, shown_table
from shoplens.web._warehouse import StillComputingError, UnansweredError

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
    "clv_summary": "the customer lifetime values",
    "voice_themes": "the feedback themes",
    "voice_needs": "the hidden needs",
    "share_package": "the package to share (the download starts when it is ready)",
}
JOBS_SHOWN = 20

# (path, label, roles that see it): the menu; vendors see only the store-level pages, the guards only owners and
# analysts, the settings (store, people, API tokens) only owners
NAVIGATION = (
    ("/", "Overview", EVERYONE),
    ("/funnel", "Funnel", EVERYONE),
    ("/products", "Products", EVERYONE),
    ("/customers", "Customers", CUSTOMER_LEVEL),
    ("/cohorts", "Cohorts", CUSTOMER_LEVEL),
    ("/behaviour", "Behaviour", CUSTOMER_LEVEL),
    ("/segment-shifts", "Segment shifts", CUSTOMER_LEVEL),
    ("/voice", "Voice", CUSTOMER_LEVEL),
    ("/clv", "CLV & churn", CUSTOMER_LEVEL),
    ("/acquisition", "Acquisition & plans", CUSTOMER_LEVEL),
    ("/market", "Market", CUSTOMER_LEVEL),
    ("/service", "Service", CUSTOMER_LEVEL),
    ("/suppliers", "Suppliers", ANALYSTS),
    ("/guard", "Guards", ANALYSTS),
    ("/surveys", "Surveys", CUSTOMER_LEVEL),
    ("/sharing", "Sharing", EVERYONE),
    ("/import", "Import", ANALYSTS),
    ("/jobs", "Jobs", CUSTOMER_LEVEL),
    ("/settings", "Settings", OWNERS),
)


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
AnalystViewer = Annotated[Principal, page_roles(*ANALYSTS)]


def table(
    title: str,
    table_id: str,
    records: list[dict[str, Any]],
    columns: list[str] | None = None,
    *,
    customer_columns: tuple[str, ...] = CUSTOMER_COLUMNS,
    value_named_by: str | None = None,
) -> dict[str, Any]:
    """A table for ``analysis.html``: its columns are the first record's keys unless given. A customer key in one of
    ``customer_columns`` links to the customer's page; with ``value_named_by``, the ``value`` of each row is written
    as the measure that row's ``value_named_by`` field names (a share as a percentage, an amount as money)."""
    return {
        "title": title,
        "id": table_id,
        "columns": columns or (list(records[0]) if records else []),
        "rows": records,
        "customer_columns": customer_columns,
        "value_named_by": value_named_by,
    }


def render(request: Request, name: str, principal: Principal, **context: Any) -> HTMLResponse:
    jobs = context.get("jobs") or recent_jobs(app_database(request), limit=JOBS_SHOWN)
    menu = [
        {"path": path, "label": label, "current": request.url.path == path}
        for path, label, roles in NAVIGATION
        if principal.role in roles
    ]
    context.update(
        principal=principal,
        csrf_token=principal.csrf_token,
        page=name.removesuffix(".html"),
        menu=menu,
        fmt=context.get("fmt") or number_style(request),
        running_jobs=[job for job in jobs if job.state == "running"],
    )
    templates: Jinja2Templates = request.app.state.templates
    return templates.TemplateResponse(request, name, context, headers={"Cache-Control": "no-store"})


def problem(request: Request, principal: Principal, message: str, *, status_code: int = 200) -> HTMLResponse:
    """A page that says what is wrong (with ``status_code`` 404 when the page names something the store lacks)."""
    response = render(request, "no_data.html", principal, message=message)
    response.status_code = status_code
    return response


def trouble(request: Request, principal: Principal, exc: Exception) -> HTMLResponse:
    """A page that could not be drawn: still computing (it reloads itself), empty (the reason with what would fill
    it), or the reason."""
    if isinstance(exc, StillComputingError):
        what = COMPUTING.get(exc.kind, exc.kind.replace("_", " "))
        return render(request, "computing.html", principal, what=what, seconds=exc.seconds)
    state = state_for(exc, principal.role) if isinstance(exc, InputError | UnansweredError) else None
    return render(request, "no_data.html", principal, message=str(exc), state=state)


def welcome(request: Request, principal: Principal, exc: Exception) -> HTMLResponse:
    """The overview of a new store: what to import first and how, then the optional exports, and the demo."""
    orders, *optional = EXPORTS
    return render(
        request,
        "welcome.html",
        principal,
        message=str(exc),
        orders=orders,
        optional=optional,
        import_page=IMPORT_PAGE if principal.role in ANALYSTS else None,
    )


def page_empty_state(principal: Principal, need: str) -> dict[str, Any]:
    """The empty-state block of a page whose question was answered but found nothing of ``need``."""
    return empty_state(need, principal.role)


def analysis(request: Request, principal: Principal, title: str, **parts: Any) -> Response:
    """A page of notes, charts and tables; ``?csv=ID`` downloads the table ``ID`` instead, and a table's sort and
    page come from the query (:mod:`shoplens.web._tables`)."""
    tables = parts.pop("tables", [])
    download = table_download(request, principal, tables)
    if download is not None:
        return download
    style = number_style(request)
    parts.setdefault("notes", [])
    parts.setdefault("charts", [])
    parts.setdefault("empty_states", [])
    shown = [shown_table(request, style, found) for found in tables]
    return render(request, "analysis.html", principal, title=title, tables=shown, fmt=style, **parts)


def table_download(request: Request, principal: Principal, tables: list[dict[str, Any]]) -> Response | None:
    """The CSV of the table ``?csv=ID`` names (None when the request asks for no download)."""
    wanted = request.query_params.get("csv")
    if not wanted:
        return None
    for found in tables:
        if found["id"] == wanted:
            return csv_download(found, f"shoplens-{found['id']}")
    return problem(request, principal, f"This page has no table {wanted[:40]!r} to download.")


def hidden_need_tables(themes: dict[str, Any], needs: dict[str, Any]) -> list[dict[str, Any]]:
    """The voice page's tables: themes, complaint themes by value at risk, upgrade wishes, silent signals."""
    theme_rows = [
        {
            "theme": t["name"],
            "polarity": t["polarity"],
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


def evidence_rows(stage: StageResult, style: NumberStyle) -> list[dict[str, str]]:
    """The stage evidence as labelled rows, shares as percentages and amounts as money, in the order the stage rule
    reads them."""
    raw = list(stage.evidence.items())
    return [
        {"name": name, "value": style.money(value) if kind_of(key, value) == "money" else shown}
        for (name, shown), (key, value) in zip(stage.evidence_shown(), raw, strict=True)
    ]


def as_number(value: Any) -> float | None:
    return float(value) if value is not None else None
