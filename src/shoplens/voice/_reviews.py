"""The labelled reviews the sentiment methods are trained and judged on, and their fixed train/held-out split.

The Women's E-Commerce Clothing Reviews (Nick Brooks, Kaggle 2018, CC0; ``datasets/reviews`` in the repository):
23,486 reviews with a 1-5 star rating. A review's polarity is *positive* for 4-5 stars and *negative* for 1-2; 3-star
reviews are mixed and are not used to judge positive/negative agreement.

**Split.** A review is held out when its original row index (the file's first, unnamed column) is divisible by
:data:`HELD_OUT_EVERY`, unless the same text also occurs among the training reviews (a handful of reviews are
repeated; keeping such copies out of the held-out set keeps it unseen). Simple enough to check by hand, and
independent of any library's random numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from shoplens.errors import InputError

HELD_OUT_EVERY = 5
POSITIVE_MIN_STARS = 4
NEGATIVE_MAX_STARS = 2
REVIEW_COLUMNS = ("Review Text", "Rating")


@dataclass(frozen=True)
class LabelledReviews:
    """Reviews with text and stars, in file order."""

    row_index: npt.NDArray[np.int64]
    text: list[str]
    stars: npt.NDArray[np.int64]

    def __len__(self) -> int:
        return len(self.text)

    def take(self, mask: npt.NDArray[np.bool_]) -> LabelledReviews:
        positions = np.flatnonzero(mask)
        return LabelledReviews(self.row_index[positions], [self.text[i] for i in positions], self.stars[positions])

    def polar(self) -> LabelledReviews:
        """Only the reviews with a clear polarity (1-2 or 4-5 stars)."""
        return self.take((self.stars <= NEGATIVE_MAX_STARS) | (self.stars >= POSITIVE_MIN_STARS))

    def polarity(self) -> list[str]:
        """'positive' (4-5 stars), 'negative' (1-2) or 'neutral' (3) per review."""
        return [
            "positive" if s >= POSITIVE_MIN_STARS else "negative" if s <= NEGATIVE_MAX_STARS else "neutral"
            for s in self.stars
        ]


def read_labelled_reviews(path: Path) -> LabelledReviews:
    """The reviews with a text, from the CSV (optionally gzipped) as published."""
    try:
        frame = pd.read_csv(path)
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: cannot read the reviews ({str(exc).splitlines()[0][:160]})") from None
    missing = [c for c in REVIEW_COLUMNS if c not in frame.columns]
    if missing:
        raise InputError(f"{path}: not the clothing reviews file, missing column(s): {', '.join(missing)}")
    index_column = frame.columns[0]
    kept = frame[frame["Review Text"].notna()]
    return LabelledReviews(
        row_index=kept[index_column].to_numpy(dtype=np.int64),
        text=[str(t) for t in kept["Review Text"]],
        stars=kept["Rating"].to_numpy(dtype=np.int64),
    )


def split_reviews(reviews: LabelledReviews) -> tuple[LabelledReviews, LabelledReviews]:
    """(training reviews, held-out reviews) by the fixed rule in the module docstring."""
    held = reviews.row_index % HELD_OUT_EVERY == 0
    training_texts = {t for t, h in zip(reviews.text, held, strict=True) if not h}
    seen_in_training = np.array([t in training_texts for t in reviews.text], dtype=bool)
    return reviews.take(~held), reviews.take(held & ~seen_in_training)
