"""A survey's definition, as written in YAML for ``shoplens survey create FILE``: its questions, whom to ask,
how many, how often and for how long; and the question linter's verdict on it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from shoplens.errors import InputError
from shoplens.metrics import LIFECYCLE_STATES, SEGMENT_NAMES
from shoplens.voice._lint import LintResult, lint_asked

QuestionKind = Literal["nps", "csat", "rating", "single_choice", "multi_choice", "open_text"]
Anonymity = Literal["anonymous", "linked-with-consent"]
FIXED_SCALES: dict[str, tuple[int, int]] = {"nps": (0, 10), "csat": (1, 5)}
DEFAULT_RATING_SCALE = (1, 5)


class QuestionSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: QuestionKind
    text: str = Field(min_length=3, max_length=1000)
    options: list[str] = []
    required: bool = True
    dont_know: bool = False  # offer "Don't know / not applicable"
    scale: tuple[int, int] | None = None  # rating questions only; 1-5 by default

    @model_validator(mode="after")
    def _consistent(self) -> QuestionSpec:
        choice = self.kind in ("single_choice", "multi_choice")
        if choice and len(self.options) < 2:
            raise ValueError("a choice question needs at least two options")
        if not choice and self.options:
            raise ValueError(f"a {self.kind} question has no options")
        if len(set(self.options)) != len(self.options):
            raise ValueError("options must differ")
        if self.scale is not None:
            if self.kind != "rating":
                raise ValueError("only rating questions take a scale (NPS is 0-10, CSAT 1-5)")
            low, high = self.scale
            if not 0 <= low < high <= 10:
                raise ValueError("a rating scale runs from low to high within 0-10")
        return self


class TargetSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    segments: list[str] = []  # RFM segments; empty: all
    lifecycle: list[str] = []  # lifecycle states; empty: all
    consented_only: bool = False  # only customers who agreed to marketing (e.g. when inviting by e-mail)

    @field_validator("segments")
    @classmethod
    def _segments(cls, value: list[str]) -> list[str]:
        unknown = [v for v in value if v not in SEGMENT_NAMES]
        if unknown:
            raise ValueError(f"unknown segment(s) {', '.join(unknown)}; known: {', '.join(SEGMENT_NAMES)}")
        return value

    @field_validator("lifecycle")
    @classmethod
    def _states(cls, value: list[str]) -> list[str]:
        unknown = [v for v in value if v not in LIFECYCLE_STATES]
        if unknown:
            raise ValueError(f"unknown lifecycle state(s) {', '.join(unknown)}; known: {', '.join(LIFECYCLE_STATES)}")
        return value


class SampleSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    size: int = Field(ge=1, le=1_000_000)
    contact_cap_days: int = Field(default=90, ge=0, le=3650)
    seed: int = 0


class ReminderSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    after_days: int = Field(default=5, ge=1, le=365)
    max: int = Field(default=1, ge=0, le=5)


class SurveySpec(BaseModel):
    """A survey definition, as written in YAML for ``shoplens survey create FILE``."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    anonymity: Anonymity = "anonymous"
    target: TargetSpec = TargetSpec()
    sample: SampleSpec
    response_window_days: int = Field(default=14, ge=1, le=365)
    reminders: ReminderSpec = ReminderSpec()
    questions: list[QuestionSpec] = Field(min_length=1, max_length=50)


def parse_survey_spec(raw: Mapping[str, Any]) -> SurveySpec:
    try:
        return SurveySpec.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "survey"
        raise InputError(f"survey definition: {where}: {first['msg']}") from None


def lint_survey(spec: SurveySpec) -> list[LintResult]:
    return lint_asked([(q.text, q.options, q.dont_know) for q in spec.questions])
