"""Analytics sub-commands: kpis, funnel, cohorts, rfm, lifecycle, stage, behaviour, basket, products.

Each command builds a typed query, hands it to the one :class:`shoplens.metrics.MetricsRunner`, and prints
the result: one JSON document with --json, tables otherwise. Nothing is computed here.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, TypeVar

import typer
from pydantic import ValidationError
from rich.table import Table

from shoplens.cli._app import JsonOption, app, settings
from shoplens.cli._output import emit_json, stdout
from shoplens.config import Settings
from shoplens.errors import InputError
from shoplens.metrics import (
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
    MetricQuery,
    MetricResult,
    MetricsRunner,
    ProductQuery,
    ProductResult,
    RfmQuery,
    RfmResult,
    StageQuery,
    StageResult,
)
from shoplens.warehouse import Warehouse

Q = TypeVar("Q", bound=MetricQuery)
R = TypeVar("R", bound=MetricResult)
DASH = "–"

FromOption = Annotated[
    datetime | None, typer.Option("--from", formats=["%Y-%m-%d"], help="First day (YYYY-MM-DD, store time).")
]
ToOption = Annotated[
    datetime | None, typer.Option("--to", formats=["%Y-%m-%d"], help="Last day, included (YYYY-MM-DD).")
]
AsOfOption = Annotated[
    datetime | None,
    typer.Option("--as-of", formats=["%Y-%m-%d"], help="Reference day (default: the last order day)."),
]


def _query(kind: type[Q], **values: Any) -> Q:
    """Build a query from command-line values; a bad value is bad input (exit 2) with one line."""
    try:
        return kind(**{k: v for k, v in values.items() if v is not None})
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error["loc"])
        message = str(error["msg"]).removeprefix("Value error, ")
        raise InputError(f"{where}: {message}" if where else message) from None


@contextmanager
def _runner(config: Settings) -> Iterator[MetricsRunner]:
    if not config.warehouse_path.exists():
        raise InputError(
            f"no store in {config.home} yet: import the store's exports first "
            "(shoplens import FILE --profile P, or shoplens demo)"
        )
    with Warehouse(config.warehouse_path, read_only=True) as warehouse:
        yield MetricsRunner.for_warehouse(
            warehouse, store_timezone=config.timezone, cache_dir=config.home / "cache" / "metrics"
        )


def _run(ctx: typer.Context, query: MetricQuery, result_type: type[R]) -> R:
    with _runner(settings(ctx)) as runner:
        return runner.run_as(query, result_type)


def _day(value: datetime | None) -> Any:
    return value.date() if value is not None else None


# --- formatting for people ------------------------------------------------------------------------


def _money(value: Any) -> str:
    return DASH if value is None else f"{Decimal(value):,.2f}"


def _count(value: Any) -> str:
    return DASH if value is None else f"{int(value):,}"


def _share(value: Any, digits: int = 1) -> str:
    return DASH if value is None else f"{float(value):.{digits}%}"


def _change(value: Any) -> str:
    return DASH if value is None else f"{float(value):+.1%}"


def _number(value: Any, digits: int = 1) -> str:
    return DASH if value is None else f"{float(value):,.{digits}f}"


def _text(value: Any) -> str:
    return DASH if value is None else str(value)


def _table(title: str, columns: Sequence[str], body: Sequence[Sequence[str]]) -> Table:
    table = Table(*columns, title=title)
    for row in body:
        table.add_row(*row)
    return table


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
    not customers. Example: shoplens kpis --grain month --from 2024-01-01 --by channel --json
    """
    query = _query(KpiQuery, start=_day(start), end=_day(end), grain=grain, by=by)
    result = _run(ctx, query, KpiResult)
    if as_json:
        emit_json(result.model_dump())
        return
    split = [by] if by else []
    columns = ["period", *split, "orders", "revenue", "customers", "new", "AOV", "refunds", "repeat", "Δ revenue"]
    body = [
        [
            str(r["period"]),
            *[_text(r[by]) for by in split],
            _count(r["orders"]),
            _money(r["revenue"]),
            _count(r["customers"]),
            _count(r["new_customers"]),
            _money(r["aov"]),
            _share(r["refund_rate"]),
            _share(r["repeat_rate"]),
            _change(r["revenue_change"]),
        ]
        for r in result.rows
    ]
    stdout.print(_table(f"KPIs by {grain} ({result.store_timezone})", columns, body))


