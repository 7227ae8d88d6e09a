"""feedback.parquet: product reviews by customers who bought the product, likelier and lower rated after a
problem, with texts built from templates for the recurring themes.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from shoplens.ingest.demo._block import _Block
from shoplens.ingest.demo._calendar import SECONDS_PER_DAY, _Calendar
from shoplens.ingest.demo._catalogue import _Catalogue
from shoplens.ingest.demo._columns import _numbered, _texts
from shoplens.ingest.demo._sampling import _categorical
from shoplens.ingest.demo._shop import CANCELLED

# Review texts: openers by rating, then one sentence per theme the customer ran into, or praise.
REVIEW_OPENERS: dict[int, tuple[str, ...]] = {
    1: ("Terrible experience.", "Very disappointed.", "Would not recommend."),
    2: ("Disappointed.", "Not what I hoped for.", "Quite unhappy with this order."),
    3: ("It's okay.", "Mixed feelings.", "Not bad, not great."),
    4: ("Really nice overall.", "Pretty happy with this.", "Good quality."),
    5: ("Love it!", "Absolutely love this.", "Fantastic purchase."),
}
OPENERS_PER_RATING = 3
REVIEW_OPENER_TEXTS = tuple(text for rating in range(1, 6) for text in REVIEW_OPENERS[rating])
REVIEW_THEMES: dict[str, tuple[str, ...]] = {
    "late delivery": (
        "Delivery took almost two weeks, far longer than promised.",
        "The parcel arrived late and the tracking was never updated.",
        "Shipping was really slow; it came a week after the promised date.",
        "Late delivery again, and I needed it for a gift.",
    ),
    "sizing": (
        "Runs small, I had to send it back for a bigger size.",
        "The size chart is off; it was much too big.",
        "Fits tighter than expected, order one size up.",
        "Sizing is inconsistent with the chart.",
    ),
    "packaging": (
        "The box arrived crushed and the item was damaged.",
        "Poor packaging, it was broken when I opened it.",
        "Packaging was flimsy and the product got scratched.",
        "Arrived in a dented box with a cracked item inside.",
    ),
    "price": (
        "Nice, but overpriced for what it is.",
        "A bit too expensive; I found it cheaper elsewhere.",
        "The quality does not justify the price.",
        "Pricey compared with similar shops.",
    ),
}
REVIEW_PRAISE = (
    "Great quality, exactly as pictured.",
    "Arrived quickly and well wrapped.",
    "Excellent value for money.",
    "Will definitely buy again.",
    "Customer service was quick and friendly.",
)
REVIEW_NEUTRAL = ("It does the job, nothing special.", "Quality is average.", "Looks a little different in person.")
REVIEW_SHARE = 0.06  # of eligible order lines, plus REVIEW_SHARE_AFTER_PROBLEM when something went wrong
REVIEW_SHARE_AFTER_PROBLEM = 0.10
FEEDBACK_SCHEMA = pa.schema(
    [
        ("feedback_id", pa.string()),
        ("customer_id", pa.string()),
        ("product_id", pa.string()),
        ("source", pa.string()),
        ("rating", pa.int8()),
        ("text", pa.string()),
        ("at", pa.timestamp("us", tz="UTC")),
    ]
)


def _feedback_table(
    rng: np.random.Generator, block: _Block, calendar: _Calendar, catalogue: _Catalogue, first_feedback_number: int
) -> Any:
    """Product reviews by customers who bought the product; problems make a review likelier and its rating lower."""
    line_order = block.line_order
    late = block.order_late[line_order]
    sizing, damaged, price = block.line_sizing_problem, block.line_damaged, block.line_price_complaint
    problems = late.astype(np.int64) + sizing + damaged + price
    eligible = ~block.order_guest[line_order] & (block.order_status[line_order] != CANCELLED)
    chance = REVIEW_SHARE + REVIEW_SHARE_AFTER_PROBLEM * (problems > 0)
    delivery_days = rng.integers(2, 6, block.line_count) + late * rng.integers(7, 15, block.line_count)
    written_after = (delivery_days + rng.exponential(6.0, block.line_count)) * SECONDS_PER_DAY
    seconds = block.order_seconds[line_order] + written_after.astype(np.int64)
    reviewed = np.flatnonzero(eligible & (rng.random(block.line_count) < chance) & (seconds < calendar.end_seconds))
    count = len(reviewed)
    late, sizing, damaged, price = late[reviewed], sizing[reviewed], damaged[reviewed], price[reviewed]
    problems = problems[reviewed]

    # Rating: the worst problem sets it (damage 2, late or sizing 3, price 4), each further one costs a star.
    worst = np.maximum.reduce([3 * damaged, 2 * late, 2 * sizing, 1 * price]).astype(np.int64)
    unhappy = 5 - worst - np.maximum(problems - 1, 0) - (rng.random(count) < 0.35)
    happy = 3 + _categorical(rng, (0.05, 0.33, 0.62), count)
    rating = np.where(problems > 0, np.clip(unhappy, 1, 4), happy).astype(np.int64)

    opener = (rating - 1) * OPENERS_PER_RATING + rng.integers(0, OPENERS_PER_RATING, count)
    sentences = [_texts(REVIEW_OPENER_TEXTS, opener)]
    for theme, flags in (("late delivery", late), ("sizing", sizing), ("packaging", damaged), ("price", price)):
        options = REVIEW_THEMES[theme]
        sentences.append(_texts(options, rng.integers(0, len(options), count), ~flags))
    praise = _texts(REVIEW_PRAISE, rng.integers(0, len(REVIEW_PRAISE), count), (problems > 0) | (rating < 4))
    neutral = _texts(REVIEW_NEUTRAL, rng.integers(0, len(REVIEW_NEUTRAL), count), (problems > 0) | (rating != 3))
    text = pc.binary_join_element_wise(*sentences, praise, neutral, " ", null_handling="skip")

    in_time_order = np.argsort(seconds[reviewed], kind="stable")
    reviewed_order = line_order[reviewed][in_time_order]
    customer = block.first_customer_number + block.order_customer[reviewed_order]
    table = pa.table(
        {
            "feedback_id": _numbered("R", first_feedback_number + np.arange(count), 7),
            "customer_id": _numbered("D", customer, 6),
            "product_id": _texts(catalogue.product_ids, block.line_product[reviewed][in_time_order]),
            "source": _texts(("review",), np.zeros(count, np.int64)),
            "rating": pa.array(rating[in_time_order], pa.int8()),
            "text": text.take(pa.array(in_time_order)),
            "at": pa.array((calendar.start_epoch_seconds + seconds[reviewed][in_time_order]) * 1_000_000).cast(
                pa.timestamp("us", tz="UTC")
            ),
        },
        schema=FEEDBACK_SCHEMA,
    )
    return table
