"""``shoplens plans``: joint online sales and service plans with business partners (suppliers, marketplaces, web
designers): goals, shared KPIs with monthly targets, dates, and the share-package datasets the partner receives.

Each shared KPI is measured as a target is (``shoplens targets pacing``); every change is written to the audit
log. ``shoplens share export --plan ID`` writes the partner's package with the plan's datasets only.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from shoplens.actions import (
    KPI_SPEC,
    KPIS,
    PlanDraft,
    check_partner_kind,
    check_plan,
    delete_plan,
    existing_plan,
    parse_plan_date,
    parse_plan_kpi,
    plan_document,
    save_plan,
)
from shoplens.appdb import PARTNER_KINDS, AppDatabase, PartnerPlanStore
from shoplens.cli._analytics import run
from shoplens.cli._app import JsonOption, app, settings
from shoplens.cli._format import table_of, text
from shoplens.cli._output import emit_json, stdout
from shoplens.cli._targets import _check_channel, _has_sessions, _kpi_value, pacing_table
from shoplens.queries import PlanProgressQuery, PlanProgressResult, target_specs
from shoplens.reports import SHARE_DATASETS, check_share_datasets

plans_app = typer.Typer(
    name="plans",
    help=(
        "Joint plans with business partners: goals, shared KPIs with monthly targets (measured like targets), dates, "
        "and which k-anonymous share-package datasets the partner receives."
    ),
    no_args_is_help=True,
)
app.add_typer(plans_app)

PlanId = Annotated[int, typer.Argument(help="The plan's id (see shoplens plans list).", min=1)]


@plans_app.command("create")
def plans_create_command(
    ctx: typer.Context,
    partner: Annotated[str, typer.Option("--partner", help="The partner's name (a business, not a person).")],
    kind: Annotated[str, typer.Option("--kind", help=f"The kind of partner: {', '.join(PARTNER_KINDS)}.")],
    starts: Annotated[str, typer.Option("--starts", help="The plan's first day, YYYY-MM-DD.")],
    ends: Annotated[str, typer.Option("--ends", help="The plan's last day, YYYY-MM-DD (not before --starts).")],
    goals: Annotated[list[str] | None, typer.Option("--goal", help="A goal in words; repeat for several.")] = None,
    datasets: Annotated[
        list[str] | None,
        typer.Option("--dataset", help=f"A share-package dataset the partner receives: {', '.join(SHARE_DATASETS)}."),
    ] = None,
    kpis: Annotated[
        list[str] | None,
        typer.Option(
            "--kpi",
            help=f"A shared KPI and its target, {KPI_SPEC}: KPI one of {', '.join(KPIS)}, PERIOD a month (YYYY-MM) "
            "within the plan, CHANNEL a sales channel (default the whole shop). Repeat for several.",
        ),
    ] = None,
    partner_account: Annotated[
        str | None,
        typer.Option("--partner-account", help="The e-mail of the partner's vendor account, to see its progress."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Create a joint plan with a partner; written to the audit log (plan.create).

    Prints {"plan": {plan_id, partner, kind, goals, starts, ends, datasets, partner_account, kpis: [{kpi, period,
    channel, target}], created_at}, "audit_entry"}. Unknown datasets or KPIs, a bad kind, or an end before the
    start exit 2 with one line.
    Example: shoplens plans create --partner "Acme Teas" --kind supplier --starts 2026-01-01 --ends 2026-03-31
    --goal "Grow tea sales online" --dataset segment_preferences --kpi revenue:2026-01:90000 --json
    """
    config = settings(ctx)
    check_partner_kind(kind)
    first_day, last_day = parse_plan_date(starts, "--starts"), parse_plan_date(ends, "--ends")
    chosen = check_share_datasets(datasets or [])
    specs = kpis or []
    sessions = not any(spec.strip().startswith("conversion:") for spec in specs) or _has_sessions(config)
    parsed = tuple(parse_plan_kpi(spec, sessions=sessions) for spec in specs)
    draft = PlanDraft(
        partner_name=partner,
        kind=kind,
        starts=first_day,
        ends=last_day,
        goals=tuple(goals or ()),
        datasets=chosen,
        kpis=parsed,
        partner_email=partner_account,
    )
    check_plan(draft)
    for found in parsed:
        _check_channel(config, found.channel)
    config.ensure_home()
    database = AppDatabase.for_store(config)
    try:
        plan, entry = save_plan(database, draft, actor="cli", secret=config.store_secret())
    finally:
        database.close()
    document = plan_document(plan)
    if as_json:
        emit_json({"plan": document, "audit_entry": entry.id})
        return
    stdout.print(
        f"plan {plan.plan_id} with {plan.partner_name} ({plan.partner_kind}), {plan.starts} to {plan.ends}: "
        f"{len(plan.kpis)} shared KPI(s), {len(plan.datasets)} dataset(s); audit entry {entry.id}"
    )


