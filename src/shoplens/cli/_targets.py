"""``shoplens targets``, ``shoplens budget`` and ``shoplens acquisition``: what to reach, what to spend, what a
customer costs and brings back.

Targets and budgets are kept in the app database; pacing, suggestions, budget status and acquisition are questions
for the one query runner (:mod:`shoplens.queries`), so the API can ask them too.
"""

from __future__ import annotations

import math
from typing import Annotated, Any

import typer
from rich.table import Table

from shoplens.actions import KPIS, RATE_KPIS, check_kpi, check_target_value, period_label, period_start
from shoplens.appdb import AppDatabase, Budget, PlanStore, Target
from shoplens.cli._analytics import query_of, run
from shoplens.cli._app import JsonOption, app, settings
from shoplens.cli._format import count, money, number, share, table_of, text
from shoplens.cli._output import emit_json, stdout
from shoplens.config import Settings
from shoplens.errors import InputError
from shoplens.queries import (
    ACQUISITION_GROUPINGS,
    AcquisitionQuery,
    AcquisitionResult,
    BudgetSpec,
    BudgetStatusQuery,
    BudgetStatusResult,
    TargetPacingQuery,
    TargetPacingResult,
    TargetSuggestQuery,
    TargetSuggestResult,
    target_specs,
)
from shoplens.warehouse import connect, warehouse_exists

targets_app = typer.Typer(
    name="targets",
    help="Monthly targets per KPI: set them, see how the month is pacing, and get suggestions from history.",
    no_args_is_help=True,
)
budget_app = typer.Typer(
    name="budget",
    help="Marketing budgets per channel and month, against the spend in the warehouse.",
    no_args_is_help=True,
)
app.add_typer(targets_app)
app.add_typer(budget_app)

KpiOption = Annotated[str, typer.Option("--kpi", help=f"The KPI: {', '.join(KPIS)}.")]
PeriodOption = Annotated[str, typer.Option("--period", help="The month, as YYYY-MM (such as 2026-01).")]
OptionalPeriod = Annotated[str | None, typer.Option("--period", help="Only this month (YYYY-MM).")]
ChannelOption = Annotated[
    str, typer.Option("--channel", help="A sales channel (the orders' channel); default the whole shop.")
]
SpendChannel = Annotated[str, typer.Option("--channel", help="The marketing channel, as in the spend data.")]


def _store(config: Settings) -> tuple[AppDatabase, PlanStore]:
    config.ensure_home()
    database = AppDatabase.for_store(config)
    return database, PlanStore(database)


def _month(period: str) -> str:
    return period_label(period_start(period))


def _has_sessions(config: Settings) -> bool:
    if not warehouse_exists(config):
        return False
    with connect(config, read_only=True) as warehouse:
        return bool(warehouse.backend.table("events").count().execute() > 0)


def _check_channel(config: Settings, channel: str) -> None:
    """A channel target must name a channel the orders carry (when the store has orders to check against)."""
    if not channel or not warehouse_exists(config):
        return
    with connect(config, read_only=True) as warehouse:
        orders = warehouse.backend.table("orders")
        named = orders.filter(orders.channel.notnull()).select("channel").distinct()
        known = sorted(str(name) for name in named.to_pyarrow().column(0).to_pylist())
    if known and channel not in known:
        raise InputError(f"unknown channel {channel!r}; the orders' channels are: {', '.join(known)}")


def _target_row(target: Target) -> dict[str, Any]:
    return {
        "kpi": target.kpi,
        "period": target.period,
        "channel": target.channel or None,
        "value": target.value,
        "note": target.note or None,
        "set_at": target.set_at,
    }


def _budget_row(budget: Budget) -> dict[str, Any]:
    return {"channel": budget.channel, "period": budget.period, "amount": budget.amount, "set_at": budget.set_at}


# --- targets ---------------------------------------------------------------------------------------------------


