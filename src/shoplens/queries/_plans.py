"""Targets, budgets and acquisition as questions: how the month paces, what to aim for, what a customer costs.

The targets and budgets themselves live in the app database; the command line reads them and puts them into the
question (:class:`TargetPacingQuery`, :class:`BudgetStatusQuery`), so an answer is cached under what was asked.
The computations are in :mod:`shoplens.actions`.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any, ClassVar, Literal, get_args

import ibis
from pydantic import BaseModel, ConfigDict, Field

from shoplens.actions import (
    ADDITIVE_KPIS,
    KPI_COLUMNS,
    KPIS,
    NO_SESSION,
    PROJECTION_METHOD,
    SalesTables,
    acquired,
    budget_pace,
    by_acquisition_month,
    channel_effects,
    complete_months,
    costs_known,
    customer_value,
    daily_kpis,
    history_before,
    monthly_kpis,
    payback_days,
    period_label,
    period_start,
    project_additive,
    project_ratio,
    session_touchpoints,
    shift_months,
    spend_by_campaign,
    spend_by_channel,
    spend_months,
    suggest,
    touchpoint_effects,
    value_events,
    weekday_factors,
)
from shoplens.metrics import data_span, rfm_scores
from shoplens.models import load_fit
from shoplens.queries._base import Query, Result, Row, answers
from shoplens.queries._context import QueryContext, one_row, rows
from shoplens.queries._value import ClvPredictQuery, ClvPredictResult


class TargetSpec(BaseModel):
    """One target as set: the KPI, the month (YYYY-MM), the channel ("" for the whole shop) and its value."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    kpi: str
    period: str
    value: float
    channel: str = ""


def target_specs(targets: Iterable[Any]) -> tuple[TargetSpec, ...]:
    """The targets as set in the app database (rows with kpi, period, value, channel), as a question's field."""
    return tuple(TargetSpec(kpi=t.kpi, period=t.period, value=t.value, channel=t.channel) for t in targets)


class BudgetSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    channel: str
    period: str
    amount: float


class TargetPacingQuery(Query):
    kind: ClassVar[str] = "target_pacing"
    targets: tuple[TargetSpec, ...] = ()


class TargetPacingResult(Result):
    query: TargetPacingQuery
    method: str
    as_of: date | None
    targets: list[Row]


class TargetSuggestQuery(Query):
    kind: ClassVar[str] = "target_suggest"
    period: str | None = Field(None, description="the month to suggest targets for (YYYY-MM); default the next one")


class TargetSuggestResult(Result):
    query: TargetSuggestQuery
    period: str
    as_of: date
    history_months: int
    suggestions: list[Row]


class BudgetStatusQuery(Query):
    kind: ClassVar[str] = "budget_status"
    budgets: tuple[BudgetSpec, ...] = ()


class BudgetStatusResult(Result):
    query: BudgetStatusQuery
    spend_through: date | None
    budgets: list[Row]
    alerts: list[str]


AcquisitionGrouping = Literal["channel", "source", "medium", "campaign", "landing_page", "referrer"]
ACQUISITION_GROUPINGS: tuple[str, ...] = get_args(AcquisitionGrouping)


class AcquisitionQuery(Query):
    kind: ClassVar[str] = "acquisition"
    kept_on_disk: ClassVar[bool] = False  # the predicted CLV reads the saved model fits
    clv_horizon_days: int = Field(365, ge=1, le=3650)
    by: AcquisitionGrouping = Field(
        "channel",
        description="channel of the first order, or source, medium, campaign, landing page or referring site of the "
        "customer's first web session",
    )


class AcquisitionResult(Result):
    query: AcquisitionQuery
    as_of: date
    basis: str
    spend_known: bool
    spend_from: date | None
    spend_through: date | None
    predicted_clv: dict[str, Any]
    notes: list[str]
    channels: list[Row]
    by_acquisition_month: list[Row]
    by: str = "channel"
    groups: list[Row] = Field(
        default_factory=list,
        description="with by other than channel: per value of the first web session, sessions, new_customers, "
        "repeat_rate_90d, predicted_clv, spend, cac, segments (share of the new customers per RFM segment)",
    )


def _sales_tables(context: QueryContext) -> SalesTables:
    return SalesTables(
        context.orders(), context.table("order_lines"), context.table("refunds"), context.table("customers")
    )


def _as_float(value: Any) -> float | None:
    return None if value is None else float(value)


# --- pacing ----------------------------------------------------------------------------------------------------


