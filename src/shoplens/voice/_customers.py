"""What voice analyses need to know about customers: segment, lifecycle stage and recent spend (Ibis, no SQL)."""

from __future__ import annotations

from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from shoplens.metrics import lifecycle, rfm_scores

SPEND_WINDOW_DAYS = 365


def customer_profiles(backend: Any, *, zone: str = "UTC") -> pd.DataFrame:
    """One row per customer with an order: ``customer_key, segment, lifecycle, consent_marketing``.

    ``segment`` is the RFM segment and ``lifecycle`` the lifecycle state, both as of the last order day.
    """
    orders, refunds = backend.table("orders"), backend.table("refunds")
    segments = rfm_scores(orders, refunds, zone=zone).select("customer_key", "segment")
    states = lifecycle(orders, refunds, zone=zone).select("customer_key", lifecycle=ibis._.state)
    customers = backend.table("customers").select("customer_key", "consent_marketing")
    joined = (
        segments.join(states, "customer_key", how="left")
        .join(customers, "customer_key", how="left")
        .select("customer_key", "segment", "lifecycle", "consent_marketing")
        .order_by("customer_key")
    )
    frame: pd.DataFrame = joined.to_pandas()
    frame["consent_marketing"] = frame["consent_marketing"].fillna(False).astype(bool)
    return frame


def recent_spend(orders: ir.Table, *, days: int = SPEND_WINDOW_DAYS) -> ir.Table:
    """Net order value per customer over the last ``days`` days of the data: ``customer_key, spend``."""
    known = orders.filter(orders.customer_key.notnull())
    last = orders.ordered_at.max().as_scalar()
    recent = known.filter(known.ordered_at > last - ibis.interval(days=days))
    return recent.group_by("customer_key").aggregate(spend=recent.net.sum().cast("float64"))


def customer_spend(backend: Any, *, days: int = SPEND_WINDOW_DAYS) -> dict[str, float]:
    """``{customer_key: net spend in the last 365 days of the data}``; customers with no such order are absent."""
    frame = recent_spend(backend.table("orders"), days=days).to_pandas()
    return {str(k): float(v) for k, v in zip(frame["customer_key"], frame["spend"], strict=True)}
