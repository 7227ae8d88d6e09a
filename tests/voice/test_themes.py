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
from shoplens.voice import FeedbackItem, Sentiment, analyse_sentiment, load_sentence_encoder, mine_themes

TOPICS = ("late", "size", "box")
REAL_SAMPLE = 1000


class TopicEncoder:
    """A stand-in encoder: one dimension per topic word, so the right grouping is known by construction."""

    name = "topic-words"

    def encode(self, texts: Sequence[str]) -> npt.NDArray[np.float64]:
        return np.array([[float(topic in t.lower()) for topic in TOPICS] for t in texts])


def _day(n: int) -> datetime:
    return datetime(2024, 1, 1) + timedelta(days=n)


def test_counts_negative_share_value_at_risk_and_growth_by_hand() -> None:
    items = [
        FeedbackItem("1", "The parcel arrived late again. The size runs far too small.", "A", _day(100)),
        FeedbackItem("2", "My parcel arrived very late.", "B", _day(10)),
        FeedbackItem("3", "The box was crushed on arrival.", "C", _day(100)),
        FeedbackItem("4", "The size chart was spot on.", "A", _day(95)),
        FeedbackItem("5", "Crushed box and a scratched lid.", None, _day(20)),
    ]
    negative, positive = Sentiment("negative", -0.8), Sentiment("positive", 0.7)
    sentiments = [negative, negative, negative, positive, negative]
    result = mine_themes(
        items, sentiments, n_themes=3, encoder=TopicEncoder(), method="embeddings", spend={"A": 100, "B": 50, "C": 30}
    )
    assert (result.method, result.encoder, result.texts, result.units) == ("embeddings", "topic-words", 5, 6)
    by_topic = {next(t for t in TOPICS if t in theme.quotes[0].lower()): theme for theme in result.themes}
    # late: items 1 and 2, both negative, customers A and B; size: items 1 (negative) and 4 (positive), customer A
    # only, at risk through item 1; box: items 3 and 5, customer C (item 5 is anonymous).
    assert {t: (th.texts, th.negative_share, th.customers, th.value_at_risk) for t, th in by_topic.items()} == {
        "late": (2, 1.0, 2, 150.0),
        "size": (2, 0.5, 1, 100.0),
        "box": (2, 1.0, 1, 30.0),
    }
    # Growth: the last 90 days (after day 10) hold items 1, 3, 4, 5; the 90 days before hold item 2.
    # late: 1 of 4 recently against 1 of 1 before, so -75 %; size and box had no share before, so no growth.
    assert {t: th.growth for t, th in by_topic.items()} == {"late": -0.75, "size": None, "box": None}
    assert "late" in by_topic["late"].name
    assert "size" in by_topic["size"].name
    assert "box" in by_topic["box"].name


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
    return {group for theme in themes for group, lines in REVIEW_THEMES.items() if theme["quotes"][0] in lines}


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
    themes = cli("voice", "themes", "--seed", "3", "--json", home_dir=demo_home)
    assert themes.exit_code == 0, themes.stderr
    assert set(themes.json()["themes"][0]) >= {
        "name",
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
