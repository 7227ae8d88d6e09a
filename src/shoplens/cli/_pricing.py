"""``shoplens pricing``: check a rules file against the margin floor, replay recent orders under it, and write
the price list a shop platform imports."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from shoplens.actions import (
    PRECEDENCE_RULE,
    CheckResult,
    ExportFormat,
    RuleSet,
    check_store,
    dated_by_calendar,
    export_store,
    load_rules,
    simulate_store,
    write_price_list,
)
from shoplens.cli._app import JsonOption, app, settings
from shoplens.cli._audit import audit_entry
from shoplens.cli._output import emit_json, stderr, stdout
from shoplens.config import Settings
from shoplens.errors import InputError
from shoplens.warehouse import Warehouse, connect, warehouse_exists

RULES_FORMAT = (
    "The rules file (YAML): rules: [{name, scope: {all: true} | {category|product_id|segment|channel: V}, "
    "discount_percent | discount_amount, min_margin_percent, starts?, ends?, priority?, min_quantity?}]. "
    "margin = (price - cost) / price after the discount; segment is an RFM segment (shoplens rfm); "
    "min_quantity makes a volume break (only lines of at least that many units). "
    f"Where rules overlap: {PRECEDENCE_RULE}."
)

pricing_app = typer.Typer(
    name="pricing",
    help="Pricing rules: refuse discounts below the margin floor, replay recent orders under them, export them. "
    + RULES_FORMAT,
    no_args_is_help=True,
)
app.add_typer(pricing_app)

RulesArgument = Annotated[Path, typer.Argument(help="The pricing rules file (YAML).", show_default=False)]
AcceptUncheckedOption = Annotated[
    bool,
    typer.Option(
        "--accept-unchecked",
        help="Accept products that have no cost or price (they cannot be checked; refused by default).",
    ),
]


def _warehouse(config: Settings) -> Warehouse:
    if not warehouse_exists(config):
        raise InputError(f"no warehouse in {config.home} yet: run shoplens demo, or shoplens import FILE first")
    return connect(config, read_only=True)


def dated_rules(rules: RuleSet, warehouse: Warehouse) -> RuleSet:
    """The rules with their ``event`` names turned into the dates the store's events calendar gives them."""
    if not any(rule.event for rule in rules.rules):
        return rules
    calendar = warehouse.backend.table("events_calendar").select("date", "name").to_pyarrow().to_pylist()
    days = [(row["date"].date() if hasattr(row["date"], "hour") else row["date"], str(row["name"])) for row in calendar]
    return dated_by_calendar(rules, days, today=date.today())


def _refuse(result: CheckResult, as_json: bool) -> None:
    """Exit 1 when the rule set sells below a floor or cannot be checked: the reasons in the JSON, or one line
    each on stderr."""
    if result.ok:
        return
    if not as_json:
        for violation in result.violations:
            stderr.print(f"refused: {violation.sentence()}", markup=False, soft_wrap=True)
        if not result.violations:
            products = len({item.product_id for item in result.unchecked})
            stderr.print(
                f"refused: {products:,} product(s) the rules reach have no cost or price, so their margin cannot be "
                "checked (add the costs, or pass --accept-unchecked)",
                markup=False,
                soft_wrap=True,
            )
    raise typer.Exit(1)


@pricing_app.command("check")
def check_command(
    ctx: typer.Context,
    rules_file: RulesArgument,
    accept_unchecked: AcceptUncheckedOption = False,
    as_json: JsonOption = False,
) -> None:
    """Refuse a rule set that would sell any product below its floor (cost + the rule's minimum margin).

    Each rule is compared, for every product its scope can reach (every product for segment and channel rules),
    with the warehouse's products table: the margin after the discount, (price - cost) / price, must be at
    least the rule's min_margin_percent. Prints {"ok", "violations": [{"rule", "product_id", "margin"
    (percent), "min_margin_percent", "cost", "price", "sale_price"}], "unchecked": [{"rule", "product_id",
    "reason"}], "checked", "outranked", "rules", "reaching_nothing"}.

    A product without a cost is listed as unchecked, never guessed, and refuses the rule set unless
    --accept-unchecked. A rule is not held to a product whose lines another rule always wins (higher in
    precedence, reaching the product for every customer and quantity, in force whenever the rule is):
    "outranked" counts those. Exit 1 when the rule set is refused (each reason on stderr in text mode), 2 when
    the file is invalid.

      shoplens pricing check rules.yaml --json
    """
    rules = load_rules(rules_file)
    with _warehouse(settings(ctx)) as warehouse:
        result = check_store(warehouse.backend, dated_rules(rules, warehouse), accept_unchecked=accept_unchecked)
    if as_json:
        emit_json(result.model_dump())
    else:
        verdict = "ok" if result.ok else f"refused: {len(result.violations)} price(s) below the margin floor"
        if not result.ok and not result.violations:
            verdict = "refused: some prices cannot be checked"
        stdout.print(
            f"{verdict} ({result.checked:,} rule-product price(s) checked, {result.outranked:,} outranked, "
            f"{result.rules} rule(s))"
        )
        for name in result.reaching_nothing:
            stdout.print(
                f"rule {name!r} reaches no product in the catalogue (check its product_id or category)",
                markup=False,
                soft_wrap=True,
            )
        if result.unchecked:
            products = len({item.product_id for item in result.unchecked})
            stdout.print(f"{products:,} product(s) cannot be checked (no cost or price in the products table)")
    _refuse(result, as_json)


