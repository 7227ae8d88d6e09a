"""One runner for every analysis: the CLI, the API, the dashboard and reports all call :meth:`MetricsRunner.run`.

The runner looks the canonical tables up on an Ibis backend (the DuckDB warehouse, or PostgreSQL or Spark
holding the same tables), checks there is something to analyse, calls the metric functions, and turns their
tables into a typed result. It hands out the sales tables as every analysis must read them: ``orders`` holds
the purchases only, ``order_lines`` and ``refunds`` leave out those of orders that are not purchases
(:func:`shoplens.metrics._facts.purchases`), so no metric, and no caller that reads tables through the runner,
can count a cancelled or voided order. Results are cached by the query, the warehouse's data version and the store's
time zone (see :mod:`shoplens.metrics._cache`), so asking twice computes once and any import invalidates.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar, cast

import ibis
import ibis.expr.types as ir

from shoplens.errors import InputError
from shoplens.metrics._basket import association_rules, basket_overview
from shoplens.metrics._behaviour import (
    acquisition_effects,
    basket_sizes,
    discount_sensitivity,
    first_product_effect,
    gap_distribution,
    gap_summary,
    purchase_gaps,
    weekday_hour,
)
from shoplens.metrics._cache import ResultCache
from shoplens.metrics._cohorts import cohorts
from shoplens.metrics._facts import purchase_lines, purchase_refunds, purchases
from shoplens.metrics._funnel import funnel
from shoplens.metrics._kpis import sales_kpis
from shoplens.metrics._lifecycle import LIFECYCLE_STATES, lifecycle, lifecycle_rule, lifecycle_summary
from shoplens.metrics._products import (
    abc_classes,
    abc_summary,
    category_share,
    product_comebacks,
    product_performance,
    supplier_returns,
    unattributed_refunds,
)
from shoplens.metrics._queries import (
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
    ProductQuery,
    ProductResult,
    RfmQuery,
    RfmResult,
    Row,
    SegmentRow,
    StageQuery,
    StageResult,
)
from shoplens.metrics._rfm import SCORING, SEGMENTS, rfm_scores, rfm_segments, rfm_thresholds
from shoplens.metrics._stage import STAGE_RULE, decide_stage, retention_stability, stage_evidence
from shoplens.metrics._time import StoreZone

R = TypeVar("R", bound=MetricResult)
FLOAT_DIGITS = 6
NO_ORDERS = "the warehouse has no orders yet: import the store's exports first (shoplens import FILE --profile P)"
NO_CUSTOMERS = "no known customers: every order is a guest order, so there is no customer to {what}"


def rows(table: ir.Table) -> list[Row]:
    """Execute ``table`` and return plain Python rows: Decimal money, dates, ints, floats (never NaN)."""
    return [{key: _clean(value) for key, value in row.items()} for row in table.to_pyarrow().to_pylist()]


def _clean(value: Any) -> Any:
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else round(value, FLOAT_DIGITS)
    return value


def _one(table: ir.Table) -> Row:
    found = rows(table)
    return found[0] if found else {}


class MetricsRunner:
    """Runs metric queries against the canonical tables of one backend."""

    def __init__(
        self,
        backend: Any,
        *,
        store_timezone: str = "UTC",
        data_version: int | None = None,
        cache_dir: Path | None = None,
        database: str | None = None,
    ) -> None:
        self.backend = backend
        self.database = database
        self._zone: StoreZone | None = None
        self.store_timezone = store_timezone
        self.data_version = data_version
        self.cache = ResultCache(cache_dir) if cache_dir is not None and data_version is not None else None
        self._handlers: dict[type[MetricQuery], Callable[[Any], MetricResult]] = {
            KpiQuery: self._kpis,
            FunnelQuery: self._funnel,
            CohortQuery: self._cohorts,
            RfmQuery: self._rfm,
            LifecycleQuery: self._lifecycle,
            StageQuery: self._stage,
            BehaviourQuery: self._behaviour,
            BasketQuery: self._basket,
            ProductQuery: self._products,
        }

    @classmethod
    def for_warehouse(cls, warehouse: Any, *, store_timezone: str, cache_dir: Path | None) -> MetricsRunner:
        """A runner over a :class:`shoplens.warehouse.Warehouse`, caching under ``cache_dir``.

        The queries run on a cursor of the warehouse's connection (same database, own result state), so a
        half-read result left on the main connection cannot block them.
        """
        version = warehouse.data_version
        backend = ibis.duckdb.from_connection(warehouse.con.cursor())
        return cls(backend, store_timezone=store_timezone, data_version=version, cache_dir=cache_dir)

    def run(self, query: MetricQuery) -> MetricResult:
        handler = self._handlers.get(type(query))
        if handler is None:
            raise InputError(f"no runner for {type(query).__name__}")
        key = None
        if self.cache is not None and self.data_version is not None:
            key = self.cache.key(query, self.data_version, self.store_timezone)
            hit = self.cache.get(key, type(query), self.data_version)
            if hit is not None:
                return hit
        result = handler(query)
        result.data_version = self.data_version
        result.store_timezone = self.store_timezone
        if self.cache is not None and key is not None and self.data_version is not None:
            self.cache.put(key, result, self.data_version)
        return result

    def run_as(self, query: MetricQuery, result_type: type[R]) -> R:
        """:meth:`run` with the result's type stated, for typed callers."""
        return cast(R, self.run(query))

    @property
    def zone(self) -> StoreZone:
        """The store's time zone, narrowed to the years the data spans (keeps the local-time SQL small)."""
        if self._zone is None:
            years: list[int] = []
            for name, column in (("orders", "ordered_at"), ("refunds", "refunded_at")):
                table = self.table(name)
                span = _one(table.aggregate(first=table[column].min(), last=table[column].max()))
                years += [span[key].year for key in ("first", "last") if span.get(key) is not None]
            events = self._events()
            if events is not None:
                span = _one(events.aggregate(first=events.at.min(), last=events.at.max()))
                years += [span[key].year for key in ("first", "last") if span.get(key) is not None]
            self._zone = StoreZone.spanning(self.store_timezone, years)
        return self._zone

    # --- tables and checks ------------------------------------------------------------------------

    def table(self, name: str) -> ir.Table:
        """The warehouse table ``name``; for ``orders``, ``order_lines`` and ``refunds``, the purchases' rows."""
        if name == "orders":
            return purchases(self._stored("orders"))
        if name == "order_lines":
            return purchase_lines(self._stored("order_lines"), self._stored("orders"))
        if name == "refunds":
            return purchase_refunds(self._stored("refunds"), self._stored("orders"))
        return self._stored(name)

    def _stored(self, name: str) -> ir.Table:
        if self.database is None:
            return self.backend.table(name)
        return self.backend.table(name, database=self.database)

    def _count(self, table: ir.Table) -> int:
        return int(table.count().execute())

    def _orders(self) -> ir.Table:
        orders = self.table("orders")
        if self._count(orders) == 0:
            raise InputError(NO_ORDERS)
        return orders

    def _customer_orders(self, what: str) -> ir.Table:
        orders = self._orders()
        if self._count(orders.filter(orders.customer_key.notnull())) == 0:
            raise InputError(NO_CUSTOMERS.format(what=what))
        return orders

    def _events(self) -> ir.Table | None:
        try:
            events = self.table("events")
        except Exception:  # a backend without the events table: no sessions to count
            return None
        return events if self._count(events) > 0 else None

    # --- one handler per query ----------------------------------------------------------------------

    def _kpis(self, query: KpiQuery) -> KpiResult:
        orders = self._orders()
        segments = None
        if query.by == "segment":
            segments = rfm_scores(orders, self.table("refunds"), zone=self.zone)
        table = sales_kpis(
            orders,
            self.table("order_lines"),
            self.table("refunds"),
            self.table("customers"),
            grain=query.grain,
            zone=self.zone,
            start=query.start,
            end=query.end,
            by=query.by,
            events=self._events(),
            segments=segments,
        )
        found = rows(table)
        if not found:
            raise InputError(f"no orders or refunds between {query.start or 'the start'} and {query.end or 'the end'}")
        return KpiResult(query=query, rows=found)

    def _funnel(self, query: FunnelQuery) -> FunnelResult:
        events = self._events()
        if events is None:
            raise InputError("no web session events in the warehouse: the funnel needs the store's events export")
        steps = rows(funnel(events, zone=self.zone, start=query.start, end=query.end, by=query.by))
        if not steps:
            raise InputError("no sessions in the chosen days")
        return FunnelResult(query=query, steps=steps)

    def _cohorts(self, query: CohortQuery) -> CohortResult:
        orders = self._customer_orders("group into cohorts")
        table = cohorts(orders, self.table("refunds"), grain=query.grain, zone=self.zone, by=query.by)
        return CohortResult(query=query, rows=rows(table))

    def _rfm(self, query: RfmQuery) -> RfmResult:
        orders = self._customer_orders("score")
        scores = rfm_scores(orders, self.table("refunds"), zone=self.zone, as_of=query.as_of)
        per_segment = {row["segment"]: row for row in rows(rfm_segments(scores))}
        if not per_segment:
            raise InputError(f"no customer had ordered by {query.as_of}")
        customers = sum(int(r["customers"]) for r in per_segment.values())
        revenue = sum((Decimal(r["revenue"]) for r in per_segment.values()), Decimal("0.00"))
        segments = []
        for segment in SEGMENTS:
            found = per_segment.get(segment.name, {})
            size, money = int(found.get("customers", 0)), Decimal(found.get("revenue", Decimal("0.00")))
            segments.append(
                SegmentRow(
                    segment=segment.name,
                    customers=size,
                    revenue=money,
                    share_of_customers=round(size / customers, FLOAT_DIGITS) if customers else None,
                    share_of_revenue=round(float(money / revenue), FLOAT_DIGITS) if revenue else None,
                    mean_recency_days=found.get("mean_recency_days"),
                    mean_frequency=found.get("mean_frequency"),
                    mean_monetary=found.get("mean_monetary"),
                    rule=segment.rule,
                    meaning=segment.meaning,
                    action=segment.action,
                )
            )
        as_of = query.as_of or _one(scores.aggregate(day=scores.last_order_day.max()))["day"]
        return RfmResult(
            query=query,
            as_of=as_of,
            customers=customers,
            revenue=revenue,
            segments=segments,
            thresholds=rows(rfm_thresholds(scores)),
            scoring=SCORING,
        )

    def _lifecycle(self, query: LifecycleQuery) -> LifecycleResult:
        orders = self._customer_orders("place in a lifecycle")
        per_customer = lifecycle(
            orders,
            self.table("refunds"),
            zone=self.zone,
            as_of=query.as_of,
            active_days=query.active_days,
            lapsed_days=query.lapsed_days,
        )
        found = {row["state"]: row for row in rows(lifecycle_summary(per_customer))}
        if not found:
            raise InputError(f"no customer had ordered by {query.as_of}")
        rule = lifecycle_rule(query.active_days, query.lapsed_days)
        states = [
            {
                "state": state,
                "customers": int(found.get(state, {}).get("customers", 0)),
                "share": found.get(state, {}).get("share", 0.0),
                "revenue": found.get(state, {}).get("revenue", Decimal("0.00")),
                "rule": rule[state],
            }
            for state in LIFECYCLE_STATES
        ]
        as_of = query.as_of or _one(per_customer.aggregate(day=per_customer.last_day.max()))["day"]
        return LifecycleResult(query=query, as_of=as_of, rule=rule, states=states)

    def _stage(self, query: StageQuery) -> StageResult:
        orders = self._orders()
        refunds = self.table("refunds")
        evidence = _one(stage_evidence(orders, refunds, zone=self.zone))
        if self._count(orders.filter(orders.customer_key.notnull())) > 0:
            evidence.update(retention_stability(rows(cohorts(orders, refunds, zone=self.zone))))
        else:
            evidence.update(retention_stability([]))
        verdict = decide_stage(evidence)
        return StageResult(
            query=query,
            stage=cast(Any, verdict.stage),
            evidence=evidence,
            reasons=verdict.reasons,
            next_stage_needs=verdict.next_stage_needs,
            rule=STAGE_RULE,
        )

    def _behaviour(self, query: BehaviourQuery) -> BehaviourResult:
        orders = self._customer_orders("follow between purchases")
        lines, refunds, zone = self.table("order_lines"), self.table("refunds"), self.zone
        gaps = purchase_gaps(orders, zone=zone)
        effects = first_product_effect(
            orders, lines, zone=zone, window_days=query.window_days, min_customers=query.min_customers
        )
        most = rows(effects.limit(query.top))
        least_table = effects.order_by(["repeat_rate", ibis.desc("customers"), "product_id"]).limit(query.top)
        return BehaviourResult(
            query=query,
            inter_purchase=_one(gap_summary(gaps)),
            inter_purchase_distribution=rows(gap_distribution(gaps)),
            weekday_hour=rows(weekday_hour(orders, zone=zone)),
            basket_sizes=rows(basket_sizes(orders, lines)),
            discounts=_one(discount_sensitivity(orders, zone=zone, window_days=query.window_days)),
            channels=rows(acquisition_effects(orders, refunds, by="channel", zone=zone, window_days=query.window_days)),
            devices=rows(acquisition_effects(orders, refunds, by="device", zone=zone, window_days=query.window_days)),
            first_products_most_repeat=most,
            first_products_least_repeat=rows(least_table),
        )

    def _basket(self, query: BasketQuery) -> BasketResult:
        self._orders()
        lines = self.table("order_lines")
        overview = _one(basket_overview(lines))
        rules = association_rules(
            lines,
            self.table("products"),
            min_support=query.min_support,
            min_confidence=query.min_confidence,
            limit=query.limit,
        )
        return BasketResult(
            query=query,
            orders=int(overview.get("orders") or 0),
            multi_product_orders=int(overview.get("multi_product_orders") or 0),
            rules=rows(rules),
        )

    def _products(self, query: ProductQuery) -> ProductResult:
        orders = self._orders()
        lines, refunds, products = self.table("order_lines"), self.table("refunds"), self.table("products")
        performance = product_performance(lines, orders, refunds, products)
        classes = abc_classes(performance)
        comebacks = product_comebacks(lines, orders, min_buyers=query.min_buyers)
        enough_buyers = performance.filter(performance.customers >= query.min_buyers)
        return ProductResult(
            query=query,
            products=self._count(performance),
            abc=rows(abc_summary(classes)),
            top_products=rows(classes.limit(query.top)),
            highest_return_rates=rows(
                enough_buyers.order_by([ibis.desc("return_rate"), ibis.desc("sales"), "product_id"]).limit(query.top)
            ),
            suppliers=rows(supplier_returns(performance)),
            categories=rows(category_share(lines, orders, products, grain=query.grain, zone=self.zone)),
            comeback_products=rows(comebacks.limit(query.top)),
            one_off_products=rows(
                comebacks.order_by(["comeback_rate", ibis.desc("buyers"), "product_id"]).limit(query.top)
            ),
            unattributed_refunds=_one(unattributed_refunds(refunds, lines)),
        )