@app.command("rfm")
def rfm_command(ctx: typer.Context, as_of: AsOfOption = None, as_json: JsonOption = False) -> None:
    """RFM segments: every customer with an order, scored 1-5 on recency, frequency and money, in 11 segments.

    Each segment comes with what it means, its rule on the scores and the recommended action.
    """
    result = _run(ctx, _query(RfmQuery, as_of=_day(as_of)), RfmResult)
    if as_json:
        emit_json(result.model_dump())
        return
    body = [
        [
            s.segment,
            _count(s.customers),
            _share(s.share_of_customers),
            _money(s.revenue),
            _share(s.share_of_revenue),
            s.rule,
        ]
        for s in result.segments
    ]
    title = f"RFM segments as of {result.as_of}: {result.customers:,} customers"
    stdout.print(_table(title, ["segment", "customers", "share", "revenue", "revenue share", "rule"], body))
    for s in result.segments:
        stdout.print(f"[bold]{s.segment}[/bold]: {s.meaning} → {s.action}")
    thresholds = [
        [t["measure"], str(t["score"]), _number(t["low"], 2), _number(t["high"], 2), _count(t["customers"])]
        for t in result.thresholds
    ]
    stdout.print(_table("What the scores mean", ["measure", "score", "from", "to", "customers"], thresholds))
    stdout.print(result.scoring)