@answers(TargetPacingQuery, TargetPacingResult)
def answer_target_pacing(context: QueryContext, query: TargetPacingQuery) -> TargetPacingResult:
    if not query.targets:
        return TargetPacingResult(query=query, method=PROJECTION_METHOD, as_of=None, targets=[])
    tables = _sales_tables(context)
    span = one_row(data_span(tables.orders, tables.refunds, context.zone))
    first_day, data_end = span["first_day"], span["last_day"]
    months = sorted({period_start(target.period) for target in query.targets})
    split = any(target.channel for target in query.targets)
    events = context.events() if any(target.kpi == "conversion" for target in query.targets) else None
    month_end = shift_months(months[-1], 1) - timedelta(days=1)
    actuals: dict[tuple[date, str], Row] = {}
    for by_channel in [False, *([True] if split else [])]:
        table = monthly_kpis(
            tables,
            zone=context.zone,
            start=months[0],
            end=month_end,
            by_channel=by_channel,
            events=None if by_channel else events,
        )
        for row in rows(table):
            actuals[(row["period"], (row.get("channel") or "") if by_channel else "")] = row
    history_start = max(first_day, months[0] - timedelta(days=56))
    daily: dict[tuple[str, str], dict[date, float]] = defaultdict(dict)
    if history_start <= min(data_end, month_end):
        for by_channel in [False, *([True] if split else [])]:
            table = daily_kpis(
                tables,
                zone=context.zone,
                start=history_start,
                end=min(data_end, month_end),
                by_channel=by_channel,
            )
            for row in rows(table):
                channel = (row.get("channel") or "") if by_channel else ""
                for kpi in ADDITIVE_KPIS:
                    daily[(kpi, channel)][row["period"]] = float(row[kpi] or 0)
    found = []
    for target in query.targets:
        month = period_start(target.period)
        row = actuals.get((month, target.channel), {})
        actual = _as_float(row.get(KPI_COLUMNS[target.kpi]))
        if target.kpi in ADDITIVE_KPIS:
            actual = actual or 0.0
            history = history_before(daily[(target.kpi, target.channel)], month, first_day)
            factors, scatter = weekday_factors(history)
            projection = project_additive(actual, month=month, data_end=data_end, factors=factors, scatter=scatter)
        else:
            projection = project_ratio(actual, month=month, data_end=data_end)
        projected = projection.projected
        found.append(
            {
                "kpi": target.kpi,
                "period": target.period,
                "channel": target.channel or None,
                "target": target.value,
                "actual": actual,
                "projected": projected,
                "low": projection.low,
                "high": projection.high,
                "on_track": None if projected is None else projected >= target.value,
                "days_elapsed": projection.days_elapsed,
                "days_in_period": projection.days_in_period,
                "projection": "value to date" if target.kpi not in ADDITIVE_KPIS else PROJECTION_METHOD,
            }
        )
    return TargetPacingResult(query=query, method=PROJECTION_METHOD, as_of=data_end, targets=found)


# --- suggestions -----------------------------------------------------------------------------------------------


@answers(TargetSuggestQuery, TargetSuggestResult)
def answer_target_suggest(context: QueryContext, query: TargetSuggestQuery) -> TargetSuggestResult:
    tables = _sales_tables(context)
    events = context.events()
    monthly = rows(monthly_kpis(tables, zone=context.zone, events=events))
    data_end = one_row(data_span(tables.orders, tables.refunds, context.zone))["last_day"]
    month = period_start(query.period) if query.period else shift_months(data_end, 1)
    kpis = [kpi for kpi in KPIS if kpi != "conversion" or events is not None]
    suggestions = [suggest(kpi, month, complete_months(monthly, kpi)).__dict__ for kpi in kpis]
    complete = sum(1 for row in monthly if not row["partial"])
    return TargetSuggestResult(
        query=query, period=period_label(month), as_of=data_end, history_months=complete, suggestions=suggestions
    )


# --- budgets ---------------------------------------------------------------------------------------------------


