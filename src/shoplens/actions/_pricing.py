"""Pricing rules against the warehouse: the margin-floor check, the replay of recent orders under a rule set
with an elasticity the store's own price changes teach where they can, and the price list a shop imports.

The warehouse is read through Ibis expressions (``Table -> Table``, no connection inside); the elasticity fit and
the replay's arithmetic run on the small aggregated results.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any, Literal

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
from pydantic import BaseModel
from scipy import stats

from shoplens.actions._pricing_rules import PricingRule, RuleSet
from shoplens.errors import FieldError, InputError
from shoplens.metrics import (
    Zone,
    data_end,
    purchase_lines,
    purchase_refunds,
    purchases,
    rfm_scores,
    with_local_day,
)
from shoplens.privacy import csv_row

CENT = Decimal("0.01")
# Where the store's prices never moved, demand's response to price cannot be learnt from its data; the replay then
# assumes this elasticity, inside a wide range around the mean of published retail estimates (about -2.6 in the
# meta-analysis of Bijmolt, van Heerde and Pieters, 2005; most between -1 and -3.5).
ASSUMED_ELASTICITY = -2.0
ASSUMED_RANGE = (-3.5, -1.0)
# A weekly price counts as a price change when it differs from the product's usual price by at least this much.
PRICE_CHANGE = 0.01
MIN_FIT_WEEKS = 12  # product-weeks with a moved price needed before an estimate is trusted
MIN_CLUSTERS = 20  # products needed before the standard error is clustered by product
INTERVAL_LEVEL = 0.95
ElasticitySource = Literal["estimated", "assumed", "given"]


# -- the margin floor ---------------------------------------------------------------------------------------------


def _sale_price(rule: PricingRule, price: ir.DecimalValue) -> ir.DecimalValue:
    """``price`` after ``rule``'s discount, to the cent, never below zero (as :meth:`PricingRule.sale_price`)."""
    if rule.discount_percent is not None:
        # One exact decimal factor: dividing a decimal by 100 in SQL would turn it into a float (255.255 -> 255.25).
        factor = (Decimal(100) - rule.discount_percent) / Decimal(100)
        discounted = (price * ibis.literal(factor, "decimal(9,4)")).cast("decimal(24,8)")  # exact: 4 + 4 places
    else:
        assert rule.discount_amount is not None
        discounted = (price - ibis.literal(rule.discount_amount, "decimal(18,4)")).cast("decimal(24,8)")
    return ibis.greatest(discounted, 0).round(2).cast("decimal(18,2)")


def _reaches_product(rule: PricingRule, products: ir.Table) -> ir.Table:
    """The products a rule can price: its product or category; every product for customer-side scopes."""
    kind = rule.scope.kind
    if kind in ("product_id", "category"):
        return products.filter(products[kind] == rule.scope.value)
    return products


def rule_prices(products: ir.Table, rules: RuleSet) -> ir.Table:
    """Every (rule, product) a rule can reach with the price it would sell at:
    ``rule, product_id, category, cost, price, sale_price`` (``sale_price`` NULL where the product has no
    price)."""
    parts = []
    for rule in rules.rules:
        reached = _reaches_product(rule, products)
        parts.append(
            reached.select(
                rule=ibis.literal(rule.name),
                product_id=reached.product_id,
                category=reached.category,
                cost=reached.cost,
                price=reached.price,
                sale_price=_sale_price(rule, reached.price),
            )
        )
    return ibis.union(*parts, distinct=False)


class Violation(BaseModel):
    rule: str
    product_id: str
    margin: float | None  # percent; None when the discount takes the price to zero
    min_margin_percent: float
    cost: Decimal
    price: Decimal
    sale_price: Decimal

    def sentence(self) -> str:
        reached = "a price of 0" if self.margin is None else f"a margin of {self.margin:.2f}%"
        return (
            f"rule {self.rule!r} would sell product {self.product_id} at {reached} "
            f"(price {self.price:.2f} -> {self.sale_price:.2f}, cost {self.cost:.2f}), "
            f"below its floor of {self.min_margin_percent:g}%"
        )


class Unchecked(BaseModel):
    rule: str
    product_id: str
    reason: str


class CheckResult(BaseModel):
    ok: bool
    violations: list[Violation]
    unchecked: list[Unchecked]
    checked: int  # (rule, product) pairs whose margin was compared with the floor
    outranked: int  # (rule, product) pairs another rule always wins, so the rule never prices the product
    rules: int
    reaching_nothing: list[str]  # rules whose product or category is not in the catalogue (a typo?)


