"""What the linter reports: a problem (rule, reason, suggested rewrite) and the verdict on one question."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Problem:
    rule: str
    reason: str  # one line: what is wrong, quoting the words that make it so
    suggestion: str  # a rewrite of the question where one can be made, else an example of a sound one, in "…"

    def as_dict(self) -> dict[str, str]:
        return {"rule": self.rule, "reason": self.reason, "suggestion": self.suggestion}


@dataclass(frozen=True)
class LintResult:
    question: str
    problems: list[Problem] = field(default_factory=list)
    method: str = "rules"  # "rules", or "rules+learned" when the learned second opinion read it too

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "ok": self.ok,
            "problems": [p.as_dict() for p in self.problems],
            "method": self.method,
        }
