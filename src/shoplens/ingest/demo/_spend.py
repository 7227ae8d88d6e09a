"""marketing_spend.parquet: daily spend per paid channel, following the new customers each channel brought."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import numpy as np
import pyarrow as pa

from shoplens.ingest.demo._block import _Totals
from shoplens.ingest.demo._calendar import _Calendar
from shoplens.ingest.demo._columns import _decimals
from shoplens.ingest.demo._sampling import FloatArray, IntArray
from shoplens.ingest.demo._shop import CHANNEL_NAMES

# Marketing spend: cost per new customer (HKD) for the bought channels, fixed daily amounts, rewards, commission.
PAID_SEARCH_COST_PER_NEW_CUSTOMER = 150.0
PAID_SEARCH_DAILY_BASE = 80.0
SOCIAL_COST_PER_NEW_CUSTOMER = 110.0
SOCIAL_DAILY_BASE = 50.0
EMAIL_DAILY_BASE = 40.0
EMAIL_COST_PER_NEW_CUSTOMER = 12.0
REFERRAL_REWARD = 50.0
MARKETPLACE_COMMISSION = 0.12
SPEND_CHANNELS = ("paid_search", "social", "email", "referral", "marketplace")


def _marketing_spend_table(rng: np.random.Generator, calendar: _Calendar, totals: _Totals) -> Any:
    """Daily spend per paid channel: bought channels cost what their new customers cost (over the past week, with
    noise), e-mail a platform fee, referrals a reward per referred customer, the marketplace its commission."""
    week = np.ones(7) / 7

    def past_week(new_customers: IntArray) -> FloatArray:
        return np.convolve(new_customers.astype(np.float64), week)[: calendar.days]

    new = {name: totals.new_customers[:, CHANNEL_NAMES.index(name)] for name in CHANNEL_NAMES}
    noise = rng.lognormal(0.0, 0.15, (2, calendar.days))
    spend_hkd = {
        "paid_search": PAID_SEARCH_DAILY_BASE
        + PAID_SEARCH_COST_PER_NEW_CUSTOMER * past_week(new["paid_search"]) * noise[0],
        "social": SOCIAL_DAILY_BASE + SOCIAL_COST_PER_NEW_CUSTOMER * past_week(new["social"]) * noise[1],
        "email": EMAIL_DAILY_BASE + EMAIL_COST_PER_NEW_CUSTOMER * past_week(new["email"]),
        "referral": REFERRAL_REWARD * new["referral"].astype(np.float64),
        "marketplace": MARKETPLACE_COMMISSION * totals.marketplace_sales_cents / 100.0,
    }
    dates = [calendar.start + timedelta(days=offset) for offset in range(calendar.days)]
    cents = np.stack([np.round(spend_hkd[name] * 100).astype(np.int64) for name in SPEND_CHANNELS], axis=1)
    return pa.table(
        {
            "date": pa.array([d for d in dates for _ in SPEND_CHANNELS], pa.date32()),
            "channel": pa.array(list(SPEND_CHANNELS) * calendar.days, pa.string()),
            "amount": _decimals(cents.ravel(), 2),
        }
    )
