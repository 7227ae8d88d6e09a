"""Acting on what the analytics found: recommendations, retention campaigns (and, built beside them, targets,
budgets, pricing rules and the loyalty programme). Functions here build on metrics and models and store plans in
the app database; the query layer above runs them.

* Campaigns: :func:`assign_holdout` splits a segment reproducibly from a stored seed; :func:`balance_check` and
  :func:`minimum_detectable_effect` say whether the split can show the effect hoped for; :func:`cuped_difference`
  is the one estimator of an uplift (treatment - holdout, 95 % interval) and :func:`measure` applies it to a
  campaign's window.
"""

from shoplens.actions._campaigns import (
    AUDIENCE_COLUMNS,
    AUDIENCE_FORMATS,
    AUDIENCE_ROLES,
    PRE_PERIOD_DAYS,
    SMD_LIMIT,
    Interval,
    Member,
    PrePeriod,
    Uplift,
    Window,
    activity,
    assign_holdout,
    audience_rows,
    balance_check,
    cuped_difference,
    last_day_with_data,
    measure,
    minimum_detectable_effect,
    pre_period,
    segment_keys,
    segment_name,
    standardised_mean_difference,
)
from shoplens.actions._guard import Flag, export_flags
from shoplens.actions._recommend import (
    HORIZON_DAYS,
    STORE_WIDE,
    Recommendation,
    backtest,
    one_time_buyers,
    overdue_regulars,
    ranked,
    regulars,
    returned_products,
    sales_after,
    second_orders,
)

__all__ = [
    "AUDIENCE_COLUMNS",
    "AUDIENCE_FORMATS",
    "AUDIENCE_ROLES",
    "HORIZON_DAYS",
    "PRE_PERIOD_DAYS",
    "SMD_LIMIT",
    "STORE_WIDE",
    "Flag",
    "Interval",
    "Member",
    "PrePeriod",
    "Recommendation",
    "Uplift",
    "Window",
    "activity",
    "assign_holdout",
    "audience_rows",
    "backtest",
    "balance_check",
    "cuped_difference",
    "export_flags",
    "last_day_with_data",
    "measure",
    "minimum_detectable_effect",
    "one_time_buyers",
    "overdue_regulars",
    "pre_period",
    "ranked",
    "regulars",
    "returned_products",
    "sales_after",
    "second_orders",
    "segment_keys",
    "segment_name",
    "standardised_mean_difference",
]
