"""The question linter scored on a labelled set written before its rules (tests/voice/data/question_set.csv).

The set and its guidance are described in ``tests/voice/data/QUESTION_SET.md``. It is split with a fixed seed into a
development half, which the rules were written against, and a held-out half, which was only scored. Precision and
recall count a question as flagged when the linter reports any problem, and compare that with the label alone.
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections import Counter
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from shoplens import voice
from shoplens.voice import RULE_NAMES

# These tests are of the rules: the learned second opinion (scored in test_question_sets_scored.py) stays out.
lint_question = partial(voice.lint_question, learned=False)

QUESTION_SET = Path(__file__).parent / "data" / "question_set.csv"
# Written after the rules; scored with every labelled set in test_question_sets_scored.py, which records its runs.
FRESH_BATCH = Path(__file__).parent / "data" / "question_set_fresh.csv"
SPLIT_SEED = 2026
TARGET = 0.9
# Each error kind of the set, and the linter rules that name it (see the table in ``shoplens.voice._lint``).
KIND_RULES = {
    "unanswerable": {"recall", "unknowable", "hypothetical", "dont-know"},
    "vague": {"vague", "jargon"},
    "leading": {"leading", "assumption", "unbalanced-scale"},
    "product-centric": {"product-centric", "sales-pitch"},
    "my-company": {"my-company"},
    "competitor": {"competitor"},
    "debating-choice": {"debating-choice"},
    "double-barrelled": {"double-barrelled"},
}
KINDS = tuple(KIND_RULES)


@dataclass(frozen=True)
class Labelled:
    id: str
    flawed: bool
    kind: str
    question: str


def load_question_set(path: Path = QUESTION_SET) -> list[Labelled]:
    with path.open(newline="", encoding="utf-8") as handle:
        return [
            Labelled(row["id"], row["label"] == "flawed", row["kind"], row["question"])
            for row in csv.DictReader(handle)
        ]


def split(rows: list[Labelled], seed: int = SPLIT_SEED) -> tuple[list[Labelled], list[Labelled]]:
    """(development, held-out): kind by kind, rows ordered by a seeded hash of their id, dealt alternately."""
    dealt = [
        row
        for kind in sorted({r.kind for r in rows})
        for row in sorted(
            (r for r in rows if r.kind == kind), key=lambda r: hashlib.sha256(f"{seed}:{r.id}".encode()).hexdigest()
        )
    ]
    return dealt[0::2], dealt[1::2]


@dataclass(frozen=True)
class Score:
    questions: int
    true_positives: int
    flagged: int
    flawed: int

    @property
    def precision(self) -> float:
        return self.true_positives / self.flagged

    @property
    def recall(self) -> float:
        return self.true_positives / self.flawed


def score(rows: list[Labelled]) -> Score:
    flagged = [not lint_question(r.question).ok for r in rows]
    return Score(
        questions=len(rows),
        true_positives=sum(f and r.flawed for f, r in zip(flagged, rows, strict=True)),
        flagged=sum(flagged),
        flawed=sum(r.flawed for r in rows),
    )


def recall_by_kind(rows: list[Labelled]) -> dict[str, tuple[int, int]]:
    """kind → (flagged, questions of that kind)."""
    found: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for row in rows:
        if row.flawed:
            total[row.kind] += 1
            found[row.kind] += not lint_question(row.question).ok
    return {kind: (found[kind], total[kind]) for kind in KINDS}


def test_the_set_is_large_labelled_and_split_evenly() -> None:
    rows = load_question_set()
    assert len(rows) == 201
    assert len({r.id for r in rows}) == len(rows)
    assert len({r.question.casefold() for r in rows}) == len(rows)
    assert sum(not r.flawed for r in rows) == 100
    assert all((r.kind == "") == (not r.flawed) for r in rows)
    assert {r.kind for r in rows if r.flawed} == set(KINDS)
    development, held_out = split(rows)
    assert (len(development), len(held_out)) == (101, 100)
    assert {r.id for r in development}.isdisjoint(r.id for r in held_out)
    for kind in ("", *KINDS):
        in_development = sum(r.kind == kind for r in development)
        in_held_out = sum(r.kind == kind for r in held_out)
        assert abs(in_development - in_held_out) <= 1, kind
    assert split(rows) == split(rows, SPLIT_SEED)
    assert split(rows, SPLIT_SEED + 1) != split(rows)


def test_precision_and_recall_on_the_held_out_half_and_the_whole_set() -> None:
    rows = load_question_set()
    development, held_out = split(rows)
    for name, part in (("development", development), ("held-out", held_out), ("all", rows)):
        s = score(part)
        print(
            f"\n{name}: {s.questions} questions, {s.flagged} flagged, {s.flawed} flawed, "
            f"precision {s.true_positives}/{s.flagged} = {s.precision:.3f}, "
            f"recall {s.true_positives}/{s.flawed} = {s.recall:.3f}"
        )
    for name, part in (("held-out", held_out), ("all", rows)):
        for kind, (found, total) in recall_by_kind(part).items():
            print(f"{name} recall {kind}: {found}/{total}")
    held_out_score = score(held_out)
    assert held_out_score.precision >= TARGET
    assert held_out_score.recall >= TARGET
    whole = score(rows)
    assert whole.precision >= TARGET
    assert whole.recall >= TARGET


def test_the_fresh_batch_repeats_no_question_of_the_set() -> None:
    fresh = load_question_set(FRESH_BATCH)
    assert {r.question.casefold() for r in fresh}.isdisjoint(r.question.casefold() for r in load_question_set())


def rule_agreement(rows: list[Labelled]) -> tuple[int, int]:
    """(flagged flawed questions whose problems include a rule of their kind, flagged flawed questions)."""
    flagged = [(r, {p.rule for p in lint_question(r.question).problems}) for r in rows if r.flawed]
    flagged = [(r, rules) for r, rules in flagged if rules]
    return sum(bool(rules & KIND_RULES[r.kind]) for r, rules in flagged), len(flagged)


def test_the_kinds_name_every_rule() -> None:
    assert set().union(*KIND_RULES.values()) == set(RULE_NAMES)


def test_a_flagged_question_is_flagged_for_its_kind() -> None:
    rows = load_question_set()
    _, held_out = split(rows)
    for name, part in (("held-out", held_out), ("all", rows)):
        agreeing, flagged = rule_agreement(part)
        print(f"\n{name}: {agreeing}/{flagged} flagged flawed questions name a rule of their kind")
    agreeing, flagged = rule_agreement(rows)
    assert agreeing / flagged >= TARGET


def test_a_rewrite_clears_the_problem_it_was_made_for() -> None:
    checked = 0
    for row in load_question_set():
        for problem in lint_question(row.question).problems:
            for rewrite in re.findall(r'"([^"]+)"', problem.suggestion):
                checked += 1
                assert problem.rule not in {p.rule for p in lint_question(rewrite).problems}, (row.question, rewrite)
    assert checked >= 100