@pricing_app.command("simulate")
def simulate_command(
    ctx: typer.Context,
    rules_file: RulesArgument,
    months: Annotated[int, typer.Option("--months", help="How many months of orders to replay.", min=1)] = 3,
    as_dated: Annotated[
        bool,
        typer.Option(
            "--as-dated/--always",
            help="Apply each rule only on the days of its starts/ends window (default: as if always in force).",
        ),
    ] = False,
    elasticity: Annotated[
        float | None,
        typer.Option("--elasticity", help="Use this price elasticity (negative) instead of the store's own."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """What the last months would have earned under the rule set: baseline against simulated revenue, units
    and margin.

    Every purchase line of the last N months (to the last day with data) is priced by the rule that wins it;
    units follow the price by a constant elasticity, units x (new price / old price) ** elasticity. The
    elasticity is estimated from the store's own price changes (a Poisson regression of weekly units on log price
    within each product whose price moved) where they allow, else an assumed -2.0 (range -3.5 to -1.0):
    elasticity_source says which. The interval gives the totals at both ends of the elasticity's 95% interval
    (or the assumed range). Revenue is quantity x unit price before order-level discount codes; margin counts
    lines whose product has a cost. A segment rule reaches the customers RFM put in that segment the day before
    the replayed months. Prints {"revenue", "margin", "units", "interval": {"level", "elasticity",
    "revenue", "units", "margin"}, "baseline": {...}, "change": {...}, "elasticity", "elasticity_source",
    "elasticity_note", "elasticity_fit", "start", "end", "months", "lines", "lines_repriced", "rules"}.

      shoplens pricing simulate rules.yaml --months 6 --json
    """
    rules = load_rules(rules_file)
    config = settings(ctx)
    with _warehouse(config) as warehouse:
        result = simulate_store(
            warehouse.backend,
            dated_rules(rules, warehouse),
            months=months,
            zone=config.timezone,
            respect_dates=as_dated,
            elasticity=elasticity,
        )
    if as_json:
        emit_json(result.model_dump())
        return
    stdout.print(
        f"replayed {result.lines:,} lines from {result.start} to {result.end}, {result.lines_repriced:,} repriced"
    )
    stdout.print(f"elasticity {result.elasticity:.2f} ({result.elasticity_source}): {result.elasticity_note}")
    low, high = result.interval["revenue"]
    stdout.print(
        f"revenue {result.baseline.revenue:,.2f} -> {result.revenue:,.2f} (interval {low:,.2f} to {high:,.2f})"
    )
    stdout.print(f"units   {result.baseline.units:,.0f} -> {result.units:,.0f}")
    if result.margin is not None and result.baseline.margin is not None:
        stdout.print(f"margin  {result.baseline.margin:,.2f} -> {result.margin:,.2f}")


@pricing_app.command("export")
def export_command(
    ctx: typer.Context,
    rules_file: RulesArgument,
    out: Annotated[Path, typer.Option("--out", help="The CSV file to write.", show_default=False)],
    export_format: Annotated[
        str, typer.Option("--format", help="The platform's import layout: shopify or woocommerce.")
    ] = "woocommerce",
    accept_unchecked: AcceptUncheckedOption = False,
    as_json: JsonOption = False,
) -> None:
    """Write the rule set's sale prices as a CSV the shop platform imports (a rule set check refuses is not
    written).

    One row per product a catalogue price can carry: woocommerce gives SKU, Regular price, Sale price and the
    sale's start and end dates; shopify gives Handle, Variant SKU, Variant Price (the sale price) and Variant
    Compare At Price (the regular one; Shopify's import has no sale dates). Segment and channel rules and
    volume breaks need the platform's own discount rules and are listed as skipped. Prints {"path", "format",
    "products", "skipped_rules": [{"rule", "reason"}]}.

      shoplens pricing export rules.yaml --out prices.csv --format woocommerce --json
    """
    if export_format not in ("shopify", "woocommerce"):
        raise InputError(f"--format must be shopify or woocommerce, not {export_format!r}")
    layout: ExportFormat = "shopify" if export_format == "shopify" else "woocommerce"
    rules = load_rules(rules_file)
    if not out.parent.is_dir():
        raise InputError(f"{out.parent}: no such directory for --out")
    with _warehouse(settings(ctx)) as warehouse:
        rules = dated_rules(rules, warehouse)
        result = check_store(warehouse.backend, rules, accept_unchecked=accept_unchecked)
        if not result.ok:
            if as_json:
                emit_json(result.model_dump())
            _refuse(result, as_json)
        prices = export_store(warehouse.backend, rules)
    written = write_price_list(prices, out, layout)
    entry = audit_entry(
        settings(ctx),
        "pricing.export",
        {
            "file": out.name,
            "format": layout,
            "rules": len(rules.rules),
            "products": written,
            "skipped_rules": len(prices.skipped_rules),
            "rules_sha256": hashlib.sha256(rules_file.read_bytes()).hexdigest(),
        },
    )
    document = {
        "path": str(out),
        "format": layout,
        "products": written,
        "skipped_rules": prices.skipped_rules,
        "audit_entry": entry,
    }
    if as_json:
        emit_json(document)
        return
    stdout.print(f"wrote {written:,} product price(s) to {out} ({layout})")
    for skipped in prices.skipped_rules:
        stdout.print(f"skipped rule {skipped['rule']!r}: {skipped['reason']}")