@targets_app.command("set")
def targets_set_command(
    ctx: typer.Context,
    kpi: KpiOption,
    period: PeriodOption,
    value: Annotated[float, typer.Option("--value", help="The target: an amount, a count, or a share (0-1).")],
    channel: ChannelOption = "",
    note: Annotated[str, typer.Option("--note", help="Why this target (kept with it).")] = "",
    as_json: JsonOption = False,
) -> None:
    """Set the target of one KPI for one month (and channel); setting it again replaces it.

    Revenue is net of refunds, as in shoplens kpis; repeat_rate and conversion are shares (0.3 = 30 %); conversion
    needs web sessions. Prints {"target": {...}, "replaced": bool}.
    Example: shoplens targets set --kpi revenue --period 2026-01 --value 90000 --json
    """
    config = settings(ctx)
    month = _month(period)
    check_kpi(kpi, sessions=kpi != "conversion" or _has_sessions(config))
    check_target_value(kpi, value)
    _check_channel(config, channel)
    database, store = _store(config)
    try:
        replaced = any(t.kpi == kpi and t.channel == channel for t in store.targets(period=month))
        target = store.set_target(kpi=kpi, period=month, value=value, channel=channel, note=note[:300])
    finally:
        database.close()
    if as_json:
        emit_json({"target": _target_row(target), "replaced": replaced})
        return
    where = f" on {channel}" if channel else ""
    stdout.print(f"{'replaced' if replaced else 'set'}: {kpi}{where} for {month} = {number(value, 2)}")


@targets_app.command("list")
def targets_list_command(ctx: typer.Context, period: OptionalPeriod = None, as_json: JsonOption = False) -> None:
    """Every target set, by month, KPI and channel. Prints {"targets": [{kpi, period, channel, value, ...}]}."""
    database, store = _store(settings(ctx))
    try:
        found = [_target_row(t) for t in store.targets(period=_month(period) if period else None)]
    finally:
        database.close()
    if as_json:
        emit_json({"targets": found})
        return
    if not found:
        stdout.print("no targets set: shoplens targets set --kpi revenue --period YYYY-MM --value V")
        return
    body = [[t["period"], t["kpi"], text(t["channel"]), number(t["value"], 2)] for t in found]
    stdout.print(table_of("Targets", ["period", "KPI", "channel", "target"], body))


@targets_app.command("delete")
def targets_delete_command(
    ctx: typer.Context, kpi: KpiOption, period: PeriodOption, channel: ChannelOption = "", as_json: JsonOption = False
) -> None:
    """Delete one target. Prints {"deleted": {kpi, period, channel}}; a target never set is bad input (exit 2)."""
    month = _month(period)
    check_kpi(kpi, sessions=True)
    database, store = _store(settings(ctx))
    try:
        deleted = store.delete_target(kpi=kpi, period=month, channel=channel)
    finally:
        database.close()
    if not deleted:
        where = f" on {channel}" if channel else ""
        raise InputError(f"no {kpi} target{where} for {month} to delete (see shoplens targets list)")
    if as_json:
        emit_json({"deleted": {"kpi": kpi, "period": month, "channel": channel or None}})
        return
    stdout.print(f"deleted the {kpi} target for {month}")


@targets_app.command("pacing")
def targets_pacing_command(ctx: typer.Context, period: OptionalPeriod = None, as_json: JsonOption = False) -> None:
    """How each month is pacing against its targets: actual to date, projected month end, on track or not.

    The projection is the actual so far plus the month's run-rate over the remaining days, each weighted by its
    weekday's share in the 8 weeks before the month (method weekday_run_rate); low/high bound a 90 % range.
    Ratio KPIs (aov, repeat_rate, conversion) are projected at their value to date. Prints {"method", "as_of",
    "targets": [{kpi, period, channel, target, actual, projected, low, high, on_track, days_elapsed,
    days_in_period}]}. Example: shoplens targets pacing --period 2026-01 --json
    """
    config = settings(ctx)
    database, store = _store(config)
    try:
        chosen = store.targets(period=_month(period) if period else None)
    finally:
        database.close()
    specs = target_specs(chosen)
    if not specs:
        where = f" for {_month(period)}" if period else ""
        raise InputError(f"no targets set{where}: set one with shoplens targets set --kpi K --period YYYY-MM --value V")
    result = run(ctx, TargetPacingQuery(targets=specs), TargetPacingResult)
    if as_json:
        emit_json(result.model_dump(exclude={"query"}))
        return
    stdout.print(pacing_table(f"Pacing (data to {result.as_of})", result.targets))


