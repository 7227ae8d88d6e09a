"""Joint plans with partners over the API: owners create and delete them, owners, analysts and marketers read them
(the roles of the Acquisition & plans page), and a plan's partner — a vendor logged in with the account the plan
names — may see that plan's progress.

A vendor's view of the progress follows the vendor k rule (:mod:`shoplens.web._vendor`): a shared KPI's month is
released only when at least k customers stand behind its figure; the plan's goals, dates and datasets are the
vendor's own agreement. Every change is one entry in the audit log (``plan.create``, ``plan.delete``).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from shoplens.actions import PlanDraft, delete_plan, existing_plan, plan_document, plan_kpi, save_plan
from shoplens.appdb import PARTNER_KINDS, PartnerPlan, PartnerPlanStore
from shoplens.config import Settings
from shoplens.queries import PlanProgressQuery, PlanProgressResult, target_specs
from shoplens.reports import check_share_datasets
from shoplens.web._api import store_of
from shoplens.web._auth import Principal
from shoplens.web._deps import CUSTOMER_LEVEL, EVERYONE, app_database, principal_of, require_roles
from shoplens.web._errors import API_PREFIX, ApiError
from shoplens.web._vendor import is_vendor, vendor_document, vendor_k

Owners = require_roles("owner")
Readers = require_roles(*CUSTOMER_LEVEL)
PlanId = Annotated[int, Path(ge=1, le=2**31 - 1, description="the plan's id")]


class PlanKpiRequest(BaseModel):
    """One shared KPI: its target for a month (and sales channel)."""

    model_config = ConfigDict(extra="forbid")
    kpi: str = Field(max_length=32)
    period: str = Field(max_length=7, description="YYYY-MM")
    value: float
    channel: str = Field("", max_length=64)


class PlanRequest(BaseModel):
    """A new plan, as ``shoplens plans create`` takes it."""

    model_config = ConfigDict(extra="forbid")
    partner: str = Field(max_length=200)
    kind: str = Field(max_length=16, description=", ".join(PARTNER_KINDS))
    starts: date
    ends: date
    goals: list[Annotated[str, Field(max_length=500)]] = Field(default_factory=list, max_length=50)
    datasets: list[Annotated[str, Field(max_length=64)]] = Field(default_factory=list, max_length=10)
    kpis: list[PlanKpiRequest] = Field(default_factory=list, max_length=200)
    partner_account: str | None = Field(None, max_length=320, description="e-mail of the partner's vendor account")


def _principal(request: Request) -> Principal:
    found = principal_of(request)
    assert found is not None, "require_roles ran first"
    return found


def _secret(request: Request) -> bytes:
    settings = request.app.state.settings
    assert isinstance(settings, Settings)
    return settings.store_secret()


def own_plan(principal: Principal, plan: PartnerPlan) -> bool:
    """Whether ``principal`` is the vendor account the plan names (a logged-in user; a token has no e-mail)."""
    return principal.kind == "user" and plan.partner_email is not None and principal.name == plan.partner_email


def plan_progress(request: Request, plan: PartnerPlan) -> PlanProgressResult:
    """The plan's shared KPIs paced as targets (the same kept answer the dashboard draws)."""
    return store_of(request).answer(PlanProgressQuery(kpis=target_specs(plan.kpis)), PlanProgressResult)


def progress_document(plan: PartnerPlan, result: PlanProgressResult) -> dict[str, Any]:
    """The plan as :func:`plan_document` shows it, without its partner account and targets, with their progress."""
    shown = {key: value for key, value in plan_document(plan).items() if key not in ("partner_account", "kpis")}
    return shown | result.model_dump(exclude={"query"})


def router() -> APIRouter:
    routes = APIRouter(prefix=API_PREFIX, tags=["plans"])

    @routes.get("/plans", dependencies=[Readers])
    def plans(request: Request) -> JSONResponse:
        """Every joint plan with partners, oldest first (``shoplens plans list``)."""
        found = [plan_document(plan) for plan in PartnerPlanStore(app_database(request)).plans()]
        return JSONResponse(jsonable_encoder({"plans": found}))

    @routes.get("/plans/{plan_id}", dependencies=[Readers])
    def plan(request: Request, plan_id: PlanId) -> JSONResponse:
        """One plan (``shoplens plans show ID``); 404 for an unknown id."""
        return JSONResponse(jsonable_encoder({"plan": plan_document(existing_plan(app_database(request), plan_id))}))

    @routes.get("/plans/{plan_id}/progress", dependencies=[require_roles(*EVERYONE)])
    def progress(request: Request, plan_id: PlanId) -> JSONResponse:
        """Each shared KPI paced as a target: actual to date, projected, low/high, on_track, and the customers
        behind the month (``shoplens plans progress ID``). A vendor sees only the plan that names its account,
        and a month only when at least k customers stand behind it."""
        principal = _principal(request)
        if is_vendor(principal):  # 403 for another's plan and for none at all: a vendor learns no other plan's id
            kept = PartnerPlanStore(app_database(request)).plan(plan_id)
            if kept is None or not own_plan(principal, kept):
                raise ApiError(403, "forbidden", "a vendor may see only the progress of a plan that names its account")
        found = existing_plan(app_database(request), plan_id)
        document = jsonable_encoder(progress_document(found, plan_progress(request, found)))
        if is_vendor(principal):
            document = vendor_document("plan_progress", document, vendor_k(request))
        return JSONResponse(document)

    @routes.post("/plans", dependencies=[Owners], status_code=201)
    def create(request: Request, body: PlanRequest) -> JSONResponse:
        """Create a plan (``shoplens plans create``); bad input answers 400 with the command line's message. One
        audit entry (``plan.create``)."""
        kpis = tuple(
            plan_kpi(k.kpi, k.period, k.value, k.channel, sessions=True, option="kpis {kpi}:{period} value")
            for k in body.kpis
        )
        draft = PlanDraft(
            partner_name=body.partner,
            kind=body.kind,
            starts=body.starts,
            ends=body.ends,
            goals=tuple(body.goals),
            datasets=check_share_datasets(body.datasets),
            kpis=kpis,
            partner_email=body.partner_account,
        )
        saved, entry = save_plan(
            app_database(request), draft, actor=_principal(request).actor, secret=_secret(request), via="web"
        )
        document = {"plan": plan_document(saved), "audit_entry": entry.id}
        return JSONResponse(jsonable_encoder(document), status_code=201)

    @routes.delete("/plans/{plan_id}", dependencies=[Owners])
    def delete(request: Request, plan_id: PlanId) -> JSONResponse:
        """Delete a plan with its KPIs (``shoplens plans delete ID``); 404 for an unknown id. One audit entry."""
        _, entry = delete_plan(
            app_database(request), plan_id, actor=_principal(request).actor, secret=_secret(request), via="web"
        )
        return JSONResponse({"deleted": {"plan_id": plan_id}, "audit_entry": entry.id})

    return routes
