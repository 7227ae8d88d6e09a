"""What voice analyses need to know about customers: segment, lifecycle stage and recent spend (Ibis, no SQL).

The facts come from :mod:`shoplens.metrics`: purchases only (no cancelled or voided orders), store-local days,
and spend in DECIMAL, as in every other analysis.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

import ibis
import pandas as pd

from shoplens.metrics import lifecycle, purchase_refunds, purchases, recent_spend, rfm_scores
from shoplens.privacy import ConsentBook

SPEND_WINDOW_DAYS = 365


def customer_profiles(
    backend: Any,
    *,
    zone: str = "UTC",
    marketing: ConsentBook | None = None,
    analytics: ConsentBook | None = None,
) -> pd.DataFrame:
    """One row per customer with an order: ``customer_key, segment, lifecycle, consent_marketing``.

    ``segment`` is the RFM segment and ``lifecycle`` the lifecycle state, both as of the data end (the last day
    with a purchase or a refund). With a ``marketing`` book, ``consent_marketing`` is the customer's consent now
    (their newest record, else the platform's flag); with an ``analytics`` book, customers who withdrew consent to
    analytics are left out (nobody samples or profiles them).
    """
    stored = backend.table("orders")
    orders, refunds = purchases(stored), purchase_refunds(backend.table("refunds"), stored)
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
    if marketing is not None and marketing.decided:
        decided = frame["customer_key"].map(marketing.decided)
        frame["consent_marketing"] = decided.where(decided.notna(), frame["consent_marketing"]).astype(bool)
    if analytics is not None and analytics.withdrawn:
        frame = frame[~frame["customer_key"].isin(analytics.withdrawn)].reset_index(drop=True)
    return frame


def customer_spend(backend: Any, *, days: int = SPEND_WINDOW_DAYS) -> dict[str, Decimal]:
    """``{customer_key: spend in the last 365 days of the data}`` (net sales less refunds, see
    :func:`shoplens.metrics.recent_spend`); customers with no purchase in that time are absent."""
    spend = recent_spend(backend.table("orders"), backend.table("refunds"), days=days)
    return {str(row["customer_key"]): Decimal(row["spend"]) for row in spend.to_pyarrow().to_pylist()}


def total_spend(spend: Mapping[str, Decimal], customers: Iterable[str | None]) -> float:
    """The spend of ``customers`` added up exactly (customers without spend, or without a key, add nothing),
    as a number to the cent for JSON."""
    return round(float(sum((spend.get(key, Decimal(0)) for key in customers if key), Decimal(0))), 2)
