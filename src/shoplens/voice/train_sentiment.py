"""Train the shipped sentiment model on the labelled clothing reviews and record how both methods score.

    python -m shoplens.voice.train_sentiment [--reviews FILE]

run from a source checkout, reads ``datasets/reviews/womens_clothing_ecommerce_reviews.csv.gz`` of the repository
unless ``--reviews`` names another copy, and writes ``src/shoplens/voice/data/sentiment_model.json.gz``. Only the
training split is used for fitting (the split is fixed, see :mod:`shoplens.voice._reviews`); the held-out macro-F1
of both methods is written into the file.
The same data gives the same file byte for byte. shoplens itself never trains: it reads this file.

Choices: words and word pairs seen in at least 3 training reviews, the 20,000 most frequent, sublinear TF-IDF;
C = 4 and balanced class weights (1-2 star reviews are 13 % of the polar ones), picked by 5-fold cross-validation
on the training split among C ∈ {1, 4, 16} and 5,000 / 10,000 / 20,000 features.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from shoplens.voice._reviews import (
    HELD_OUT_EVERY,
    NEGATIVE_MAX_STARS,
    POSITIVE_MIN_STARS,
    LabelledReviews,
    read_labelled_reviews,
    split_reviews,
)
from shoplens.voice._sentiment import (
    MODEL_FILE,
    MODEL_FORMAT,
    SENTIMENT_METHODS,
    VADER_FEATURES,
    ReviewModel,
    ReviewModelMethod,
    VaderMethod,
    analyse_sentiment_with,
    macro_f1,
)

NGRAM_RANGE = (1, 2)
MIN_DOCUMENT_FREQUENCY = 3
MAX_FEATURES = 20_000
REGULARISATION_C = 4.0
NEUTRAL_BAND = 0.2  # |2·P(positive) − 1| below this is neutral: P(positive) between 0.4 and 0.6
SIGNIFICANT_DIGITS = 6
DEFAULT_OUT = Path(__file__).parent / "data" / MODEL_FILE
REVIEWS_FILE_NAME = "womens_clothing_ecommerce_reviews.csv.gz"
# The test datasets live beside src/ in a source checkout; an installed package has no copy of them.
DEFAULT_REVIEWS = Path(__file__).resolve().parents[3] / "datasets" / "reviews" / REVIEWS_FILE_NAME


def _rounded(values: Any) -> list[float]:
    return [float(f"{float(v):.{SIGNIFICANT_DIGITS}g}") for v in np.asarray(values).ravel()]


def train_review_model(training: LabelledReviews) -> dict[str, Any]:
    """The model document (vocabulary, idf, weights) fitted on the polar reviews of ``training``."""
    from sklearn.feature_extraction.text import TfidfVectorizer  # type: ignore[import-untyped]
    from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]

    polar = training.polar()
    vectorizer = TfidfVectorizer(
        ngram_range=NGRAM_RANGE,
        min_df=MIN_DOCUMENT_FREQUENCY,
        max_features=MAX_FEATURES,
        sublinear_tf=True,
        strip_accents="unicode",
        lowercase=True,
    ).fit(polar.text)
    terms = sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.__getitem__)
    document: dict[str, Any] = {
        "format": MODEL_FORMAT,
        "method": "tfidf-logreg",
        "features": {
            "ngram_range": list(NGRAM_RANGE),
            "tf": "1 + ln(count)",
            "norm": "l2 over the TF-IDF part",
            "strip_accents": "unicode",
            "lowercase": True,
            "vader": list(VADER_FEATURES),
        },
        "vocabulary": terms,
        "idf": _rounded(vectorizer.idf_),
        "coef": [0.0] * (len(terms) + len(VADER_FEATURES)),
        "intercept": 0.0,
        "neutral_band": NEUTRAL_BAND,
    }
    # Features are built by the same code that scores texts at run time, so training and use cannot drift apart.
    features = ReviewModel(document).features(polar.text)
    positive = (polar.stars >= POSITIVE_MIN_STARS).astype(np.int64)
    fitted = LogisticRegression(C=REGULARISATION_C, class_weight="balanced", max_iter=5000).fit(features, positive)
    document["coef"] = _rounded(fitted.coef_[0])
    document["intercept"] = _rounded(fitted.intercept_)[0]
    document["training"] = {
        "reviews": len(polar),
        "positive": int(positive.sum()),
        "negative": int(len(positive) - positive.sum()),
        "C": REGULARISATION_C,
        "class_weight": "balanced",
        "min_df": MIN_DOCUMENT_FREQUENCY,
        "max_features": MAX_FEATURES,
    }
    return document


def evaluate_methods(held_out: LabelledReviews, model: ReviewModel) -> dict[str, Any]:
    """Macro-F1 of positive/negative against the stars on the polar held-out reviews, for both methods."""
    polar = held_out.polar()
    truth = polar.polarity()
    scores = {}
    for method in (VaderMethod(), ReviewModelMethod(model)):
        predicted = [s.label for s in analyse_sentiment_with(polar.text, method)]
        scores[method.name] = round(macro_f1(truth, predicted), 4)
    assert set(scores) == set(SENTIMENT_METHODS)
    return {"held_out_reviews": len(polar), "macro_f1": scores}


def build_model_file(reviews_path: Path) -> bytes:
    reviews = read_labelled_reviews(reviews_path)
    training, held_out = split_reviews(reviews)
    document = train_review_model(training)
    document["dataset"] = {
        "name": "Women's E-Commerce Clothing Reviews (Nick Brooks, Kaggle 2018, CC0)",
        "file": reviews_path.name,
        "sha256": hashlib.sha256(reviews_path.read_bytes()).hexdigest(),
        "split": (
            f"held out: original row index divisible by {HELD_OUT_EVERY} (texts also in training excluded); "
            f"positive = {POSITIVE_MIN_STARS}-5 stars, negative = 1-{NEGATIVE_MAX_STARS} stars, 3 stars unused"
        ),
    }
    document["evaluation"] = evaluate_methods(held_out, ReviewModel(document))
    text = json.dumps(document, separators=(",", ":"), ensure_ascii=False, sort_keys=True)
    return gzip.compress(text.encode(), compresslevel=9, mtime=0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m shoplens.voice.train_sentiment", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--reviews",
        type=Path,
        default=DEFAULT_REVIEWS,
        help=f"womens_clothing_ecommerce_reviews.csv(.gz) (default {DEFAULT_REVIEWS})",
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"model file to write (default {DEFAULT_OUT})")
    args = parser.parse_args(argv)
    if not args.reviews.is_file():
        parser.error(f"no reviews file at {args.reviews}")
    content = build_model_file(args.reviews)
    args.out.write_bytes(content)
    evaluation = json.loads(gzip.decompress(content))["evaluation"]
    print(json.dumps({"model": str(args.out), "bytes": len(content), **evaluation}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
