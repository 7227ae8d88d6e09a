"""Sentiment of a feedback text: positive, neutral or negative, with a score from -1 to +1.

Three methods, judged on two held-out sets (see ``evaluation`` in the model file and the README):

* product reviews — the held-out split of the labelled clothing reviews (:mod:`shoplens.voice._reviews`), by the
  macro-F1 of positive/negative against the stars (4-5 positive, 1-2 negative; a "neutral" answer counts as wrong);
* service messages — the held-out part of the labelled service messages (:mod:`shoplens.voice._service`:
  delivery, support, returns, price, payment, website), by the macro-F1 over negative, neutral and positive.

* ``vader`` — VADER (Hutto & Gilbert 2014), a rule-based lexicon for short social-media text. Score: VADER's
  compound score; positive from +0.05, negative from -0.05 (the thresholds its authors recommend).
* ``tfidf-logreg`` — a multinomial logistic regression on TF-IDF word and word-pair features plus VADER's
  compound, positive and negative scores.
* ``embedding-logreg`` — a multinomial logistic regression on all-MiniLM-L6-v2 sentence embeddings
  (:mod:`shoplens.voice._embeddings`; needs the optional torch extra) together with the TF-IDF model's features.

Both regressions are trained on the training parts of both sets by ``python -m shoplens.voice.train_sentiment``
and shipped as plain numbers (no pickle) in ``voice/data/sentiment_model.json.gz``; nothing is trained when
shoplens runs. Their label is the most probable class and their score P(positive) − P(negative).

The default, ``auto``, is ``embedding-logreg`` when the embeddings extra is installed and ``tfidf-logreg``
otherwise: the embedding model scores higher on both held-out sets, and the TF-IDF model is the fallback that
needs no torch.
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
from shoplens.voice._embeddings import SentenceEncoder, load_sentence_encoder

SentimentLabel = Literal["positive", "neutral", "negative"]
CLASSES: tuple[SentimentLabel, ...] = ("negative", "neutral", "positive")
AUTO_METHOD = "auto"
SENTIMENT_METHODS = ("vader", "tfidf-logreg", "embedding-logreg")
DEFAULT_SENTIMENT_METHOD = "tfidf-logreg"  # fast everywhere; "auto" picks embeddings where installed
VADER_THRESHOLD = 0.05
MODEL_FILE = "sentiment_model.json.gz"
MODEL_FORMAT = "shoplens-sentiment-2"
VADER_FEATURES = ("compound", "pos", "neg")
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Sentiment:
    label: SentimentLabel
    score: float  # -1 (most negative) to +1 (most positive)

    def as_dict(self) -> dict[str, Any]:
        return {"label": self.label, "score": self.score}


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

    def predict(self, texts: Sequence[str]) -> tuple[FloatArray, list[SentimentLabel]]:
        scores = vader_scores(texts)[:, 0]
        labels: list[SentimentLabel] = [
            "positive" if s >= VADER_THRESHOLD else "negative" if s <= -VADER_THRESHOLD else "neutral"
            for s in np.round(scores, 4)
        ]
        return scores, labels


class _Softmax:
    """A fitted multinomial logistic regression: one weight row and one intercept per class of :data:`CLASSES`."""

    def __init__(self, part: dict[str, Any], n_features: int) -> None:
        if tuple(part["classes"]) != CLASSES:
            raise InputError(f"sentiment model file: classes must be {', '.join(CLASSES)}")
        self.coef = np.asarray(part["coef"], dtype=np.float64)
        self.intercept = np.asarray(part["intercept"], dtype=np.float64)
        if self.coef.shape != (len(CLASSES), n_features) or self.intercept.shape != (len(CLASSES),):
            raise InputError("sentiment model file: the weights do not match the features")

    def probabilities(self, features: Any) -> FloatArray:
        margins = np.asarray(features @ self.coef.T, dtype=np.float64) + self.intercept
        margins -= margins.max(axis=1, keepdims=True)
        weights = np.exp(margins)
        return np.asarray(weights / weights.sum(axis=1, keepdims=True), dtype=np.float64)


class TfidfModel:
    """TF-IDF (sublinear tf, l2-normalised) of known words and word pairs, then VADER's three scores."""

    name = "tfidf-logreg"

    def __init__(self, part: dict[str, Any]) -> None:
        self.vocabulary = tuple(str(term) for term in part["vocabulary"])
        self.idf = np.asarray(part["idf"], dtype=np.float64)
        if len(self.idf) != len(self.vocabulary):
            raise InputError("sentiment model file: vocabulary and idf lengths disagree")
        self.softmax = _Softmax(part, len(self.vocabulary) + len(VADER_FEATURES))
        low, high = part["features"]["ngram_range"]
        from sklearn.feature_extraction.text import CountVectorizer  # type: ignore[import-untyped]

        self._counter = CountVectorizer(
            vocabulary={term: i for i, term in enumerate(self.vocabulary)},
            ngram_range=(int(low), int(high)),
            strip_accents="unicode",
            lowercase=True,
            dtype=np.float64,
        )

    def features(self, texts: Sequence[str]) -> sp.csr_matrix:
        counts = sp.csr_matrix(self._counter.transform(list(texts)), dtype=np.float64)
        counts.data = 1.0 + np.log(counts.data)  # sublinear term frequency
        weighted = counts.multiply(self.idf.reshape(1, -1)).tocsr()
        norms = np.sqrt(np.asarray(weighted.multiply(weighted).sum(axis=1)).ravel())
        normalised = sp.diags(1.0 / np.where(norms > 0, norms, 1.0)) @ weighted
        return sp.hstack([normalised, sp.csr_matrix(vader_scores(texts))], format="csr")

    def probabilities(self, texts: Sequence[str]) -> FloatArray:
        return self.softmax.probabilities(self.features(texts))


