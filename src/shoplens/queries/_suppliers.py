"""Suppliers as a question: each supplier's demand trend and forecast, share of revenue and margin, returns and
their reasons, and what a revenue target or a pricing rule set would mean for the units it supplies.

Every figure covers the same window, the last ``months`` complete calendar months of the data (a month is
complete when the data reach its last day), so the shares are today's mix:

* **units needed for a revenue target** (``--target-period``): if the month's revenue target is met at the
  window's mix, a supplier supplies target × its revenue share / its average revenue per unit, which is
  target × its units / the store's revenue in the window (the same number, with fewer roundings);
  ``target_units_change`` compares it with the supplier's average month;
* **units under a pricing rule set** (``--rules``): the pricing simulator's replay of the last ``months`` months
  (:func:`shoplens.actions.replay_store`, its elasticity and interval), per product, summed by supplier.

The forecast is :func:`shoplens.models.linear_trend` on the supplier's units per month (months without a sale
count as 0).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, ClassVar

from pydantic import Field

from shoplens.actions import RuleSet, period_label, period_start, replay_store, shift_months
from shoplens.errors import InputError
from shoplens.metrics import (
    UNKNOWN_SUPPLIER,
    data_span,
    supplier_monthly_units,
    supplier_refund_reasons,
    supplier_sales,
)
from shoplens.models import DEFAULT_INTERVAL_LEVEL, TREND_METHOD, linear_trend
from shoplens.queries._base import Query, Result, Row, answers
from shoplens.queries._context import QueryContext, one_row, rows
from shoplens.queries._plans import TargetSpec

TOP_REASONS = 3
TARGET_METHOD = "target x supplier revenue share / supplier revenue per unit (the window's mix and prices)"
CATALOGUE_HINT = "(e.g. shoplens import products.csv --profile shopify-products)"
NO_SUPPLIERS = (
    "no suppliers: none of the {products:,} products in the products table names a supplier; import a catalogue "
    "with a supplier column " + CATALOGUE_HINT
)
NO_SUPPLIERS_OR_COSTS = (
    "no suppliers and no costs: none of the {products:,} products in the products table names a supplier or has a "
    "cost; import a catalogue with supplier and cost columns " + CATALOGUE_HINT
)
NO_PRODUCTS = "no suppliers: the products table is empty; import a catalogue with supplier and cost columns " + (
    CATALOGUE_HINT
)
NO_COSTS = "no product costs: margin and share of margin are null; import a catalogue with a cost column"


class SupplierQuery(Query):
    kind: ClassVar[str] = "suppliers"
    months: int = Field(12, ge=1, le=120, description="complete calendar months of history (the window)")
    horizon: int = Field(3, ge=1, le=24, description="months of units to forecast")
    target: TargetSpec | None = Field(None, description="a whole-shop revenue target (the app database's)")
    rules: RuleSet | None = Field(None, description="a pricing rule set to replay over the last months")


class SupplierResult(Result):
    query: SupplierQuery
    available: bool
    missing: list[str]
    message: str | None
    start: date | None
    end: date | None
    months: list[date]
    forecast_method: str
    interval_level: float
    totals: Row
    suppliers: list[Row]
    target: Row | None
    pricing: Row | None
    notes: list[str]


def _window(context: QueryContext, months: int) -> tuple[date, date]:
    """The last ``months`` complete calendar months of the data (fewer when the data begin later): (first day,
    last day); an InputError when the data do not cover one whole month."""
    span = one_row(data_span(context.orders(), context.table("refunds"), context.zone))
    first_day, last_day = span["first_day"], span["last_day"]
    if (last_day + timedelta(days=1)).month == last_day.month:  # the last month is partial
        last_day = last_day.replace(day=1) - timedelta(days=1)
    first_month = first_day if first_day.day == 1 else shift_months(first_day, 1)
    start = max(shift_months(last_day, 1 - months), first_month)
    if start > last_day:
        raise InputError(f"the data ({first_day} to {span['last_day']}) do not cover one whole calendar month")
    return start, last_day


def _missing(context: QueryContext) -> tuple[list[str], str | None, bool]:
    """(what is missing, the sentence saying so, whether the suppliers can be shown)."""
    products = context.table("products")
    counts = one_row(
        products.aggregate(
            products=products.count(),
            with_supplier=products.count(where=products.supplier.notnull()),
            with_cost=products.count(where=products.cost.notnull()),
        )
    )
    total = int(counts.get("products") or 0)
    if total == 0:
        return ["products", "supplier", "cost"], NO_PRODUCTS, False
    missing = [name for name in ("supplier", "cost") if not counts.get(f"with_{name}")]
    if "supplier" in missing:
        message = NO_SUPPLIERS_OR_COSTS if "cost" in missing else NO_SUPPLIERS
        return missing, message.format(products=total), False
    return missing, NO_COSTS if missing else None, True


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


@answers(SupplierQuery, SupplierResult)
def answer_suppliers(context: QueryContext, query: SupplierQuery) -> SupplierResult:
    missing, message, available = _missing(context)
    unavailable = SupplierResult(
        query=query,
        available=False,
        missing=missing,
        message=message,
        start=None,
        end=None,
        months=[],
        forecast_method=TREND_METHOD,
        interval_level=DEFAULT_INTERVAL_LEVEL,
        totals={},
        suppliers=[],
        target=None,
        pricing=None,
        notes=[],
    )
    if not available:
        return unavailable
    start, end = _window(context, query.months)
    months = [start]
    while months[-1] < end.replace(day=1):
        months.append(shift_months(start, len(months)))
    orders, lines = context.table("orders"), context.table("order_lines")
    refunds, products = context.table("refunds"), context.table("products")
    window = (start, end)
    found = rows(supplier_sales(lines, orders, refunds, products, window=window, zone=context.zone))
    if not found:
        raise InputError(f"no sales from {start} to {end}: choose more --months")
    monthly: dict[str, dict[date, int]] = defaultdict(dict)
    for row in rows(supplier_monthly_units(lines, orders, products, window=window, zone=context.zone)):
        monthly[row["supplier"]][row["period"]] = int(row["units"])
    reasons: dict[str, list[Row]] = defaultdict(list)
    for row in rows(supplier_refund_reasons(lines, orders, refunds, products, window=window, zone=context.zone)):
        reasons[row["supplier"]].append({"reason": row["reason"], "refunds": int(row["refunds"])})
    store_revenue = sum((Decimal(row["revenue"]) for row in found), Decimal(0))
    notes = [] if message is None else [message]
    if len(months) < query.months:
        notes.append(f"the data cover {len(months)} complete month(s), fewer than the {query.months} asked for")
    suppliers = []
    for row in found:
        name = row["supplier"]
        series = [monthly[name].get(month, 0) for month in months]
        trend = linear_trend(series, horizon=query.horizon, level=DEFAULT_INTERVAL_LEVEL)
        supplier: Row = {
            **{key: row[key] for key in ("supplier", "products", "units", "sales", "refunds", "revenue")},
            "revenue_share": row["revenue_share"],
            "cost_of_goods": row["cost_of_goods"] if row["uncosted_units"] == 0 else None,
            "margin": row["margin"],
            "margin_share": row["margin_share"],
            "uncosted_units": row["uncosted_units"],
            "return_rate": row["return_rate"],
            "refund_count": sum(reason["refunds"] for reason in reasons[name]),
            "top_reasons": reasons[name][:TOP_REASONS],
            "reasons": reasons[name],
            "monthly_units": [{"period": month, "units": units} for month, units in zip(months, series, strict=True)],
            "average_month_units": trend.mean,
            "trend_units_per_month": trend.slope,
            "trend_percent_per_month": trend.change_percent,
            "forecast": [
                {"period": shift_months(end, point.step)} | point.model_dump(exclude={"step"})
                for point in trend.forecast
            ],
        }
        suppliers.append(supplier)
    uncosted = [s["supplier"] for s in suppliers if s["margin"] is None]
    if uncosted and "cost" not in missing:
        notes.append(
            f"margin is null for {len(uncosted)} supplier(s) with products sold without a cost: {', '.join(uncosted)}"
        )
    if any(s["supplier"] == UNKNOWN_SUPPLIER for s in suppliers):
        notes.append(f"{UNKNOWN_SUPPLIER} groups the products sold without a supplier in the products table")
    target = _target(query, suppliers, store_revenue, notes)
    pricing = _pricing(context, query, suppliers)
    margin_total = None if uncosted else sum((Decimal(s["margin"]) for s in suppliers), Decimal(0))
    totals = {
        "suppliers": len(suppliers),
        "units": sum(int(s["units"]) for s in suppliers),
        "revenue": store_revenue,
        "margin": margin_total,
        "refunds": sum((Decimal(s["refunds"]) for s in suppliers), Decimal(0)),
    }
    return unavailable.model_copy(
        update={
            "available": True,
            "start": start,
            "end": end,
            "months": months,
            "totals": totals,
            "suppliers": suppliers,
            "target": target,
            "pricing": pricing,
            "notes": notes,
        }
    )


def _target(query: SupplierQuery, suppliers: list[Row], store_revenue: Decimal, notes: list[str]) -> Row | None:
    """Each supplier's units if the revenue target is met at the window's mix (added to the supplier rows)."""
    if query.target is None:
        return None
    spec = query.target
    if spec.kpi != "revenue" or spec.channel:
        raise InputError(f"the suppliers' units need a whole-shop revenue target, not {spec.kpi} {spec.channel}")
    if store_revenue <= 0:
        notes.append("no revenue in the window: the units a target needs cannot be worked out")
        return {"period": spec.period, "value": spec.value, "method": TARGET_METHOD, "units": None}
    for supplier in suppliers:
        units = float(spec.value) * float(supplier["units"]) / float(store_revenue)
        supplier["target_units"] = round(units, 1)
        average = sum(month["units"] for month in supplier["monthly_units"]) / len(supplier["monthly_units"])
        supplier["target_units_change"] = round(units / average - 1, 4) if average else None
    return {
        "period": period_label(period_start(spec.period)),
        "value": spec.value,
        "method": TARGET_METHOD,
        "units": round(sum(s["target_units"] for s in suppliers), 1),
    }


def _pricing(context: QueryContext, query: SupplierQuery, suppliers: list[Row]) -> Row | None:
    """Each supplier's units in the pricing simulator's replay, as sold and under the rules (added to the rows)."""
    if query.rules is None:
        return None
    replay = replay_store(context.backend, query.rules, months=query.months, zone=context.zone)
    products = context.table("products")
    supplier_of = {
        str(row["product_id"]): row["supplier"] or UNKNOWN_SUPPLIER
        for row in rows(products.select("product_id", "supplier"))
    }
    per: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0, 0.0])
    for product in replay.products():
        found = per[supplier_of.get(product.product_id, UNKNOWN_SUPPLIER)]
        found[0] += product.baseline_units
        found[1] += product.simulated_units
        found[2] += product.low_units
        found[3] += product.high_units
    for supplier in suppliers:
        baseline, simulated, low, high = per.get(supplier["supplier"], [0.0, 0.0, 0.0, 0.0])
        supplier["pricing"] = {
            "baseline_units": round(baseline, 1),
            "simulated_units": round(simulated, 1),
            "interval_units": [round(low, 1), round(high, 1)],
            "change_percent": round(100 * (simulated / baseline - 1), 2) if baseline else None,
        }
    simulation = replay.simulation
    return {
        "start": simulation.start,
        "end": simulation.end,
        "months": simulation.months,
        "rules": [rule.name for rule in query.rules.rules],
        "elasticity": simulation.elasticity,
        "elasticity_source": simulation.elasticity_source,
        "elasticity_note": simulation.elasticity_note,
        "interval_elasticity": simulation.interval["elasticity"],
        "baseline_units": simulation.baseline.units,
        "simulated_units": simulation.units,
    }
