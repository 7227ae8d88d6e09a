"""``shoplens service``: support response times, stock-outs with their estimated lost sales, and what a slow answer
does to the next purchase."""

from __future__ import annotations

from typing import Annotated

import typer

from shoplens.cli._analytics import query_of, run
from shoplens.cli._app import JsonOption, app
from shoplens.cli._format import count, money, number, share, table_of
from shoplens.cli._output import emit_json, stdout
from shoplens.queries import ServiceQuery, ServiceResult


@app.command("service")
def service_command(
    ctx: typer.Context,
    top: Annotated[int, typer.Option("--top", help="Products with the largest estimated lost sales to list.")] = 10,
    as_json: JsonOption = False,
) -> None:
    """Service diagnostics from tickets and daily stock.

    Support: first response and resolution times per channel, the share answered within 24 hours. Stock-outs:
    days at zero stock per product; lost units = stock-out days x units sold per in-stock day. After a slow
    answer (over 24 hours, or none): the repeat rate in the next 90 days minus after a prompt one, compared
    within bands of prior purchases, with a 95 % interval. Deliveries: the share delivered after the promised day
    and the median days late, per channel, country and month; after a late delivery: the 90-day repeat rate minus
    after one on time, matched on segment, country and prior purchases, with a 95 % interval. Says what the data
    lacks (e.g. delivery dates).
    """
    result = run(ctx, query_of(ServiceQuery, top=top), ServiceResult)
    if as_json:
        emit_json(result.model_dump())
        return
    if result.support:
        body = [
            [
                r["channel"],
                count(r["tickets"]),
                number(r["median_response_hours"], 1),
                number(r["p90_response_hours"], 1),
                share(r["answered_within_24h_share"]),
                number(r["median_resolution_hours"], 1),
                count(r["open"]),
            ]
            for r in result.support
        ]
        heads = ["channel", "tickets", "median reply (h)", "p90 reply (h)", "within 24 h", "median solved (h)", "open"]
        stdout.print(table_of("Support", heads, body))
        after = result.after_slow_answer
        if after["estimate"] is not None:
            stdout.print(
                f"After a slow answer the 90-day repeat rate differs by {share(after['estimate'])} "
                f"(95 % interval {share(after['low'])} to {share(after['high'])}; {after['slow_tickets']} slow and "
                f"{after['prompt_tickets']} prompt tickets, matched on prior purchases)."
            )
    if result.delivery.get("country"):
        body = [
            [
                r.get("country", "all"),
                count(r["delivered"]),
                count(r["late"]),
                share(r["late_share"]),
                number(r["median_days_late"], 1),
                number(r["median_delivery_days"], 1),
            ]
            for r in result.delivery["all"] + result.delivery["country"]
        ]
        heads = ["country", "delivered", "late", "late share", "median days late", "median days to deliver"]
        stdout.print(table_of("Deliveries against the promised day", heads, body))
        late = result.after_late_delivery
        if late["estimate"] is not None:
            stdout.print(
                f"After a late delivery the 90-day repeat rate differs by {share(late['estimate'])} "
                f"(95 % interval {share(late['low'])} to {share(late['high'])}, against {share(late['baseline'])} "
                f"after one on time; {late['late_orders']} late and {late['on_time_orders']} on-time orders, matched "
                "on segment, country and prior purchases)."
            )
    if result.stock_outs:
        body = [
            [
                r["product_id"],
                count(r["stockout_days"]),
                count(r["whole_days_out"]),
                f"{number(r['lost_units'], 1)} ({number(r['lost_units_low'], 1)}-{number(r['lost_units_high'], 1)})",
                f"{money(r['lost_sales'])} ({money(r['lost_sales_low'])}-{money(r['lost_sales_high'])})",
            ]
            for r in result.stock_outs
        ]
        totals = result.stock_out_totals
        title = (
            f"Stock-outs: {totals['products']} products, {totals['stockout_days']} product-days at zero "
            f"({totals['whole_days_out']} whole days), estimated lost units {number(totals['lost_units'], 1)} "
            f"(95 % interval {number(totals['lost_units_low'], 1)} to {number(totals['lost_units_high'], 1)}), "
            f"lost sales {money(totals['lost_sales'])} ({money(totals['lost_sales_low'])} to "
            f"{money(totals['lost_sales_high'])})"
        )
        headers = ["product", "days out", "whole days", "lost units (95 %)", "lost sales (95 %)"]
        stdout.print(table_of(title, headers, body))
    for gap in result.missing:
        stdout.print(f"Not measured: {gap}.")
