"""Analytics sub-commands: kpis, funnel, sessions, cohorts, rfm, lifecycle, stage, behaviour, basket, products.

Each command builds a typed query, hands it to the one :class:`shoplens.queries.QueryRunner`, and prints
the result: one JSON document with --json, tables otherwise. Nothing is computed here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, TypeVar

import typer
from pydantic import ValidationError

from shoplens.cli._app import JsonOption, app, settings
from shoplens.cli._format import change, count, money, number, share, table_of, text
from shoplens.cli._output import emit_json, stdout
from shoplens.config import Settings
from shoplens.errors import InputError
from shoplens.queries import (
    BasketQuery,
    BasketResult,
    BehaviourQuery,
    BehaviourResult,
    CohortQuery,
    CohortResult,
    FunnelQuery,
    FunnelResult,
    KpiQuery,
    KpiResult,
    LifecycleQuery,
    LifecycleResult,
    ProductQuery,
    ProductResult,
    Query,
    QueryRunner,
    Result,
    RfmQuery,
    RfmResult,
    SessionQuery,
    SessionResult,
    StageQuery,
    StageResult,
)

Q = TypeVar("Q", bound=Query)
R = TypeVar("R", bound=Result)

FromOption = Annotated[
    datetime | None, typer.Option("--from", formats=["%Y-%m-%d"], help="First day (YYYY-MM-DD, store time).")
]
ToOption = Annotated[
    datetime | None, typer.Option("--to", formats=["%Y-%m-%d"], help="Last day, included (YYYY-MM-DD).")
]
AsOfOption = Annotated[
    datetime | None,
    typer.Option("--as-of", formats=["%Y-%m-%d"], help="Reference day (default: the last day with data)."),
]


def query_of(kind: type[Q], **values: Any) -> Q:
    """Build a query from command-line values; a bad value is bad input (exit 2) with one line."""
    try:
        return kind(**{k: v for k, v in values.items() if v is not None})
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error["loc"])
        message = str(error["msg"]).removeprefix("Value error, ")
        raise InputError(f"{where}: {message}" if where else message) from None


def runner(config: Settings) -> QueryRunner:
    """The store's query runner (the one the API and the dashboard use too)."""
    return QueryRunner.for_store(config)


def run(ctx: typer.Context, query: Query, result_type: type[R]) -> R:
    """``query``'s typed answer for the store of this command line."""
    return runner(settings(ctx)).run(query, result_type)


def _day(value: datetime | None) -> Any:
    return value.date() if value is not None else None


# --- commands -------------------------------------------------------------------------------------


