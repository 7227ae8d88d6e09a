"""``shoplens market``: competitors' figures and online market-size estimates as the user knows them, and where the
store stands: a positioning table against its own measured figures and its estimated share of the online market.

Competitors, sizes and the store's own return window are kept in the app database, each change written to the audit
log; the position is a question for the one query runner (:mod:`shoplens.queries`), so the API and the dashboard
show the same numbers.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import typer

from shoplens.actions import (
    MARKET_MEASURES,
    NO_ESTIMATES,
    Benchmarks,
    check_benchmarks,
    check_market_period,
    check_name,
    check_size,
)
from shoplens.appdb import AppDatabase, MarketStore
from shoplens.cli._analytics import run
from shoplens.cli._app import JsonOption, app, settings
from shoplens.cli._audit import audit_entry
from shoplens.cli._format import money, number, share, table_of, text
from shoplens.cli._output import emit_json, stdout
from shoplens.config import Settings
from shoplens.errors import InputError
from shoplens.queries import MarketPositionQuery, MarketPositionResult, market_position_query

market_app = typer.Typer(
    name="market",
    help="The online market: competitors' figures and market-size estimates you enter, and where the store stands "
    "(positioning against its own measured figures, estimated market share and its trend).",
    no_args_is_help=True,
)
competitor_app = typer.Typer(
    name="competitor", help="Competitors' benchmark figures (add, list, delete).", no_args_is_help=True
)
size_app = typer.Typer(
    name="size",
    help="Estimates of the online market's size per month or year (set, list, delete).",
    no_args_is_help=True,
)
own_app = typer.Typer(
    name="own", help="The store's own figures that no export carries (its return window).", no_args_is_help=True
)
market_app.add_typer(competitor_app)
market_app.add_typer(size_app)
market_app.add_typer(own_app)
app.add_typer(market_app)

NameOption = Annotated[str, typer.Option("--name", help="The competitor's name (unique; adding it again replaces it).")]
PeriodOption = Annotated[str, typer.Option("--period", help="A month as YYYY-MM or a year as YYYY.")]


def _store(config: Settings) -> tuple[AppDatabase, MarketStore]:
    config.ensure_home()
    database = AppDatabase.for_store(config)
    return database, MarketStore(database)


def _day(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise InputError(f"--as-of must be a date as YYYY-MM-DD, got {value!r}") from None


# --- competitors -----------------------------------------------------------------------------------------------


@competitor_app.command("add")
def competitor_add_command(
    ctx: typer.Context,
    name: NameOption,
    price_index: Annotated[
        float | None,
        typer.Option("--price-index", help="Its price level, this store = 100 (105: 5 % dearer)."),
    ] = None,
    delivery_days: Annotated[
        float | None, typer.Option("--delivery-days", help="Its usual days from order to delivery.")
    ] = None,
    returns_days: Annotated[int | None, typer.Option("--returns-days", help="Its return window in days.")] = None,
    range_size: Annotated[int | None, typer.Option("--range-size", help="How many products it offers.")] = None,
    rating: Annotated[float | None, typer.Option("--rating", help="Its customer rating, 0 to 5.")] = None,
    note: Annotated[str, typer.Option("--note", help="Where the figures come from (kept with them).")] = "",
    as_of: Annotated[str | None, typer.Option("--as-of", help="The day the figures describe (YYYY-MM-DD).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Add a competitor with the figures you know (each is optional); adding the same name again replaces them.

    Prints {"competitor": {name, price_index, delivery_days, returns_days, range_size, rating, note, as_of, set_at},
    "replaced": bool, "audit_entry": id}. Example: shoplens market competitor add --name "Shop B" --price-index 104
    --delivery-days 2 --returns-days 30 --range-size 1200 --rating 4.4 --note "their site, 2025-11" --json
    """
    chosen = check_name(name)
    figures = check_benchmarks(Benchmarks(price_index, delivery_days, returns_days, range_size, rating))
    config = settings(ctx)
    database, store = _store(config)
    try:
        competitor, replaced = store.set_competitor(
            name=chosen, **figures.__dict__, note=note.strip()[:300], as_of=_day(as_of)
        )
        row = competitor.as_dict()
    finally:
        database.close()
    details = {key: row[key] for key in ("name", *MARKET_MEASURES)}
    entry = audit_entry(config, "market.competitor_set", {**details, "replaced": replaced})
    if as_json:
        emit_json({"competitor": row, "replaced": replaced, "audit_entry": entry})
        return
    stdout.print(f"{'replaced' if replaced else 'added'}: {chosen}")


