"""Themes in feedback: what customers write about, in their own words, and what it is worth.

1. Each text is cut into sentences (one review often covers fit, fabric and delivery at once); equal sentences
   are one unit, weighted by how often they occur.
2. Units become vectors: MiniLM sentence embeddings, or — without torch, or when asked — TF-IDF keyword vectors
   (the *keyword fallback*).
3. k-means (k-means++, a fixed seed, weighted by occurrences) groups the units into themes, so the same texts and
   seed always give the same themes.
4. A theme is named by its most distinctive phrases, class-based TF-IDF as in BERTopic (Grootendorst 2022): a
   phrase's share of the theme's words × log(1 + average words per theme / the phrase's count in all themes).
   Its quotes are the units nearest its centre.
5. Per theme: texts, the share of them with negative sentiment, customers, and the value at risk — the spend of
   the customers who wrote a negative text in the theme.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from shoplens.errors import InputError
from shoplens.voice._customers import total_spend
from shoplens.voice._embeddings import SentenceEncoder, load_sentence_encoder
from shoplens.voice._sentiment import Sentiment
from shoplens.voice._text import quote, split_sentences, unit_key

ThemeMethod = Literal["auto", "embeddings", "keywords"]
DEFAULT_THEMES = 8
KMEANS_RESTARTS = 4
NAME_PHRASES = 3
LISTED_PHRASES = 6
QUOTES_PER_THEME = 3
GROWTH_WINDOW_DAYS = 90
LSA_DIMENSIONS = 100
# Phrases are words of letters; digits, sizes like "5'2" and measurements say little about what a theme is.
PHRASE_TOKEN_PATTERN = r"(?u)\b[^\W\d_][^\W\d_]+\b"


@dataclass(frozen=True)
class FeedbackItem:
    """One feedback text and what is known about who wrote it and when."""

    feedback_id: str
    text: str
    customer_key: str | None = None
    at: datetime | None = None
    rating: int | None = None


@dataclass
class Theme:
    name: str
    phrases: list[str]
    texts: int
    negative_share: float
    customers: int
    value_at_risk: float
    quotes: list[str]
    growth: float | None = None  # change in the theme's share of feedback, last 90 days vs the 90 before
    item_indexes: list[int] = field(default_factory=list, repr=False)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "phrases": self.phrases,
            "texts": self.texts,
            "negative_share": self.negative_share,
            "customers": self.customers,
            "value_at_risk": self.value_at_risk,
            "growth": self.growth,
            "quotes": self.quotes,
        }


@dataclass
class ThemeResult:
    method: Literal["embeddings", "keywords"]
    themes: list[Theme]
    texts: int  # texts mined
    texts_with_theme: int
    units: int  # distinct sentences clustered
    seed: int
    encoder: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "encoder": self.encoder,
            "seed": self.seed,
            "texts": self.texts,
            "texts_with_theme": self.texts_with_theme,
            "units": self.units,
            "themes": [t.as_dict() for t in self.themes],
        }


@dataclass(frozen=True)
class _Units:
    texts: list[str]  # one representative sentence per unit
    weights: npt.NDArray[np.float64]
    owners: list[list[int]]  # item indexes that contain the unit


def _units(items: Sequence[FeedbackItem]) -> _Units:
    index: dict[str, int] = {}
    texts: list[str] = []
    weights: list[float] = []
    owners: list[list[int]] = []
    for item_index, item in enumerate(items):
        for sentence in split_sentences(item.text):
            key = unit_key(sentence)
            position = index.get(key)
            if position is None:
                position = index[key] = len(texts)
                texts.append(sentence)
                weights.append(0.0)
                owners.append([])
            weights[position] += 1.0
            if not owners[position] or owners[position][-1] != item_index:
                owners[position].append(item_index)
    return _Units(texts, np.asarray(weights, dtype=np.float64), owners)


def _keyword_vectors(texts: Sequence[str], seed: int) -> npt.NDArray[np.float64]:
    """TF-IDF of words and word pairs, reduced to its main directions (latent semantic analysis), unit length.

    k-means on raw TF-IDF tends to make one giant theme of everything; on the reduced vectors it finds themes
    of comparable size, as with embeddings.
    """
    from sklearn.decomposition import TruncatedSVD  # type: ignore[import-untyped]
    from sklearn.feature_extraction.text import TfidfVectorizer  # type: ignore[import-untyped]

    vectorizer = TfidfVectorizer(
        stop_words="english",
        ngram_range=(1, 2),
        min_df=2 if len(texts) >= 50 else 1,
        sublinear_tf=True,
        token_pattern=PHRASE_TOKEN_PATTERN,
    )
    try:
        tfidf = sp.csr_matrix(vectorizer.fit_transform(texts))
    except ValueError:  # nothing but stop words
        return np.zeros((len(texts), 1))
    dimensions = min(LSA_DIMENSIONS, tfidf.shape[1] - 1, len(texts) - 1)
    if dimensions < 2:
        return np.asarray(tfidf.todense(), dtype=np.float64)
    reduced = TruncatedSVD(n_components=dimensions, random_state=seed).fit_transform(tfidf)
    norms = np.linalg.norm(reduced, axis=1, keepdims=True)
    return np.asarray(reduced / np.where(norms > 0, norms, 1.0), dtype=np.float64)


def _cluster(vectors: Any, weights: npt.NDArray[np.float64], k: int, seed: int) -> tuple[Any, Any]:
    from sklearn.cluster import KMeans  # type: ignore[import-untyped]

    model = KMeans(n_clusters=k, n_init=KMEANS_RESTARTS, random_state=seed).fit(vectors, sample_weight=weights)
    return model.labels_, model.cluster_centers_


def _class_tfidf(
    units: _Units, labels: npt.NDArray[np.int64], k: int, centrality: npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.str_]]:
    """Class-based TF-IDF scores (themes × phrases) and the phrases.

    Each distinct sentence counts once, weighted by its closeness to the theme's centre, so a theme is named by
    what its core sentences share rather than by one sentence repeated many times or a stray one at its edge.
    """
    from sklearn.feature_extraction.text import CountVectorizer

    counter = CountVectorizer(stop_words="english", ngram_range=(1, 2), token_pattern=PHRASE_TOKEN_PATTERN)
    try:
        counts = sp.csr_matrix(counter.fit_transform(units.texts), dtype=np.float64)
    except ValueError:
        return np.zeros((k, 0)), np.array([], dtype=str)
    membership = sp.csr_matrix((centrality, (labels, np.arange(len(labels)))), shape=(k, len(labels)))
    per_theme = np.asarray((membership @ counts).todense(), dtype=np.float64)
    words_per_theme = per_theme.sum(axis=1, keepdims=True)
    term_frequency = per_theme / np.where(words_per_theme > 0, words_per_theme, 1.0)
    average_words = per_theme.sum() / k
    in_all_themes = per_theme.sum(axis=0)
    idf = np.log(1.0 + average_words / np.where(in_all_themes > 0, in_all_themes, 1.0))
    return term_frequency * idf, np.asarray(counter.get_feature_names_out(), dtype=str)


def _phrases(scores: npt.NDArray[np.float64], terms: npt.NDArray[np.str_], limit: int) -> list[str]:
    """Top phrases, skipping a word already inside a chosen pair and a pair whose words are both chosen."""
    chosen: list[str] = []
    for position in np.argsort(-scores, kind="stable"):
        if scores[position] <= 0 or len(chosen) >= limit:
            break
        term = str(terms[position])
        parts = term.split()
        if len(parts) == 1 and any(term in c.split() for c in chosen):
            continue
        if len(parts) == 2 and all(p in chosen for p in parts):
            chosen = [c for c in chosen if c not in parts]
        chosen.append(term)
    return chosen[:limit]


def _quotes(units: _Units, members: npt.NDArray[np.int64], vectors: Any, centre: npt.NDArray[np.float64]) -> list[str]:
    member_vectors = vectors[members]
    similarity = np.asarray(member_vectors @ centre).ravel()
    quotes: list[str] = []
    for position in np.argsort(-similarity, kind="stable"):
        text = quote(units.texts[members[position]])
        if text not in quotes:
            quotes.append(text)
        if len(quotes) >= QUOTES_PER_THEME:
            break
    return quotes


def _growth(items: Sequence[FeedbackItem], theme_items: set[int]) -> float | None:
    """Relative change of the theme's share of all feedback: last 90 days against the 90 days before."""
    dated = [(i, item.at) for i, item in enumerate(items) if item.at is not None]
    if not dated:
        return None
    latest = max(at for _, at in dated)
    recent_start = latest - timedelta(days=GROWTH_WINDOW_DAYS)
    previous_start = recent_start - timedelta(days=GROWTH_WINDOW_DAYS)
    recent = [i for i, at in dated if at > recent_start]
    previous = [i for i, at in dated if previous_start < at <= recent_start]
    if not recent or not previous:
        return None
    recent_share = sum(1 for i in recent if i in theme_items) / len(recent)
    previous_share = sum(1 for i in previous if i in theme_items) / len(previous)
    if previous_share == 0:
        return None
    return round(recent_share / previous_share - 1.0, 4)


