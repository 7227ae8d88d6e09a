"""The question linter scored on every labelled set of sound and flawed questions (tests/voice/data).

A question counts as flagged when the linter reports any problem for it, whatever the rule; the label says only
whether it is sound or which kind of flaw it has. Each set has one entry in ``SETS``: its file, its size, and the
floors it must keep — precision (flawed among flagged), recall (flagged among flawed) and recall per kind, written
as the counts measured. A comment on each entry records its first scoring run on questions the rules had not seen,
and whether the rules have since been tuned on it (then the floors document the level reached, not how well the
linter does on unseen questions). A new set is scored by adding one entry.

Two file layouts are read: ``question,label`` (label ``sound`` or a kind) and ``id,label,kind,…,question`` (label
``sound`` or ``flawed``, with the kind apart).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from functools import cache
from pathlib import Path

import pytest

from shoplens.voice import lint_question, lint_questions
from shoplens.voice._lint._learned import COMBINED_METHOD, learned_linter
from shoplens.voice.train_lint import read_labelled_questions

DATA = Path(__file__).parent / "data"
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


@dataclass(frozen=True)
class LabelledSet:
    file: str
    sound: int  # how many sound questions it holds
    precision: str  # "true positives/flagged", the floor
    recall: str  # "flagged flawed/flawed": the floor, and the number of flawed questions
    kinds: str  # "found/total" per kind, in the order of FLAWED_KINDS

    def kind_floors(self) -> dict[str, tuple[int, int]]:
        pairs = [tuple(int(n) for n in pair.split("/")) for pair in self.kinds.split()]
        assert len(pairs) == len(FLAWED_KINDS), self.file
        return {kind: (found, total) for kind, (found, total) in zip(FLAWED_KINDS, pairs, strict=True)}


SETS = (
    # Written with the rules, from published guidance, split into a development half the rules were written against
    # and a held-out half (test_question_set.py); never unseen as a whole. Tuned on.
    LabelledSet("question_set.csv", 100, "101/101", "101/101", "16/16 13/13 16/16 12/12 11/11 11/11 11/11 11/11"),
    # Written after the rules, committed before scoring. First unseen run: precision 23/23, recall 23/32 (missed 3
    # competitor, 2 each unanswerable, my-company, debating-choice). Tuned on since: figures after tuning.
    LabelledSet("question_set_fresh.csv", 30, "32/32", "32/32", "4/4 4/4 4/4 4/4 4/4 4/4 4/4 4/4"),
    # Written by someone who never saw the rules (QUESTION_SET_INDEPENDENT.md). First unseen run: 46 flagged, 42
    # flawed (precision 0.913), recall 42/60 = 0.700; per kind 5/8 5/7 5/8 6/7 5/7 1/8 7/7 8/8. Tuned on since:
    # figures after tuning.
    LabelledSet("question_set_independent.csv", 60, "60/60", "60/60", "8/8 7/7 8/8 7/7 7/7 8/8 7/7 8/8"),
    # A second blind set, by someone who never saw the rules (QUESTION_SET_BLIND2.md). First unseen run: 49 flagged,
    # 44 flawed (precision 44/49 = 0.898), recall 44/60 = 0.733; per kind 4/8 5/7 6/8 3/7 6/7 6/8 7/8 7/7.
    # False alarms: options written without parentheses ("1 2 3 4 5", "Yes / No / Not sure"), "the first time you
    # tried it", satisfaction with a service she had (dont-know). Tuned on since, each miss by its general form:
    # these floors are measured after tuning, 60 flagged, all flawed, and no longer measure unseen questions.
    LabelledSet("question_set_blind2.csv", 60, "60/60", "60/60", "8/8 7/7 8/8 7/7 7/7 8/8 8/8 7/7"),
    # A third blind set, by someone who never saw the rules (QUESTION_SET_BLIND3.md), committed before scoring.
    # First unseen run: 49 flagged, 47 flawed (precision 47/49 = 0.959), recall 47/60 = 0.783; per kind 5/8 6/7 8/8
    # 4/7 7/7 4/8 5/7 8/8. False alarms: Net Promoter variants ("how likely would you be to mention <shop>? 0-10",
    # "… to recommend … to another learner"). Tuned on since, each miss by its general form: these floors are
    # measured after tuning, 60 flagged, all flawed, and no longer measure unseen questions.
    LabelledSet("question_set_blind3.csv", 60, "60/60", "60/60", "8/8 7/7 8/8 7/7 7/7 8/8 7/7 8/8"),
    # A fourth blind set, by someone who never saw the rules (QUESTION_SET_BLIND4.md), committed before scoring.
    # First unseen run: 52 flagged, 50 flawed (precision 50/52 = 0.962), recall 50/60 = 0.833; per kind 6/8 7/7 7/8
    # 5/7 6/7 4/8 7/7 8/8. False alarms: a hedged count with banded options ("roughly how many times … None, 1-2,
    # 3-5, 6 or more"), what the customer would have done instead had she not found the item with the shop. Tuned on
    # since, each miss by its general form: these floors are measured after tuning, 60 flagged, all flawed, and no
    # longer measure unseen questions.
    LabelledSet("question_set_blind4.csv", 60, "60/60", "60/60", "8/8 7/7 8/8 7/7 7/7 8/8 7/7 8/8"),
    # A fifth blind set, by someone who never saw the rules (QUESTION_SET_BLIND5.md), committed before scoring and
    # first scored after the rules were tuned on the four sets above. First unseen run: 50 flagged, 47 flawed
    # (precision 47/50 = 0.940), recall 47/60 = 0.783; per kind 6/8 5/7 7/8 3/7 5/7 7/8 6/7 8/8. False alarms: an
    # unhedged 12-month count with banded options (recall), "rather than a supermarket" with frequency options (vague,
    # competitor), a 1-7 scale anchored in the wording ("how well did … match", double-barrelled). Tuned on since,
    # each miss by its general form: these floors are measured after tuning, 60 flagged, all flawed, and no longer
    # measure unseen questions.
    LabelledSet("question_set_blind5.csv", 60, "60/60", "60/60", "8/8 7/7 8/8 7/7 7/7 8/8 7/7 8/8"),
    # A sixth blind set, by someone who never saw the rules (QUESTION_SET_BLIND6.md), committed before scoring and
    # scored once, after the rules were tuned on the five sets above. First unseen run: 59 flagged, 53 flawed
    # (precision 53/59 = 0.898), recall 53/60 = 0.883; per kind 6/8 7/7 8/8 5/7 6/8 7/7 7/8 7/7. False alarms: answer
    # options taken for vagueness ("1 / 2 / 3 / 4 or more", "Black / Green / Herbal …"), "and" inside one object or
    # one situation read as two questions ("balloons and party decorations", "arrives and nobody is home", "polite
    # and careful"), a satisfaction scale without a "not used" answer (dont-know). Tuned on since, each miss by its
    # general form: these floors are measured after tuning, 61 flagged, 60 flawed (still flagged: "polite and
    # careful", two qualities of one act, which other sets label double-barrelled), and no longer measure unseen
    # questions.
    LabelledSet("question_set_blind6.csv", 60, "60/61", "60/60", "8/8 7/7 8/8 7/7 8/8 7/7 8/8 7/7"),
    # A seventh blind set, by someone who never saw the rules (QUESTION_SET_BLIND7.md), committed before scoring
    # and scored once after the rules were tuned on the sixth. First unseen run: 51 flagged, 50 flawed (precision
    # 50/51 = 0.980), recall 50/60 = 0.833. False alarm: a Customer Effort wording with a range of answers ("How much
    # effort did you personally have to put in to get your refund? (Very low effort to very high effort)"). Misses:
    # a far recall given by its date, a shop's server internals, a share of a population, redesigning a product
    # part, rating a product's innovativeness or a product "as a product", a management's direction and a CEO's
    # style, a rival's bundling or box judged against ours. Not tuned on: these floors are the unseen figures.
    LabelledSet("question_set_blind7.csv", 60, "50/51", "50/60", "5/8 7/7 8/8 4/7 6/8 5/7 8/8 7/7"),
)


@dataclass(frozen=True)
class Scored:
    question: str
    label: str
    flagged: bool

    @property
    def flawed(self) -> bool:
        return self.label != SOUND


def read_set(file: str) -> list[tuple[str, str]]:
    """(question, label) with label ``sound`` or a kind, whichever layout the file has."""
    return read_labelled_questions(DATA / file)


def _ratio(counts: str) -> Fraction:
    found, total = (int(n) for n in counts.split("/"))
    return Fraction(found, total)


@cache
def scored(labelled: LabelledSet) -> list[Scored]:
    rows = read_set(labelled.file)
    return [Scored(question, label, not lint_question(question, learned=False).ok) for question, label in rows]


@pytest.fixture(params=SETS, ids=[labelled.file.removesuffix(".csv") for labelled in SETS])
def labelled(request: pytest.FixtureRequest) -> LabelledSet:
    entry: LabelledSet = request.param
    return entry


def test_the_set_holds_the_sound_and_flawed_questions_its_entry_says(labelled: LabelledSet) -> None:
    rows = read_set(labelled.file)
    labels = [label for _, label in rows]
    questions = [question.casefold() for question, _ in rows]
    assert labels.count(SOUND) == labelled.sound
    assert len(labels) - labels.count(SOUND) == int(labelled.recall.split("/")[1])
    assert set(labels) == {SOUND, *FLAWED_KINDS}
    assert {kind: labels.count(kind) for kind in FLAWED_KINDS} == {
        kind: total for kind, (_, total) in labelled.kind_floors().items()
    }
    assert len(set(questions)) == len(questions)


def test_precision_of_flagged_against_flawed(labelled: LabelledSet) -> None:
    flagged = [item for item in scored(labelled) if item.flagged]
    true_positives = sum(item.flawed for item in flagged)
    print(f"\n{labelled.file}: precision {true_positives}/{len(flagged)}")
    assert flagged, "the linter flagged nothing"
    assert Fraction(true_positives, len(flagged)) >= _ratio(labelled.precision)


def test_recall_of_flawed_questions(labelled: LabelledSet) -> None:
    flawed = [item for item in scored(labelled) if item.flawed]
    found = sum(item.flagged for item in flawed)
    print(f"\n{labelled.file}: recall {found}/{len(flawed)}")
    assert Fraction(found, len(flawed)) >= _ratio(labelled.recall)


def test_recall_per_kind(labelled: LabelledSet) -> None:
    measured = {}
    for kind in FLAWED_KINDS:
        of_kind = [item for item in scored(labelled) if item.label == kind]
        measured[kind] = (sum(item.flagged for item in of_kind), len(of_kind))
    print(f"\n{labelled.file}: " + ", ".join(f"{kind} {found}/{total}" for kind, (found, total) in measured.items()))
    for kind, (floor, total) in labelled.kind_floors().items():
        assert measured[kind][1] == total, kind
        assert measured[kind][0] >= floor, kind


# The combined linter: a question is flagged when a rule flags it or, where no rule does and it is not a standard
# wording, when the learned second opinion (a logistic regression on the stem's sentence embedding, see
# ``shoplens.voice.train_lint``) gives P(flawed) at or above its shipped threshold. It needs torch; without it these
# tests skip, and the linter is the rules alone. The regression was fitted on every set below except the seventh
# blind one, so on those sets the floors are in-sample figures (the figures the threshold was chosen on, each set
# held out in turn, are in the model file); the rules' floors above are untouched.
COMBINED_SETS = (
    # In-sample: the regression adds 5 flags, all on sound questions.
    LabelledSet("question_set.csv", 100, "101/106", "101/101", "16/16 13/13 16/16 12/12 11/11 11/11 11/11 11/11"),
    LabelledSet("question_set_fresh.csv", 30, "32/33", "32/32", "4/4 4/4 4/4 4/4 4/4 4/4 4/4 4/4"),
    LabelledSet("question_set_independent.csv", 60, "60/62", "60/60", "8/8 7/7 8/8 7/7 7/7 8/8 7/7 8/8"),
    LabelledSet("question_set_blind2.csv", 60, "60/62", "60/60", "8/8 7/7 8/8 7/7 7/7 8/8 8/8 7/7"),
    LabelledSet("question_set_blind3.csv", 60, "60/61", "60/60", "8/8 7/7 8/8 7/7 7/7 8/8 7/7 8/8"),
    LabelledSet("question_set_blind4.csv", 60, "60/61", "60/60", "8/8 7/7 8/8 7/7 7/7 8/8 7/7 8/8"),
    LabelledSet("question_set_blind5.csv", 60, "60/60", "60/60", "8/8 7/7 8/8 7/7 7/7 8/8 7/7 8/8"),
    LabelledSet("question_set_blind6.csv", 60, "60/62", "60/60", "8/8 7/7 8/8 7/7 8/8 7/7 8/8 7/7"),
    # First unseen run of the combined linter: the regression and its threshold were fixed and committed before
    # this set was read. 60 flagged, 58 flawed (precision 58/60 = 0.967), recall 58/60 = 0.967 (the rules alone:
    # 50/51, 50/60). The regression added 9 flags, 8 flawed (redesigning a pump's valve head, a tent's
    # innovativeness, a coffee "as a product", a management's direction, a CEO's style, a rival's bundling and its
    # mystery box, the share of British knitters who prefer merino) and 1 sound ("Please rate how satisfied you are
    # with the range of vegan wines we stock. 1-5"). Still missed: a far recall given by its date and a shop's
    # server internals (unanswerable). Not tuned on: these floors are the unseen figures.
    LabelledSet("question_set_blind7.csv", 60, "58/60", "58/60", "6/8 7/7 8/8 7/7 8/8 7/7 8/8 7/7"),
)


@cache
def scored_combined(labelled: LabelledSet) -> list[Scored]:
    rows = read_set(labelled.file)
    results = lint_questions([question for question, _ in rows])
    assert {result.method for result in results} == {COMBINED_METHOD}
    return [Scored(question, label, not result.ok) for (question, label), result in zip(rows, results, strict=True)]


@pytest.mark.parametrize("combined", COMBINED_SETS, ids=[entry.file.removesuffix(".csv") for entry in COMBINED_SETS])
def test_combined_linter_precision_recall_and_recall_per_kind(combined: LabelledSet) -> None:
    if learned_linter() is None:
        pytest.skip("the learned second opinion needs torch and the MiniLM model")
    items = scored_combined(combined)
    assert sum(not item.flawed for item in items) == combined.sound
    flagged = [item for item in items if item.flagged]
    true_positives = sum(item.flawed for item in flagged)
    flawed = [item for item in items if item.flawed]
    measured = {kind: sum(item.flagged for item in flawed if item.label == kind) for kind in FLAWED_KINDS}
    print(
        f"\n{combined.file} combined: precision {true_positives}/{len(flagged)}, recall {true_positives}/{len(flawed)}"
    )
    assert Fraction(true_positives, len(flagged)) >= _ratio(combined.precision)
    assert Fraction(true_positives, len(flawed)) >= _ratio(combined.recall)
    assert len(flawed) == int(combined.recall.split("/")[1])
    for kind, (floor, total) in combined.kind_floors().items():
        assert sum(item.label == kind for item in flawed) == total, kind
        assert measured[kind] >= floor, kind


def test_every_set_is_scored_by_the_rules_and_by_the_combined_linter() -> None:
    assert [entry.file for entry in COMBINED_SETS] == [entry.file for entry in SETS]
