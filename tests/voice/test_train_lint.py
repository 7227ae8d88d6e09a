"""The learned second opinion of the question linter: its shipped model is what retraining gives, its threshold is
the one leave-one-set-out chose, and without torch the linter is the rules alone."""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from typing import Any

import numpy as np
import pytest

from shoplens.voice import _lint, lint_question
from shoplens.voice._lint._learned import LEARNED_RULE, learned_linter, shipped_lint_model
from shoplens.voice.train_lint import (
    DEFAULT_SETS,
    TARGET_PRECISION,
    TRAINING_SETS,
    build_model_document,
    read_labelled_questions,
)

needs_encoder = pytest.mark.skipif(learned_linter() is None, reason="needs torch and the MiniLM model")
# A sound question of question_set_blind2.csv that no rule flags and the regression does (one of its false alarms).
FALSE_ALARM = (
    "How did you hear about our wine club? (A friend / Social media / Search engine / A tasting event / Other)"
)


def _counts(figure: str) -> tuple[int, int]:
    found, total = figure.split("/")
    return int(found), int(total)


def test_the_held_out_table_adds_up_and_reaches_the_target_at_the_chosen_threshold() -> None:
    table = shipped_lint_model()["threshold_choice"]["leave_one_set_out"]
    assert sorted(table) == sorted([*TRAINING_SETS, "pooled"])
    for method in ("rules", "combined", "regression_alone"):
        for figure in ("precision", "recall"):
            per_set = [_counts(table[name][method][figure]) for name in TRAINING_SETS]
            pooled = _counts(table["pooled"][method][figure])
            assert pooled == (sum(f for f, _ in per_set), sum(t for _, t in per_set)), (method, figure)
    questions = [row for name in TRAINING_SETS for row in read_labelled_questions(DEFAULT_SETS / name)]
    flawed = sum(label != "sound" for _, label in questions)
    assert _counts(table["pooled"]["combined"]["recall"])[1] == flawed
    assert Fraction(*_counts(table["pooled"]["combined"]["precision"])) >= TARGET_PRECISION


@pytest.mark.slow
@needs_encoder
def test_retraining_gives_the_shipped_model() -> None:
    linter = learned_linter()
    assert linter is not None
    shipped = shipped_lint_model()
    retrained = build_model_document(DEFAULT_SETS, linter.encoder)
    assert retrained["threshold"] == shipped["threshold"]
    assert retrained["threshold_choice"] == shipped["threshold_choice"]
    assert retrained["training"] == shipped["training"]
    for part in ("coefficients", "intercept"):
        np.testing.assert_allclose(retrained["model"][part], shipped["model"][part], rtol=1e-4, atol=1e-6)
    for kind, mean in shipped["model"]["kind_means"].items():
        np.testing.assert_allclose(retrained["model"]["kind_means"][kind], mean, rtol=1e-4, atol=1e-6)


@needs_encoder
def test_the_learned_finding_speaks_where_no_rule_does() -> None:
    assert lint_question(FALSE_ALARM, learned=False).ok
    result = lint_question(FALSE_ALARM)
    assert result.method == "rules+learned"
    (problem,) = result.problems
    assert problem.rule == LEARNED_RULE
    assert problem.reason.startswith("no rule matched, but it reads like the flawed questions of the labelled sets")
    assert "nearest are the " in problem.reason


@needs_encoder
def test_a_question_a_rule_flags_gets_no_learned_finding_too() -> None:
    result = lint_question("Don't you agree that our delivery is the fastest?")
    assert [p.rule for p in result.problems] == ["leading"]


def test_without_torch_the_linter_is_the_rules_alone(monkeypatch: pytest.MonkeyPatch, cli: Callable[..., Any]) -> None:
    monkeypatch.setattr(_lint, "learned_linter", lambda: None)
    result = lint_question(FALSE_ALARM)
    assert (result.ok, result.method) == (True, "rules")
    answer = cli("survey", "lint", FALSE_ALARM, "--json")
    assert answer.exit_code == 0, answer.stderr
    assert answer.json() == {
        "method": "rules",
        "results": [{"question": FALSE_ALARM, "ok": True, "problems": [], "method": "rules"}],
    }