@competitor_app.command("list")
def competitor_list_command(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Every competitor entered, by name. Prints {"competitors": [{name, price_index, ...}]}."""
    database, store = _store(settings(ctx))
    try:
        found = [c.as_dict() for c in store.competitors()]
    finally:
        database.close()
    if as_json:
        emit_json({"competitors": found})
        return
    if not found:
        stdout.print("no competitors yet: shoplens market competitor add --name NAME --price-index 105 ...")
        return
    body = [[c["name"], *(text(c[m]) for m in MARKET_MEASURES), text(c["as_of"]), text(c["note"])] for c in found]
    stdout.print(table_of("Competitors", ["name", *MARKET_MEASURES, "as of", "note"], body))


@competitor_app.command("delete")
def competitor_delete_command(ctx: typer.Context, name: NameOption, as_json: JsonOption = False) -> None:
    """Delete one competitor. Prints {"deleted": {"name"}, "audit_entry"}; a name never added is bad input."""
    chosen = check_name(name)
    config = settings(ctx)
    database, store = _store(config)
    try:
        deleted = store.delete_competitor(chosen)
    finally:
        database.close()
    if not deleted:
        raise InputError(f"no competitor named {chosen!r} to delete (see shoplens market competitor list)")
    entry = audit_entry(config, "market.competitor_delete", {"name": chosen})
    if as_json:
        emit_json({"deleted": {"name": chosen}, "audit_entry": entry})
        return
    stdout.print(f"deleted the competitor {chosen}")


# --- market sizes ----------------------------------------------------------------------------------------------


@size_app.command("set")
def size_set_command(
    ctx: typer.Context,
    period: PeriodOption,
    size: Annotated[float, typer.Option("--size", help="The online market's size in the period, store's currency.")],
    source: Annotated[str, typer.Option("--source", help="Where the estimate comes from (kept with it).")] = "",
    as_json: JsonOption = False,
) -> None:
    """Set the estimated size of the online market for a month or a year; setting it again replaces it.

    The store's share of the period is its revenue (net of refunds) in the period ÷ this size. Prints {"size":
    {period, size, source, set_at}, "replaced": bool, "audit_entry": id}. Example: shoplens market size set
    --period 2025-11 --size 2300000 --source "trade association report" --json
    """
    chosen = check_market_period(period)
    check_size(size)
    config = settings(ctx)
    database, store = _store(config)
    try:
        estimate, replaced = store.set_size(period=chosen, size=size, source=source.strip()[:300])
        row = estimate.as_dict()
    finally:
        database.close()
    entry = audit_entry(config, "market.size_set", {"period": chosen, "size": size, "replaced": replaced})
    if as_json:
        emit_json({"size": row, "replaced": replaced, "audit_entry": entry})
        return
    stdout.print(f"{'replaced' if replaced else 'set'}: online market {chosen} = {money(size)}")


@size_app.command("list")
def size_list_command(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Every market-size estimate, by period. Prints {"sizes": [{period, size, source, set_at}]}."""
    database, store = _store(settings(ctx))
    try:
        found = [s.as_dict() for s in store.sizes()]
    finally:
        database.close()
    if as_json:
        emit_json({"sizes": found})
        return
    if not found:
        stdout.print(NO_ESTIMATES)
        return
    body = [[s["period"], money(s["size"]), text(s["source"])] for s in found]
    stdout.print(table_of("Online market size", ["period", "size", "source"], body))


@size_app.command("delete")
def size_delete_command(ctx: typer.Context, period: PeriodOption, as_json: JsonOption = False) -> None:
    """Delete one estimate. Prints {"deleted": {"period"}, "audit_entry"}; a period never set is bad input."""
    chosen = check_market_period(period)
    config = settings(ctx)
    database, store = _store(config)
    try:
        deleted = store.delete_size(chosen)
    finally:
        database.close()
    if not deleted:
        raise InputError(f"no market-size estimate for {chosen} to delete (see shoplens market size list)")
    entry = audit_entry(config, "market.size_delete", {"period": chosen})
    if as_json:
        emit_json({"deleted": {"period": chosen}, "audit_entry": entry})
        return
    stdout.print(f"deleted the market-size estimate for {chosen}")


