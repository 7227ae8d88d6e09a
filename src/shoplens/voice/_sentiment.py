"""Sentiment of a feedback text: positive, neutral or negative, with a score from -1 to +1.

Two methods, judged on the held-out split of the labelled clothing reviews (:mod:`shoplens.voice._reviews`) by the
macro-F1 of positive/negative against the stars (4-5 positive, 1-2 negative; a "neutral" answer counts as wrong):

* ``vader`` — VADER (Hutto & Gilbert 2014), a rule-based lexicon for short social-media text. Score: VADER's
  compound score; positive from +0.05, negative from -0.05 (the thresholds its authors recommend).
* ``tfidf-logreg`` — a logistic regression on TF-IDF word and word-pair features plus VADER's compound, positive
  and negative scores, trained on the training split by ``python -m shoplens.voice.train_sentiment`` and shipped
  as ``voice/data/sentiment_model.json.gz`` (plain numbers, no pickle). Score: 2·P(positive) − 1; neutral when
  the score is within ±``neutral_band`` of 0. VADER's scores are among its features, so it keeps VADER's general
  knowledge of English on feedback unlike clothing reviews (delivery, service).

The default is the method with the higher held-out macro-F1 (a test holds this true). Nothing is trained when
shoplens runs; the model file says what it was trained on and how it scored.
"""

from __future__ import annotations

import gzip
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from shoplens.errors import InputError

SentimentLabel = Literal["positive", "neutral", "negative"]
SENTIMENT_METHODS = ("vader", "tfidf-logreg")
DEFAULT_SENTIMENT_METHOD = "tfidf-logreg"
VADER_THRESHOLD = 0.05
MODEL_FILE = "sentiment_model.json.gz"
MODEL_FORMAT = "shoplens-sentiment-1"
VADER_FEATURES = ("compound", "pos", "neg")
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Sentiment:
    label: SentimentLabel
    score: float  # -1 (most negative) to +1 (most positive)

    def as_dict(self) -> dict[str, Any]:
        return {"label": self.label, "score": self.score}


def _label(score: float, band: float) -> SentimentLabel:
    if score >= band:
        return "positive"
    if score <= -band:
        return "negative"
    return "neutral"


@cache
def _vader() -> Any:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer  # type: ignore[import-untyped]

    return SentimentIntensityAnalyzer()


def vader_scores(texts: Sequence[str]) -> FloatArray:
    """VADER's (compound, positive, negative) scores, one row per text."""
    analyser = _vader()
    rows = [analyser.polarity_scores(text) for text in texts]
    return np.array([[row[name] for name in VADER_FEATURES] for row in rows], dtype=np.float64).reshape(-1, 3)


class VaderMethod:
    name = "vader"

    def scores(self, texts: Sequence[str]) -> FloatArray:
        return vader_scores(texts)[:, 0]

    def label(self, score: float) -> SentimentLabel:
        return _label(score, VADER_THRESHOLD)