def mine_themes(
    items: Sequence[FeedbackItem],
    sentiments: Sequence[Sentiment],
    *,
    n_themes: int = DEFAULT_THEMES,
    seed: int = 0,
    method: ThemeMethod = "auto",
    encoder: SentenceEncoder | None = None,
    spend: Mapping[str, Decimal] | None = None,
    at_risk: Sequence[bool] | None = None,
) -> ThemeResult:
    """Themes of ``items`` (with their ``sentiments``), largest first.

    ``method="auto"`` uses sentence embeddings when torch is installed and keywords otherwise; ``encoder``
    replaces the MiniLM encoder (tests). ``spend`` maps customer keys to the spend counted as value at risk: the
    spend of the customers of the items flagged in ``at_risk`` (by default, the items with negative sentiment).
    """
    if n_themes < 1:
        raise InputError(f"the number of themes must be at least 1, got {n_themes}")
    if len(sentiments) != len(items) or (at_risk is not None and len(at_risk) != len(items)):
        raise ValueError("one sentiment (and at-risk flag) per feedback item")
    risky = list(at_risk) if at_risk is not None else [s.label == "negative" for s in sentiments]
    if method != "keywords" and encoder is None:
        encoder = load_sentence_encoder()
        if encoder is None and method == "embeddings":
            raise InputError("sentence embeddings need torch: pip install 'shoplens[embeddings]', or use keywords")
    use_embeddings = method != "keywords" and encoder is not None
    units = _units(items)
    if not units.texts:
        return ThemeResult("embeddings" if use_embeddings else "keywords", [], len(items), 0, 0, seed, None)
    vectors: Any = encoder.encode(units.texts) if use_embeddings and encoder else _keyword_vectors(units.texts, seed)
    distinct_vectors = len(np.unique(np.round(np.asarray(vectors, dtype=np.float64), 6), axis=0))
    k = min(n_themes, distinct_vectors)
    labels, centres = _cluster(vectors, np.ones(len(units.texts)), k, seed)
    centres_array = np.asarray(centres, dtype=np.float64)
    closeness = np.asarray(
        [float(np.dot(np.asarray(vectors[i]).ravel(), centres_array[c])) for i, c in enumerate(labels)]
    )
    scores, terms = _class_tfidf(units, labels, k, np.clip(closeness, 0.0, None) ** 2)
    spend = spend or {}
    themes: list[Theme] = []
    covered: set[int] = set()
    for cluster in range(k):
        members = np.flatnonzero(labels == cluster)
        if len(members) == 0:
            continue
        theme_items = sorted({owner for m in members for owner in units.owners[m]})
        covered.update(theme_items)
        negative = [i for i in theme_items if sentiments[i].label == "negative"]
        customers = {items[i].customer_key for i in theme_items if items[i].customer_key}
        at_risk_keys = {items[i].customer_key for i in theme_items if risky[i] and items[i].customer_key}
        phrases = _phrases(scores[cluster], terms, LISTED_PHRASES) if len(terms) else []
        themes.append(
            Theme(
                name=" / ".join(phrases[:NAME_PHRASES]) or quote(units.texts[members[0]]),
                phrases=phrases,
                texts=len(theme_items),
                negative_share=round(len(negative) / len(theme_items), 4),
                customers=len(customers),
                value_at_risk=total_spend(spend, at_risk_keys),
                quotes=_quotes(units, members, vectors, np.asarray(centres[cluster]).ravel()),
                growth=_growth(items, set(theme_items)),
                item_indexes=theme_items,
            )
        )
    themes.sort(key=lambda t: (-t.texts, t.name))
    return ThemeResult(
        method="embeddings" if use_embeddings else "keywords",
        themes=themes,
        texts=len(items),
        texts_with_theme=len(covered),
        units=len(units.texts),
        seed=seed,
        encoder=encoder.name if use_embeddings and encoder else None,
    )
