"""Joint plans with partners (suppliers, marketplaces, web designers): the checks of what a plan may hold.

A plan's shared KPIs are targets in all but where they are kept: the same KPIs (:data:`KPIS`), months and values
(:func:`check_kpi`, :func:`period_start`, :func:`check_target_value`), measured by the same pacing. A KPI's month
must overlap the plan's dates; a plan ends on or after the day it starts.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from shoplens.actions._targets import check_kpi, check_target_value, period_label, period_start, shift_months
from shoplens.appdb import PARTNER_KINDS, AppDatabase, PartnerPlan, PartnerPlanStore
from shoplens.errors import InputError, NotFoundError
from shoplens.privacy import AuditEntry, record_audit

MAX_PARTNER_NAME = 200
MAX_GOAL_LENGTH = 500
KPI_SPEC = "KPI:PERIOD:VALUE[:CHANNEL]"


@dataclass(frozen=True)
class PlanKpi:
    """One shared KPI as given: its target ``value`` for the month ``period`` (and ``channel``, "" for the shop)."""

    kpi: str
    period: str
    value: float
    channel: str = ""


def plan_kpi(kpi: str, period: str, value: float, channel: str = "", *, sessions: bool, option: str) -> PlanKpi:
    """One shared KPI checked as a target is; ``option`` names it in a message (``--kpi revenue:2026-01``)."""
    check_kpi(kpi, sessions=sessions)
    month = period_label(period_start(period))
    check_target_value(kpi, value, option=option.format(kpi=kpi, period=month))
    return PlanKpi(kpi, month, value, channel.strip())


def parse_plan_kpi(spec: str, *, sessions: bool) -> PlanKpi:
    """``KPI:PERIOD:VALUE[:CHANNEL]`` (such as ``revenue:2026-01:90000:web``) as a :class:`PlanKpi`, checked as a
    target is; ``sessions``: whether the store has web sessions (a conversion KPI needs them)."""
    parts = [part.strip() for part in spec.split(":")]
    if len(parts) not in (3, 4) or not all(parts):
        raise InputError(f"--kpi takes {KPI_SPEC} (such as revenue:2026-01:90000), got {spec[:80]!r}")
    kpi = check_kpi(parts[0], sessions=sessions)
    period = period_label(period_start(parts[1]))
    try:
        value = float(parts[2])
    except ValueError:
        raise InputError(f"--kpi {kpi}:{period}: the value must be a number, got {parts[2][:40]!r}") from None
    channel = parts[3] if len(parts) == 4 else ""
    return plan_kpi(kpi, period, value, channel, sessions=sessions, option="--kpi {kpi}:{period}")


def parse_plan_date(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InputError(f"{option} must be a date as YYYY-MM-DD (such as 2026-01-31), got {text[:40]!r}") from None


def check_partner_kind(kind: str) -> str:
    if kind not in PARTNER_KINDS:
        raise InputError(f"unknown partner kind {kind[:40]!r}; choose one of: {', '.join(PARTNER_KINDS)}")
    return kind


@dataclass(frozen=True)
class PlanDraft:
    """A plan as given, before it is checked and stored: ``datasets`` are names of the share package (checked by
    :func:`shoplens.reports.check_share_datasets`), ``partner_email`` an active vendor account's or None."""

    partner_name: str
    kind: str
    starts: date
    ends: date
    goals: tuple[str, ...] = ()
    datasets: tuple[str, ...] = ()
    kpis: tuple[PlanKpi, ...] = ()
    partner_email: str | None = None