# --- own figures -----------------------------------------------------------------------------------------------


@own_app.command("set")
def own_set_command(
    ctx: typer.Context,
    returns_days: Annotated[int, typer.Option("--returns-days", help="The store's return window in days.")],
    as_json: JsonOption = False,
) -> None:
    """Set the store's own return window (no export carries it), shown against the competitors'.

    Prints {"own": {"returns_days"}, "audit_entry": id}. Example: shoplens market own set --returns-days 14 --json
    """
    check_benchmarks(Benchmarks(returns_days=returns_days))
    config = settings(ctx)
    database, store = _store(config)
    try:
        store.set_own("returns_days", float(returns_days))
    finally:
        database.close()
    entry = audit_entry(config, "market.own_set", {"returns_days": returns_days})
    if as_json:
        emit_json({"own": {"returns_days": returns_days}, "audit_entry": entry})
        return
    stdout.print(f"the store's return window: {returns_days} days")


# --- position --------------------------------------------------------------------------------------------------


def position_query(config: Settings) -> MarketPositionQuery:
    """The question over what the store's app database holds."""
    database, store = _store(config)
    try:
        return market_position_query(store.competitors(), store.sizes(), store.own())
    finally:
        database.close()


def _figure(measure: str, value: Any) -> str:
    if measure in ("returns_days", "range_size"):
        return text(value)
    return number(value, 2 if measure == "rating" else 1)


@market_app.command("position")
def position_command(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Where the store stands: its measured figures against each competitor's, and its estimated online market share.

    Own figures: price index 100 by definition (competitors' indices are as entered); median delivery days from
    ordered_at to delivered_at and range size (distinct products sold) over the 365 days to the data end; the return
    window as entered (shoplens market own set); rating = mean feedback rating. Per measure the store's rank (1 =
    best; lower is better for price and delivery days) and which competitors are better or worse. Share per period =
    revenue (net of refunds) ÷ the market size entered; change per period and the least-squares slope per month (on
    complete periods). Prints {"as_of", "window", "store", "competitors", "position": [{measure, better_is, store,
    competitors, store_rank, ranked, better_than, level_with, worse_than}], "share": [{period, market_size,
    revenue, share, change, relative_change, partial, ...}], "slope_per_month", "slope_per_year", "trend",
    "left_out", "notes"}. Example: shoplens market position --json
    """
    config = settings(ctx)
    result = run(ctx, position_query(config), MarketPositionResult)
    if as_json:
        emit_json(result.model_dump(exclude={"query"}))
        return
    names = [c["name"] for c in result.competitors]
    body = []
    for row in result.position:
        verdict = []
        if row["better_than"]:
            verdict.append("better than " + ", ".join(row["better_than"]))
        if row["worse_than"]:
            verdict.append("worse than " + ", ".join(row["worse_than"]))
        if row["level_with"]:
            verdict.append("level with " + ", ".join(row["level_with"]))
        rank = f"{row['store_rank']} of {row['ranked']}" if row["store_rank"] else "–"
        body.append(
            [
                f"{row['measure']} ({row['better_is']} is better)",
                _figure(row["measure"], row["store"]),
                *(_figure(row["measure"], row["competitors"].get(name)) for name in names),
                rank,
                "; ".join(verdict) or "–",
            ]
        )
    columns = ["measure", "this store", *names, "store rank", ""]
    stdout.print(table_of(f"Market position (data to {result.as_of})", columns, body))
    if result.share:
        shares = [
            [
                r["period"] + (" *" if r["partial"] else ""),
                money(r["revenue"]),
                money(r["market_size"]),
                share(r["share"], 2),
                "–" if r["change"] is None else f"{r['change'] * 100:+.2f} pts",
            ]
            for r in result.share
        ]
        stdout.print(
            table_of("Estimated online market share", ["period", "revenue", "market", "share", "change"], shares)
        )
        if result.slope_per_month is not None:
            stdout.print(
                f"trend: {result.trend}, {result.slope_per_month * 100:+.3f} points a month "
                f"({result.slope_per_year * 100 if result.slope_per_year is not None else 0:+.2f} a year)"
            )
    for note in result.notes:
        stdout.print(note)