@app.command("cohorts")
def cohorts_command(
    ctx: typer.Context,
    grain: Annotated[str, typer.Option("--grain", help="week, month or quarter of the first order.")] = "month",
    by: Annotated[str | None, typer.Option("--by", help="Split cohorts by channel or device.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Cohorts by first-order period: customer retention, revenue retention and cumulative revenue per customer.

    With --json, one row per cohort and period index (the triangle in long form); otherwise the retention
    triangle.
    """
    result = _run(ctx, _query(CohortQuery, grain=grain, by=by), CohortResult)
    if as_json:
        emit_json(result.model_dump())
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
        [str(k[0]), *([_text(k[1])] if by else []), _count(sizes[k]), *[_share(cells.get(i), 0) for i in range(width)]]
        for k, cells in triangle.items()
    ]
    stdout.print(_table(f"Customer retention by {grain} since the first order", columns, body))


@app.command("stage")
def stage_command(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """The store's development stage (initial, development, mature), the evidence, and what the next stage needs."""
    result = _run(ctx, StageQuery(), StageResult)
    if as_json:
        emit_json(result.model_dump())
        return
    stdout.print(f"Stage: [bold]{result.stage}[/bold]")
    evidence = [[name, _text(value)] for name, value in result.evidence.items()]
    stdout.print(_table("Evidence", ["measure", "value"], evidence))
    for reason in result.reasons:
        stdout.print(f"• {reason}")
    if result.next_stage_needs:
        stdout.print("To reach the next stage:")
        for need in result.next_stage_needs:
            stdout.print(f"  – {need}")
    stdout.print(f"Rule: {result.rule}")


@app.command("funnel")
def funnel_command(
    ctx: typer.Context,
    start: FromOption = None,
    end: ToOption = None,
    by: Annotated[str | None, typer.Option("--by", help="Split by source, medium, device or campaign.")] = None,
    as_json: JsonOption = False,
) -> None:
    """The web funnel view → cart → checkout → order: sessions, step conversion, drop-off, time between steps."""
    result = _run(ctx, _query(FunnelQuery, start=_day(start), end=_day(end), by=by), FunnelResult)
    if as_json:
        emit_json(result.model_dump())
        return
    columns = [*([by] if by else []), "step", "sessions", "conversion", "from start", "drop-off", "median min"]
    body = [
        [
            *([_text(s[by])] if by else []),
            s["step"],
            _count(s["sessions"]),
            _share(s["conversion"]),
            _share(s["conversion_from_start"]),
            _share(s["drop_off"]),
            _number(s["median_minutes"]),
        ]
        for s in result.steps
    ]
    stdout.print(_table("Funnel", columns, body))


@app.command("basket")
def basket_command(
    ctx: typer.Context,
    min_support: Annotated[float, typer.Option("--min-support", help="Least share of orders with the pair.")] = 0.01,
    min_confidence: Annotated[float, typer.Option("--min-confidence", help="Least P(B | A).")] = 0.0,
    limit: Annotated[int, typer.Option("--limit", help="Rules to show.")] = 50,
    as_json: JsonOption = False,
) -> None:
    """Products bought together: association rules A → B with support, confidence and lift."""
    query = _query(BasketQuery, min_support=min_support, min_confidence=min_confidence, limit=limit)
    result = _run(ctx, query, BasketResult)
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
            f"{r['antecedent']} {_text(r.get('antecedent_name'))}",
            f"{r['consequent']} {_text(r.get('consequent_name'))}",
            _count(r["orders"]),
            _share(r["support"], 2),
            _share(r["confidence"]),
            _number(r["lift"], 2),
        ]
        for r in result.rules
    ]
    stdout.print(
        _table("Association rules", ["if bought", "then also", "orders", "support", "confidence", "lift"], body)
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
    query = _query(LifecycleQuery, as_of=_day(as_of), active_days=active_days, lapsed_days=lapsed_days)
    result = _run(ctx, query, LifecycleResult)
    if as_json:
        emit_json(result.model_dump())
        return
    body = [
        [s["state"], _count(s["customers"]), _share(s["share"]), _money(s["revenue"]), s["rule"]] for s in result.states
    ]
    stdout.print(_table(f"Lifecycle as of {result.as_of}", ["state", "customers", "share", "revenue", "rule"], body))


@app.command("behaviour")
def behaviour_command(
    ctx: typer.Context,
    window_days: Annotated[int, typer.Option("--window-days", help="Repeat = another order within N days.")] = 90,
    min_customers: Annotated[int, typer.Option("--min-customers", help="Least customers per product shown.")] = 20,
    top: Annotated[int, typer.Option("--top", help="Products to list.")] = 10,
    as_json: JsonOption = False,
) -> None:
    """Purchase behaviour: time between orders, when people buy, basket sizes, discounts, channels, first products."""
    query = _query(BehaviourQuery, window_days=window_days, min_customers=min_customers, top=top)
    result = _run(ctx, query, BehaviourResult)
    if as_json:
        emit_json(result.model_dump())
        return
    gaps = result.inter_purchase
    stdout.print(
        f"Time between orders: median {_number(gaps.get('median_days'))} days, mean {_number(gaps.get('mean_days'))}"
        f" (over {_count(gaps.get('repeat_orders'))} repeat orders)"
    )
    stdout.print(
        _table(
            "Days between orders",
            ["gap", "repeat orders", "share"],
            [[g["bucket"], _count(g["repeat_orders"]), _share(g["share"])] for g in result.inter_purchase_distribution],
        )
    )
    stdout.print(
        _table(
            "Products per order",
            ["products", "orders", "share", "AOV"],
            [[b["products"], _count(b["orders"]), _share(b["share"]), _money(b["aov"])] for b in result.basket_sizes],
        )
    )
    d = result.discounts
    stdout.print(
        f"Discounts: {_share(d.get('discounted_share'))} of orders; repeat rate within {window_days} days: "
        f"{_share(d.get('discount_acquired_repeat_rate'))} for customers won with a discount, "
        f"{_share(d.get('full_price_repeat_rate'))} for full-price customers"
    )
    for title, key, found in (("channel", "channel", result.channels), ("device", "device", result.devices)):
        body = [
            [
                _text(c[key]),
                _count(c["customers"]),
                _share(c["repeat_rate"]),
                _number(c["orders_per_customer"], 2),
                _money(c["revenue_per_customer"]),
            ]
            for c in found
        ]
        columns = [f"first-order {title}", "customers", "repeat rate", "orders/customer", "revenue/customer"]
        stdout.print(_table(f"By {title} of the first order", columns, body))
    for title, found in (
        ("First products with the most repeat customers", result.first_products_most_repeat),
        ("First products with the fewest repeat customers", result.first_products_least_repeat),
    ):
        body = [
            [p["product_id"], _count(p["customers"]), _share(p["repeat_rate"]), _number(p["lift"], 2)] for p in found
        ]
        stdout.print(_table(title, ["product", "customers", "repeat rate", "lift"], body))


@app.command("products")
def products_command(
    ctx: typer.Context,
    top: Annotated[int, typer.Option("--top", help="Products to list.")] = 20,
    min_buyers: Annotated[int, typer.Option("--min-buyers", help="Least buyers for rates per product.")] = 20,
    as_json: JsonOption = False,
) -> None:
    """The product range: ABC (Pareto) classes, top products, categories, returns by product and supplier."""
    result = _run(ctx, _query(ProductQuery, top=top, min_buyers=min_buyers), ProductResult)
    if as_json:
        emit_json(result.model_dump())
        return
    abc = [
        [
            a["abc_class"],
            _count(a["products"]),
            _share(a["product_share"]),
            _money(a["revenue"]),
            _share(a["revenue_share"]),
        ]
        for a in result.abc
    ]
    stdout.print(
        _table(f"ABC of {result.products:,} products", ["class", "products", "share", "revenue", "share"], abc)
    )
    top_rows = [
        [
            str(p["rank"]),
            p["product_id"],
            _text(p["name"]),
            _money(p["revenue"]),
            _share(p["return_rate"]),
            p["abc_class"],
        ]
        for p in result.top_products
    ]
    stdout.print(_table("Top products", ["#", "product", "name", "revenue", "return rate", "class"], top_rows))
    suppliers = [
        [s["supplier"], _count(s["products"]), _money(s["sales"]), _money(s["refunds"]), _share(s["return_rate"])]
        for s in result.suppliers
    ]
    stdout.print(_table("Returns by supplier", ["supplier", "products", "sales", "refunds", "return rate"], suppliers))
    comeback = [[p["product_id"], _count(p["buyers"]), _share(p["comeback_rate"])] for p in result.comeback_products]
    stdout.print(_table("Products that bring customers back", ["product", "buyers", "came back"], comeback))
