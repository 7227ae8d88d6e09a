"""Customer analytics: KPIs, funnels, cohorts, RFM, lifecycle, development stage, behaviour, baskets, products.

Every metric is a pure Ibis function ``Table(s) -> Table`` (no connection inside), so the same code runs on
the DuckDB warehouse, PostgreSQL or Spark. The questions callers ask, and the one runner that answers them, are in
:mod:`shoplens.queries`.
"""

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
from shoplens.metrics._cohorts import cohorts
from shoplens.metrics._funnel import FUNNEL_STEPS, funnel, reached_steps
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
from shoplens.metrics._rfm import SCORING as RFM_SCORING
from shoplens.metrics._rfm import SEGMENT_NAMES, SEGMENTS, Segment, rfm_scores, rfm_segments, rfm_thresholds, segment_of
from shoplens.metrics._stage import STAGE_RULE, StageVerdict, decide_stage, retention_stability, stage_evidence
from shoplens.metrics._time import StoreZone, local_time, period_start

__all__ = [
    "FUNNEL_STEPS",
    "LIFECYCLE_STATES",
    "RFM_SCORING",
    "SEGMENTS",
    "SEGMENT_NAMES",
    "STAGE_RULE",
    "Segment",
    "StageVerdict",
    "StoreZone",
    "abc_classes",
    "abc_summary",
    "acquisition_effects",
    "association_rules",
    "basket_overview",
    "basket_sizes",
    "category_share",
    "cohorts",
    "decide_stage",
    "discount_sensitivity",
    "first_product_effect",
    "funnel",
    "gap_distribution",
    "gap_summary",
    "lifecycle",
    "lifecycle_rule",
    "lifecycle_summary",
    "local_time",
    "period_start",
    "product_comebacks",
    "product_performance",
    "purchase_gaps",
    "reached_steps",
    "retention_stability",
    "rfm_scores",
    "rfm_segments",
    "rfm_thresholds",
    "sales_kpis",
    "segment_of",
    "stage_evidence",
    "supplier_returns",
    "unattributed_refunds",
    "weekday_hour",
]