def pacing_table(title: str, rows: list[dict[str, Any]]) -> Table:
    """Targets (or a plan's shared KPIs) against their pacing: target, actual, projection, days gone, on track."""
    body = [
        [
            r["period"],
            r["kpi"] + (f" ({r['channel']})" if r["channel"] else ""),
            _kpi_value(r["kpi"], r["target"]),
            _kpi_value(r["kpi"], r["actual"]),
            _kpi_value(r["kpi"], r["projected"]),
            f"{r['days_elapsed']}/{r['days_in_period']}",
            {True: "on track", False: "behind", None: "-"}[r["on_track"]],
        ]
        for r in rows
    ]
    return table_of(title, ["period", "KPI", "target", "actual", "projected", "days", ""], body)


def _kpi_value(kpi: str, value: Any) -> str:
    if value is None:
        return "-"
    if kpi in RATE_KPIS:
        return share(value)
    return money(value) if kpi in ("revenue", "aov") else number(value, 0)


@targets_app.command("suggest")
def targets_suggest_command(ctx: typer.Context, period: OptionalPeriod = None, as_json: JsonOption = False) -> None:
    """Suggested targets for a month (default: the month after the data end), from the store's own history.

    With 13+ complete months: the same month last year times the trailing growth (last three complete months
    against the same months a year earlier); otherwise the mean of the last three complete months. Prints
    {"period", "as_of", "history_months", "suggestions": [{kpi, period, value, method, why}]}.
    """
    query = TargetSuggestQuery(period=_month(period) if period else None)
    result = run(ctx, query, TargetSuggestResult)
    if as_json:
        emit_json(result.model_dump(exclude={"query"}))
        return
    for row in result.suggestions:
        stdout.print(f"{row['kpi']}: {_kpi_value(row['kpi'], row['value'])} — {row['why']}")


# --- budgets ---------------------------------------------------------------------------------------------------


@budget_app.command("set")
def budget_set_command(
    ctx: typer.Context,
    channel: SpendChannel,
    period: PeriodOption,
    amount: Annotated[float, typer.Option("--amount", help="The month's budget in the store's currency.")],
    as_json: JsonOption = False,
) -> None:
    """Set a channel's marketing budget for one month; setting it again replaces it.

    Prints {"budget": {channel, period, amount, set_at}}. Example: shoplens budget set --channel social
    --period 2026-01 --amount 4000 --json
    """
    month = _month(period)
    if not channel.strip():
        raise InputError("--channel must name a marketing channel (such as paid_search)")
    if not math.isfinite(amount) or amount < 0:
        raise InputError(f"--amount must be a number of at least 0, got {amount}")
    database, store = _store(settings(ctx))
    try:
        budget = store.set_budget(channel=channel.strip(), period=month, amount=amount)
    finally:
        database.close()
    if as_json:
        emit_json({"budget": _budget_row(budget)})
        return
    stdout.print(f"budget of {budget.channel} for {month}: {money(amount)}")


@budget_app.command("status")
def budget_status_command(ctx: typer.Context, period: OptionalPeriod = None, as_json: JsonOption = False) -> None:
    """Each budget against the channel's actual spend in the month (warehouse table marketing_spend).

    The projection is linear: spend so far ÷ days elapsed (to the last spend row) × days in the month. An alert
    when the spend is over budget, or when the pace projects an overrun. Prints {"spend_through", "budgets":
    [{channel, period, budget, actual, projected, remaining, days_elapsed, days_in_period, alert}], "alerts"}.
    """
    database, store = _store(settings(ctx))
    try:
        chosen = store.budgets(period=_month(period) if period else None)
    finally:
        database.close()
    if not chosen:
        raise InputError("no budgets set: set one with shoplens budget set --channel C --period YYYY-MM --amount A")
    specs = tuple(BudgetSpec(channel=b.channel, period=b.period, amount=b.amount) for b in chosen)
    result = run(ctx, BudgetStatusQuery(budgets=specs), BudgetStatusResult)
    if as_json:
        emit_json(result.model_dump(exclude={"query"}))
        return
    body = [
        [r["period"], r["channel"], money(r["budget"]), money(r["actual"]), money(r["projected"]), text(r["alert"])]
        for r in result.budgets
    ]
    columns = ["period", "channel", "budget", "spent", "projected", "alert"]
    stdout.print(table_of(f"Budgets (spend to {result.spend_through})", columns, body))