def check_plan(draft: PlanDraft) -> None:
    """An InputError for the first thing wrong with a plan: no partner name, an unknown kind, an end before the
    start, an over-long goal, a KPI whose month is outside the plan's dates, or a KPI named twice for one month."""
    if not draft.partner_name.strip() or len(draft.partner_name) > MAX_PARTNER_NAME:
        raise InputError(f"--partner must name the partner in 1 to {MAX_PARTNER_NAME} characters")
    check_partner_kind(draft.kind)
    starts, ends = draft.starts, draft.ends
    if ends < starts:
        raise InputError(f"the plan ends ({ends}) before it starts ({starts})")
    if any(len(goal) > MAX_GOAL_LENGTH for goal in draft.goals):
        raise InputError(f"a --goal has at most {MAX_GOAL_LENGTH} characters")
    seen: set[tuple[str, str, str]] = set()
    for found in draft.kpis:
        month = period_start(found.period)
        if month > ends or shift_months(month, 1) <= starts:
            raise InputError(f"the {found.kpi} KPI's month {found.period} is outside the plan ({starts} to {ends})")
        key = (found.kpi, found.period, found.channel)
        if key in seen:
            where = f" on {found.channel}" if found.channel else ""
            raise InputError(f"the plan names the {found.kpi} KPI{where} for {found.period} twice")
        seen.add(key)


def plan_document(plan: PartnerPlan) -> dict[str, Any]:
    """The plan as the command line and the API show it (the partner account's e-mail only as linked or not)."""
    return {
        "plan_id": plan.plan_id,
        "partner": plan.partner_name,
        "kind": plan.partner_kind,
        "goals": list(plan.goals),
        "starts": plan.starts,
        "ends": plan.ends,
        "datasets": list(plan.datasets),
        "partner_account": plan.partner_email,
        "kpis": [
            {"kpi": k.kpi, "period": k.period, "channel": k.channel or None, "target": k.value} for k in plan.kpis
        ],
        "created_at": plan.created_at,
    }


def _audited(plan: PartnerPlan) -> dict[str, Any]:
    """What the audit log keeps of a plan: its id, kind, datasets and counts; never the partner's name or e-mail."""
    return {
        "plan_id": plan.plan_id,
        "partner_kind": plan.partner_kind,
        "datasets": list(plan.datasets),
        "kpis": len(plan.kpis),
        "partner_account": plan.partner_email is not None,
    }


def save_plan(
    database: AppDatabase, draft: PlanDraft, *, actor: str, secret: bytes, via: str | None = None
) -> tuple[PartnerPlan, AuditEntry]:
    """Check and store a new plan, and write it to the audit log (``plan.create``)."""
    draft = replace(draft, goals=tuple(goal.strip() for goal in draft.goals if goal.strip()))
    check_plan(draft)
    store = PartnerPlanStore(database)
    email = draft.partner_email.strip().lower() if draft.partner_email else None
    if email is not None and not store.vendor_account(email):
        raise InputError(
            "--partner-account must be the e-mail of an active vendor account (shoplens user add E --role vendor)"
        )
    plan = store.create(
        partner_name=draft.partner_name.strip(),
        partner_kind=draft.kind,
        starts=draft.starts,
        ends=draft.ends,
        goals=list(draft.goals),
        datasets=list(draft.datasets),
        kpis=[(k.kpi, k.period, k.value, k.channel) for k in draft.kpis],
        partner_email=email,
    )
    details = _audited(plan) | ({"via": via} if via else {})
    entry = record_audit(database, actor=actor, action="plan.create", details=details, secret=secret)
    return plan, entry


def existing_plan(database: AppDatabase, plan_id: int) -> PartnerPlan:
    """The plan ``plan_id``; a NotFoundError (exit 2, or 404) when there is none."""
    plan = PartnerPlanStore(database).plan(plan_id)
    if plan is None:
        raise NotFoundError(f"no plan {plan_id} (see shoplens plans list)")
    return plan


def delete_plan(
    database: AppDatabase, plan_id: int, *, actor: str, secret: bytes, via: str | None = None
) -> tuple[PartnerPlan, AuditEntry]:
    """Delete a plan with its KPIs and write it to the audit log (``plan.delete``)."""
    plan = PartnerPlanStore(database).delete(plan_id)
    if plan is None:
        raise NotFoundError(f"no plan {plan_id} (see shoplens plans list)")
    details = _audited(plan) | ({"via": via} if via else {})
    entry = record_audit(database, actor=actor, action="plan.delete", details=details, secret=secret)
    return plan, entry
