"""The questions the CLI and the web app ask about feedback, answered from the store's warehouse.

The questions (what may be asked) are the query layer's (:mod:`shoplens.queries`); these functions are the one
place where their answers are computed.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from shoplens.errors import InputError
from shoplens.voice._customers import SPEND_WINDOW_DAYS, customer_profiles, customer_spend
from shoplens.voice._embeddings import CachedEncoder, SentenceEncoder, load_sentence_encoder
from shoplens.voice._progress import report
from shoplens.voice._sentiment import DEFAULT_SENTIMENT_METHOD, sentiment_method
from shoplens.voice._sentiment_cache import cached_sentiment
from shoplens.voice._silent import silent_dissatisfaction
from shoplens.voice._themes import (
    CRITICAL_MAX_STARS,
    DEFAULT_THEMES,
    PRAISE_MIN_SCORE,
    FeedbackItem,
    ThemeMethod,
    is_critical,
    mine_themes,
)
from shoplens.voice._wishes import upgrade_wishes

DEFAULT_SAMPLE = 50_000
MAX_SAMPLE = 10_000_000
MAX_SEED = 2**32 - 1  # the seeds numpy and scikit-learn take
VALUE_AT_RISK = (
    f"net sales less refunds in the last {SPEND_WINDOW_DAYS} days of the data of the customers voicing a "
    "complaint theme (0 for praise, and when feedback is not linked to customers)"
)
CRITICAL_IS = f"negative sentiment ({{method}}) or a rating of at most {CRITICAL_MAX_STARS}"
POLARITY_IS = (
    f"a sentence of a critical text is a complaint unless it scores {PRAISE_MIN_SCORE} or more (clear praise); a "
    f"sentence of any other text is praise unless it scores -{PRAISE_MIN_SCORE} or less (a clear complaint). "
    "Complaints and praise are grouped apart."
)


class ThemesParameters(BaseModel):
    """What to mine: how many themes of each polarity, the seed of the sample and the clustering, the method, the
    sample size, one feedback source only, and the sentiment method."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    n_themes: int = Field(default=DEFAULT_THEMES, ge=1, le=50)
    seed: int = Field(default=0, ge=0, le=MAX_SEED, description="seed of the random sample and clustering")
    method: ThemeMethod = "auto"
    sample: int = Field(default=DEFAULT_SAMPLE, ge=1, le=MAX_SAMPLE)
    source: str | None = None
    sentiment_method: str = DEFAULT_SENTIMENT_METHOD


class NeedsParameters(BaseModel):
    """What the hidden-needs report looks at: its complaint themes are those of :class:`ThemesParameters` with the
    same values (and every source)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    n_themes: int = Field(default=DEFAULT_THEMES, ge=1, le=50)
    seed: int = Field(default=0, ge=0, le=MAX_SEED, description="seed of the random sample and clustering")
    method: ThemeMethod = "auto"
    sample: int = Field(default=DEFAULT_SAMPLE, ge=1, le=MAX_SAMPLE)
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


def feedback_sources(backend: Any) -> list[str]:
    """The sources of the feedback with text, in alphabetical order."""
    table = backend.table("feedback")
    table = table.filter(table.text.notnull() & table.source.notnull())
    return sorted(str(s) for s in table.select("source").distinct().to_pandas()["source"])


def run_themes(
    backend: Any,
    query: ThemesParameters,
    *,
    encoder: SentenceEncoder | None = None,
    voice_cache_dir: Path | None = None,
) -> dict[str, Any]:
    """Complaint and praise themes of the feedback (of one source, when asked); sentence vectors and sentiments
    are kept in ``voice_cache_dir`` between runs."""
    everything = load_feedback(backend, source=query.source)
    if query.source is not None and not everything:
        known = feedback_sources(backend)
        listed = ", ".join(known) if known else "none: import feedback first (shoplens import FILE --profile feedback)"
        raise InputError(f"no feedback text from source {query.source!r}; the sources are {listed}")
    items = sample_items(everything, query.sample, query.seed)
    report(f"sentiment of {len(items):,} texts", 0, len(items))
    scorer = sentiment_method(query.sentiment_method)
    sentiments = cached_sentiment([i.text for i in items], scorer, voice_cache_dir)
    spend = customer_spend(backend) if _has_orders(backend) else {}
    if query.method != "keywords":
        found = encoder or load_sentence_encoder()
        encoder = None if found is None else CachedEncoder(found, voice_cache_dir)
    result = mine_themes(
        items,
        sentiments,
        n_themes=query.n_themes,
        seed=query.seed,
        method=query.method,
        encoder=encoder,
        spend=spend,
        sentence_sentiment=lambda texts: cached_sentiment(texts, scorer, voice_cache_dir),
    )
    return {
        **result.as_dict(),
        "sampled_from": len(everything),
        "critical_texts": sum(is_critical(item, s) for item, s in zip(items, sentiments, strict=True)),
        "critical_is": CRITICAL_IS.format(method=scorer.name),
        "polarity_is": POLARITY_IS,
        "sentiment_method": scorer.name,
        "value_at_risk_is": VALUE_AT_RISK,
    }


def _priority(theme: dict[str, Any]) -> tuple[float, float, float, str]:
    return (-theme["value_at_risk"], -theme["negative_share"], -(theme["growth"] or 0.0), theme["name"])


def run_needs(
    backend: Any,
    query: NeedsParameters,
    themes: dict[str, Any],
    *,
    zone: str = "UTC",
) -> dict[str, Any]:
    """Complaint themes ranked by value at risk, service-upgrade wishes, and silent dissatisfaction per segment.

    ``themes`` is the answer to the themes question with the same parameters (``ThemesParameters(**query``
    ``.model_dump())``): the complaint themes here are exactly the complaint themes there.
    """
    everything = load_feedback(backend)
    items = sample_items(everything, query.sample, query.seed)
    with_orders = _has_orders(backend)
    spend = customer_spend(backend) if with_orders else {}
    complaints = [t for t in themes["themes"] if t["polarity"] == "complaint"]
    wishes = upgrade_wishes([i.text for i in items], [i.customer_key for i in items], spend=spend)
    silent = None
    if with_orders:
        silent = silent_dissatisfaction(backend, customer_profiles(backend, zone=zone), spend, zone=zone)
    return {
        "texts": themes["texts"],
        "sampled_from": themes["sampled_from"],
        "critical_texts": themes["critical_texts"],
        "critical_is": themes["critical_is"],
        "method": themes["method"],
        "seed": query.seed,
        "value_at_risk_is": VALUE_AT_RISK,
        "ranked_by": "value at risk, then negative share, then growth (last 90 days against the 90 before)",
        "complaint_themes": sorted(complaints, key=_priority),
        "upgrade_wishes": [w.as_dict() for w in wishes],
        "silent_dissatisfaction": silent,
    }
