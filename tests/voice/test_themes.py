"""Themes: hand-checkable counts and value at risk, recognisable themes on real and demo reviews, the keyword
fallback without torch, and the same themes for the same seed."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pytest

from shoplens.ingest.demo import REVIEW_THEMES
from shoplens.voice import (
    CachedEncoder,
    FeedbackItem,
    Sentiment,
    ThemeResult,
    analyse_sentiment,
    load_sentence_encoder,
    mine_themes,
)
from shoplens.voice._naming import COMMON_THEMES, sentiment_words
from shoplens.voice._text import split_sentences

TOPICS = ("late", "size", "box")
REAL_SAMPLE = 1000
CURATED_NAMES = {c.complaint for c in COMMON_THEMES} | {c.praise for c in COMMON_THEMES}
# The names the demo's complaint groups should get: written from the clothing reviews, never tuned on the demo.
DEMO_NAMES = {
    "late delivery": {"Late delivery"},
    "sizing": {"Runs small", "Runs large", "Inconsistent sizing"},
    "packaging": {"Damaged on arrival"},
    "price": {"Too expensive", "Poor quality"},  # "The quality does not justify the price." speaks of both
}


class TopicEncoder:
    """A stand-in encoder: one dimension per topic word, so the right grouping is known by construction."""

    name = "topic-words"

    def encode(self, texts: Sequence[str]) -> npt.NDArray[np.float64]:
        return np.array([[float(topic in t.lower()) for topic in TOPICS] for t in texts])


def _day(n: int) -> datetime:
    return datetime(2024, 1, 1) + timedelta(days=n)


def test_counts_negative_share_value_at_risk_and_growth_by_hand() -> None:
    items = [
        FeedbackItem("1", "The parcel arrived late again. The size runs far too small.", "A", _day(100), 2),
        FeedbackItem("2", "My parcel arrived very late.", "B", _day(10), 1),
        FeedbackItem("3", "The box was crushed on arrival.", "C", _day(100), 1),
        FeedbackItem("4", "The size chart was spot on.", "A", _day(95), 5),
        FeedbackItem("5", "Crushed box and a scratched lid.", None, _day(20), 2),
    ]
    negative, positive = Sentiment("negative", -0.8), Sentiment("positive", 0.7)
    sentiments = [negative, negative, negative, positive, negative]

    def by_hand(sentences: Sequence[str]) -> list[Sentiment]:  # every sentence is as its text
        return [positive if "spot on" in s else negative for s in sentences]

    result = mine_themes(
        items,
        sentiments,
        n_themes=3,
        encoder=TopicEncoder(),
        method="embeddings",
        spend={"A": 100, "B": 50, "C": 30},
        sentence_sentiment=by_hand,
    )
    # complaints: 5 sentences of items 1, 2, 3 and 5; praise: the one sentence of item 4
    assert (result.method, result.encoder, result.texts, result.units) == ("embeddings", "topic-words", 5, 6)
    by_topic = {
        (theme.polarity, next(t for t in TOPICS if t in theme.quotes[0].lower())): theme
        for theme in result.themes
        if theme.quotes
    }
    # late: items 1 and 2, customers A and B; size: item 1, customer A; box: items 3 and 5, customer C (item 5 is
    # anonymous). The praise theme holds item 4 only: no value at risk.
    assert {t: (th.texts, th.negative_share, th.customers, th.value_at_risk) for t, th in by_topic.items()} == {
        ("complaint", "late"): (2, 1.0, 2, 150.0),
        ("complaint", "size"): (1, 1.0, 1, 100.0),
        ("complaint", "box"): (2, 1.0, 1, 30.0),
        ("praise", "size"): (1, 0.0, 1, 0.0),
    }
    # Growth: the last 90 days (after day 10) hold items 1, 3, 4, 5; the 90 days before hold item 2.
    # late: 1 of 4 recently against 1 of 1 before, so -75 %; the others had no share before, so no growth.
    assert {t: th.growth for t, th in by_topic.items()} == {
        ("complaint", "late"): -0.75,
        ("complaint", "size"): None,
        ("complaint", "box"): None,
        ("praise", "size"): None,
    }
    assert by_topic["complaint", "late"].name == "Late delivery"
    assert by_topic["complaint", "size"].name == "Runs small"
    assert by_topic["complaint", "box"].name == "Damaged on arrival"
    assert [t.polarity for t in result.themes] == ["complaint"] * 3 + ["praise"]


def test_quotes_never_show_contact_details() -> None:
    items = [
        FeedbackItem("1", "Call me on +44 20 7946 0958 about the late parcel."),
        FeedbackItem("2", "Write to jane.doe@example.com about the late parcel."),
    ]
    result = mine_themes(items, analyse_sentiment([i.text for i in items]), n_themes=1, method="keywords")
    quotes = " ".join(result.themes[0].quotes)
    assert "[phone]" in quotes
    assert "[e-mail]" in quotes
    assert "7946" not in quotes
    assert "example.com" not in quotes


def _blocks_torch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` now raises ImportError
    load_sentence_encoder.cache_clear()


@pytest.fixture
def without_torch(monkeypatch: pytest.MonkeyPatch) -> Any:
    _blocks_torch(monkeypatch)
    yield
    load_sentence_encoder.cache_clear()


def _first_quote_groups(themes: list[dict[str, Any]]) -> set[str]:
    """The demo generator's complaint groups that open some theme's quotes."""
    return {
        group
        for theme in themes
        for group, lines in REVIEW_THEMES.items()
        if theme["quotes"] and theme["quotes"][0] in lines
    }


def test_keyword_fallback_without_torch_finds_the_demo_complaints(
    cli: Callable[..., Any], demo_home: Path, without_torch: Any
) -> None:
    assert load_sentence_encoder() is None
    result = cli("voice", "needs", "--json", home_dir=demo_home)
    assert result.exit_code == 0, result.stderr
    document = result.json()
    assert document["method"] == "keywords"
    assert _first_quote_groups(document["complaint_themes"]) == set(REVIEW_THEMES)
    again = cli("voice", "needs", "--json", home_dir=demo_home).json()
    assert again == document


def test_embedding_themes_find_the_demo_complaints(cli: Callable[..., Any], demo_home: Path, minilm: Any) -> None:
    result = cli("voice", "needs", "--method", "embeddings", "--json", home_dir=demo_home)
    assert result.exit_code == 0, result.stderr
    document = result.json()
    assert document["method"] == "embeddings"
    assert _first_quote_groups(document["complaint_themes"]) == set(REVIEW_THEMES)
    values = [t["value_at_risk"] for t in document["complaint_themes"]]
    assert values == sorted(values, reverse=True)
    # names on data the naming was not written from: each complaint group of the demo gets its plain name
    for theme in document["complaint_themes"]:
        groups = [g for g, lines in REVIEW_THEMES.items() if theme["quotes"] and theme["quotes"][0] in lines]
        if groups:
            # a complaint split over two themes keeps its plain name and gains what tells the two apart
            plain = theme["name"].split(": ", 1)[0]
            assert plain in DEMO_NAMES[groups[0]], (theme["name"], theme["quotes"])
    themes = cli("voice", "themes", "--seed", "3", "--json", home_dir=demo_home)
    assert themes.exit_code == 0, themes.stderr
    assert set(themes.json()["themes"][0]) >= {
        "name",
        "polarity",
        "texts",
        "negative_share",
        "customers",
        "value_at_risk",
        "quotes",
    }
    assert cli("voice", "themes", "--seed", "3", "--json", home_dir=demo_home).json() == themes.json()


def test_embeddings_do_not_depend_on_batch_order(minilm: Any) -> None:
    texts = ["The dress runs small.", "Delivery was late.", "Lovely soft fabric.", "The box was crushed."] * 5
    forward = minilm.inner.encode(texts)
    backward = minilm.inner.encode(texts[::-1])[::-1]
    assert np.allclose(forward, backward, atol=1e-6)
    assert np.array_equal(forward, minilm.inner.encode(texts))


@pytest.fixture(scope="module")
def real_sample(reviews_path: Path) -> list[FeedbackItem]:
    frame = pd.read_csv(reviews_path)
    frame = frame[frame["Review Text"].notna()].sample(REAL_SAMPLE, random_state=0)
    return [FeedbackItem(f"wecr-{i}", text) for i, text in zip(frame.index, frame["Review Text"], strict=True)]


def _names_with(themes: Sequence[Any], words: set[str]) -> list[str]:
    return [t.name for t in themes if words & set(" ".join(t.phrases).split())]


@pytest.mark.slow
def test_themes_of_real_reviews_are_recognisable_and_repeatable(real_sample: list[FeedbackItem], minilm: Any) -> None:
    sentiments = analyse_sentiment([i.text for i in real_sample])
    first = mine_themes(real_sample, sentiments, n_themes=8, seed=0, encoder=minilm)
    second = mine_themes(real_sample, sentiments, n_themes=8, seed=0, encoder=minilm)
    assert json.dumps(first.as_dict()) == json.dumps(second.as_dict())
    print(f"\n{len(real_sample)} real reviews, {first.units} sentences, {len(first.themes)} themes:")
    for theme in first.themes:
        print(f"  {theme.name} — {theme.texts} reviews, {theme.negative_share:.0%} negative")
        for quote in theme.quotes:
            print(f"      “{quote}”")
    assert first.method == "embeddings"
    assert first.texts_with_theme >= 0.95 * len(real_sample)
    assert _names_with(first.themes, {"size", "small", "large", "fit", "petite", "xs"}), "a sizing theme"
    assert _names_with(first.themes, {"fabric", "material", "soft", "quality"}), "a fabric theme"
    assert _names_with(first.themes, {"color", "colors", "colour", "blue", "white", "black"}), "a colour theme"
    sentences = {s for item in real_sample for s in item.text.split()}
    assert all(set(q.split()) <= sentences | {"…"} or q.endswith("…") for t in first.themes for q in t.quotes)


def test_cached_vectors_equal_fresh_ones_and_are_not_computed_twice(tmp_path: Path) -> None:
    texts = ["The parcel came late.", "The size is wrong.", "A crushed box.", "The parcel came late."]
    first = CachedEncoder(TopicEncoder(), tmp_path)
    vectors = first.encode(texts)
    assert (first.encoded, first.reused) == (3, 0)
    assert np.array_equal(vectors, TopicEncoder().encode(texts))
    again = CachedEncoder(TopicEncoder(), tmp_path)
    assert np.array_equal(again.encode(texts[::-1]), vectors[::-1])
    assert (again.encoded, again.reused) == (0, 3)
    (tmp_path / "topic-words.npz").write_bytes(b"not a cache")  # a damaged cache is recomputed, not trusted
    assert np.array_equal(CachedEncoder(TopicEncoder(), tmp_path).encode(texts), vectors)


@pytest.fixture(scope="module")
def real_keyword_themes(real_sample: list[FeedbackItem]) -> tuple[ThemeResult, list[Sentiment]]:
    sentiments = analyse_sentiment([i.text for i in real_sample])
    return mine_themes(real_sample, sentiments, n_themes=6, seed=0, method="keywords"), sentiments


def test_quotes_are_members_and_complaint_quotes_are_negative(
    real_sample: list[FeedbackItem], real_keyword_themes: tuple[ThemeResult, list[Sentiment]]
) -> None:
    result, _ = real_keyword_themes
    for theme in result.themes:
        own_sentences = {s for i in theme.item_indexes for s in split_sentences(real_sample[i].text)}
        whole = [q for q in theme.quotes if not q.endswith("…")]
        assert set(whole) <= own_sentences, theme.name
        labels = [s.label for s in analyse_sentiment(whole)]
        if theme.polarity == "complaint":
            assert theme.quotes, theme.name
            assert labels == ["negative"] * len(whole), theme.name
        else:
            assert "negative" not in labels, theme.name


def test_complaints_and_praise_are_mined_apart(
    real_sample: list[FeedbackItem], real_keyword_themes: tuple[ThemeResult, list[Sentiment]]
) -> None:
    result, sentiments = real_keyword_themes
    complaints = [t for t in result.themes if t.polarity == "complaint"]
    praise = [t for t in result.themes if t.polarity == "praise"]
    assert len(complaints) == len(praise) == 6
    # negative share checked by hand: the theme's texts with negative sentiment
    for theme in result.themes:
        negative = sum(sentiments[i].label == "negative" for i in theme.item_indexes)
        assert theme.negative_share == round(negative / len(theme.item_indexes), 4)
    # every complaint theme is more negative than every praise theme, and complaint texts are mostly negative
    assert min(t.negative_share for t in complaints) > max(t.negative_share for t in praise)
    complaint_texts = {i for t in complaints for i in t.item_indexes}
    critical = {i for i, (item, s) in enumerate(zip(real_sample, sentiments, strict=True)) if _critical(item, s)}
    assert complaint_texts >= critical - {i for i in critical if not split_sentences(real_sample[i].text)}
    assert sum(sentiments[i].label == "negative" for i in complaint_texts) / len(complaint_texts) > 0.5


def _critical(item: FeedbackItem, sentiment: Sentiment) -> bool:
    return sentiment.label == "negative" or (item.rating is not None and item.rating <= 3)


def test_names_say_what_a_theme_is_about(real_keyword_themes: tuple[ThemeResult, list[Sentiment]]) -> None:
    result, _ = real_keyword_themes
    names = [t.name for t in result.themes]
    print("\n" + "\n".join(f"  {t.polarity}: {t.name} — {t.texts} texts" for t in result.themes))
    for polarity in ("complaint", "praise"):
        of_polarity = [t.name for t in result.themes if t.polarity == polarity]
        assert len(set(of_polarity)) == len(of_polarity)
    feeling = sentiment_words()
    for name in names:
        if name.split(":")[0] not in CURATED_NAMES and not name.startswith("General "):
            assert not set(name.lower().split()) & feeling, name  # "bad", "great", "excellent" name nothing
    assert {"Runs small", "Runs large", "Inconsistent sizing"} & set(names), names


def test_cached_sentiments_equal_fresh_ones(tmp_path: Path) -> None:
    from shoplens.voice._sentiment import sentiment_method
    from shoplens.voice._sentiment_cache import cached_sentiment

    texts = ["Arrived broken and late.", "Lovely soft fabric.", "Arrived broken and late.", "It is a top."]
    fresh = analyse_sentiment(texts)
    assert cached_sentiment(texts, sentiment_method("tfidf-logreg"), tmp_path) == fresh
    (stored,) = tmp_path.glob("sentiment-tfidf-logreg-*.npz")
    with np.load(stored) as kept:
        assert len(kept["keys"]) == 3  # each distinct text judged once
    assert cached_sentiment(texts[::-1], sentiment_method("tfidf-logreg"), tmp_path) == fresh[::-1]


@pytest.mark.parametrize(
    ("phrase", "polarity", "name"),
    [
        ("Cheaper", "complaint", "Too expensive"),
        ("Cheaper", "praise", "Good value"),
        ("Soft fabric", "praise", "Good fabric quality"),
        ("Zebra stripes", "complaint", None),
    ],
)
def test_a_phrase_of_a_common_themes_words_takes_its_name(phrase: str, polarity: str, name: str | None) -> None:
    from shoplens.voice._naming import common_theme_named_by

    assert common_theme_named_by(phrase, polarity) == name