def margin_percent(sale_price: Decimal, cost: Decimal) -> Decimal:
    """(price - cost) / price in percent, for a price above zero."""
    return (sale_price - cost) / sale_price * 100


def check_rules(products: ir.Table, rules: RuleSet, *, accept_unchecked: bool = False) -> CheckResult:
    """Compare every price the rule set can produce with its rule's floor (cost + the minimum margin).

    Each rule is checked against every product its scope can reach (every product for segment and channel
    rules), except where another rule always wins that product's lines (:meth:`PricingRule.covers`: it
    outranks the rule, reaches the product for any customer and quantity the rule does, and is in force whenever
    the rule is). A product without a cost or a price cannot be checked; it is listed, never assumed, and the
    rule set is not ok while any is listed unless ``accept_unchecked`` (the shop vouches for those products)."""
    by_name = {rule.name: rule for rule in rules.rules}
    rows: list[dict[str, Any]] = rule_prices(products, rules).to_pyarrow().to_pylist()
    violations: list[Violation] = []
    unchecked: list[Unchecked] = []
    checked = outranked = 0
    for row in sorted(rows, key=lambda r: (r["rule"], r["product_id"])):
        rule = by_name[row["rule"]]
        reaching = (
            other for other in rules.rules if other.scope.kind != "product_id" or other.scope.value == row["product_id"]
        )
        if any(other.covers(rule, row["category"]) for other in reaching):
            outranked += 1
            continue
        if row["cost"] is None or row["price"] is None:
            missing = " and ".join(name for name in ("cost", "price") if row[name] is None)
            unchecked.append(Unchecked(rule=rule.name, product_id=row["product_id"], reason=f"no {missing}"))
            continue
        checked += 1
        sale, cost = Decimal(row["sale_price"]), Decimal(row["cost"])
        margin = margin_percent(sale, cost) if sale > 0 else None
        if margin is None or margin < rule.min_margin_percent:
            violations.append(
                Violation(
                    rule=rule.name,
                    product_id=row["product_id"],
                    margin=None if margin is None else float(margin.quantize(CENT, ROUND_HALF_UP)),
                    min_margin_percent=float(rule.min_margin_percent),
                    cost=cost,
                    price=Decimal(row["price"]),
                    sale_price=sale,
                )
            )
    return CheckResult(
        ok=not violations and (accept_unchecked or not unchecked),
        violations=violations,
        unchecked=unchecked,
        checked=checked,
        outranked=outranked,
        rules=len(rules.rules),
        reaching_nothing=sorted(set(by_name) - {row["rule"] for row in rows}),
    )


# -- elasticity from the store's own price changes -----------------------------------------------------------------


def weekly_product_sales(order_lines: ir.Table, orders: ir.Table, zone: Zone = "UTC") -> ir.Table:
    """Units and the average unit price per product and store-local week of purchases:
    ``product_id, week, units, price``."""
    bought = with_local_day(purchases(orders).select("order_id", "ordered_at"), "ordered_at", zone, grain="week")
    lines = purchase_lines(order_lines, orders)
    lines = lines.filter(lines.product_id.notnull() & (lines.quantity > 0))
    joined = lines.join(bought.select("order_id", week=bought.period), "order_id")
    weekly = joined.group_by(["product_id", "week"]).aggregate(
        units=joined.quantity.sum(),
        takings=(joined.quantity * joined.unit_price).sum().cast("float64"),
    )
    return weekly.select("product_id", "week", "units", price=weekly.takings / weekly.units)


class ElasticityFit(BaseModel):
    """A constant elasticity: log(units) = a_product + elasticity * log(price), fitted within product by OLS."""

    elasticity: float
    standard_error: float | None
    low: float
    high: float
    source: ElasticitySource
    products: int  # products whose price moved (the fit's products)
    observations: int  # their product-weeks
    note: str


