"""``shoplens preferences``: one customer's preference profile, the store's overview, or what each RFM segment buys
now against six months before."""

from __future__ import annotations

from typing import Annotated

import typer

from shoplens.cli._analytics import query_of, run
from shoplens.cli._app import JsonOption, app
from shoplens.cli._format import change, count, money, number, share, table_of, text
from shoplens.cli._output import emit_json, stdout
from shoplens.errors import InputError
from shoplens.queries import PreferenceQuery, PreferenceResult, PreferenceShiftQuery, PreferenceShiftResult


@app.command("preferences")
def preferences_command(
    ctx: typer.Context,
    customer: Annotated[
        str | None, typer.Option("--customer", help="A pseudonymous customer key (c_ and 20 hex digits).")
    ] = None,
    segment: Annotated[
        str | None, typer.Option("--segment", help="What this RFM segment buys now against the months before.")
    ] = None,
    shifts: Annotated[bool, typer.Option("--shifts", help="Preference shifts of every RFM segment.")] = False,
    months: Annotated[int, typer.Option("--months", help="Months in each window of --segment/--shifts.")] = 6,
    by: Annotated[str, typer.Option("--by", help="category or product, for --segment/--shifts.")] = "category",
    as_json: JsonOption = False,
) -> None:
    """Customer preference profiles, kept current as orders are imported.

    With --customer: the customer's top 3 categories and products by spend, price band (median unit price
    against the store's price quartiles), share of orders with a discount, usual channel, device, weekday and
    hour (store time), median order size, domestic or international, business buyer or consumer. A customer who
    refused marketing consent gets no profile. Without options: how many customers are in each band, business
    buyers, international. With --segment S or --shifts: each segment's category shares in the last 6 months
    against the 6 before. Example: shoplens preferences --customer c_0123456789abcdef0123 --json
    """
    if customer is not None and (segment is not None or shifts):
        raise InputError("--customer cannot be combined with --segment or --shifts")
    if segment is not None or shifts:
        found = run(ctx, query_of(PreferenceShiftQuery, segment=segment, months=months, by=by), PreferenceShiftResult)
        if as_json:
            emit_json(found.model_dump())
            return
        _print_shifts(found)
        return
    result = run(ctx, query_of(PreferenceQuery, customer=customer), PreferenceResult)
    if as_json:
        emit_json(result.model_dump())
        return
    if result.profile is not None:
        _print_profile(result)
    elif result.overview is not None:
        o = result.overview
        bands = ", ".join(f"{band} {count(n)}" for band, n in o["price_bands"].items())
        stdout.print(
            f"{count(o['customers'])} customers profiled: {count(o['business_buyers'])} business buyers, "
            f"{count(o['international'])} international, {count(o['domestic'])} domestic. Price bands: {bands}."
        )
    s = result.store
    stdout.print(
        f"Store: price quartiles {money(s['price_q1'])} / {money(s['price_q2'])} / {money(s['price_q3'])}, median "
        f"{number(s['quantity_per_line'])} per line and {number(s['units_per_order'])} units per order, home "
        f"country {text(s['home_country'])}. Statistics {result.state['mode']} "
        f"({count(result.state['orders_read'])} orders read)."
    )


def _print_profile(result: PreferenceResult) -> None:
    p = result.profile
    assert p is not None
    cats = [[r["category"], money(r["spend"]), share(r["share"])] for r in p["top_categories"]]
    stdout.print(table_of("Top categories", ["category", "spend", "share"], cats))
    items = [[r["product_id"], text(r["name"]), money(r["spend"]), share(r["share"])] for r in p["top_products"]]
    stdout.print(table_of("Top products", ["product", "name", "spend", "share"], items))
    kind = "business buyer" if p["business_buyer"] else "consumer"
    where = {True: "international", False: "domestic", None: "country unknown"}[p["international"]]
    stdout.print(
        f"{count(p['orders'])} orders, {money(p['spend'])} spent; price band {text(p['price_band'])}; "
        f"{share(p['discount_share'])} of orders discounted; usually {text(p['channel'])} on {text(p['device'])}, "
        f"{text(p['weekday'])} around {text(p['hour'])}:00; median order {number(p['median_units'])} units, "
        f"{money(p['median_net'])}; {where}; {kind}."
    )


def _print_shifts(result: PreferenceShiftResult) -> None:
    by = result.query.by
    for segment in result.segments:
        body = [
            [str(r[by]), share(r["share_now"]), share(r["share_before"]), change(r["change"])] for r in segment["items"]
        ]
        title = (
            f"{segment['segment']}: {count(segment['customers_now'])} buying now, "
            f"{count(segment['customers_before'])} before"
        )
        stdout.print(table_of(title, [by, "share now", "share before", "change"], body))
