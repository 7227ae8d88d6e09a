"""Themes in feedback: what customers write about, in their own words, and what it is worth.

1. Each text is cut into sentences (one review often covers fit, fabric and delivery at once), and every sentence
   is a **complaint** or **praise**: in a critical text (negative, or at most 3 stars) a sentence is a complaint
   unless it is clear praise (a sentence score of at least :data:`PRAISE_MIN_SCORE`); in any other text it is
   praise unless it is a clear complaint (a score of at most −:data:`PRAISE_MIN_SCORE`). The two are mined
   apart, so a theme is never half praise and half complaint. Equal sentences of one polarity are one unit.
2. Units become vectors: MiniLM sentence embeddings, or — without torch, or when asked — TF-IDF keyword vectors
   (the *keyword fallback*). Embedding is slow on a CPU, so at most :data:`EMBEDDING_BUDGET` units of each
   polarity are embedded (a seeded sample, likelier for frequent sentences; vectors are cached on disk by text
   hash) and clustered; every other unit joins the theme whose embedded units its TF-IDF keywords are nearest
   (nearest centroid).
3. k-means (k-means++, a fixed seed; mini-batches for many keyword units) groups the units into themes, so the
   same texts and seed always give the same themes.
4. A theme is named as a person would (:mod:`shoplens.voice._naming`, from the :data:`NAMING_SAMPLE` units
   nearest its centre), and quoted with its embedded units nearest the centre — its own members, and for a
   complaint theme only sentences that are negative themselves (none negative elsewhere).
5. Per theme: its polarity, texts, the share of them with negative sentiment, customers, and the value at risk —
   the spend of the customers voicing a complaint theme (0 for praise).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from shoplens.errors import InputError
from shoplens.voice._customers import total_spend
from shoplens.voice._embeddings import CachedEncoder, SentenceEncoder, load_sentence_encoder
from shoplens.voice._naming import (
    common_theme_candidates,
    common_theme_named_by,
    common_theme_shares,
    excluded_words,
    phrase_name,
)
from shoplens.voice._progress import report
from shoplens.voice._sentiment import DEFAULT_SENTIMENT_METHOD, Sentiment, analyse_sentiment
from shoplens.voice._text import quote, split_sentences, unit_key

ThemeMethod = Literal["auto", "embeddings", "keywords"]
Polarity = Literal["complaint", "praise"]
POLARITIES: tuple[Polarity, ...] = ("complaint", "praise")
DEFAULT_THEMES = 6  # per polarity
KMEANS_RESTARTS = 4
MINI_BATCH_FROM = 5000  # units; from here on keyword units are clustered in mini-batches
MINI_BATCH_SIZE = 2048
EMBEDDING_BUDGET = 1500  # units embedded per polarity
NAMING_SAMPLE = 300  # units nearest its centre that name a theme
LISTED_PHRASES = 6
QUOTES_PER_THEME = 3
GROWTH_WINDOW_DAYS = 90
LSA_DIMENSIONS = 100
CRITICAL_MAX_STARS = 3
PRAISE_MIN_SCORE = 0.9  # a sentence this positive is praise even in a critical review, this negative a complaint
# Phrases are words of letters; digits, sizes like "5'2" and measurements say little about what a theme is.
PHRASE_TOKEN_PATTERN = r"(?u)\b[^\W\d_][^\W\d_]+\b"
SentenceSentiment = Callable[[Sequence[str]], Sequence[Sentiment]]


@dataclass(frozen=True)
class FeedbackItem:
    """One feedback text and what is known about who wrote it and when."""

    feedback_id: str
    text: str
    customer_key: str | None = None
    at: datetime | None = None
    rating: int | None = None


def is_critical(item: FeedbackItem, sentiment: Sentiment) -> bool:
    """Negative sentiment, or a rating of at most :data:`CRITICAL_MAX_STARS` stars."""
    return sentiment.label == "negative" or (item.rating is not None and item.rating <= CRITICAL_MAX_STARS)


@dataclass
class Theme:
    name: str
    polarity: Polarity
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
            "polarity": self.polarity,
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
    units: int  # distinct sentences clustered (per polarity)
    embedded_units: int  # of them, embedded (the others joined a theme by their keywords)
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
            "embedded_units": self.embedded_units,
            "themes": [t.as_dict() for t in self.themes],
        }


@dataclass
class _Units:
    texts: list[str] = field(default_factory=list)  # one representative sentence per unit
    weights: list[float] = field(default_factory=list)
    owners: list[list[int]] = field(default_factory=list)  # item indexes that contain the unit
    negative: list[bool] = field(default_factory=list)  # the sentence's own sentiment is negative
    index: dict[str, int] = field(default_factory=dict)

    def add(self, sentence: str, item_index: int, negative: bool) -> None:
        key = unit_key(sentence)
        position = self.index.get(key)
        if position is None:
            position = self.index[key] = len(self.texts)
            self.texts.append(sentence)
            self.weights.append(0.0)
            self.owners.append([])
            self.negative.append(negative)
        self.weights[position] += 1.0
        if not self.owners[position] or self.owners[position][-1] != item_index:
            self.owners[position].append(item_index)


def _split_by_polarity(
    items: Sequence[FeedbackItem],
    sentiments: Sequence[Sentiment],
    sentence_sentiment: SentenceSentiment,
) -> dict[Polarity, _Units]:
    sentences = [split_sentences(item.text) for item in items]
    distinct = list(dict.fromkeys(s for group in sentences for s in group))
    report(f"sentiment of {len(distinct):,} sentences", 0, len(distinct))
    judged = dict(zip(distinct, sentence_sentiment(distinct), strict=True))
    pools: dict[Polarity, _Units] = {"complaint": _Units(), "praise": _Units()}
    for item_index, (item, group) in enumerate(zip(items, sentences, strict=True)):
        critical = is_critical(item, sentiments[item_index])
        for sentence in group:
            own = judged[sentence]
            complaint = own.score <= -PRAISE_MIN_SCORE if not critical else own.score < PRAISE_MIN_SCORE
            pools["complaint" if complaint else "praise"].add(sentence, item_index, own.label == "negative")
    return pools


def _keyword_vectors(texts: Sequence[str], seed: int) -> npt.NDArray[np.float64]:
    """TF-IDF of words and word pairs, reduced to its main directions (latent semantic analysis), unit length.

    k-means on raw TF-IDF tends to make one giant theme of everything; on the reduced vectors it finds themes
    of comparable size, as with embeddings.
    """
    from sklearn.decomposition import TruncatedSVD  # type: ignore[import-untyped]

    try:
        tfidf = _tfidf(texts)
    except ValueError:  # nothing but stop words
        return np.zeros((len(texts), 1))
    dimensions = min(LSA_DIMENSIONS, tfidf.shape[1] - 1, len(texts) - 1)
    if dimensions < 2:
        return np.asarray(tfidf.todense(), dtype=np.float64)
    reduced = TruncatedSVD(n_components=dimensions, random_state=seed).fit_transform(tfidf)
    norms = np.linalg.norm(reduced, axis=1, keepdims=True)
    return np.asarray(reduced / np.where(norms > 0, norms, 1.0), dtype=np.float64)


def _tfidf(texts: Sequence[str]) -> sp.csr_matrix:
    from sklearn.feature_extraction.text import TfidfVectorizer  # type: ignore[import-untyped]

    vectorizer = TfidfVectorizer(
        stop_words="english",
        ngram_range=(1, 2),
        min_df=2 if len(texts) >= 50 else 1,
        sublinear_tf=True,
        token_pattern=PHRASE_TOKEN_PATTERN,
    )
    return sp.csr_matrix(vectorizer.fit_transform(texts))


def _kmeans(vectors: Any, k: int, seed: int) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    from sklearn.cluster import KMeans, MiniBatchKMeans  # type: ignore[import-untyped]

    if len(vectors) >= MINI_BATCH_FROM:
        model = MiniBatchKMeans(
            n_clusters=k, n_init=KMEANS_RESTARTS, batch_size=MINI_BATCH_SIZE, random_state=seed
        ).fit(vectors)
    else:
        model = KMeans(n_clusters=k, n_init=KMEANS_RESTARTS, random_state=seed).fit(vectors)
    return np.asarray(model.labels_, dtype=np.int64), np.asarray(model.cluster_centers_, dtype=np.float64)


def _distinct_rows(vectors: npt.NDArray[np.float64]) -> int:
    return len(np.unique(np.round(vectors, 6), axis=0))


@dataclass
class _Clusters:
    labels: npt.NDArray[np.int64]  # per unit
    closeness: npt.NDArray[np.float64]  # per unit: cosine to its centre, or to its theme's keyword centroid
    quotable: npt.NDArray[np.bool_]  # units whose closeness is a cosine to the centre (embedded or keyword units)
    k: int
    embedded: int


def _embedding_sample(units: _Units, seed: int) -> npt.NDArray[np.int64]:
    if len(units.texts) <= EMBEDDING_BUDGET:
        return np.arange(len(units.texts))
    weights = np.asarray(units.weights)
    chosen = np.random.default_rng(seed).choice(
        len(units.texts), size=EMBEDDING_BUDGET, replace=False, p=weights / weights.sum()
    )
    return np.sort(chosen)


def _propagate(
    texts: Sequence[str], sample: npt.NDArray[np.int64], sample_labels: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """Theme labels and confidences for every unit: the theme whose embedded members' mean TF-IDF vector is
    nearest (cosine), a nearest-centroid classifier — one sparse product, so it takes a second for 100,000."""
    try:
        features = _tfidf(texts)  # rows of unit length
    except ValueError:
        features = None
    if features is None or len(set(sample_labels.tolist())) < 2:
        return np.full(len(texts), int(sample_labels[0]), dtype=np.int64), np.ones(len(texts))
    k = int(sample_labels.max()) + 1
    membership = sp.csr_matrix((np.ones(len(sample)), (sample_labels, np.arange(len(sample)))), shape=(k, len(sample)))
    centroids = np.asarray((membership @ features[sample]).todense(), dtype=np.float64)
    norms = np.linalg.norm(centroids, axis=1, keepdims=True)
    centroids /= np.where(norms > 0, norms, 1.0)
    similarity = np.asarray(features @ centroids.T, dtype=np.float64)
    best = np.argmax(similarity, axis=1)
    return best.astype(np.int64), similarity[np.arange(len(texts)), best]


def _cluster_units(units: _Units, n_themes: int, seed: int, encoder: CachedEncoder | None, label: str) -> _Clusters:
    if encoder is not None:
        sample = _embedding_sample(units, seed)
        vectors = encoder.encode([units.texts[i] for i in sample])
        k = min(n_themes, _distinct_rows(vectors))
        report(f"grouping {len(units.texts):,} {label} sentences", 0, 1)
        sample_labels, centres = _kmeans(vectors, k, seed)
        cosine = np.einsum("ij,ij->i", vectors, centres[sample_labels])
        labels, closeness = sample_labels, cosine
        quotable = np.ones(len(units.texts), dtype=bool)
        if len(sample) < len(units.texts):
            labels, closeness = _propagate(units.texts, sample, sample_labels)
            labels[sample], closeness[sample] = sample_labels, cosine
            quotable = np.zeros(len(units.texts), dtype=bool)
            quotable[sample] = True
        return _Clusters(labels, closeness, quotable, k, len(sample))
    report(f"grouping {len(units.texts):,} {label} sentences by keywords", 0, 1)
    keyword_vectors = _keyword_vectors(units.texts, seed)
    k = min(n_themes, _distinct_rows(keyword_vectors))
    labels, centres = _kmeans(keyword_vectors, k, seed)
    closeness = np.einsum("ij,ij->i", keyword_vectors, centres[labels])
    return _Clusters(labels, closeness, np.ones(len(units.texts), dtype=bool), k, 0)


def _class_tfidf(texts: Sequence[str], labels: npt.NDArray[np.int64], k: int) -> tuple[Any, npt.NDArray[np.str_]]:
    """Class-based TF-IDF scores (themes × phrases) and the phrases, as in BERTopic (Grootendorst 2022): a
    phrase's share of the theme's words × log(1 + average words per theme / the phrase's count in all themes)."""
    from sklearn.feature_extraction.text import CountVectorizer

    # Stop words stay in while pairs are formed, so a pair is two words that stand side by side in a sentence
    # ("similar shops", not "compared similar" from "compared with similar"); phrases with one are left out later.
    counter = CountVectorizer(ngram_range=(1, 2), token_pattern=PHRASE_TOKEN_PATTERN)
    try:
        counts = sp.csr_matrix(counter.fit_transform(texts), dtype=np.float64)
    except ValueError:
        return np.zeros((k, 0)), np.array([], dtype=str)
    membership = sp.csr_matrix((np.ones(len(labels)), (labels, np.arange(len(labels)))), shape=(k, len(labels)))
    per_theme = np.asarray((membership @ counts).todense(), dtype=np.float64)
    words_per_theme = per_theme.sum(axis=1, keepdims=True)
    term_frequency = per_theme / np.where(words_per_theme > 0, words_per_theme, 1.0)
    average_words = per_theme.sum() / k
    in_all_themes = per_theme.sum(axis=0)
    idf = np.log(1.0 + average_words / np.where(in_all_themes > 0, in_all_themes, 1.0))
    return term_frequency * idf, np.asarray(counter.get_feature_names_out(), dtype=str)


def _phrases(scores: npt.NDArray[np.float64], terms: npt.NDArray[np.str_], limit: int) -> list[str]:
    """Top phrases without sentiment or filler words, skipping a word already inside a chosen pair and a pair
    whose words are both chosen."""
    excluded = excluded_words()
    chosen: list[str] = []
    for position in np.argsort(-scores, kind="stable"):
        if scores[position] <= 0 or len(chosen) >= limit:
            break
        term = str(terms[position])
        parts = term.split()
        if any(p in excluded for p in parts) or len(set(parts)) < len(parts):
            continue
        if len(parts) == 1 and any(term in c.split() for c in chosen):
            continue
        if len(parts) == 2 and all(p in chosen for p in parts):
            chosen = [c for c in chosen if c not in parts]
        chosen.append(term)
    return chosen[:limit]


def _core(members: npt.NDArray[np.int64], clusters: _Clusters, limit: int) -> npt.NDArray[np.int64]:
    """The ``limit`` members nearest the theme's centre (cosine first, then the classifier's confidence)."""
    order = np.lexsort((members, -clusters.closeness[members], ~clusters.quotable[members]))
    return members[order[:limit]]


def _quotes(units: _Units, core: npt.NDArray[np.int64], clusters: _Clusters, polarity: Polarity) -> list[str]:
    quotes: list[str] = []
    for unit in core:
        if not clusters.quotable[unit] or units.negative[unit] != (polarity == "complaint"):
            continue
        text = quote(units.texts[unit])
        if text not in quotes:
            quotes.append(text)
        if len(quotes) >= QUOTES_PER_THEME:
            break
    return quotes


def _names(
    units: _Units,
    cores: list[npt.NDArray[np.int64]],
    polarity: Polarity,
    seed: int,
    phrase_scores: tuple[Any, npt.NDArray[np.str_]],
) -> list[str]:
    """One name per theme (largest first gets its first choice), unique within the polarity."""
    weights = np.asarray(units.weights)
    shares = [common_theme_shares([units.texts[i] for i in core], weights[core]) for core in cores]
    sizes = np.asarray([float(weights[core].sum()) for core in cores])
    scores, terms = phrase_scores
    taken: set[str] = set()
    names = [""] * len(cores)
    for theme in sorted(range(len(cores)), key=lambda t: -float(weights[cores[t]].sum())):
        others = [t for t in range(len(cores)) if t != theme]
        # how often the theme's words come up in the other themes of the polarity (in all of them, if alone)
        background = np.average([shares[t] for t in others], axis=0, weights=sizes[others]) if others else shares[theme]
        candidates = common_theme_candidates(shares[theme], background, polarity)
        free = [n for n in candidates if n not in taken]
        phrase = phrase_name(scores[theme], terms, taken) if len(terms) else None
        if free:
            name: str | None = free[0]
        elif candidates and phrase is not None:  # a second theme of a common kind: say what sets it apart
            name = f"{candidates[0]}: {phrase.lower()}"
        else:  # a phrase made of a common theme's words takes that theme's name when it is free
            named_by = common_theme_named_by(phrase, polarity) if phrase is not None else None
            name = named_by if named_by is not None and named_by not in taken else phrase
        if name is None:
            general = "General complaints" if polarity == "complaint" else "General praise"
            name, suffix = general, 2
            while name in taken:
                name, suffix = f"{general} ({suffix})", suffix + 1
        taken.add(name)
        names[theme] = name
    return names


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


def _pool_themes(
    items: Sequence[FeedbackItem],
    sentiments: Sequence[Sentiment],
    units: _Units,
    polarity: Polarity,
    clusters: _Clusters,
    spend: Mapping[str, Decimal],
    seed: int,
) -> list[Theme]:
    members_of = [np.flatnonzero(clusters.labels == c) for c in range(clusters.k)]
    members_of = [m for m in members_of if len(m)]
    cores = [_core(members, clusters, NAMING_SAMPLE) for members in members_of]
    core_labels = np.repeat(np.arange(len(cores)), [len(c) for c in cores])
    scores, terms = _class_tfidf([units.texts[i] for core in cores for i in core], core_labels, len(cores))
    names = _names(units, cores, polarity, seed, (scores, terms))
    themes = []
    for number, members in enumerate(members_of):
        theme_items = sorted({owner for m in members for owner in units.owners[m]})
        negative = [i for i in theme_items if sentiments[i].label == "negative"]
        customers = {key for i in theme_items if (key := items[i].customer_key)}
        themes.append(
            Theme(
                name=names[number],
                polarity=polarity,
                phrases=_phrases(scores[number], terms, LISTED_PHRASES) if len(terms) else [],
                texts=len(theme_items),
                negative_share=round(len(negative) / len(theme_items), 4),
                customers=len(customers),
                value_at_risk=total_spend(spend, customers) if polarity == "complaint" else 0.0,
                quotes=_quotes(units, _core(members, clusters, len(members)), clusters, polarity),
                growth=_growth(items, set(theme_items)),
                item_indexes=theme_items,
            )
        )
    return sorted(themes, key=lambda t: (-t.texts, t.name))


def mine_themes(
    items: Sequence[FeedbackItem],
    sentiments: Sequence[Sentiment],
    *,
    n_themes: int = DEFAULT_THEMES,
    seed: int = 0,
    method: ThemeMethod = "auto",
    encoder: SentenceEncoder | None = None,
    spend: Mapping[str, Decimal] | None = None,
    sentence_sentiment: SentenceSentiment | None = None,
) -> ThemeResult:
    """Complaint themes, then praise themes, of ``items`` (with their ``sentiments``), each largest first.

    ``n_themes`` is the number of themes of each polarity. ``method="auto"`` uses sentence embeddings when torch
    is installed and keywords otherwise; ``encoder`` replaces the MiniLM encoder (a :class:`CachedEncoder` keeps
    its vectors between runs). ``spend`` maps customer keys to the spend counted as value at risk.
    ``sentence_sentiment`` judges single sentences (by default with the default sentiment method). Progress goes
    to the reporter of :func:`shoplens.voice.reporting_progress`.
    """
    if n_themes < 1:
        raise InputError(f"the number of themes must be at least 1, got {n_themes}")
    if len(sentiments) != len(items):
        raise ValueError("one sentiment per feedback item")
    if method != "keywords" and encoder is None:
        encoder = load_sentence_encoder()
        if encoder is None and method == "embeddings":
            raise InputError("sentence embeddings need torch: pip install 'shoplens[embeddings]', or use keywords")
    cached: CachedEncoder | None = None
    if method != "keywords" and encoder is not None:
        cached = encoder if isinstance(encoder, CachedEncoder) else CachedEncoder(encoder)
    judge = sentence_sentiment or (lambda texts: analyse_sentiment(texts, DEFAULT_SENTIMENT_METHOD))
    pools = _split_by_polarity(items, sentiments, judge)
    themes: list[Theme] = []
    embedded = 0
    for polarity in POLARITIES:
        units = pools[polarity]
        if not units.texts:
            continue
        clusters = _cluster_units(units, n_themes, seed, cached, polarity)
        embedded += clusters.embedded
        report(f"naming {polarity} themes", 0, 1)
        themes.extend(_pool_themes(items, sentiments, units, polarity, clusters, spend or {}, seed))
    covered = {i for theme in themes for i in theme.item_indexes}
    return ThemeResult(
        method="embeddings" if cached else "keywords",
        themes=themes,
        texts=len(items),
        texts_with_theme=len(covered),
        units=sum(len(pool.texts) for pool in pools.values()),
        embedded_units=embedded,
        seed=seed,
        encoder=cached.name if cached else None,
    )
