"""The question linter scored on a set written without seeing its rules (data/QUESTION_SET_INDEPENDENT.md).

A question counts as flagged when the linter reports any problem for it, whatever the rule; the label says only
whether it is sound or which kind of flaw it has. The floors below are the figures measured on the first and only
scoring run, rounded down to two decimals: the set was committed before that run and has not changed since, and
the rules were not changed for it. They document the level reached, they are not targets.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import pytest

from shoplens.voice import lint_question

QUESTIONS = Path(__file__).parent / "data" / "question_set_independent.csv"
SOUND = "sound"
FLAWED_KINDS = (
    "unanswerable",
    "vague",
    "leading",
    "product-centric",
    "my-company",
    "competitor",
    "debating-choice",
    "double-barrelled",
)

# Measured once: 46 questions flagged, 42 of them flawed (precision 42/46 = 0.913); 42 of the 60 flawed questions
# flagged (recall 0.700). The 4 sound questions flagged: the CES 2.0 agreement statement ("To what extent do you
# agree ..." as leading), a 1-5 support satisfaction question (dont-know), "How often ..." with frequency options
# (vague) and a select-all-that-apply cancellation question (double-barrelled).
PRECISION_FLOOR = 0.91
RECALL_FLOOR = 0.70
KIND_RECALL_FLOORS = {
    "unanswerable": 0.62,  # 5 / 8
    "vague": 0.71,  # 5 / 7
    "leading": 0.62,  # 5 / 8
    "product-centric": 0.85,  # 6 / 7
    "my-company": 0.71,  # 5 / 7
    "competitor": 0.12,  # 1 / 8: only "auctions like eBay", and that as hypothetical
    "debating-choice": 1.00,  # 7 / 7
    "double-barrelled": 1.00,  # 8 / 8
}


@dataclass(frozen=True)
class Scored:
    question: str
    label: str
    rules: tuple[str, ...]

    @property
    def flagged(self) -> bool:
        return bool(self.rules)

    @property
    def flawed(self) -> bool:
        return self.label != SOUND


def read_set() -> list[tuple[str, str]]:
    with QUESTIONS.open(newline="", encoding="utf-8") as handle:
        return [(row["question"], row["label"]) for row in csv.DictReader(handle)]


@pytest.fixture(scope="module")
def scored() -> list[Scored]:
    return [
        Scored(question, label, tuple(problem.rule for problem in lint_question(question).problems))
        for question, label in read_set()
    ]


def test_the_set_has_sixty_sound_and_sixty_flawed_questions_in_the_eight_kinds() -> None:
    labels = [label for _, label in read_set()]
    questions = [question for question, _ in read_set()]
    assert labels.count(SOUND) == 60
    assert len(labels) - labels.count(SOUND) == 60
    assert set(labels) == {SOUND, *FLAWED_KINDS}
    assert len(set(questions)) == len(questions)


def test_precision_of_flagged_against_flawed(scored: list[Scored]) -> None:
    flagged = [item for item in scored if item.flagged]
    true_positives = sum(item.flawed for item in flagged)
    assert flagged, "the linter flagged nothing"
    assert true_positives / len(flagged) >= PRECISION_FLOOR


def test_recall_of_flawed_questions(scored: list[Scored]) -> None:
    flawed = [item for item in scored if item.flawed]
    assert sum(item.flagged for item in flawed) / len(flawed) >= RECALL_FLOOR


@pytest.mark.parametrize("kind", FLAWED_KINDS)
def test_recall_per_kind(scored: list[Scored], kind: str) -> None:
    of_kind = [item for item in scored if item.label == kind]
    assert of_kind
    assert sum(item.flagged for item in of_kind) / len(of_kind) >= KIND_RECALL_FLOORS[kind]
