"""The public answer form behind a one-time token: the questions it shows, and the answers it takes (once, while
the survey is open).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from shoplens.appdb import (
    AppDatabase,
    Survey,
    SurveyAnswer,
    SurveyInvitation,
    SurveyQuestion,
    SurveyResponse,
    SurveyStore,
    survey_store,
)
from shoplens.errors import InputError
from shoplens.voice._surveys import _aware, _now, _survey, token_hash

DONT_KNOW = "__dont_know__"
DONT_KNOW_LABEL = "Don't know / not applicable"
MAX_OPEN_TEXT_CHARS = 5000


class SurveyFormError(InputError):
    """The answer form cannot be shown or taken: ``reason`` is unknown, answered, closed or invalid."""

    def __init__(self, reason: Literal["unknown", "answered", "closed", "invalid"], message: str) -> None:
        self.reason = reason
        super().__init__(message)


@dataclass(frozen=True)
class FormQuestion:
    question_id: int
    position: int
    kind: str
    text: str
    options: list[str]
    required: bool
    dont_know: bool
    scale: tuple[int, int] | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "question_id": self.question_id,
            "position": self.position,
            "kind": self.kind,
            "text": self.text,
            "options": self.options,
            "required": self.required,
            "dont_know": self.dont_know,
            "scale": list(self.scale) if self.scale else None,
        }


@dataclass(frozen=True)
class SurveyForm:
    name: str
    anonymity: str
    closes_at: datetime
    questions: list[FormQuestion]

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "anonymity": self.anonymity,
            "closes_at": self.closes_at.isoformat(),
            "questions": [q.as_dict() for q in self.questions],
        }


def _invitation_for(store: SurveyStore, token: str, moment: datetime) -> tuple[SurveyInvitation, Survey]:
    invitation = store.invitation_by_token_hash(token_hash(token))
    if invitation is None:
        raise SurveyFormError("unknown", "this survey link is not valid")
    survey = _survey(store, invitation.survey_id)
    if invitation.answered:
        raise SurveyFormError("answered", "this survey link has already been used; thank you for answering")
    if survey.status != "open" or survey.closes_at is None or moment >= _aware(survey.closes_at):
        raise SurveyFormError("closed", "this survey has closed")
    return invitation, survey


def survey_form(db: AppDatabase, token: str, *, now: datetime | None = None) -> SurveyForm:
    """The questions behind a one-time token, if it can still be used."""
    with survey_store(db) as store:
        _, survey = _invitation_for(store, token, _now(now))
        return SurveyForm(
            name=survey.name,
            anonymity=survey.anonymity,
            closes_at=_aware(survey.closes_at) if survey.closes_at else _now(now),
            questions=[
                FormQuestion(
                    q.question_id,
                    q.position,
                    q.kind,
                    q.text,
                    list(q.options),
                    q.required,
                    q.dont_know,
                    (q.scale_min, q.scale_max) if q.scale_min is not None and q.scale_max is not None else None,
                )
                for q in survey.questions
            ],
        )


def _parse_answer(question: SurveyQuestion, values: Sequence[str]) -> SurveyAnswer | None:
    """One question's answer from the submitted values; None when left empty (raises if that is not allowed)."""
    where = f"question {question.position}"
    values = [v.strip() for v in values if v is not None and v.strip()]
    if question.dont_know and values == [DONT_KNOW]:
        return SurveyAnswer(question_id=question.question_id, dont_know=True)
    if DONT_KNOW in values:
        raise SurveyFormError("invalid", f"{where}: 'don't know' cannot be combined with an answer")
    if not values:
        if question.required:
            raise SurveyFormError("invalid", f"{where} needs an answer")
        return None
    if question.kind in ("nps", "csat", "rating"):
        low, high = question.scale_min or 0, question.scale_max or 10
        if len(values) != 1 or not values[0].lstrip("-").isdigit() or not low <= int(values[0]) <= high:
            raise SurveyFormError("invalid", f"{where}: choose a whole number from {low} to {high}")
        return SurveyAnswer(question_id=question.question_id, number=int(values[0]), dont_know=False)
    if question.kind in ("single_choice", "multi_choice"):
        unknown = [v for v in values if v not in question.options]
        if unknown or (question.kind == "single_choice" and len(values) != 1) or len(set(values)) != len(values):
            raise SurveyFormError("invalid", f"{where}: choose from the options given")
        return SurveyAnswer(question_id=question.question_id, choices=values, dont_know=False)
    text = " ".join(values)
    if len(text) > MAX_OPEN_TEXT_CHARS:
        raise SurveyFormError("invalid", f"{where}: at most {MAX_OPEN_TEXT_CHARS} characters, please")
    return SurveyAnswer(question_id=question.question_id, text=text, dont_know=False)


def submit_response(
    db: AppDatabase,
    token: str,
    answers: Mapping[int, Sequence[str]],
    *,
    link_to_customer: bool = False,
    now: datetime | None = None,
) -> str:
    """Store the answers given with a one-time token; returns the response id. The token cannot be used again.

    ``answers`` maps question ids to the submitted values (one for most kinds, several for multiple choice,
    ``DONT_KNOW`` for "don't know"). The customer key is kept only for a survey that links answers and a
    customer who ticked the consent box.
    """
    moment = _now(now)
    with survey_store(db) as store:
        invitation, survey = _invitation_for(store, token, moment)
        known = {q.question_id for q in survey.questions}
        stray = sorted(set(answers) - known)
        if stray:
            raise SurveyFormError("invalid", f"answers to unknown question id(s) {', '.join(map(str, stray))}")
        parsed = [_parse_answer(q, answers.get(q.question_id, ())) for q in survey.questions]
        # One use per token, even with two submissions racing: only the first claim succeeds.
        if not store.claim_invitation(invitation.invitation_id):
            raise SurveyFormError("answered", "this survey link has already been used; thank you for answering")
        linked = survey.anonymity == "linked-with-consent" and link_to_customer
        response = SurveyResponse(
            response_id="rs-" + secrets.token_hex(8),
            survey_id=survey.survey_id,
            customer_key=invitation.customer_key if linked else None,
            segment=invitation.segment,
            submitted_on=moment.date(),
            answers=[a for a in parsed if a is not None],
        )
        store.add_response(response)
        return response.response_id