@plans_app.command("list")
def plans_list_command(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Every plan, oldest first. Prints {"plans": [{plan_id, partner, kind, goals, starts, ends, datasets, kpis,
    ...}]}."""
    config = settings(ctx)
    config.ensure_home()
    database = AppDatabase.for_store(config)
    try:
        found = [plan_document(plan) for plan in PartnerPlanStore(database).plans()]
    finally:
        database.close()
    if as_json:
        emit_json({"plans": found})
        return
    if not found:
        stdout.print("no plans yet: shoplens plans create --partner NAME --kind K --starts D --ends D")
        return
    body = [
        [
            str(p["plan_id"]),
            p["partner"],
            p["kind"],
            f"{p['starts']} to {p['ends']}",
            str(len(p["kpis"])),
            ", ".join(p["datasets"]) or "-",
        ]
        for p in found
    ]
    stdout.print(table_of("Partner plans", ["id", "partner", "kind", "dates", "KPIs", "datasets"], body))


@plans_app.command("show")
def plans_show_command(ctx: typer.Context, plan_id: PlanId, as_json: JsonOption = False) -> None:
    """One plan with its goals, shared KPIs and datasets. Prints {"plan": {...}}; an unknown id exits 2."""
    config = settings(ctx)
    config.ensure_home()
    database = AppDatabase.for_store(config)
    try:
        document = plan_document(existing_plan(database, plan_id))
    finally:
        database.close()
    if as_json:
        emit_json({"plan": document})
        return
    stdout.print(
        f"plan {plan_id}: {document['partner']} ({document['kind']}), {document['starts']} to {document['ends']}"
    )
    for goal in document["goals"]:
        stdout.print(f"  goal: {goal}")
    stdout.print(f"  datasets shared: {', '.join(document['datasets']) or 'none'}")
    body = [[k["period"], k["kpi"], text(k["channel"]), _kpi_value(k["kpi"], k["target"])] for k in document["kpis"]]
    stdout.print(table_of("Shared KPIs", ["period", "KPI", "channel", "target"], body))


@plans_app.command("progress")
def plans_progress_command(ctx: typer.Context, plan_id: PlanId, as_json: JsonOption = False) -> None:
    """How each shared KPI of a plan is doing, measured exactly as a target (shoplens targets pacing): actual to
    date, projected month end (weekday run-rate; low/high a 90 % range), on track or not, and the customers behind
    the month's figure. Prints {"plan_id", "partner", "method", "as_of", "kpis": [{kpi, period, channel, target,
    actual, projected, low, high, on_track, days_elapsed, days_in_period, customers}]}.
    """
    config = settings(ctx)
    config.ensure_home()
    database = AppDatabase.for_store(config)
    try:
        plan = existing_plan(database, plan_id)
    finally:
        database.close()
    result = run(ctx, PlanProgressQuery(kpis=target_specs(plan.kpis)), PlanProgressResult)
    document: dict[str, Any] = {"plan_id": plan.plan_id, "partner": plan.partner_name}
    document |= result.model_dump(exclude={"query"})
    if as_json:
        emit_json(document)
        return
    stdout.print(pacing_table(f"Plan {plan_id} with {plan.partner_name} (data to {result.as_of})", result.kpis))


@plans_app.command("delete")
def plans_delete_command(ctx: typer.Context, plan_id: PlanId, as_json: JsonOption = False) -> None:
    """Delete a plan with its shared KPIs; written to the audit log (plan.delete). Prints {"deleted": {"plan_id"},
    "audit_entry"}; an unknown id exits 2."""
    config = settings(ctx)
    config.ensure_home()
    database = AppDatabase.for_store(config)
    try:
        _, entry = delete_plan(database, plan_id, actor="cli", secret=config.store_secret())
    finally:
        database.close()
    if as_json:
        emit_json({"deleted": {"plan_id": plan_id}, "audit_entry": entry.id})
        return
    stdout.print(f"deleted plan {plan_id}; audit entry {entry.id}")
