"""Sentiment of many texts, remembered on disk by text hash: judging every sentence of 20,000 reviews takes a
minute of CPU, and the same texts are judged again by every view of the same feedback.

A cache file belongs to one method and one model: its name carries a fingerprint of the shipped model file (or of
the VADER version), so a retrained model never meets the answers of the old one.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from functools import cache
from importlib import metadata, resources
from pathlib import Path

import numpy as np

from shoplens.voice._sentiment import (
    MODEL_FILE,
    Sentiment,
    SentimentLabel,
    SentimentMethod,
    analyse_sentiment_with,
)

LABELS: tuple[SentimentLabel, ...] = ("negative", "neutral", "positive")


@cache
def _fingerprint(method: str) -> str:
    if method == "vader":
        return "vader-" + metadata.version("vaderSentiment")
    shipped = resources.files("shoplens.voice") / "data" / MODEL_FILE
    return f"{method}-" + hashlib.sha1(shipped.read_bytes()).hexdigest()[:16]


def cached_sentiment(texts: Sequence[str], method: SentimentMethod, directory: Path | None) -> list[Sentiment]:
    """The sentiment of ``texts`` by ``method``, judging only texts not judged before (all of them without a
    ``directory``)."""
    if directory is None:
        return analyse_sentiment_with(texts, method)
    path = directory / f"sentiment-{_fingerprint(method.name)}.npz"
    known: dict[bytes, Sentiment] = {}
    if path.is_file():
        try:
            with np.load(path) as stored:
                for key, label, score in zip(stored["keys"], stored["labels"], stored["scores"], strict=True):
                    known[bytes(key)] = Sentiment(LABELS[int(label)], float(score))
        except (OSError, ValueError, KeyError, IndexError):  # a damaged cache is rebuilt, never trusted
            known = {}
    # hex, not the raw digest: numpy's fixed-width bytes drop trailing NUL bytes, so a raw key could not be found
    hashes = [hashlib.sha1(t.encode("utf-8")).hexdigest().encode("ascii") for t in texts]
    missing = {h: t for h, t in zip(hashes, texts, strict=True) if h not in known}
    if missing:
        known.update(zip(missing, analyse_sentiment_with(list(missing.values()), method), strict=True))
        directory.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.partial.npz")
        np.savez(
            partial,
            keys=np.array(list(known), dtype="S40"),
            labels=np.array([LABELS.index(s.label) for s in known.values()], dtype=np.int8),
            scores=np.array([s.score for s in known.values()], dtype=np.float64),
        )
        partial.replace(path)
    return [known[h] for h in hashes]
