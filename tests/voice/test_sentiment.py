"""Sentiment on two held-out sets, real clothing reviews and written service messages; every method is judged.

The reviews' held-out split is rebuilt here from the raw CSV with pandas (row index divisible by 5, texts also in
the training part left out); the service messages' held-out part is its own file. Macro-F1 is computed with
scikit-learn, independently of shoplens' own F1.

The floors below are set above what the model shipped before (trained on clothing reviews only, binary with a
neutral band) scored on the same held-out texts: reviews 0.8621 (VADER 0.6449), service messages 0.5637 (VADER
0.5826). A floor is the old figure plus a margin, not the new model's own output.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import f1_score
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from shoplens.errors import InputError
from shoplens.voice import (
    DEFAULT_SENTIMENT_METHOD,
    SENTIMENT_METHODS,
    analyse_sentiment,
    load_sentence_encoder,
    macro_f1,
    sentiment_method,
)
from shoplens.voice._sentiment import ModelMethod

HELD_OUT_POLAR_REVIEWS = 3966
HELD_OUT_SERVICE_MESSAGES = 217
OLD_MODEL = {"reviews": 0.8621, "service": 0.5637}  # the shipped TF-IDF model before service messages were added
# Floors per method and domain on the held-out texts.
# On reviews neither new model is above the old one (it was trained on reviews alone): the floors there only guard
# against a collapse. On service messages the floors are 0.15 and 0.30 above the old model.
FLOORS = {
    "tfidf-logreg": {"reviews": 0.85, "service": 0.72},
    "embedding-logreg": {"reviews": 0.79, "service": 0.87},
}
PROBES = {
    "I waited 3 weeks and support never answered my emails.": "negative",
    "Delivery took two weeks, far longer than promised.": "negative",
}
PRICE_PROBE = "Pricey compared with similar shops."  # negative or at least not positive
SERVICE_LABELS = ["negative", "neutral", "positive"]

needs_embeddings = pytest.mark.skipif(load_sentence_encoder() is None, reason="needs torch (embeddings extra)")


def _shipped_model() -> dict[str, Any]:
    raw = resources.files("shoplens.voice").joinpath("data", "sentiment_model.json.gz").read_bytes()
    document: dict[str, Any] = json.loads(gzip.decompress(raw))
    return document


@pytest.fixture(scope="module")
def held_out(reviews_path: Path) -> pd.DataFrame:
    frame = pd.read_csv(reviews_path)
    frame = frame.rename(columns={frame.columns[0]: "row"})
    frame = frame[frame["Review Text"].notna()]
    training_texts = set(frame.loc[frame["row"] % 5 != 0, "Review Text"])
    held = frame[(frame["row"] % 5 == 0) & ~frame["Review Text"].isin(training_texts)]
    polar = held[held["Rating"] != 3].copy()
    polar["truth"] = ["positive" if r >= 4 else "negative" for r in polar["Rating"]]
    return polar


@pytest.fixture(scope="module")
def service_files(datasets: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    folder = datasets / "service"
    return pd.read_csv(folder / "service_feedback_train.csv"), pd.read_csv(folder / "service_feedback_held_out.csv")


def _reviews_f1(held_out: pd.DataFrame, method: str) -> float:
    predicted = [s.label for s in analyse_sentiment(list(held_out["Review Text"]), method)]
    assert len(held_out) == HELD_OUT_POLAR_REVIEWS
    independent = float(f1_score(held_out["truth"], predicted, labels=["negative", "positive"], average="macro"))
    assert macro_f1(list(held_out["truth"]), predicted) == pytest.approx(independent, abs=1e-12)
    return independent


def _service_f1(messages: pd.DataFrame, method: str) -> float:
    predicted = [s.label for s in analyse_sentiment(list(messages["text"]), method)]
    assert len(messages) == HELD_OUT_SERVICE_MESSAGES
    independent = float(f1_score(messages["label"], predicted, labels=SERVICE_LABELS, average="macro"))
    assert macro_f1(list(messages["label"]), predicted, SERVICE_LABELS) == pytest.approx(independent, abs=1e-12)
    return independent


def test_the_service_split_is_clean(service_files: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    training, held = service_files
    assert (len(training), len(held)) == (523, HELD_OUT_SERVICE_MESSAGES)
    assert not set(training["text"]) & set(held["text"])
    assert not set(training["id"]) & set(held["id"])
    assert set(training["label"]) == set(held["label"]) == set(SERVICE_LABELS)
    assert set(held["topic"]) == {"delivery", "support", "returns", "price", "payment", "website"}
    assert not {*PROBES, PRICE_PROBE} & {*training["text"], *held["text"]}


def test_the_probes_are_not_among_the_training_reviews(reviews_path: Path) -> None:
    texts = set(pd.read_csv(reviews_path)["Review Text"].dropna())
    assert not {*PROBES, PRICE_PROBE} & texts


def test_tfidf_on_held_out_reviews(held_out: pd.DataFrame) -> None:
    figure = _reviews_f1(held_out, "tfidf-logreg")
    print(f"\ntfidf-logreg: macro-F1 {figure:.4f} on {len(held_out)} held-out reviews")
    assert figure > FLOORS["tfidf-logreg"]["reviews"]
    assert round(figure, 4) == _shipped_model()["evaluation"]["macro_f1"]["tfidf-logreg"]["reviews"]


def test_tfidf_on_held_out_service_messages(service_files: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    figure = _service_f1(service_files[1], "tfidf-logreg")
    print(f"\ntfidf-logreg: macro-F1 {figure:.4f} on the held-out service messages")
    assert figure > FLOORS["tfidf-logreg"]["service"] > OLD_MODEL["service"] + 0.15
    assert round(figure, 4) == _shipped_model()["evaluation"]["macro_f1"]["tfidf-logreg"]["service"]


def test_vader_figures_in_the_model_file(
    held_out: pd.DataFrame, service_files: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    recorded = _shipped_model()["evaluation"]["macro_f1"]["vader"]
    assert recorded == {
        "reviews": round(_reviews_f1(held_out, "vader"), 4),
        "service": round(_service_f1(service_files[1], "vader"), 4),
    }


@needs_embeddings
def test_embeddings_on_held_out_service_messages(service_files: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    figure = _service_f1(service_files[1], "embedding-logreg")
    print(f"\nembedding-logreg: macro-F1 {figure:.4f} on the held-out service messages")
    assert figure > FLOORS["embedding-logreg"]["service"] > OLD_MODEL["service"] + 0.3
    assert round(figure, 4) == _shipped_model()["evaluation"]["macro_f1"]["embedding-logreg"]["service"]


@pytest.mark.parametrize("method", ["tfidf-logreg", pytest.param("embedding-logreg", marks=needs_embeddings)])
def test_the_service_probes_are_negative(method: str) -> None:
    found = analyse_sentiment(list(PROBES), method)
    assert [s.label for s in found] == list(PROBES.values())
    assert all(s.score < -0.3 for s in found)


# The price probe. With only 15 price messages in training both models called it positive: the clothing reviews
# use "pricey" inside praise (70 of the 74 polar training reviews with it have 4-5 stars), and the few service
# messages that compared prices with other shops were neutral or positive. No weighting, C or per-domain feature
# copies changed that. 166 training price and value messages written by someone who saw neither the models nor the
# probes (datasets/SOURCES.md, section 4) did, for the TF-IDF model (the default); the embedding model still calls
# it positive, though less (+0.375 before, +0.162 now): the sentence vector alone pushes it that way.
@pytest.mark.parametrize(
    "method",
    [
        "tfidf-logreg",
        pytest.param(
            "embedding-logreg",
            marks=[needs_embeddings, pytest.mark.xfail(strict=True, reason="the sentence embedding leans positive")],
        ),
    ],
)
def test_the_price_probe_is_not_positive(method: str) -> None:
    assert analyse_sentiment([PRICE_PROBE], method)[0].label != "positive"


# Held-out price and value messages (72, written with the training ones and split at random before any fit): the
# macro-F1 of the shipped models before those training messages were added was 0.6833 (TF-IDF) and 0.8334
# (embeddings); the floors are those figures.
PRICE_FLOORS = {"tfidf-logreg": 0.6833, "embedding-logreg": 0.8334}


@pytest.mark.parametrize("method", ["tfidf-logreg", pytest.param("embedding-logreg", marks=needs_embeddings)])
def test_held_out_price_messages_score_above_the_models_without_them(
    method: str, service_files: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    _, held = service_files
    price = held[held["id"].str.startswith("prc-")]
    assert (len(price), price["topic"].unique().tolist()) == (72, ["price"])
    predicted = [s.label for s in analyse_sentiment(list(price["text"]), method)]
    figure = float(f1_score(price["label"], predicted, labels=SERVICE_LABELS, average="macro"))
    print(f"\n{method}: macro-F1 {figure:.4f} on {len(price)} held-out price messages")
    assert figure > PRICE_FLOORS[method]


def test_the_default_is_the_fast_model_and_auto_the_embedding_model_when_torch_is_installed() -> None:
    # Embedding every sentence of 20,000 reviews takes many minutes on a laptop CPU; TF-IDF takes seconds.
    assert DEFAULT_SENTIMENT_METHOD == "tfidf-logreg"
    assert sentiment_method().name == "tfidf-logreg"
    expected = "embedding-logreg" if load_sentence_encoder() is not None else "tfidf-logreg"
    assert sentiment_method("auto").name == expected


def test_without_torch_auto_falls_back_to_tfidf(monkeypatch: pytest.MonkeyPatch) -> None:
    import shoplens.voice._sentiment as module

    monkeypatch.setattr(module, "load_sentence_encoder", lambda: None)
    assert sentiment_method("auto").name == "tfidf-logreg"
    with pytest.raises(InputError) as raised:
        sentiment_method("embedding-logreg")
    assert str(raised.value) == (
        "sentiment method 'embedding-logreg' needs sentence embeddings: pip install 'shoplens[embeddings]'"
    )


def test_the_default_scores_higher_than_tfidf_in_the_model_file() -> None:
    scores = _shipped_model()["evaluation"]["macro_f1"]
    assert set(scores) == set(SENTIMENT_METHODS)
    for domain in ("reviews", "service"):
        assert scores["embedding-logreg"][domain] > scores["vader"][domain]
    assert scores["embedding-logreg"]["service"] > scores["tfidf-logreg"]["service"]


def test_voice_evaluate_reports_every_method(
    cli: Callable[..., Any], reviews_path: Path, datasets: Path, held_out: pd.DataFrame
) -> None:
    service = datasets / "service" / "service_feedback_held_out.csv"
    result = cli("voice", "evaluate", "--reviews", str(reviews_path), "--service", str(service), "--json")
    assert result.exit_code == 0, result.stderr
    document = result.json()
    recorded = _shipped_model()["evaluation"]["macro_f1"]
    available = [m for m in SENTIMENT_METHODS if m != "embedding-logreg" or load_sentence_encoder() is not None]
    assert document["held_out_reviews"] == HELD_OUT_POLAR_REVIEWS
    assert document["held_out_service_messages"] == HELD_OUT_SERVICE_MESSAGES
    assert document["macro_f1"] == {m: recorded[m]["reviews"] for m in available}
    # the embedding model's held-out reviews are scored here once (a minute or more of embedding), not again alone
    assert all(document["macro_f1"][m] > FLOORS[m]["reviews"] for m in available if m in FLOORS)
    assert document["service_macro_f1"] == {m: recorded[m]["service"] for m in available}
    mean = {m: (recorded[m]["reviews"] + recorded[m]["service"]) / 2 for m in available}
    assert document["best"] == max(mean, key=mean.__getitem__)


def test_the_required_example_is_negative(cli: Callable[..., Any]) -> None:
    result = cli("voice", "sentiment", "--text", "Arrived broken and late, very disappointed.", "--json")
    assert result.exit_code == 0, result.stderr
    document = result.json()
    assert document["label"] == "negative"
    assert -1.0 <= document["score"] <= -0.2
    assert document["method"] == sentiment_method().name


def test_vader_labels_follow_its_compound_score() -> None:
    texts = ["I love this dress!", "Terrible fit, returned it.", "The parcel came on Tuesday.", "Not bad at all."]
    analyser = SentimentIntensityAnalyzer()
    compound = [analyser.polarity_scores(t)["compound"] for t in texts]
    expected = ["positive" if c >= 0.05 else "negative" if c <= -0.05 else "neutral" for c in compound]
    results = analyse_sentiment(texts, "vader")
    assert [r.label for r in results] == expected
    assert [r.score for r in results] == [round(c, 4) for c in compound]


@pytest.mark.parametrize("method", ["vader", "tfidf-logreg", "auto"])
def test_an_empty_text_is_neutral(method: str) -> None:
    assert [s.as_dict() for s in analyse_sentiment(["", "   "], method)] == [{"label": "neutral", "score": 0.0}] * 2


def test_a_regression_score_is_p_positive_minus_p_negative() -> None:
    method = sentiment_method("tfidf-logreg")
    assert isinstance(method, ModelMethod)
    texts = ["Great value and fast delivery.", "Still no refund after a month.", "Do you ship to Spain?"]
    probabilities = method.model.probabilities(texts)  # columns: negative, neutral, positive
    found = analyse_sentiment(texts, "tfidf-logreg")
    assert probabilities.sum(axis=1) == pytest.approx([1.0] * 3)
    assert [s.score for s in found] == [round(float(p[2] - p[0]), 4) for p in probabilities]
    assert [s.label for s in found] == [SERVICE_LABELS[int(p.argmax())] for p in probabilities]


def test_unknown_method_is_bad_input(cli: Callable[..., Any]) -> None:
    result = cli("voice", "sentiment", "--text", "fine", "--method", "magic", "--json")
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "error: unknown sentiment method 'magic'; choose one of: auto, vader, tfidf-logreg, embedding-logreg"
    )


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["positive", "negative"]), st.sampled_from(["positive", "negative", "neutral"])),
        min_size=1,
        max_size=40,
    )
)
def test_macro_f1_equals_scikit_learn(pairs: list[tuple[str, str]]) -> None:
    truth, predicted = [t for t, _ in pairs], [p for _, p in pairs]
    expected = f1_score(truth, predicted, labels=["negative", "positive"], average="macro", zero_division=0)
    assert macro_f1(truth, predicted) == pytest.approx(expected, abs=1e-12)


# The shipped weights are rounded to five decimals: a last-digit move of the solver can round a weight one unit
# the other way (1.15279 against 1.15280, seen under a parallel test run), so one unit of that place is allowed.
COEF_TOLERANCE = 1.5e-5


@pytest.mark.slow
def test_the_shipped_tfidf_model_is_what_the_training_script_makes(datasets: Path) -> None:
    from shoplens.voice._reviews import read_labelled_reviews, split_reviews
    from shoplens.voice._service import read_labelled_messages
    from shoplens.voice.train_sentiment import tfidf_part, training_set

    training, _ = split_reviews(
        read_labelled_reviews(datasets / "reviews" / "womens_clothing_ecommerce_reviews.csv.gz")
    )
    messages = read_labelled_messages(datasets / "service" / "service_feedback_train.csv")
    retrained = tfidf_part(training_set(training, messages))
    shipped = _shipped_model()["models"]["tfidf-logreg"]
    # Everything but the solver's last digits is identical; L-BFGS on another BLAS or scipy build may move the
    # sixth significant digit of a few coefficients, which changes no label on the held-out texts.
    assert {k: v for k, v in retrained.items() if k not in {"coef", "intercept"}} == {
        k: v for k, v in shipped.items() if k not in {"coef", "intercept"}
    }
    for row, shipped_row in zip(retrained["coef"], shipped["coef"], strict=True):
        assert row == pytest.approx(shipped_row, abs=COEF_TOLERANCE)
    assert retrained["intercept"] == pytest.approx(shipped["intercept"], abs=COEF_TOLERANCE)
