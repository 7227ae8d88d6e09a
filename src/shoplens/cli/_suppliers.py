"""``shoplens suppliers``: each supplier's demand, share of revenue and margin, returns, and what a revenue target
or a pricing rule set would mean for the units it supplies. The answer is the one query runner's
(:class:`shoplens.queries.SupplierQuery`); the target comes from the app database, the rules from a file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from shoplens.actions import load_rules, period_label, period_start
from shoplens.appdb import AppDatabase, PlanStore
from shoplens.cli._analytics import query_of, run
from shoplens.cli._app import JsonOption, app, settings
from shoplens.cli._format import count, money, number, share, table_of, text
from shoplens.cli._output import emit_json, stdout
from shoplens.cli._pricing import RULES_FORMAT, dated_rules
from shoplens.config import Settings
from shoplens.errors import InputError
from shoplens.queries import SupplierQuery, SupplierResult, TargetSpec, target_specs
from shoplens.warehouse import connect, warehouse_exists


def revenue_target(config: Settings, period: str) -> TargetSpec:
    """The whole-shop revenue target of the month ``period`` as set in the app database; bad input when none is."""
    month = period_label(period_start(period))
    config.ensure_home()
    database = AppDatabase.for_store(config)
    try:
        chosen = PlanStore(database).targets(period=month)
    finally:
        database.close()
    for spec in target_specs(chosen):
        if spec.kpi == "revenue" and not spec.channel:
            return spec
    raise InputError(
        f"no revenue target for {month}: set one with shoplens targets set --kpi revenue --period {month} --value V"
    )


@app.command("suppliers")
def suppliers_command(
    ctx: typer.Context,
    months: Annotated[
        int, typer.Option("--months", help="Complete calendar months of history (the window).", min=1)
    ] = 12,
    horizon: Annotated[int, typer.Option("--horizon", help="Months of units to forecast.", min=1)] = 3,
    rules_file: Annotated[
        Path | None,
        typer.Option("--rules", help="A pricing rules file: each supplier's units under it. " + RULES_FORMAT),
    ] = None,
    target_period: Annotated[
        str | None,
        typer.Option("--target-period", help="A month (YYYY-MM) with a revenue target: the units each supplier needs."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Per supplier over the last N complete months: products, units, revenue and its share, margin after product
    cost and its share, return rate and the reasons given, units per month with a trend and a forecast.

    Revenue is product revenue (the lines' share of net sales, less the refunds placed on the product). Margin is
    revenue less cost x units sold, null (with a note) for a supplier with goods sold without a cost. A refund
    that names only an order counts for every supplier with goods in it. The forecast is a least-squares line
    through the monthly units with an 80% prediction interval. --target-period adds the units each supplier
    would supply if the month's revenue target were met at the window's mix (target x share / revenue per unit);
    --rules adds each supplier's units in the pricing simulator's replay of the last N months, without and with
    the rules (same elasticity as shoplens pricing simulate). A store whose products name no supplier gets
    "available": false and a message saying what is missing (exit 0). Prints {"available", "missing",
    "message", "start", "end", "months", "totals", "suppliers": [{supplier, products, units, revenue,
    revenue_share, margin, margin_share, return_rate, refund_count, top_reasons, monthly_units,
    trend_units_per_month, trend_percent_per_month, forecast, target_units?, pricing?}], "target", "pricing",
    "notes"}.

      shoplens suppliers --months 12 --target-period 2026-01 --rules rules.yaml --json
    """
    config = settings(ctx)
    target = revenue_target(config, target_period) if target_period else None
    rules = None
    if rules_file is not None:
        rules = load_rules(rules_file)
        if warehouse_exists(config):
            with connect(config, read_only=True) as warehouse:
                rules = dated_rules(rules, warehouse)
    result = run(
        ctx, query_of(SupplierQuery, months=months, horizon=horizon, target=target, rules=rules), SupplierResult
    )
    if as_json:
        emit_json(result.model_dump())
        return
    if not result.available:
        stdout.print(result.message or "no suppliers", markup=False, soft_wrap=True)
        return
    columns = ["supplier", "units", "revenue", "share", "margin", "returns", "top reason", "trend/mo", "next month"]
    if result.target is not None:
        columns.append(f"units for {result.target['period']} target")
    if result.pricing is not None:
        columns.append("units under rules")
    body = []
    for s in result.suppliers:
        reason = s["top_reasons"][0]["reason"] if s["top_reasons"] else None
        nxt = s["forecast"][0]
        row = [
            s["supplier"],
            count(s["units"]),
            money(s["revenue"]),
            share(s["revenue_share"]),
            money(s["margin"]),
            share(s["return_rate"]),
            text(reason),
            number(s["trend_units_per_month"]),
            f"{number(nxt['forecast'])} ({number(nxt['lower'])}-{number(nxt['upper'])})",
        ]
        if result.target is not None:
            row.append(number(s.get("target_units")))
        if result.pricing is not None:
            row.append(f"{number(s['pricing']['baseline_units'])} -> {number(s['pricing']['simulated_units'])}")
        body.append(row)
    stdout.print(table_of(f"Suppliers, {result.start} to {result.end}", columns, body))
    for note in result.notes:
        stdout.print(note, markup=False, soft_wrap=True)