class EmbeddingModel:
    """The sentence embedding of the text (384 numbers, unit length), then the TF-IDF model's features: on the
    training texts the two together beat either alone in cross-validation."""

    name = "embedding-logreg"

    def __init__(self, part: dict[str, Any], encoder: SentenceEncoder, words: TfidfModel) -> None:
        if part["encoder"] != encoder.name:
            raise InputError(f"sentiment model file: trained on {part['encoder']} embeddings, not {encoder.name}")
        self.encoder = encoder
        self.words = words
        self.dimensions = int(part["dimensions"])
        self.softmax = _Softmax(part, self.dimensions + len(words.vocabulary) + len(VADER_FEATURES))

    def features(self, texts: Sequence[str]) -> sp.csr_matrix:
        vectors = self.encoder.encode(texts).reshape(-1, self.dimensions)
        return sp.hstack([sp.csr_matrix(vectors), self.words.features(texts)], format="csr")

    def probabilities(self, texts: Sequence[str]) -> FloatArray:
        return self.softmax.probabilities(self.features(texts))


@cache
def shipped_sentiment_models() -> dict[str, Any]:
    """The shipped model file: both regressions, what they were trained on and how they scored."""
    with resources.files("shoplens.voice").joinpath("data", MODEL_FILE).open("rb") as handle:
        document: dict[str, Any] = json.loads(gzip.decompress(handle.read()))
    if document.get("format") != MODEL_FORMAT:
        raise InputError(f"not a {MODEL_FORMAT} sentiment model file")
    return document


@cache
def shipped_review_model() -> TfidfModel:
    """The shipped TF-IDF regression (it needs no torch)."""
    return TfidfModel(shipped_sentiment_models()["models"]["tfidf-logreg"])


class ModelMethod:
    """A regression as a sentiment method: the most probable class, score P(positive) − P(negative)."""

    def __init__(self, model: TfidfModel | EmbeddingModel) -> None:
        self.model = model
        self.name = model.name

    def predict(self, texts: Sequence[str]) -> tuple[FloatArray, list[SentimentLabel]]:
        probabilities = self.model.probabilities(texts)
        scores = probabilities[:, CLASSES.index("positive")] - probabilities[:, CLASSES.index("negative")]
        return scores, [CLASSES[i] for i in probabilities.argmax(axis=1)]


SentimentMethod = VaderMethod | ModelMethod


def _embedding_method() -> ModelMethod | None:
    encoder = load_sentence_encoder()
    if encoder is None:
        return None
    part = shipped_sentiment_models()["models"]["embedding-logreg"]
    return ModelMethod(EmbeddingModel(part, encoder, shipped_review_model()))


def sentiment_method(name: str = DEFAULT_SENTIMENT_METHOD) -> SentimentMethod:
    """The named method; ``auto`` is ``embedding-logreg`` when torch is installed, else ``tfidf-logreg``."""
    if name == "vader":
        return VaderMethod()
    if name == "tfidf-logreg":
        return ModelMethod(shipped_review_model())
    if name in {"embedding-logreg", AUTO_METHOD}:
        method = _embedding_method()
        if method is not None:
            return method
        if name == AUTO_METHOD:
            return ModelMethod(shipped_review_model())
        raise InputError(
            "sentiment method 'embedding-logreg' needs sentence embeddings: pip install 'shoplens[embeddings]'"
        )
    choices = ", ".join((AUTO_METHOD, *SENTIMENT_METHODS))
    raise InputError(f"unknown sentiment method {name!r}; choose one of: {choices}")


def analyse_sentiment(texts: Sequence[str], method: str = DEFAULT_SENTIMENT_METHOD) -> list[Sentiment]:
    """The sentiment of each text by the named method (an empty text is neutral with score 0)."""
    return analyse_sentiment_with(texts, sentiment_method(method))


def analyse_sentiment_with(texts: Sequence[str], method: SentimentMethod) -> list[Sentiment]:
    if not texts:
        return []
    scores, labels = method.predict(texts)
    results = []
    for text, score, label in zip(texts, scores, labels, strict=True):
        if text.strip() and math.isfinite(score):
            results.append(Sentiment(label, round(float(score), 4)))
        else:
            results.append(Sentiment("neutral", 0.0))
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
