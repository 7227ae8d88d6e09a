"""Acting on what the analyses found: the loyalty programme (earning, redeeming, expiring, tiers, its worth).

Each action reads the warehouse through Ibis expressions and the app database through :mod:`shoplens.appdb`'s
functions; the rules themselves are plain functions a test can run without either.
"""

from shoplens.actions._loyalty import (
    MATCHING_METHOD,
    PROGRAMME_FILE,
    Programme,
    Reconciliation,
    accrual_entries,
    aware,
    end_of_day,
    first_earning_days,
    load_programme,
    matched_repeat,
    order_values,
    placebo_repeat,
    reconcile,
    redemption_entries,
    replay,
    tier_migration,
    tiers_at,
)

__all__ = [
    "MATCHING_METHOD",
    "PROGRAMME_FILE",
    "Programme",
    "Reconciliation",
    "accrual_entries",
    "aware",
    "end_of_day",
    "first_earning_days",
    "load_programme",
    "matched_repeat",
    "order_values",
    "placebo_repeat",
    "reconcile",
    "redemption_entries",
    "replay",
    "tier_migration",
    "tiers_at",
]
