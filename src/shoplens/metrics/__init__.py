"""Customer analytics: KPIs, funnels, cohorts, RFM, lifecycle, development stage, behaviour, baskets, products.

Every metric is a pure Ibis function ``Table(s) -> Table`` (no connection inside), so the same code runs on
the DuckDB warehouse, PostgreSQL or Spark. The questions callers ask, and the one runner that answers them, are in
:mod:`shoplens.queries`.

The facts below the metrics are defined here once, for models, voice and sharing too: which orders are
purchases (:func:`purchases`, :func:`purchase_lines`, :func:`purchase_refunds`), a customer's purchases on
store-local days (:func:`customer_orders`, :func:`customer_purchases`, :class:`StoreZone`), and what a
customer spent (:func:`recent_spend`, in DECIMAL).
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
from shoplens.metrics._delivery import UNKNOWN as UNKNOWN_DELIVERY_GROUP
from shoplens.metrics._delivery import after_deliveries, delivery_summary, delivery_times
from shoplens.metrics._facts import (
    NOT_PURCHASED_STATUSES,
    customer_orders,
    customer_purchases,
    customer_refunds,
    data_end,
    data_span,
    first_orders,
    is_purchase,
    money,
    purchase_lines,
    purchase_refunds,
    purchases,
    ratio,
    recent_spend,
    with_local_day,
)
from shoplens.metrics._funnel import FUNNEL_STEPS, funnel, reached_steps
from shoplens.metrics._guard import (
    GuardLimits,
    customer_refunds_flagged,
    just_under_limit,
    leaked_codes,
    product_refunds_flagged,
    stacked_discounts,
)
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
from shoplens.metrics._service import (
    RESPONSE_LIMIT_HOURS,
    after_tickets,
    matched_difference,
    stock_outs,
    summed_interval,
    support_summary,
    ticket_times,
)
from shoplens.metrics._sessions import SESSION_SPLITS, session_conversion
from shoplens.metrics._stage import (
    STAGE_RULE,
    WINDOW_RULE,
    StageVerdict,
    classify_window,
    decide_stage,
    evidence_text,
    new_customer_trend,
    retention_stability,
    round_evidence,
    stage_evidence,
    window_evidence,
)
from shoplens.metrics._suggest import (
    KnnSettings,
    item_similarity,
    knn_suggestions,
    new_products,
    popularity_suggestions,
    purchases_between,
    suggestion_scores,
)
from shoplens.metrics._time import StoreZone, Zone, local_time, period_start, python_period_end, python_period_start

__all__ = [
    "FUNNEL_STEPS",
    "LIFECYCLE_STATES",
    "NOT_PURCHASED_STATUSES",
    "RESPONSE_LIMIT_HOURS",
    "RFM_SCORING",
    "SEGMENTS",
    "SEGMENT_NAMES",
    "SESSION_SPLITS",
    "STAGE_RULE",
    "UNKNOWN_DELIVERY_GROUP",
    "WINDOW_RULE",
    "GuardLimits",
    "KnnSettings",
    "Segment",
    "StageVerdict",
    "StoreZone",
    "Zone",
    "abc_classes",
    "abc_summary",
    "acquisition_effects",
    "after_deliveries",
    "after_tickets",
    "association_rules",
    "basket_overview",
    "basket_sizes",
    "category_share",
    "classify_window",
    "cohorts",
    "customer_orders",
    "customer_purchases",
    "customer_refunds",
    "customer_refunds_flagged",
    "data_end",
    "data_span",
    "decide_stage",
    "delivery_summary",
    "delivery_times",
    "discount_sensitivity",
    "evidence_text",
    "first_orders",
    "first_product_effect",
    "funnel",
    "gap_distribution",
    "gap_summary",
    "is_purchase",
    "item_similarity",
    "just_under_limit",
    "knn_suggestions",
    "leaked_codes",
    "lifecycle",
    "lifecycle_rule",
    "lifecycle_summary",
    "local_time",
    "matched_difference",
    "money",
    "new_customer_trend",
    "new_products",
    "period_start",
    "popularity_suggestions",
    "product_comebacks",
    "product_performance",
    "product_refunds_flagged",
    "purchase_gaps",
    "purchase_lines",
    "purchase_refunds",
    "purchases",
    "purchases_between",
    "python_period_end",
    "python_period_start",
    "ratio",
    "reached_steps",
    "recent_spend",
    "retention_stability",
    "rfm_scores",
    "rfm_segments",
    "rfm_thresholds",
    "round_evidence",
    "sales_kpis",
    "segment_of",
    "session_conversion",
    "stacked_discounts",
    "stage_evidence",
    "stock_outs",
    "suggestion_scores",
    "summed_interval",
    "supplier_returns",
    "support_summary",
    "ticket_times",
    "unattributed_refunds",
    "weekday_hour",
    "window_evidence",
    "with_local_day",
]