def fit_elasticity(weekly: Sequence[dict[str, Any]], *, level: float = INTERVAL_LEVEL) -> ElasticityFit:
    """The elasticity the store's price changes show, or the stated assumption when they show none.

    The model is log E[weekly units] = a_product + elasticity * log(price), fitted by Poisson regression with a
    level per product (unbiased for small counts, where least squares on log units is not). Only products whose
    weekly price moved (by at least 1% between its lowest and highest week) take part, so the estimate comes
    from weeks of the same product at different prices. Weeks without a sale are absent from the data, which
    biases the estimate towards zero when some weeks sell nothing at high prices."""
    by_product: dict[str, list[tuple[float, float]]] = {}
    for row in weekly:
        if row["units"] and row["price"] and row["price"] > 0:
            by_product.setdefault(str(row["product_id"]), []).append((math.log(row["price"]), float(row["units"])))
    moved = [
        points
        for points in by_product.values()
        if len(points) >= 3 and math.exp(max(p for p, _ in points) - min(p for p, _ in points)) - 1 >= PRICE_CHANGE
    ]
    observations = sum(len(points) for points in moved)
    if observations < MIN_FIT_WEEKS:
        return assumed_elasticity(
            f"only {observations} product-weeks with a moved price (at least {MIN_FIT_WEEKS} needed); assumed",
            products=len(moved),
            observations=observations,
        )
    group = np.repeat(np.arange(len(moved)), [len(points) for points in moved])
    log_price = np.array([p for points in moved for p, _ in points])
    log_price -= np.bincount(group, log_price)[group] / np.bincount(group)[group]  # centred within product
    units = np.array([u for points in moved for _, u in points])
    slope, standard_error, freedom, method = _poisson_within(group, log_price, units)
    if not math.isfinite(slope) or not math.isfinite(standard_error):
        return assumed_elasticity("the fit on the price changes did not converge; assumed", len(moved), observations)
    if slope >= 0:
        return assumed_elasticity(
            f"the price changes show demand rising with price (slope {slope:.2f}), which a discount cannot rely on; "
            "assumed",
            len(moved),
            observations,
        )
    half = float(stats.t.ppf(0.5 + level / 2, freedom)) * standard_error
    return ElasticityFit(
        elasticity=slope,
        standard_error=standard_error,
        low=slope - half,
        high=slope + half,
        source="estimated",
        products=len(moved),
        observations=observations,
        note=f"Poisson regression of weekly units on log price within {len(moved)} product(s) whose price moved; "
        f"{method}",
    )


def _poisson_within(
    group: np.ndarray[Any, Any], x: np.ndarray[Any, Any], y: np.ndarray[Any, Any]
) -> tuple[float, float, int, str]:
    """Slope, robust standard error, degrees of freedom and the error's kind of a Poisson regression of ``y`` on
    ``x`` with one level per ``group``. Each group's level has a closed form given the slope (its expected units
    add up to its units), so Newton's method runs on the slope alone."""
    groups = int(group.max()) + 1
    totals = np.bincount(group, y, groups)

    def expected(slope: float) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
        weight = np.exp(slope * x)
        mu = totals[group] * weight / np.bincount(group, weight, groups)[group]
        centre = np.bincount(group, mu * x, groups) / np.bincount(group, mu, groups)
        return mu, x - centre[group]

    slope = 0.0
    for _ in range(100):
        mu, centred = expected(slope)
        step = float((centred @ (y - mu)) / (mu @ centred**2))
        slope += step
        if abs(step) < 1e-10:
            break
    mu, centred = expected(slope)
    information = float(mu @ centred**2)
    scores = centred * (y - mu)
    if groups >= MIN_CLUSTERS:
        # Weeks of one product are not independent (a season, a listing change): the error is clustered by product,
        # with the small-sample factor G / (G - 1) and t on G - 1 degrees of freedom.
        by_product = np.bincount(group, scores, groups)
        variance = groups / (groups - 1) * float(by_product @ by_product) / information**2
        return slope, math.sqrt(variance), groups - 1, "standard error clustered by product"
    freedom = len(y) - groups - 1
    variance = len(y) / freedom * float(scores @ scores) / information**2
    return (
        slope,
        math.sqrt(variance),
        freedom,
        f"robust standard error (fewer than {MIN_CLUSTERS} products to cluster by)",
    )


def assumed_elasticity(reason: str, products: int = 0, observations: int = 0) -> ElasticityFit:
    return ElasticityFit(
        elasticity=ASSUMED_ELASTICITY,
        standard_error=None,
        low=ASSUMED_RANGE[0],
        high=ASSUMED_RANGE[1],
        source="assumed",
        products=products,
        observations=observations,
        note=f"{reason} {ASSUMED_ELASTICITY} (range {ASSUMED_RANGE[0]} to {ASSUMED_RANGE[1]}, published retail "
        "estimates)",
    )


