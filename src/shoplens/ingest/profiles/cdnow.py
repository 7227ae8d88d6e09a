"""CDNOW purchase records (Fader & Hardie): customer id, date, number of CDs, dollar value.

Each row is one order line; the rows of one customer on one day form one order, which is how the
published summaries count purchases (Fader & Hardie merge same-day transactions). Repeated
identical rows are real separate transactions and are all kept, as are zero-dollar purchases.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from shoplens.ingest._profile import SalesMapping, SourceProfile, col, register_profile


def _build(header: Sequence[str], mapping: Mapping[str, object] | None) -> SalesMapping:
    customer, date = col("customer_id"), col("date")
    return SalesMapping(
        expressions={
            "order_id": f"'cdnow-' || coalesce(nullif(trim({customer}), ''), 'guest') || '-' || {date}",
            "ordered_at": date,
            "customer_id": customer,
            "quantity": col("quantity"),
            "line_amount": col("amount"),  # the unit price is derived from it
            "channel": "'catalogue'",
        },
        date_formats=("%Y-%m-%d", "%Y%m%d"),
        currency="USD",
        allow_zero_price=True,
    )


PROFILE = register_profile(
    SourceProfile(
        name="cdnow",
        description="CDNOW master or sample purchases (customer_id, date, quantity, amount)",
        required=("customer_id", "date", "quantity", "amount"),
        build=_build,
    )
)
