"""Retention: which customers have been inactive long enough for their personal data to go.

A customer's last activity is the latest of their first sighting, orders, web sessions and events, reviews and
tickets. Only customers the vault still holds personal data on are listed: an erased person is gone already.
"""

from __future__ import annotations

from datetime import UTC, datetime

import ibis
import ibis.expr.types as ir

# Table and time column of everything a customer does.
ACTIVITY = (
    ("customers", "first_seen"),
    ("orders", "ordered_at"),
    ("sessions", "started_at"),
    ("events", "at"),
    ("feedback", "at"),
    ("tickets", "created_at"),
)
KEY = "customer_key"


def last_activity(backend: ibis.BaseBackend) -> ir.Table:
    """``customer_key, last_active`` for every customer with a vault row (UTC, NULL when nothing is dated)."""
    parts = []
    for name, column in ACTIVITY:
        table = backend.table(name)
        dated = table.filter(table[KEY].notnull())
        parts.append(dated.select(dated[KEY].cast("string").name(KEY), at=dated[column].cast("timestamp")))
    every = ibis.union(*parts)
    latest = every.group_by(KEY).aggregate(last_active=every.at.max())
    vault = backend.table("customer_pii").select(KEY)
    return vault.left_join(latest, KEY).select(vault[KEY], latest.last_active)


def inactive_customers(backend: ibis.BaseBackend, cutoff: datetime) -> list[str]:
    """Keys of vault customers whose last activity is before ``cutoff``, sorted (one with nothing dated is kept:
    nothing shows they are old)."""
    moment = ibis.literal(cutoff.astimezone(UTC).replace(tzinfo=None), type="timestamp")
    active = last_activity(backend)
    old = active.filter(active.last_active < moment)
    return sorted(str(key) for key in old.select(KEY).to_pyarrow().column(0).to_pylist())