@app.command("kpis")
def kpis_command(
    ctx: typer.Context,
    start: FromOption = None,
    end: ToOption = None,
    grain: Annotated[str, typer.Option("--grain", help="day, week, month or quarter.")] = "month",
    by: Annotated[str | None, typer.Option("--by", help="Split by channel, device, country or segment.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Sales KPIs per period: revenue net of refunds, orders, customers (new/returning), AOV, rates.

    Revenue is net sales (after discounts) less refunds given in the period; guests count as orders,
    not customers. A period the data end in (or that --from/--to cut) is partial, marked *, and compared
    with the same days of the period before. Example: shoplens kpis --grain month --from 2024-01-01 --json
    """
    query = query_of(KpiQuery, start=_day(start), end=_day(end), grain=grain, by=by)
    result = run(ctx, query, KpiResult)
    if as_json:
        emit_json(result.model_dump())
        return
    split = [by] if by else []
    columns = ["period", *split, "orders", "revenue", "customers", "new", "AOV", "refunds", "repeat", "Δ revenue"]
    body = [
        [
            f"{r['period']}{'*' if r['partial'] else ''}",
            *[text(r[by]) for by in split],
            count(r["orders"]),
            money(r["revenue"]),
            count(r["customers"]),
            count(r["new_customers"]),
            money(r["aov"]),
            share(r["refund_rate"]),
            share(r["repeat_rate"]),
            change(r["revenue_change"]),
        ]
        for r in result.rows
    ]
    stdout.print(table_of(f"KPIs by {grain} ({result.store_timezone})", columns, body))
    partial = {r["period"]: r for r in result.rows if r["partial"]}
    for r in partial.values():
        compared = (
            f"its changes compare with the same days of the period before, {r['compared_from']} to "
            f"{r['compared_through']}"
            if r["comparison"] == "same_days"
            else "there is nothing to compare it with"
        )
        stdout.print(
            f"* {r['period']} is partial: {r['covers_from']} to {r['through']}, {r['days_with_data']} of "
            f"{r['days_in_period']} days; {compared}."
        )


@app.command("rfm")
def rfm_command(ctx: typer.Context, as_of: AsOfOption = None, as_json: JsonOption = False) -> None:
    """RFM segments: every customer with an order, scored 1-5 on recency, frequency and money, in 11 segments.

    Each segment comes with what it means, its rule on the scores and the recommended action.
    """
    result = run(ctx, query_of(RfmQuery, as_of=_day(as_of)), RfmResult)
    if as_json:
        emit_json(result.model_dump())
        return
    body = [
        [
            s.segment,
            count(s.customers),
            share(s.share_of_customers),
            money(s.revenue),
            share(s.share_of_revenue),
            s.rule,
        ]
        for s in result.segments
    ]
    title = f"RFM segments as of {result.as_of} (data through {result.data_end}): {result.customers:,} customers"
    stdout.print(table_of(title, ["segment", "customers", "share", "revenue", "revenue share", "rule"], body))
    for s in result.segments:
        stdout.print(f"[bold]{s.segment}[/bold]: {s.meaning} → {s.action}")
    thresholds = [
        [t["measure"], str(t["score"]), number(t["low"], 2), number(t["high"], 2), count(t["customers"])]
        for t in result.thresholds
    ]
    stdout.print(table_of("What the scores mean", ["measure", "score", "from", "to", "customers"], thresholds))
    stdout.print(result.scoring)


@app.command("cohorts")
def cohorts_command(
    ctx: typer.Context,
    grain: Annotated[str, typer.Option("--grain", help="week, month or quarter of the first order.")] = "month",
    by: Annotated[str | None, typer.Option("--by", help="Split cohorts by channel or device.")] = None,
    first_product: Annotated[
        str | None, typer.Option("--first-product", help="Only customers whose first order contains this product id.")
    ] = None,
    first_category: Annotated[
        str | None,
        typer.Option("--first-category", help="Only customers whose first order has a product of this category."),
    ] = None,
    discount_code: Annotated[
        str | None, typer.Option("--discount-code", help="Only customers whose first order used this code.")
    ] = None,
    channel: Annotated[
        str | None,
        typer.Option("--channel", help="Only customers whose first order came through this channel."),
    ] = None,
    country: Annotated[str | None, typer.Option("--country", help="Only customers from this country.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Cohorts by first-order period: customer retention, revenue retention and cumulative revenue per customer.

    With --json, one row per cohort and period index (the triangle in long form); otherwise the retention
    triangle. The filters look at each customer's first order and combine (all must hold); categories, codes,
    channels and countries ignore case. When no customer matches, the rows are empty and "note" says which
    filter matched nobody (exit 0).

    Example: shoplens cohorts --channel email --discount-code WELCOME10 --json
    """
    filters = {
        "first_product": first_product,
        "first_category": first_category,
        "discount_code": discount_code,
        "channel": channel,
        "country": country,
    }
    result = run(ctx, query_of(CohortQuery, grain=grain, by=by, **filters), CohortResult)
    if as_json:
        emit_json(result.model_dump())
        return
    if result.note:
        stdout.print(result.note, markup=False)
        return
    key = (lambda r: (r["cohort"], r[by])) if by else (lambda r: (r["cohort"], None))
    triangle: dict[tuple[Any, Any], dict[int, Any]] = {}
    sizes: dict[tuple[Any, Any], int] = {}
    for row in result.rows:
        triangle.setdefault(key(row), {})[int(row["period_index"])] = row["retention"]
        sizes[key(row)] = int(row["cohort_customers"])
    width = max((max(cells) for cells in triangle.values()), default=0) + 1
    columns = ["cohort", *([by] if by else []), "customers", *[str(i) for i in range(width)]]
    body = [
        [str(k[0]), *([text(k[1])] if by else []), count(sizes[k]), *[share(cells.get(i), 0) for i in range(width)]]
        for k, cells in triangle.items()
    ]
    stdout.print(table_of(f"Customer retention by {grain} since the first order", columns, body))


@app.command("stage")
def stage_command(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """The store's development stage (initial, development, mature), the evidence, and what the next stage needs."""
    result = run(ctx, StageQuery(), StageResult)
    if as_json:
        emit_json(result.model_dump())
        return
    stdout.print(f"Stage: [bold]{result.stage}[/bold] ({result.window})")
    for signal in result.window_signals:
        stdout.print(f"  · {signal}", markup=False)
    evidence = [[name, value] for name, value in result.evidence_shown()]
    stdout.print(table_of("Evidence", ["measure", "value"], evidence))
    for reason in result.reasons:
        stdout.print(f"• {reason}")
    if result.next_stage_needs:
        stdout.print("To reach the next stage:")
        for need in result.next_stage_needs:
            stdout.print(f"  – {need}")
    stdout.print(f"Rule: {result.rule}")
    stdout.print(f"Window: {result.window_rule}")


@app.command("funnel")
def funnel_command(
    ctx: typer.Context,
    start: FromOption = None,
    end: ToOption = None,
    by: Annotated[str | None, typer.Option("--by", help="Split by source, medium, device or campaign.")] = None,
    as_json: JsonOption = False,
) -> None:
    """The web funnel view → cart → checkout → order: sessions, step conversion, drop-off, time between steps."""
    result = run(ctx, query_of(FunnelQuery, start=_day(start), end=_day(end), by=by), FunnelResult)
    if as_json:
        emit_json(result.model_dump())
        return
    columns = [*([by] if by else []), "step", "sessions", "conversion", "from start", "drop-off", "median min"]
    body = [
        [
            *([text(s[by])] if by else []),
            s["step"],
            count(s["sessions"]),
            share(s["conversion"]),
            share(s["conversion_from_start"]),
            share(s["drop_off"]),
            number(s["median_minutes"]),
        ]
        for s in result.steps
    ]
    stdout.print(table_of("Funnel", columns, body))


@app.command("sessions")
def sessions_command(
    ctx: typer.Context,
    by: Annotated[
        str | None,
        typer.Option("--by", help="Split by visitor_type, month, weekend, traffic_type, region or browser."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Web sessions from a sessions export (no events needed): how many ended in a purchase, overall and by group."""
    result = run(ctx, query_of(SessionQuery, by=by), SessionResult)
    if as_json:
        emit_json(result.model_dump())
        return
    total = result.total
    stdout.print(
        f"{count(total['sessions'])} sessions, {count(total['converted'])} converted ({share(total['conversion'])})"
    )
    if by:
        columns = [by, "sessions", "converted", "conversion", "product pages", "bounce rate"]
        body = [
            [
                text(g["group"]),
                count(g["sessions"]),
                count(g["converted"]),
                share(g["conversion"]),
                number(g["product_pages"]),
                share(g["bounce_rate"]),
            ]
            for g in result.groups
        ]
        stdout.print(table_of("Sessions", columns, body))


@app.command("basket")
def basket_command(
    ctx: typer.Context,
    min_support: Annotated[float, typer.Option("--min-support", help="Least share of orders with the pair.")] = 0.01,
    min_confidence: Annotated[float, typer.Option("--min-confidence", help="Least P(B | A).")] = 0.0,
    limit: Annotated[int, typer.Option("--limit", help="Rules to show.")] = 50,
    as_json: JsonOption = False,
) -> None:
    """Products bought together: association rules A → B with support, confidence and lift."""
    query = query_of(BasketQuery, min_support=min_support, min_confidence=min_confidence, limit=limit)
    result = run(ctx, query, BasketResult)
    if as_json:
        emit_json(result.model_dump())
        return
    stdout.print(
        f"{result.orders:,} orders, {result.multi_product_orders:,} with two or more products; "
        f"rules with support ≥ {query.min_support:.2%}"
    )
    if not result.rules:
        stdout.print("No pair of products reaches the minimum support; try a lower --min-support.")
        return
    body = [
        [
            f"{r['antecedent']} {text(r.get('antecedent_name'))}",
            f"{r['consequent']} {text(r.get('consequent_name'))}",
            count(r["orders"]),
            share(r["support"], 2),
            share(r["confidence"]),
            number(r["lift"], 2),
        ]
        for r in result.rules
    ]
    stdout.print(
        table_of("Association rules", ["if bought", "then also", "orders", "support", "confidence", "lift"], body)
    )


@app.command("lifecycle")
def lifecycle_command(
    ctx: typer.Context,
    as_of: AsOfOption = None,
    active_days: Annotated[int, typer.Option("--active-days", help="Ordered within this many days: active.")] = 90,
    lapsed_days: Annotated[int, typer.Option("--lapsed-days", help="No order for longer than this: lapsed.")] = 180,
    as_json: JsonOption = False,
) -> None:
    """Customers by lifecycle state (new, active, reactivated, at risk, lapsed), with the rule of each state."""
    query = query_of(LifecycleQuery, as_of=_day(as_of), active_days=active_days, lapsed_days=lapsed_days)
    result = run(ctx, query, LifecycleResult)
    if as_json:
        emit_json(result.model_dump())
        return
    body = [
        [s["state"], count(s["customers"]), share(s["share"]), money(s["revenue"]), s["rule"]] for s in result.states
    ]
    title = f"Lifecycle as of {result.as_of} (data through {result.data_end})"
    stdout.print(table_of(title, ["state", "customers", "share", "revenue", "rule"], body))


@app.command("behaviour")
def behaviour_command(
    ctx: typer.Context,
    window_days: Annotated[int, typer.Option("--window-days", help="Repeat = another order within N days.")] = 90,
    min_customers: Annotated[int, typer.Option("--min-customers", help="Least customers per product shown.")] = 20,
    top: Annotated[int, typer.Option("--top", help="Products to list.")] = 10,
    as_json: JsonOption = False,
) -> None:
    """Purchase behaviour: time between orders, when people buy, basket sizes, discounts, channels, first products."""
    query = query_of(BehaviourQuery, window_days=window_days, min_customers=min_customers, top=top)
    result = run(ctx, query, BehaviourResult)
    if as_json:
        emit_json(result.model_dump())
        return
    gaps = result.inter_purchase
    stdout.print(
        f"Time between orders: median {number(gaps.get('median_days'))} days, mean {number(gaps.get('mean_days'))}"
        f" (over {count(gaps.get('repeat_orders'))} repeat orders)"
    )
    stdout.print(
        table_of(
            "Days between orders",
            ["gap", "repeat orders", "share"],
            [[g["bucket"], count(g["repeat_orders"]), share(g["share"])] for g in result.inter_purchase_distribution],
        )
    )
    stdout.print(
        table_of(
            "Products per order",
            ["products", "orders", "share", "AOV"],
            [[b["products"], count(b["orders"]), share(b["share"]), money(b["aov"])] for b in result.basket_sizes],
        )
    )
    d = result.discounts
    stdout.print(
        f"Discounts: {share(d.get('discounted_share'))} of orders; repeat rate within {window_days} days: "
        f"{share(d.get('discount_acquired_repeat_rate'))} for customers won with a discount, "
        f"{share(d.get('full_price_repeat_rate'))} for full-price customers"
    )
    for title, key, found in (("channel", "channel", result.channels), ("device", "device", result.devices)):
        body = [
            [
                text(c[key]),
                count(c["customers"]),
                share(c["repeat_rate"]),
                number(c["orders_per_customer"], 2),
                money(c["revenue_per_customer"]),
            ]
            for c in found
        ]
        columns = [f"first-order {title}", "customers", "repeat rate", "orders/customer", "revenue/customer"]
        stdout.print(table_of(f"By {title} of the first order", columns, body))
    for title, found in (
        ("First products with the most repeat customers", result.first_products_most_repeat),
        ("First products with the fewest repeat customers", result.first_products_least_repeat),
    ):
        body = [[p["product_id"], count(p["customers"]), share(p["repeat_rate"]), number(p["lift"], 2)] for p in found]
        stdout.print(table_of(title, ["product", "customers", "repeat rate", "lift"], body))


@app.command("products")
def products_command(
    ctx: typer.Context,
    top: Annotated[int, typer.Option("--top", help="Products to list.")] = 20,
    min_buyers: Annotated[int, typer.Option("--min-buyers", help="Least buyers for rates per product.")] = 20,
    as_json: JsonOption = False,
) -> None:
    """The product range: ABC (Pareto) classes, top products, categories, returns by product and supplier."""
    result = run(ctx, query_of(ProductQuery, top=top, min_buyers=min_buyers), ProductResult)
    if as_json:
        emit_json(result.model_dump())
        return
    abc = [
        [
            a["abc_class"],
            count(a["products"]),
            share(a["product_share"]),
            money(a["revenue"]),
            share(a["revenue_share"]),
        ]
        for a in result.abc
    ]
    stdout.print(
        table_of(f"ABC of {result.products:,} products", ["class", "products", "share", "revenue", "share"], abc)
    )
    top_rows = [
        [
            str(p["rank"]),
            p["product_id"],
            text(p["name"]),
            money(p["revenue"]),
            share(p["return_rate"]),
            p["abc_class"],
        ]
        for p in result.top_products
    ]
    stdout.print(table_of("Top products", ["#", "product", "name", "revenue", "return rate", "class"], top_rows))
    suppliers = [
        [s["supplier"], count(s["products"]), money(s["sales"]), money(s["refunds"]), share(s["return_rate"])]
        for s in result.suppliers
    ]
    stdout.print(
        table_of("Returns by supplier", ["supplier", "products", "sales", "refunds", "return rate"], suppliers)
    )
    comeback = [[p["product_id"], count(p["buyers"]), share(p["comeback_rate"])] for p in result.comeback_products]
    stdout.print(table_of("Products that bring customers back", ["product", "buyers", "came back"], comeback))
