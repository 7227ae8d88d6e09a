"""inventory.parquet and tickets.parquet: the demo shop's stock and its support desk, made from what it sold and
what its customers wrote.

Stock: each product starts with about six weeks of its own average sales, loses each day's units sold and is
restocked (to the same level) a lead time after it falls below two weeks of sales, so that bestsellers run out
now and then. One snapshot per product and day.

Tickets: a customer who wrote a poor review (1-2 stars) had usually contacted support first (70 %), and a few
happy ones ask a question (2 %). First responses take hours (longer at weekends and for e-mail), solving a day
or two; a few tickets are still unanswered or open at the end of the window.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from shoplens.ingest.demo._calendar import _Calendar

START_WEEKS_OF_STOCK = 6.0
REORDER_WEEKS_OF_STOCK = 2.0
LEAD_TIME_DAYS = (4, 12)
TICKET_SHARE_UNHAPPY = 0.70
TICKET_SHARE_HAPPY = 0.02
CHANNELS = ("email", "chat", "phone")
CHANNEL_SHARES = (0.6, 0.3, 0.1)
MEDIAN_RESPONSE_HOURS = {"email": 9.0, "chat": 0.5, "phone": 0.2}
UNANSWERED_SHARE = 0.03
TAGS = tuple(
    (word, tag)
    for tag, words in {
        "delivery": ("late", "delivery", "shipping", "parcel", "tracking"),
        "sizing": ("size", "small", "too big", "fits", "tighter"),
        "damaged": ("broken", "damaged", "crushed", "scratched", "cracked", "packaging"),
        "price": ("price", "expensive", "overpriced", "pricey", "cheaper"),
    }.items()
    for word in words
)
INVENTORY_SCHEMA = pa.schema(
    [("product_id", pa.string()), ("date", pa.date32()), ("on_hand", pa.int32()), ("location", pa.string())]
)
TICKETS_SCHEMA = pa.schema(
    [
        ("ticket_id", pa.string()),
        ("customer_id", pa.string()),
        ("created_at", pa.timestamp("us", tz="UTC")),
        ("first_response_at", pa.timestamp("us", tz="UTC")),
        ("solved_at", pa.timestamp("us", tz="UTC")),
        ("channel", pa.string()),
        ("status", pa.string()),
        ("subject", pa.string()),
        ("tags", pa.string()),
    ]
)


def _inventory_table(
    rng: np.random.Generator, orders_csv: Path, product_ids: tuple[str, ...], calendar: _Calendar
) -> Any:
    """One stock snapshot per product and day, from the units orders.csv sold each day."""
    sold = pacsv.read_csv(
        orders_csv,
        convert_options=pacsv.ConvertOptions(
            include_columns=["ordered_at", "product_id", "quantity"],
            column_types={"ordered_at": pa.string(), "product_id": pa.string(), "quantity": pa.int64()},
        ),
    )
    day_text = pc.utf8_slice_codeunits(sold.column("ordered_at"), 0, 10)
    day = pc.cast(pc.strptime(day_text, "%Y-%m-%d", "s"), pa.date32()).to_numpy(zero_copy_only=False)
    offset = (day - np.datetime64(calendar.start, "D")).astype(np.int64)
    index = {product: i for i, product in enumerate(product_ids)}
    product = np.array([index.get(p, -1) for p in sold.column("product_id").to_pylist()], dtype=np.int64)
    keep = (product >= 0) & (offset >= 0) & (offset < calendar.days)
    units = np.zeros((len(product_ids), calendar.days), dtype=np.int64)
    np.add.at(units, (product[keep], offset[keep]), sold.column("quantity").to_numpy()[keep])
    weekly = units.sum(axis=1) / max(calendar.days / 7.0, 1.0)
    full = np.maximum(np.ceil(weekly * START_WEEKS_OF_STOCK), 5).astype(np.int64)
    reorder = np.ceil(weekly * REORDER_WEEKS_OF_STOCK).astype(np.int64)
    on_hand = np.zeros_like(units)
    stock, arriving = full.copy(), np.full(len(product_ids), -1, dtype=np.int64)
    for d in range(calendar.days):
        arrived = arriving == d
        stock[arrived], arriving[arrived] = full[arrived], -1
        stock = np.maximum(stock - units[:, d], 0)  # what could not be served was a lost sale, not negative stock
        low = (stock < reorder) & (arriving < 0)
        arriving[low] = d + rng.integers(*LEAD_TIME_DAYS, int(low.sum()))
        on_hand[:, d] = stock
    dates = [calendar.start + timedelta(days=d) for d in range(calendar.days)]
    return pa.table(
        {
            "product_id": pa.array([p for p in product_ids for _ in dates], pa.string()),
            "date": pa.array(dates * len(product_ids), pa.date32()),
            "on_hand": pa.array(on_hand.ravel(), pa.int32()),
            "location": pa.array(["HK warehouse"] * (len(product_ids) * calendar.days), pa.string()),
        },
        schema=INVENTORY_SCHEMA,
    )


def _tickets_table(rng: np.random.Generator, feedback_path: Path, calendar: _Calendar) -> Any:
    """Support tickets of reviewers: most unhappy ones wrote to support before reviewing."""
    reviews = pq.read_table(feedback_path, columns=["customer_id", "rating", "text", "at"])
    rating = reviews.column("rating").to_numpy(zero_copy_only=False).astype(np.int64)
    chance = np.where(rating <= 2, TICKET_SHARE_UNHAPPY, TICKET_SHARE_HAPPY)
    chosen = np.flatnonzero(rng.random(len(rating)) < chance)
    count = len(chosen)
    reviewed_at = reviews.column("at").to_numpy(zero_copy_only=False)[chosen].astype("datetime64[s]").astype(np.int64)
    created = reviewed_at - rng.integers(1 * 3600, 5 * 86_400, count)
    channel = rng.choice(len(CHANNELS), count, p=CHANNEL_SHARES)
    median = np.array([MEDIAN_RESPONSE_HOURS[c] for c in CHANNELS])[channel]
    weekend = ((created // 86_400 + 3) % 7) >= 5  # 1970-01-01 was a Thursday
    response = created + (median * np.where(weekend, 2.5, 1.0) * rng.lognormal(0.0, 0.6, count) * 3600).astype(np.int64)
    solved = response + (rng.lognormal(np.log(30.0), 0.7, count) * 3600).astype(np.int64)
    end = calendar.start_epoch_seconds + calendar.end_seconds
    unanswered = (rng.random(count) < UNANSWERED_SHARE) | (response >= end)
    open_ = unanswered | (solved >= end)
    texts = reviews.column("text").take(pa.array(chosen)).to_pylist()
    subjects = [text.split(". ")[1] if text.count(". ") else text for text in texts]
    tags = [",".join(sorted({tag for word, tag in TAGS if word in text.lower()})) or "question" for text in texts]
    order = np.argsort(created, kind="stable")

    def stamps(seconds: np.ndarray, missing: np.ndarray) -> pa.Array:
        values = pa.array(seconds[order] * 1_000_000, pa.int64(), mask=missing[order])
        return values.cast(pa.timestamp("us", tz="UTC"))

    return pa.table(
        {
            "ticket_id": pa.array([f"T{n:06d}" for n in range(1, count + 1)], pa.string()),
            "customer_id": reviews.column("customer_id").take(pa.array(chosen[order])),
            "created_at": stamps(created, np.zeros(count, bool)),
            "first_response_at": stamps(response, unanswered),
            "solved_at": stamps(solved, open_),
            "channel": pa.array([CHANNELS[c] for c in channel[order]], pa.string()),
            "status": pa.array(np.where(open_, "open", "solved")[order].tolist(), pa.string()),
            "subject": pa.array([subjects[i] for i in order], pa.string()),
            "tags": pa.array([tags[i] for i in order], pa.string()),
        },
        schema=TICKETS_SCHEMA,
    )