@answers(BudgetStatusQuery, BudgetStatusResult)
def answer_budget_status(context: QueryContext, query: BudgetStatusQuery) -> BudgetStatusResult:
    spend = context.table("marketing_spend")
    spent = {(row["channel"], row["month"]): row for row in rows(spend_months(spend))}
    through = one_row(spend.aggregate(last=spend.date.max())).get("last")
    found, alerts = [], []
    for budget in query.budgets:
        month = period_start(budget.period)
        actual = float(spent.get((budget.channel, month), {}).get("spend") or 0)
        pace = budget_pace(budget.channel, month, budget.amount, actual, through)
        found.append(
            {
                "channel": pace.channel,
                "period": pace.period,
                "budget": pace.budget,
                "actual": round(pace.spent, 2),
                "projected": None if pace.projected is None else round(pace.projected, 2),
                "remaining": round(pace.budget - pace.spent, 2),
                "days_elapsed": pace.days_elapsed,
                "days_in_period": pace.days_in_period,
                "alert": pace.alert,
            }
        )
        if pace.alert:
            alerts.append(f"{pace.channel} {pace.period}: {pace.alert}")
    return BudgetStatusResult(query=query, spend_through=through, budgets=found, alerts=alerts)


# --- acquisition -----------------------------------------------------------------------------------------------


def _predicted_clv(context: QueryContext, query: AcquisitionQuery) -> tuple[dict[str, float], dict[str, Any]]:
    """Mean predicted CLV per customer key's channel, from the saved fits when they are for the current data."""
    models_dir = context.models_dir
    version = int(context.data_version or 0)
    fits = {name: load_fit(models_dir, name) if models_dir else None for name in ("bgnbd", "gamma-gamma")}
    stale = [name for name, fit in fits.items() if fit is None or fit.data_version != version]
    if stale:
        reason = (
            f"no CLV fit of {' and '.join(stale)} for the current data: run shoplens clv fit --model bgnbd and "
            "shoplens clv fit --model gamma-gamma"
        )
        return {}, {"available": False, "reason": reason}
    prediction = context.run(ClvPredictQuery(horizon=query.clv_horizon_days), ClvPredictResult)
    clv = {row["customer_key"]: float(row["clv"]) for row in prediction.rows if row.get("clv") is not None}
    return clv, {
        "available": True,
        "horizon_days": prediction.horizon_days,
        "margin": prediction.margin,
        "margin_basis": prediction.margin_basis,
        "margin_note": prediction.margin_note,
        "model": "bgnbd + gamma-gamma",
    }


@answers(AcquisitionQuery, AcquisitionResult)
def answer_acquisition(context: QueryContext, query: AcquisitionQuery) -> AcquisitionResult:
    orders = context.customer_orders("acquire")
    lines, refunds, products = context.table("order_lines"), context.table("refunds"), context.table("products")
    spend_table = context.table("marketing_spend")
    zone = context.zone
    data_end = one_row(data_span(orders, refunds, zone))["last_day"]
    with_costs = bool(costs_known(lines, products).execute()) and context.count(products) > 0
    basis = "margin" if with_costs else "revenue"
    notes: list[str] = []
    if not with_costs:
        notes.append(
            "products.cost is not known for every product sold, so value is revenue (net sales less refunds), "
            "not margin: ltv_cac overstates what a customer pays back"
        )
    customers = acquired(orders, zone=zone)
    events = value_events(orders, lines, refunds, products, zone=zone, with_costs=with_costs)
    per_channel, by_day, by_observed = customer_value(customers, events, data_end=ibis.date(data_end))
    effects = {row["channel"]: row for row in rows(channel_effects(orders, refunds, zone=zone))}
    spend = {row["channel"]: row for row in rows(spend_by_channel(spend_table))}
    spend_known = bool(spend)
    if not spend_known:
        notes.append(
            "the warehouse has no marketing spend (import it with --profile spend, google-ads or meta-ads): "
            "cac, roas, ltv_cac and payback_days are null"
        )
    value_days: dict[Any, dict[int, float]] = defaultdict(dict)
    for row in rows(by_day):
        value_days[row["channel"]][int(row["day"])] = float(row["value"])
    observed: dict[Any, dict[int, int]] = defaultdict(dict)
    for row in rows(by_observed):
        observed[row["channel"]][int(row["observed_days"])] = int(row["customers"])
    clv, clv_note = _predicted_clv(context, query)
    channel_of = {row["customer_key"]: row["channel"] for row in rows(customers.select("customer_key", "channel"))}
    clv_by_channel: dict[Any, list[float]] = defaultdict(list)
    for key, value in clv.items():
        if key in channel_of:
            clv_by_channel[channel_of[key]].append(value)
    channels = []
    for row in sorted(rows(per_channel), key=lambda r: (-int(r["customers"]), str(r["channel"]))):
        channel, new = row["channel"], int(row["customers"])
        effect = effects.get(channel, {})
        spent = _as_float(spend.get(channel, {}).get("spend"))
        revenue = float(row["revenue"] or 0)
        value_per_customer = float(row["value"] or 0) / new
        cac = spent / new if spent is not None else None
        channels.append(
            {
                "channel": channel,
                "new_customers": new,
                "repeat_rate_90d": effect.get("repeat_rate"),
                "predicted_clv": statistics.fmean(clv_by_channel[channel]) if clv_by_channel.get(channel) else None,
                "spend": spent,
                "cac": cac,
                "revenue": revenue,
                "roas": revenue / spent if spent else None,
                "value_per_customer": value_per_customer,
                "ltv_cac": value_per_customer / cac if cac else None,
                "payback_days": payback_days(value_days[channel], observed[channel], cac),
            }
        )
    spans = [(row["spend_from"], row["spend_through"]) for row in spend.values()]
    groups: list[Row] = []
    if query.by != "channel":
        groups = _by_first_session(context, query, orders, clv, notes)
    return AcquisitionResult(
        query=query,
        as_of=data_end,
        basis=basis,
        spend_known=spend_known,
        spend_from=min((s for s, _ in spans), default=None),
        spend_through=max((t for _, t in spans), default=None),
        predicted_clv=clv_note,
        notes=notes,
        channels=channels,
        by_acquisition_month=rows(by_acquisition_month(customers, events, spend_table)),
        by=query.by,
        groups=groups,
    )