class ReviewModel:
    """The shipped logistic regression: TF-IDF (sublinear tf, l2-normalised) and VADER features, one weight each."""

    def __init__(self, document: dict[str, Any]) -> None:
        if document.get("format") != MODEL_FORMAT:
            raise InputError(f"not a {MODEL_FORMAT} sentiment model file")
        self.document = document  # the whole model file, with its training and evaluation notes
        self.vocabulary = tuple(str(term) for term in document["vocabulary"])
        self.idf = np.asarray(document["idf"], dtype=np.float64)
        self.coef = np.asarray(document["coef"], dtype=np.float64)  # word weights, then one per VADER feature
        self.intercept = float(document["intercept"])
        self.neutral_band = float(document["neutral_band"])
        if len(self.idf) != len(self.vocabulary) or len(self.coef) != len(self.vocabulary) + len(VADER_FEATURES):
            raise InputError("sentiment model file: vocabulary, idf and coef lengths disagree")
        low, high = document["features"]["ngram_range"]
        from sklearn.feature_extraction.text import CountVectorizer  # type: ignore[import-untyped]

        self._counter = CountVectorizer(
            vocabulary={term: i for i, term in enumerate(self.vocabulary)},
            ngram_range=(int(low), int(high)),
            strip_accents="unicode",
            lowercase=True,
            dtype=np.float64,
        )

    def features(self, texts: Sequence[str]) -> sp.csr_matrix:
        """The model's feature matrix: TF-IDF of the known words and word pairs, then VADER's scores."""
        counts = sp.csr_matrix(self._counter.transform(list(texts)), dtype=np.float64)
        counts.data = 1.0 + np.log(counts.data)  # sublinear term frequency
        weighted = counts.multiply(self.idf.reshape(1, -1)).tocsr()
        norms = np.sqrt(np.asarray(weighted.multiply(weighted).sum(axis=1)).ravel())
        normalised = sp.diags(1.0 / np.where(norms > 0, norms, 1.0)) @ weighted
        return sp.hstack([normalised, sp.csr_matrix(vader_scores(texts))], format="csr")

    def positive_probability(self, texts: Sequence[str]) -> FloatArray:
        margin = self.features(texts) @ self.coef + self.intercept
        return np.asarray(1.0 / (1.0 + np.exp(-margin)), dtype=np.float64)


@cache
def shipped_review_model() -> ReviewModel:
    with resources.files("shoplens.voice").joinpath("data", MODEL_FILE).open("rb") as handle:
        document = json.loads(gzip.decompress(handle.read()))
    return ReviewModel(document)


class ReviewModelMethod:
    name = "tfidf-logreg"

    def __init__(self, model: ReviewModel | None = None) -> None:
        self.model = model or shipped_review_model()

    def scores(self, texts: Sequence[str]) -> FloatArray:
        return 2.0 * self.model.positive_probability(texts) - 1.0

    def label(self, score: float) -> SentimentLabel:
        return _label(score, self.model.neutral_band)


def sentiment_method(name: str = DEFAULT_SENTIMENT_METHOD) -> VaderMethod | ReviewModelMethod:
    if name == "vader":
        return VaderMethod()
    if name == "tfidf-logreg":
        return ReviewModelMethod()
    raise InputError(f"unknown sentiment method {name!r}; choose one of: {', '.join(SENTIMENT_METHODS)}")


def analyse_sentiment(texts: Sequence[str], method: str = DEFAULT_SENTIMENT_METHOD) -> list[Sentiment]:
    """The sentiment of each text by the named method (an empty text is neutral with score 0)."""
    return analyse_sentiment_with(texts, sentiment_method(method))


def analyse_sentiment_with(texts: Sequence[str], method: VaderMethod | ReviewModelMethod) -> list[Sentiment]:
    if not texts:
        return []
    scores = method.scores(texts)
    results = []
    for text, score in zip(texts, scores, strict=True):
        value = round(float(score), 4) if text.strip() and math.isfinite(score) else 0.0
        results.append(Sentiment(method.label(value) if text.strip() else "neutral", value))
    return results


def macro_f1(truth: Sequence[str], predicted: Sequence[str], labels: Sequence[str] = ("negative", "positive")) -> float:
    """Mean over ``labels`` of F1 = 2·TP / (2·TP + FP + FN); a label never true nor predicted scores 0."""
    if len(truth) != len(predicted):
        raise ValueError("truth and predictions differ in length")
    scores = []
    for label in labels:
        true_positive = sum(1 for t, p in zip(truth, predicted, strict=True) if t == label and p == label)
        false_positive = sum(1 for t, p in zip(truth, predicted, strict=True) if t != label and p == label)
        false_negative = sum(1 for t, p in zip(truth, predicted, strict=True) if t == label and p != label)
        denominator = 2 * true_positive + false_positive + false_negative
        scores.append(2 * true_positive / denominator if denominator else 0.0)
    return sum(scores) / len(scores)
