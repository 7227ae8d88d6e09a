"""A learned second opinion: a logistic regression on the sentence embedding of the question (its stem).

The rules are patterns and meet wordings they were not written for. Where they find nothing, a question whose
embedding the regression gives a probability of being flawed at or above the shipped threshold is flagged with
the rule id ``learned``; the reason names the kinds of flawed question in the labelled sets whose mean embedding
is nearest. The model (``data/lint_model.json``, written by :mod:`shoplens.voice.train_lint`) was fitted on the
labelled question sets of the test suite; its threshold was chosen by leave-one-set-out. Without torch (or the
model wheel) there is no encoder and the linter is rules only: :func:`learned_linter` returns None.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import numpy as np

from shoplens.errors import InputError
from shoplens.voice._embeddings import FloatArray, SentenceEncoder, load_sentence_encoder
from shoplens.voice._lint._problem import Problem

LEARNED_RULE = "learned"
RULES_METHOD = "rules"
COMBINED_METHOD = "rules+learned"
MODEL_FILE = "lint_model.json"
MODEL_FORMAT = "shoplens-lint-learned-1"
NEAREST_KINDS = 2  # kinds named in the reason


@cache
def shipped_lint_model() -> dict[str, Any]:
    """The shipped model file: coefficients, threshold, the kinds' mean embeddings and how it was chosen."""
    with resources.files("shoplens.voice").joinpath("data", MODEL_FILE).open("rb") as handle:
        document: dict[str, Any] = json.loads(handle.read())
    if document.get("format") != MODEL_FORMAT:
        raise InputError(f"not a {MODEL_FORMAT} lint model file")
    return document


@dataclass(frozen=True)
class LearnedLinter:
    encoder: SentenceEncoder
    coefficients: FloatArray
    intercept: float
    threshold: float
    kinds: tuple[str, ...]
    kind_means: FloatArray  # one L2-normalised mean embedding per kind of flaw, rows in the order of ``kinds``

    @classmethod
    def from_document(cls, document: dict[str, Any], encoder: SentenceEncoder) -> LearnedLinter:
        model = document["model"]
        if document["encoder"] != encoder.name:
            raise InputError(f"the lint model was fitted on {document['encoder']} embeddings, not {encoder.name}")
        kinds = tuple(model["kind_means"])
        return cls(
            encoder=encoder,
            coefficients=np.asarray(model["coefficients"], dtype=np.float64),
            intercept=float(model["intercept"]),
            threshold=float(document["threshold"]),
            kinds=kinds,
            kind_means=np.asarray([model["kind_means"][kind] for kind in kinds], dtype=np.float64),
        )

    def probabilities(self, vectors: FloatArray) -> FloatArray:
        """P(flawed) of each row of normalised embeddings."""
        return np.asarray(1.0 / (1.0 + np.exp(-(vectors @ self.coefficients + self.intercept))), dtype=np.float64)

    def problems(self, stems: Sequence[str]) -> list[Problem | None]:
        """The learned finding for each question stem, None where the regression is not confident."""
        if not stems:
            return []
        vectors = self.encoder.encode(stems)
        return [
            self._problem(vector, probability) if probability >= self.threshold else None
            for vector, probability in zip(vectors, self.probabilities(vectors), strict=True)
        ]

    def _problem(self, vector: FloatArray, probability: float) -> Problem:
        similarity = self.kind_means @ vector
        nearest = [self.kinds[i] for i in np.argsort(-similarity)[:NEAREST_KINDS]]
        return Problem(
            LEARNED_RULE,
            f"no rule matched, but it reads like the flawed questions of the labelled sets (P(flawed) "
            f"{probability:.2f}); nearest are the {' and '.join(nearest)} questions",
            "ask one thing she can answer from her own recent experience, in neutral words, e.g. "
            '"How easy was it to find the size you needed today?"',
        )


@cache
def learned_linter() -> LearnedLinter | None:
    """The shipped regression with the MiniLM encoder (loaded once per process), or None without torch."""
    encoder = load_sentence_encoder()
    if encoder is None:
        return None
    return LearnedLinter.from_document(shipped_lint_model(), encoder)
