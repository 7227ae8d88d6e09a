"""Acting on the analyses: retention campaigns with a seeded holdout, measured with CUPED, and their consented
audiences.

* :func:`assign_holdout` splits a segment reproducibly from a stored seed; :func:`balance_check` and
  :func:`minimum_detectable_effect` say whether the split can show the effect hoped for.
* :func:`cuped_difference` is the one estimator of an uplift (treatment - holdout, 95 % interval);
  :func:`measure` applies it to a campaign's window.
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

__all__ = [
    "AUDIENCE_COLUMNS",
    "AUDIENCE_FORMATS",
    "AUDIENCE_ROLES",
    "PRE_PERIOD_DAYS",
    "SMD_LIMIT",
    "Interval",
    "Member",
    "PrePeriod",
    "Uplift",
    "Window",
    "activity",
    "assign_holdout",
    "audience_rows",
    "balance_check",
    "cuped_difference",
    "last_day_with_data",
    "measure",
    "minimum_detectable_effect",
    "pre_period",
    "segment_keys",
    "segment_name",
    "standardised_mean_difference",
]