def _by_first_session(
    context: QueryContext, query: AcquisitionQuery, orders: ibis.Table, clv: dict[str, float], notes: list[str]
) -> list[Row]:
    """The acquisition figures per value of ``query.by`` of each customer's first web session (see
    :func:`shoplens.actions.touchpoint_effects`), with mean predicted CLV, CAC where spend names the campaign, and
    the share of the new customers in each RFM segment."""
    events = context.events()
    sessions = context.table("sessions")
    sessions_or_none = sessions if context.count(sessions) else None
    if events is None and sessions_or_none is None:
        notes.append(
            "the warehouse has no web events or sessions (import them with --profile events, ga4 or sessions): "
            f"every customer is under {NO_SESSION}"
        )
        touchpoints = None
    else:
        touchpoints = session_touchpoints(events, sessions_or_none)
    by = query.by
    if touchpoints is None:
        everyone = orders.mutate(channel=ibis.literal(NO_SESSION))
        effect = one_row(channel_effects(everyone, context.table("refunds"), zone=context.zone))
        new_customers = int(effect.get("customers") or 0)
        table: list[Row] = [
            {
                "touchpoint": NO_SESSION,
                "sessions": 0,
                "new_customers": new_customers,
                "repeat_rate": effect.get("repeat_rate"),
            }
        ]
        known = orders.filter(orders.customer_key.notnull()).select("customer_key").distinct()
        of_customer = {row["customer_key"]: NO_SESSION for row in rows(known)}
    else:
        per, customers = touchpoint_effects(orders, touchpoints, by=by, zone=context.zone)
        table = rows(per)
        of_customer = {row["customer_key"]: row["touchpoint"] for row in rows(customers)}
    segment_of = {
        row["customer_key"]: row["segment"]
        for row in rows(
            rfm_scores(orders, context.table("refunds"), zone=context.zone).select("customer_key", "segment")
        )
    }
    spend: dict[str, Any] = {}
    if by == "campaign":
        spend = {row["campaign"]: row["spend"] for row in rows(spend_by_campaign(context.table("marketing_spend")))}
        if not spend:
            notes.append("no marketing spend names a campaign, so cac per campaign is null")
    else:
        notes.append(f"marketing spend is kept per channel and campaign, not per {by.replace('_', ' ')}: cac is null")
    values: dict[str, list[float]] = defaultdict(list)
    segments: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for key, touchpoint in of_customer.items():
        if key in clv:
            values[touchpoint].append(clv[key])
        if key in segment_of:
            segments[touchpoint][segment_of[key]] += 1
    found = []
    for row in sorted(table, key=lambda r: (-int(r["new_customers"]), -int(r["sessions"]), str(r["touchpoint"]))):
        value, new = row["touchpoint"], int(row["new_customers"])
        spent = _as_float(spend.get(value)) if spend else None
        counted = segments.get(value, {})
        found.append(
            {
                by: value,
                "sessions": int(row["sessions"]),
                "new_customers": new,
                "repeat_rate_90d": row["repeat_rate"],
                "predicted_clv": statistics.fmean(values[value]) if values.get(value) else None,
                "spend": spent,
                "cac": spent / new if spent is not None and new else None,
                "segments": {name: round(n / new, 4) for name, n in sorted(counted.items())} if new else {},
            }
        )
    return found
