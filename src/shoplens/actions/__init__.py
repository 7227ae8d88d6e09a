"""Acting on what the analytics found: recommendations (and, built beside them, targets, budgets, pricing rules,
retention campaigns and the loyalty programme). Functions here build on metrics and models and store plans in the
app database; the query layer above runs them."""

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
    "HORIZON_DAYS",
    "STORE_WIDE",
    "Flag",
    "Recommendation",
    "backtest",
    "export_flags",
    "one_time_buyers",
    "overdue_regulars",
    "ranked",
    "regulars",
    "returned_products",
    "sales_after",
    "second_orders",
]
