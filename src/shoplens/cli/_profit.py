"""``shoplens profit``: the contribution margin per group of customers and its profit LTV curve; the cost options
that ``clv predict`` shares."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

import typer

from shoplens.cli._analytics import query_of, runner
from shoplens.cli._app import JsonOption, app, settings
from shoplens.cli._format import count, money, share, table_of, text
from shoplens.cli._output import emit_json, stdout
from shoplens.config import Settings
from shoplens.errors import InputError
from shoplens.metrics import CostRules
from shoplens.queries import PROFIT_BY, ProfitQuery, ProfitResult

FeePercentOption = Annotated[
    str | None,
    typer.Option(
        "--fee-percent",
        help="Payment fee, percent of what the customer paid (default SHOPLENS_PAYMENT_FEE_PERCENT, else 0).",
    ),
]
FeeFixedOption = Annotated[
    str | None,
    typer.Option("--fee-fixed", help="Payment fee per order, an amount (default SHOPLENS_PAYMENT_FEE_FIXED, else 0)."),
]
ShippingCostOption = Annotated[
    str | None,
    typer.Option(
        "--shipping-cost",
        help="What one shipment costs the shop (default SHOPLENS_SHIPPING_COST_PER_ORDER; unset: shipping "
        "charged is passed through at cost).",
    ),
]
CURVE_MONTHS_SHOWN = (0, 1, 3, 6, 12, 24)


def _amount(option: str, value: str) -> Decimal:
    try:
        amount = Decimal(value.strip())
    except InvalidOperation:
        raise InputError(f"{option} must be a number such as 2.9, not {value!r}") from None
    if not amount.is_finite():
        raise InputError(f"{option} must be a number such as 2.9, not {value!r}")
    return amount


def with_costs(config: Settings, fee_percent: str | None, fee_fixed: str | None, shipping_cost: str | None) -> Settings:
    """The store's settings with the cost options of this run in place of the stored ones (checked)."""
    update: dict[str, Any] = {}
    for option, field, value in (
        ("--fee-percent", "payment_fee_percent", fee_percent),
        ("--fee-fixed", "payment_fee_fixed", fee_fixed),
        ("--shipping-cost", "shipping_cost_per_order", shipping_cost),
    ):
        if value is not None:
            update[field] = _amount(option, value)
    if not update:
        return config
    chosen = config.model_copy(update=update)
    try:
        CostRules(
            payment_fee_percent=chosen.payment_fee_percent,
            payment_fee_fixed=chosen.payment_fee_fixed,
            shipping_cost_per_order=chosen.shipping_cost_per_order,
        )
    except ValueError as exc:
        raise InputError(
            str(exc)
            .replace("payment_fee_percent", "--fee-percent")
            .replace("payment_fee_fixed", "--fee-fixed")
            .replace("shipping_cost_per_order", "--shipping-cost")
        ) from None
    return chosen


def _curve_text(curve: list[dict[str, Any]]) -> str:
    points = [p for p in curve if p["month"] in CURVE_MONTHS_SHOWN and p["cumulative_margin_per_customer"] is not None]
    return ", ".join(f"m{p['month']} {money(p['cumulative_margin_per_customer'])}" for p in points) or "–"


@app.command("profit")
def profit_command(
    ctx: typer.Context,
    by: Annotated[
        str,
        typer.Option(
            "--by",
            help="channel, cohort, first-product or first-discount-code (of the customer's first order), or "
            "category (of the products sold).",
        ),
    ] = "channel",
    fee_percent: FeePercentOption = None,
    fee_fixed: FeeFixedOption = None,
    shipping_cost: ShippingCostOption = None,
    as_json: JsonOption = False,
) -> None:
    """Contribution margin per group of customers and the profit LTV curve.

    Per order: net sales + shipping charged − shipping cost − cost of goods (products.cost × quantity) − payment
    fees (--fee-percent of what the customer paid + --fee-fixed) − refunds. Shipping is passed through at cost
    unless --shipping-cost (or SHOPLENS_SHIPPING_COST_PER_ORDER) says what one shipment costs; a refunded order's
    goods cost and fees do not come back. Per group: customers, orders, net_sales, revenue (net of refunds),
    cost_of_goods, shipping, payment_fees, refunds, contribution_margin, margin_rate (÷ net sales), and "curve":
    the cumulative contribution margin per customer by months since the first order, each month over the
    customers observed that long. When a product cost is missing, costs and margins are null and "missing" says
    what to import. Example: shoplens profit --by channel --fee-percent 2.9 --fee-fixed 2.35 --json
    """
    if by not in PROFIT_BY:
        raise InputError(f"--by must be one of {', '.join(PROFIT_BY)}")
    config = with_costs(settings(ctx), fee_percent, fee_fixed, shipping_cost)
    result = runner(config).run(query_of(ProfitQuery, by=by), ProfitResult)
    if as_json:
        emit_json(result.model_dump(exclude={"query"}))
        return
    columns = [by, "customers", "orders", "net sales", "goods", "fees", "refunds", "margin", "rate", "per customer"]
    rows = [*result.groups, {by: "all customers", **result.totals}]
    body = [
        [
            text(r[by]),
            count(r["customers"]),
            count(r["orders"]),
            money(r["net_sales"]),
            money(r["cost_of_goods"]),
            money(r["payment_fees"]),
            money(r["refunds"]),
            money(r["contribution_margin"]),
            share(r["margin_rate"]),
            money(r["contribution_margin_per_customer"]),
        ]
        for r in rows
    ]
    stdout.print(table_of(f"Contribution margin by {by} (as of {result.as_of})", columns, body))
    if by != "category":
        curves = [[text(r[by]), _curve_text(r.get("curve", []))] for r in result.groups]
        stdout.print(table_of("Cumulative margin per customer, by months since the first order", [by, "curve"], curves))
    for note in result.notes:
        stdout.print(note, markup=False)