def given_elasticity(value: float) -> ElasticityFit:
    return ElasticityFit(
        elasticity=value,
        standard_error=None,
        low=value,
        high=value,
        source="given",
        products=0,
        observations=0,
        note="given on the command line (no interval: the value is taken as known)",
    )


# -- the replay ---------------------------------------------------------------------------------------------------


def replay_window(last_day: date, months: int) -> tuple[date, date]:
    """The ``months`` calendar months that end on ``last_day``: from the day after the same date ``months``
    months earlier (or that month's last day) to ``last_day``."""
    month_index = last_day.year * 12 + last_day.month - 1 - months
    year, month = divmod(month_index, 12)
    first_of_next = date(year + (month + 1) // 12, (month + 1) % 12 + 1, 1)
    same_day = min(last_day.day, (first_of_next - timedelta(days=1)).day)
    return date(year, month + 1, same_day) + timedelta(days=1), last_day


def _reaches_line(rule: PricingRule, lines: ir.Table, respect_dates: bool) -> ir.BooleanValue:
    kind = rule.scope.kind
    condition: ir.BooleanValue = ibis.literal(True)
    if kind != "all":
        condition = lines[kind] == rule.scope.value
    if rule.min_quantity > 1:
        condition &= lines.quantity >= rule.min_quantity
    if respect_dates and rule.starts is not None:
        condition &= lines.local_day >= ibis.date(rule.starts)
    if respect_dates and rule.ends is not None:
        condition &= lines.local_day <= ibis.date(rule.ends)
    return condition.fill_null(False)


def priced_lines(
    order_lines: ir.Table,
    orders: ir.Table,
    products: ir.Table,
    segments: ir.Table | None,
    rules: RuleSet,
    *,
    window: tuple[date, date],
    zone: Zone = "UTC",
    respect_dates: bool = False,
) -> ir.Table:
    """Purchase lines of the store-local days of ``window`` (first, last), each with the rule that wins it
    (precedence order) and the unit price it would have sold at, summed over alike lines:
    ``rule, product_id, unit_price, sale_price, cost, lines, units``."""
    start, end = window
    bought = with_local_day(purchases(orders), "ordered_at", zone)
    bought = bought.filter((bought.local_day >= ibis.date(start)) & (bought.local_day <= ibis.date(end)))
    lines = purchase_lines(order_lines, orders).filter(lambda t: t.quantity > 0)
    lines = lines.join(bought.select("order_id", "customer_key", "channel", "local_day"), "order_id")
    catalogue = products.select(catalogue_id=products.product_id, category=products.category, cost=products.cost)
    lines = lines.left_join(catalogue, lines.product_id == catalogue.catalogue_id).drop("catalogue_id")
    if segments is not None:
        keyed = segments.select(segment_key=segments.customer_key, segment=segments.segment)
        lines = lines.left_join(keyed, lines.customer_key == keyed.segment_key).drop("segment_key")
    else:
        lines = lines.mutate(segment=ibis.null("string"))
    ordered = rules.by_precedence()
    reached = [(_reaches_line(rule, lines, respect_dates), rule) for rule in ordered]
    winner = ibis.cases(
        *[(condition, ibis.literal(rule.name)) for condition, rule in reached], else_=ibis.null("string")
    )
    unit_price = lines.unit_price.cast("decimal(18,4)")
    sale_price = ibis.cases(
        *[(condition, _sale_price(rule, unit_price)) for condition, rule in reached],
        else_=unit_price.round(4).cast("decimal(18,2)"),
    )
    priced = lines.mutate(rule=winner, sale_price=sale_price)
    return priced.group_by(["rule", "product_id", "unit_price", "sale_price", "cost"]).aggregate(
        lines=priced.count(), units=priced.quantity.sum()
    )


def rfm_segments_of(orders: ir.Table, refunds: ir.Table, zone: Zone, as_of: date) -> ir.Table:
    """Each known customer's RFM segment as of ``as_of`` (segment-scoped rules price by it)."""
    return rfm_scores(purchases(orders), purchase_refunds(refunds, orders), zone=zone, as_of=as_of).select(
        "customer_key", "segment"
    )


class Totals(BaseModel):
    revenue: float  # quantity x unit price, before order-level discount codes
    units: float
    margin: float | None  # revenue - cost of the units, over lines whose product has a cost


@dataclass(frozen=True)
class _Line:
    rule: str | None
    unit_price: float
    sale_price: float
    cost: float | None
    units: int
    lines: int
    product_id: str | None = None


def _sold(line: _Line, elasticity: float | None) -> tuple[float, float]:
    """The price a line sells at and its units under the rule set: units scaled by (sale / unit price) **
    elasticity; ``None`` for the baseline (the price and units the line sold at)."""
    if elasticity is None or line.rule is None or line.unit_price <= 0:
        return line.unit_price, float(line.units)
    price = line.sale_price
    return price, line.units * (price / line.unit_price) ** elasticity if price > 0 else 0.0


def _lines(rows: Sequence[dict[str, Any]]) -> list[_Line]:
    def number(value: Any) -> float | None:
        return None if value is None else float(value)

    return [
        _Line(
            rule=row["rule"],
            unit_price=float(row["unit_price"]),
            sale_price=float(row["sale_price"]),
            cost=number(row["cost"]),
            units=int(row["units"]),
            lines=int(row["lines"]),
            product_id=row.get("product_id"),
        )
        for row in rows
    ]


def _totals(lines: Sequence[_Line], elasticity: float | None) -> Totals:
    """Totals at the rule set's prices (:func:`_sold`); ``None`` for the baseline."""
    revenue = units = margin = 0.0
    costed = False
    for line in lines:
        price, sold = _sold(line, elasticity)
        revenue += price * sold
        units += sold
        if line.cost is not None:
            costed = True
            margin += (price - line.cost) * sold
    return Totals(revenue=round(revenue, 2), units=round(units, 1), margin=round(margin, 2) if costed else None)


class RuleEffect(BaseModel):
    rule: str
    lines: int
    units: int  # units these lines sold at their own prices


class SimulationResult(BaseModel):
    start: date
    end: date
    months: int
    dates: Literal["ignored", "as dated"]
    lines: int
    lines_repriced: int
    lines_without_cost: int
    baseline: Totals
    revenue: float
    units: float
    margin: float | None
    change: Totals  # simulated minus baseline
    elasticity: float
    elasticity_source: ElasticitySource
    elasticity_note: str
    elasticity_fit: dict[str, Any]
    interval: dict[str, Any]
    rules: list[RuleEffect]


def simulate_lines(
    rows: Sequence[dict[str, Any]],
    fit: ElasticityFit,
    *,
    start: date,
    end: date,
    months: int,
    respect_dates: bool,
    rules: RuleSet,
) -> SimulationResult:
    """Baseline and simulated totals of :func:`priced_lines`' rows, and their range over the elasticity's
    interval (each end of the interval gives one set of totals; the interval is their smallest and largest)."""
    lines = _lines(rows)
    baseline = _totals(lines, None)
    simulated = _totals(lines, fit.elasticity)
    ends = [_totals(lines, fit.low), _totals(lines, fit.high)]

    def span(field: str) -> list[float] | None:
        values = [getattr(total, field) for total in ends]
        return None if None in values else [min(values), max(values)]

    def difference(field: str) -> float | None:
        after, before = getattr(simulated, field), getattr(baseline, field)
        return None if after is None or before is None else round(after - before, 2)

    per_rule: dict[str, RuleEffect] = {rule.name: RuleEffect(rule=rule.name, lines=0, units=0) for rule in rules.rules}
    for line in lines:
        if line.rule is not None:
            effect = per_rule[line.rule]
            per_rule[line.rule] = RuleEffect(
                rule=line.rule, lines=effect.lines + line.lines, units=effect.units + line.units
            )
    return SimulationResult(
        start=start,
        end=end,
        months=months,
        dates="as dated" if respect_dates else "ignored",
        lines=sum(line.lines for line in lines),
        lines_repriced=sum(line.lines for line in lines if line.rule is not None),
        lines_without_cost=sum(line.lines for line in lines if line.cost is None),
        baseline=baseline,
        revenue=simulated.revenue,
        units=simulated.units,
        margin=simulated.margin,
        change=Totals(
            revenue=round(simulated.revenue - baseline.revenue, 2),
            units=round(simulated.units - baseline.units, 1),
            margin=difference("margin"),
        ),
        elasticity=round(fit.elasticity, 4),
        elasticity_source=fit.source,
        elasticity_note=fit.note,
        elasticity_fit={
            "standard_error": None if fit.standard_error is None else round(fit.standard_error, 4),
            "products": fit.products,
            "observations": fit.observations,
        },
        interval={
            "level": INTERVAL_LEVEL if fit.source == "estimated" else None,
            "elasticity": [round(fit.low, 4), round(fit.high, 4)],
            "revenue": span("revenue"),
            "units": span("units"),
            "margin": span("margin"),
        },
        rules=list(per_rule.values()),
    )


class ProductUnits(BaseModel):
    """One product's units in the replay: as sold, and under the rule set at the elasticity and both ends of its
    interval."""

    product_id: str
    baseline_units: float
    simulated_units: float
    low_units: float
    high_units: float


def units_by_product(rows: Sequence[dict[str, Any]], fit: ElasticityFit) -> list[ProductUnits]:
    """Per product of :func:`priced_lines`' rows, the units :func:`simulate_lines` adds up (the same scaling), so
    that the products' units sum to the replay's totals."""
    per: dict[str, list[float]] = {}
    for line in _lines(rows):
        if line.product_id is None:
            continue
        found = per.setdefault(line.product_id, [0.0, 0.0, 0.0, 0.0])
        for position, elasticity in enumerate((None, fit.elasticity, fit.low, fit.high)):
            found[position] += _sold(line, elasticity)[1]
    return [
        ProductUnits(
            product_id=product_id,
            baseline_units=baseline,
            simulated_units=simulated,
            low_units=min(low, high),
            high_units=max(low, high),
        )
        for product_id, (baseline, simulated, low, high) in sorted(per.items())
    ]


# -- the price list -----------------------------------------------------------------------------------------------

ExportFormat = Literal["shopify", "woocommerce"]
# Shopify's product CSV updates a variant by Handle and SKU; its compare-at price shows as the crossed-out price.
# It has no sale dates: a dated sale there is a scheduled job, so the dates are left out of its file.
_HEADERS: dict[str, tuple[str, ...]] = {
    "shopify": ("Handle", "Variant SKU", "Variant Price", "Variant Compare At Price"),
    "woocommerce": ("SKU", "Regular price", "Sale price", "Date sale price starts", "Date sale price ends"),
}


class PriceListEntry(BaseModel):
    product_id: str
    rule: str
    regular_price: Decimal
    sale_price: Decimal
    starts: date | None
    ends: date | None


class PriceList(BaseModel):
    entries: list[PriceListEntry]
    skipped_rules: list[dict[str, str]]  # rules a price list cannot carry, and why


def price_list(products: ir.Table, rules: RuleSet) -> PriceList:
    """Each product's sale price under the rule set, as a shop's price list can carry it: one price per product,
    from the winning rule among those a catalogue price can express (segment and channel rules and volume
    breaks need the shop's own discount engine and are listed as skipped). Dates are the winning rule's."""
    listable = RuleSet.model_construct(
        rules=[r for r in rules.rules if r.scope.kind in ("all", "category", "product_id") and r.min_quantity == 1]
    )
    skipped = [
        {
            "rule": r.name,
            "reason": "a volume break" if r.min_quantity > 1 else f"a {r.scope.kind} rule (prices differ by customer)",
        }
        for r in rules.rules
        if r not in listable.rules
    ]
    if not listable.rules:
        return PriceList(entries=[], skipped_rules=skipped)
    rows = rule_prices(products, listable).to_pyarrow().to_pylist()
    rank = {rule.name: position for position, rule in enumerate(listable.by_precedence())}
    by_name = {rule.name: rule for rule in listable.rules}
    best: dict[str, dict[str, Any]] = {}
    for row in rows:
        if row["price"] is None:
            continue
        current = best.get(row["product_id"])
        if current is None or rank[row["rule"]] < rank[current["rule"]]:
            best[row["product_id"]] = row
    entries = [
        PriceListEntry(
            product_id=product_id,
            rule=row["rule"],
            regular_price=Decimal(row["price"]).quantize(CENT, ROUND_HALF_UP),
            sale_price=Decimal(row["sale_price"]),
            starts=by_name[row["rule"]].starts,
            ends=by_name[row["rule"]].ends,
        )
        for product_id, row in sorted(best.items())
    ]
    return PriceList(entries=entries, skipped_rules=skipped)


def write_price_list(prices: PriceList, path: Path, export_format: ExportFormat) -> int:
    """Write the price list as the platform's import CSV; the number of product rows."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(csv_row(_HEADERS[export_format]))
        for entry in prices.entries:
            if export_format == "shopify":
                # The product id is the shop's SKU; Shopify matches on the Handle, which the warehouse does not
                # keep, so the SKU stands in for it (the shop's export gives the Handle where they differ).
                writer.writerow(csv_row([entry.product_id, entry.product_id, entry.sale_price, entry.regular_price]))
            else:
                writer.writerow(
                    csv_row(
                        [
                            entry.product_id,
                            entry.regular_price,
                            entry.sale_price,
                            "" if entry.starts is None else entry.starts.isoformat(),
                            "" if entry.ends is None else entry.ends.isoformat(),
                        ]
                    )
                )
    return len(prices.entries)


# -- over a warehouse ---------------------------------------------------------------------------------------------


def _products(backend: ibis.BaseBackend) -> ir.Table:
    products = backend.table("products")
    if not products.count().execute():
        raise InputError(
            "the warehouse has no products: import the catalogue (with cost and price) first, "
            "e.g. shoplens import products.csv --profile shopify-products"
        )
    return products


def check_store(backend: ibis.BaseBackend, rules: RuleSet, *, accept_unchecked: bool = False) -> CheckResult:
    """:func:`check_rules` over the warehouse's ``products``."""
    return check_rules(_products(backend), rules, accept_unchecked=accept_unchecked)


def simulate_store(
    backend: ibis.BaseBackend,
    rules: RuleSet,
    *,
    months: int = 3,
    zone: Zone = "UTC",
    respect_dates: bool = False,
    elasticity: float | None = None,
) -> SimulationResult:
    """Replay the last ``months`` months of purchases under ``rules`` (see :func:`priced_lines`), with the
    elasticity given, or fitted on the store's whole history (:func:`fit_elasticity`)."""
    replay = replay_store(backend, rules, months=months, zone=zone, respect_dates=respect_dates, elasticity=elasticity)
    return replay.simulation


@dataclass(frozen=True)
class Replay:
    """A replay of the store's recent purchases under a rule set: the totals and the priced lines they add up."""

    simulation: SimulationResult
    fit: ElasticityFit
    rows: list[dict[str, Any]]

    def products(self) -> list[ProductUnits]:
        return units_by_product(self.rows, self.fit)


def replay_store(
    backend: ibis.BaseBackend,
    rules: RuleSet,
    *,
    months: int = 3,
    zone: Zone = "UTC",
    respect_dates: bool = False,
    elasticity: float | None = None,
) -> Replay:
    """:func:`simulate_store` with the priced lines and the elasticity kept, for per-product units."""
    if months < 1:
        raise FieldError("{months} must be at least 1")
    orders, order_lines, refunds = (backend.table(name) for name in ("orders", "order_lines", "refunds"))
    last_day = data_end(purchases(orders), purchase_refunds(refunds, orders), zone).execute()
    if pd.isna(last_day):
        raise InputError("the warehouse has no purchases to replay: import orders first")
    last_day = last_day if type(last_day) is date else last_day.date()
    start, end = replay_window(last_day, months)
    segments = None
    if any(rule.scope.kind == "segment" for rule in rules.rules):
        segments = rfm_segments_of(orders, refunds, zone, start - timedelta(days=1))
    priced = priced_lines(
        order_lines,
        orders,
        _products(backend),
        segments,
        rules,
        window=(start, end),
        zone=zone,
        respect_dates=respect_dates,
    )
    if elasticity is not None:
        if elasticity >= 0:
            raise FieldError("{elasticity} must be negative (units fall as the price rises), not " + f"{elasticity:g}")
        fit = given_elasticity(elasticity)
    else:
        fit = fit_elasticity(weekly_product_sales(order_lines, orders, zone).to_pyarrow().to_pylist())
    rows: list[dict[str, Any]] = priced.to_pyarrow().to_pylist()
    simulation = simulate_lines(
        rows, fit, start=start, end=end, months=months, respect_dates=respect_dates, rules=rules
    )
    return Replay(simulation=simulation, fit=fit, rows=rows)


def export_store(backend: ibis.BaseBackend, rules: RuleSet) -> PriceList:
    """:func:`price_list` over the warehouse's ``products``."""
    return price_list(_products(backend), rules)
