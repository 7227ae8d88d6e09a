"""Typed questions and typed answers: one pydantic query per analysis, one result model per query.

The CLI, the API, the dashboard and reports build a query, hand it to :class:`MetricsRunner` and get the
result back; they never compute a number themselves. A query is frozen and hashable, and its JSON form (plus
the warehouse's data version and the store's time zone) is the key under which its result is cached.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Row = dict[str, Any]


class MetricQuery(BaseModel):
    """Base of every query: immutable, no unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    kind: ClassVar[str] = "query"


class _Window(MetricQuery):
    start: date | None = Field(None, description="first store-local day included")
    end: date | None = Field(None, description="last store-local day included")

    @model_validator(mode="after")
    def _ordered(self) -> _Window:
        if self.start is not None and self.end is not None and self.start > self.end:
            raise ValueError(f"--from {self.start} is after --to {self.end}")
        return self


class KpiQuery(_Window):
    kind: ClassVar[str] = "kpis"
    grain: Literal["day", "week", "month", "quarter"] = "month"
    by: Literal["channel", "device", "country", "segment"] | None = None


class FunnelQuery(_Window):
    kind: ClassVar[str] = "funnel"
    by: Literal["source", "medium", "device", "campaign"] | None = None


class CohortQuery(MetricQuery):
    kind: ClassVar[str] = "cohorts"
    grain: Literal["week", "month", "quarter"] = "month"
    by: Literal["channel", "device"] | None = None


class RfmQuery(MetricQuery):
    kind: ClassVar[str] = "rfm"
    as_of: date | None = Field(None, description="reference day; default: the last order day")


class LifecycleQuery(MetricQuery):
    kind: ClassVar[str] = "lifecycle"
    as_of: date | None = None
    active_days: int = Field(90, ge=1, le=3650)
    lapsed_days: int = Field(180, ge=2, le=3650)

    @model_validator(mode="after")
    def _ordered(self) -> LifecycleQuery:
        if self.active_days >= self.lapsed_days:
            raise ValueError("--active-days must be smaller than --lapsed-days")
        return self


class StageQuery(MetricQuery):
    kind: ClassVar[str] = "stage"


class BehaviourQuery(MetricQuery):
    kind: ClassVar[str] = "behaviour"
    window_days: int = Field(90, ge=1, le=3650, description="a customer repeats by ordering again within this")
    min_customers: int = Field(20, ge=1, description="smallest group shown in the first-product effect")
    top: int = Field(10, ge=1, le=1000)


class BasketQuery(MetricQuery):
    kind: ClassVar[str] = "basket"
    min_support: float = Field(0.01, gt=0, le=1)
    min_confidence: float = Field(0.0, ge=0, le=1)
    limit: int = Field(50, ge=1, le=10_000)


class ProductQuery(MetricQuery):
    kind: ClassVar[str] = "products"
    top: int = Field(20, ge=1, le=10_000)
    min_buyers: int = Field(20, ge=1)
    grain: Literal["month", "quarter"] = "month"


class MetricResult(BaseModel):
    """Base of every result: which data it describes and whether it came from the cache."""

    data_version: int | None = None
    store_timezone: str = "UTC"
    cached: bool = False


class KpiResult(MetricResult):
    query: KpiQuery
    rows: list[Row]


class FunnelResult(MetricResult):
    query: FunnelQuery
    steps: list[Row]


class CohortResult(MetricResult):
    query: CohortQuery
    rows: list[Row]


class SegmentRow(BaseModel):
    segment: str
    customers: int
    revenue: Decimal
    share_of_customers: float | None
    share_of_revenue: float | None
    mean_recency_days: float | None
    mean_frequency: float | None
    mean_monetary: float | None
    rule: str
    meaning: str
    action: str


class RfmResult(MetricResult):
    query: RfmQuery
    as_of: date
    customers: int
    revenue: Decimal
    segments: list[SegmentRow]
    thresholds: list[Row]
    scoring: str


class LifecycleResult(MetricResult):
    query: LifecycleQuery
    as_of: date
    rule: dict[str, str]
    states: list[Row]


class StageResult(MetricResult):
    query: StageQuery = StageQuery()
    stage: Literal["initial", "development", "mature"]
    evidence: Row
    reasons: list[str]
    next_stage_needs: list[str]
    rule: str


class BehaviourResult(MetricResult):
    query: BehaviourQuery
    inter_purchase: Row
    inter_purchase_distribution: list[Row]
    weekday_hour: list[Row]
    basket_sizes: list[Row]
    discounts: Row
    channels: list[Row]
    devices: list[Row]
    first_products_most_repeat: list[Row]
    first_products_least_repeat: list[Row]


class BasketResult(MetricResult):
    query: BasketQuery
    orders: int
    multi_product_orders: int
    rules: list[Row]


class ProductResult(MetricResult):
    query: ProductQuery
    products: int
    abc: list[Row]
    top_products: list[Row]
    highest_return_rates: list[Row]
    suppliers: list[Row]
    categories: list[Row]
    comeback_products: list[Row]
    one_off_products: list[Row]
    unattributed_refunds: Row
