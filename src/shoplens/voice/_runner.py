"""The questions the CLI and the web app ask about feedback, answered from the store's warehouse.

The questions (what may be asked) are the query layer's (:mod:`shoplens.queries`); these functions are the one
place where their answers are computed.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from shoplens.voice._customers import SPEND_WINDOW_DAYS, customer_profiles, customer_spend
from shoplens.voice._embeddings import SentenceEncoder
from shoplens.voice._sentiment import (
    DEFAULT_SENTIMENT_METHOD,
    Sentiment,
    SentimentMethod,
    analyse_sentiment_with,
    sentiment_method,
)
from shoplens.voice._silent import silent_dissatisfaction
from shoplens.voice._text import split_sentences
from shoplens.voice._themes import DEFAULT_THEMES, FeedbackItem, Theme, ThemeMethod, mine_themes
from shoplens.voice._wishes import upgrade_wishes

DEFAULT_SAMPLE = 5000
CRITICAL_MAX_STARS = 3
PRAISE_MIN_SCORE = 0.9  # a sentence this positive is praise, even inside a critical review
VALUE_AT_RISK = (
    f"net sales less refunds in the last {SPEND_WINDOW_DAYS} days of the data of the customers who wrote a "
    "negative text in the theme (0 when feedback is not linked to customers)"
)


class ThemesParameters(BaseModel):
    """What to mine: how many themes, the seed of the sample and the clustering, the method, the sample size, one
    feedback source only, and the sentiment method."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    n_themes: int = Field(default=DEFAULT_THEMES, ge=1, le=50)
    seed: int = 0
    method: ThemeMethod = "auto"
    sample: int = Field(default=DEFAULT_SAMPLE, ge=1)
    source: str | None = None
    sentiment_method: str = DEFAULT_SENTIMENT_METHOD


class NeedsParameters(BaseModel):
    """What the hidden-needs report looks at (its complaint themes are mined like :class:`ThemesParameters`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    n_themes: int = Field(default=6, ge=1, le=50)
    seed: int = 0
    method: ThemeMethod = "auto"
    sample: int = Field(default=DEFAULT_SAMPLE, ge=1)
    sentiment_method: str = DEFAULT_SENTIMENT_METHOD


def _optional_datetime(value: Any) -> datetime | None:
    return None if value is None or pd.isna(value) else pd.Timestamp(value).to_pydatetime()


def load_feedback(backend: Any, *, source: str | None = None) -> list[FeedbackItem]:
    """Every feedback row with text, in ``feedback_id`` order."""
    table = backend.table("feedback")
    table = table.filter(table.text.notnull())
    if source is not None:
        table = table.filter(table.source == source)
    frame = table.select("feedback_id", "text", "customer_key", "at", "rating").order_by("feedback_id").to_pandas()
    return [
        FeedbackItem(
            feedback_id=str(row.feedback_id),
            text=str(row.text),
            customer_key=None if pd.isna(row.customer_key) else str(row.customer_key),
            at=_optional_datetime(row.at),
            rating=None if pd.isna(row.rating) else int(row.rating),
        )
        for row in frame.itertuples(index=False)
    ]


def sample_items(items: list[FeedbackItem], size: int, seed: int) -> list[FeedbackItem]:
    """A seeded random sample of ``size`` items in their original order (all of them when there are fewer)."""
    if len(items) <= size:
        return items
    chosen = np.sort(np.random.default_rng(seed).choice(len(items), size=size, replace=False))
    return [items[i] for i in chosen]


def _has_orders(backend: Any) -> bool:
    return int(backend.table("orders").count().to_pandas()) > 0


def run_themes(backend: Any, query: ThemesParameters, *, encoder: SentenceEncoder | None = None) -> dict[str, Any]:
    everything = load_feedback(backend, source=query.source)
    items = sample_items(everything, query.sample, query.seed)
    scorer = sentiment_method(query.sentiment_method)
    sentiments = analyse_sentiment_with([i.text for i in items], scorer)
    spend = customer_spend(backend) if _has_orders(backend) else {}
    result = mine_themes(
        items, sentiments, n_themes=query.n_themes, seed=query.seed, method=query.method, encoder=encoder, spend=spend
    )
    return {
        **result.as_dict(),
        "sampled_from": len(everything),
        "sentiment_method": scorer.name,
        "value_at_risk_is": VALUE_AT_RISK,
    }


def _critical(item: FeedbackItem, sentiment: Sentiment) -> bool:
    return sentiment.label == "negative" or (item.rating is not None and item.rating <= CRITICAL_MAX_STARS)


def _without_praise(items: list[FeedbackItem], method: SentimentMethod) -> list[FeedbackItem]:
    """The items with their clearly positive sentences taken out: a 3-star review often praises the colour and
    complains about the fit, and only the complaint belongs in a complaint theme."""
    sentences = [split_sentences(item.text) for item in items]
    scores = iter(analyse_sentiment_with([s for group in sentences for s in group], method))
    kept = [[s for s in group if next(scores).score < PRAISE_MIN_SCORE] for group in sentences]
    return [replace(item, text="\n".join(group)) for item, group in zip(items, kept, strict=True)]


def _priority(theme: Theme) -> tuple[float, float, float, str]:
    return (-theme.value_at_risk, -theme.negative_share, -(theme.growth or 0.0), theme.name)


def run_needs(
    backend: Any, query: NeedsParameters, *, encoder: SentenceEncoder | None = None, zone: str = "UTC"
) -> dict[str, Any]:
    """Complaint themes ranked by value at risk, service-upgrade wishes, and silent dissatisfaction per segment."""
    everything = load_feedback(backend)
    items = sample_items(everything, query.sample, query.seed)
    scorer = sentiment_method(query.sentiment_method)
    sentiments = analyse_sentiment_with([i.text for i in items], scorer)
    with_orders = _has_orders(backend)
    spend = customer_spend(backend) if with_orders else {}
    critical = [(item, s) for item, s in zip(items, sentiments, strict=True) if _critical(item, s)]
    complaints = mine_themes(
        _without_praise([item for item, _ in critical], scorer),
        [s for _, s in critical],
        n_themes=query.n_themes,
        seed=query.seed,
        method=query.method,
        encoder=encoder,
        spend=spend,
        at_risk=[True] * len(critical),
    )
    ranked = sorted(complaints.themes, key=_priority)
    wishes = upgrade_wishes([i.text for i in items], [i.customer_key for i in items], spend=spend)
    silent = None
    if with_orders:
        silent = silent_dissatisfaction(backend, customer_profiles(backend, zone=zone), spend, zone=zone)
    return {
        "texts": len(items),
        "sampled_from": len(everything),
        "critical_texts": len(critical),
        "critical_is": (
            f"negative sentiment ({scorer.name}) or a rating of at most {CRITICAL_MAX_STARS}; "
            f"sentences scoring {PRAISE_MIN_SCORE} or more (praise) are left out of the complaint themes"
        ),
        "method": complaints.method,
        "seed": query.seed,
        "value_at_risk_is": (
            f"net sales less refunds in the last {SPEND_WINDOW_DAYS} days of the data of the customers voicing the "
            "theme"
        ),
        "ranked_by": "value at risk, then negative share, then growth (last 90 days against the 90 before)",
        "complaint_themes": [t.as_dict() for t in ranked],
        "upgrade_wishes": [w.as_dict() for w in wishes],
        "silent_dissatisfaction": silent,
    }