# --- acquisition -----------------------------------------------------------------------------------------------


def _top_segments(segments: dict[str, float], shown: int = 3) -> str:
    ranked = sorted(segments.items(), key=lambda item: (-item[1], item[0]))[:shown]
    return ", ".join(f"{name} {share(part)}" for name, part in ranked)


@app.command("acquisition")
def acquisition_command(
    ctx: typer.Context,
    by: Annotated[
        str,
        typer.Option(
            "--by",
            help="channel (of the first order), or source, medium, campaign, landing-page or referrer (of the "
            "first web session).",
        ),
    ] = "channel",
    as_json: JsonOption = False,
) -> None:
    """What a new customer costs and brings back, per channel of their first order.

    CAC = the channel's marketing spend ÷ its new customers; ROAS = revenue (net of refunds) of those customers ÷
    spend; ltv_cac = observed value per customer (margin after product cost, or revenue when costs are unknown) ÷
    CAC; payback_days = days until the cumulative value per customer covers the CAC; predicted_clv from the saved
    CLV fits (shoplens clv fit). Null where the spend is unknown. Prints {"channels": [{channel, new_customers,
    repeat_rate_90d, predicted_clv, cac, roas, ltv_cac, payback_days, ...}], "basis", "spend_known", "notes",
    "by_acquisition_month": [...]}.

    --by source|medium|campaign|landing-page|referrer adds "groups": the same figures per value of the customer's
    first web session (sessions, new_customers, repeat_rate_90d, predicted_clv, spend, cac where spend names the
    campaign) and "segments", the share of those customers in each RFM segment.
    """
    grouping = by.replace("-", "_")
    if grouping not in ACQUISITION_GROUPINGS:
        raise InputError(f"--by must be one of {', '.join(g.replace('_', '-') for g in ACQUISITION_GROUPINGS)}")
    result = run(ctx, query_of(AcquisitionQuery, by=grouping), AcquisitionResult)
    if as_json:
        document = result.model_dump(exclude={"query"})
        if grouping == "channel":  # the channel view's keys as they were
            document.pop("groups")
            document.pop("by")
        emit_json(document)
        return
    if grouping != "channel":
        body = [
            [
                text(r[grouping]),
                count(r["sessions"]),
                count(r["new_customers"]),
                share(r["repeat_rate_90d"]),
                money(r["predicted_clv"]),
                money(r["cac"]),
                ", ".join(
                    f"{name} {share(part)}" for name, part in sorted(r["segments"].items(), key=lambda x: -x[1])[:3]
                ),
            ]
            for r in result.groups
        ]
        columns = [by, "sessions", "new", "repeat 90d", "predicted CLV", "CAC", "top RFM segments"]
        stdout.print(table_of(f"Acquisition by {by} of the first web session", columns, body))
        for note in result.notes:
            stdout.print(note)
        return
    body = [
        [
            text(r["channel"]),
            str(r["new_customers"]),
            share(r["repeat_rate_90d"]),
            money(r["cac"]),
            number(r["roas"], 2),
            number(r["ltv_cac"], 2),
            text(r["payback_days"]),
            money(r["predicted_clv"]),
        ]
        for r in result.channels
    ]
    columns = ["channel", "new", "repeat 90d", "CAC", "ROAS", "LTV/CAC", "payback days", "predicted CLV"]
    stdout.print(table_of(f"Acquisition ({result.basis} basis)", columns, body))
    for note in result.notes:
        stdout.print(note)
