"""Surveys that ask the right people, few times, with good questions — and what their answers say.

The life of a survey:

1. **create** from a definition (YAML or a dict; :class:`SurveySpec`): questions (NPS, CSAT, rating, single or
   multiple choice, open text), who to ask (RFM segments, lifecycle states), how many, how often a customer may be
   asked at most, how long the answer window stays open, reminders, and whether answers stay anonymous or may be
   linked to the customer when she agrees. Every question goes through the linter; ``strict`` refuses problems.
2. **sample**: a seeded random sample of the targeted customers, leaving out everyone asked by any survey within
   the contact cap. Each invitation gets a one-time token; the database keeps only the token's SHA-256, and the
   token itself is a keyed hash of the invitation id with the store secret, so the export can be written again
   but a copy of the database alone cannot answer for anyone.
3. **distribute**: export the recipients (pseudonymous keys and answer links; e-mail addresses from the vault only
   for customers with marketing consent), and reminders for those who have not answered after some days.
4. **answer** through the public form of the web app with the token (once; not after the window closes).
5. **analyse**: response rate by segment with a non-response bias warning, NPS with a 95 % confidence interval,
   CSAT, ratings, choices, and open answers through the same theme mining as feedback.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import secrets
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from shoplens.appdb import AppDatabase, Survey, SurveyAnswer, SurveyInvitation, SurveyQuestion, SurveyResponse
from shoplens.errors import InputError
from shoplens.metrics import LIFECYCLE_STATES, SEGMENT_NAMES
from shoplens.voice._customers import total_spend
from shoplens.voice._embeddings import SentenceEncoder
from shoplens.voice._lint import LintResult, lint_question
from shoplens.voice._sentiment import analyse_sentiment
from shoplens.voice._themes import FeedbackItem, ThemeMethod, mine_themes

QuestionKind = Literal["nps", "csat", "rating", "single_choice", "multi_choice", "open_text"]
Anonymity = Literal["anonymous", "linked-with-consent"]
DONT_KNOW = "__dont_know__"
DONT_KNOW_LABEL = "Don't know / not applicable"
FIXED_SCALES: dict[str, tuple[int, int]] = {"nps": (0, 10), "csat": (1, 5)}
DEFAULT_RATING_SCALE = (1, 5)
MAX_OPEN_TEXT_CHARS = 5000
Z_95 = 1.959963984540054
LOW_RESPONSE_RATE = 0.2
BIAS_P_VALUE = 0.05
MIN_INVITED_PER_SEGMENT = 5
TOKEN_BYTES = 24


# --- definitions ------------------------------------------------------------------------------------------------------


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


# --- errors of the answer form ----------------------------------------------------------------------------------------


class SurveyFormError(InputError):
    """The answer form cannot be shown or taken: ``reason`` is unknown, answered, closed or invalid."""

    def __init__(self, reason: Literal["unknown", "answered", "closed", "invalid"], message: str) -> None:
        self.reason = reason
        super().__init__(message)


# --- creating, sampling, distributing ---------------------------------------------------------------------------------


def _now(now: datetime | None) -> datetime:
    return now if now is not None else datetime.now(UTC)


def _aware(value: datetime) -> datetime:
    """SQLite returns naive datetimes for timezone-aware columns; they were written as UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def lint_survey(spec: SurveySpec) -> list[LintResult]:
    return [lint_question(q.text, offers_dont_know=q.dont_know) for q in spec.questions]


def create_survey(
    db: AppDatabase, spec: SurveySpec, *, strict: bool = False, now: datetime | None = None
) -> tuple[str, list[LintResult]]:
    """Store a draft survey; returns its id and the linter's verdict on each question."""
    results = lint_survey(spec)
    flagged = [(i, r) for i, r in enumerate(results, start=1) if not r.ok]
    if strict and flagged:
        position, result = flagged[0]
        raise InputError(f"question {position}: {result.problems[0].rule}: {result.problems[0].reason}")
    survey_id = "sv-" + secrets.token_hex(6)
    survey = Survey(
        survey_id=survey_id,
        name=spec.name,
        status="draft",
        anonymity=spec.anonymity,
        target_segments=list(spec.target.segments),
        target_lifecycle=list(spec.target.lifecycle),
        consented_only=spec.target.consented_only,
        sample_size=spec.sample.size,
        contact_cap_days=spec.sample.contact_cap_days,
        response_window_days=spec.response_window_days,
        reminder_after_days=spec.reminders.after_days,
        max_reminders=spec.reminders.max,
        seed=spec.sample.seed,
        created_at=_now(now),
        opened_at=None,
        closes_at=None,
    )
    for position, question in enumerate(spec.questions, start=1):
        scale = FIXED_SCALES.get(question.kind) or (
            question.scale or DEFAULT_RATING_SCALE if question.kind == "rating" else None
        )
        survey.questions.append(
            SurveyQuestion(
                position=position,
                kind=question.kind,
                text=question.text,
                options=list(question.options),
                required=question.required,
                dont_know=question.dont_know,
                scale_min=scale[0] if scale else None,
                scale_max=scale[1] if scale else None,
            )
        )
    with db.session() as session:
        session.add(survey)
    return survey_id, results


def _survey(session: Session, survey_id: str) -> Survey:
    survey = session.get(Survey, survey_id)
    if survey is None:
        raise InputError(f"no survey {survey_id!r}; see shoplens survey list")
    return survey


def survey_summary(survey: Survey) -> dict[str, Any]:
    return {
        "survey_id": survey.survey_id,
        "name": survey.name,
        "status": survey.status,
        "anonymity": survey.anonymity,
        "target": {
            "segments": survey.target_segments,
            "lifecycle": survey.target_lifecycle,
            "consented_only": survey.consented_only,
        },
        "sample_size": survey.sample_size,
        "contact_cap_days": survey.contact_cap_days,
        "response_window_days": survey.response_window_days,
        "reminders": {"after_days": survey.reminder_after_days, "max": survey.max_reminders},
        "created_at": _aware(survey.created_at).isoformat(),
        "opened_at": _aware(survey.opened_at).isoformat() if survey.opened_at else None,
        "closes_at": _aware(survey.closes_at).isoformat() if survey.closes_at else None,
        "questions": [
            {"position": q.position, "kind": q.kind, "text": q.text, "options": q.options, "dont_know": q.dont_know}
            for q in survey.questions
        ],
    }


def list_surveys(db: AppDatabase) -> list[dict[str, Any]]:
    with db.session() as session:
        surveys = list(session.scalars(select(Survey).order_by(Survey.created_at)))
        return [survey_summary(s) for s in surveys]


def invitation_token(secret: bytes, invitation_id: str) -> str:
    """The one-time answer token of an invitation: a keyed hash, so only the store can make it."""
    digest = hmac.new(secret, f"survey-invitation:{invitation_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:TOKEN_BYTES]).decode().rstrip("=")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class SampleReport:
    survey_id: str
    population: int  # customers with an order
    targeted: int  # of them in the target segments and lifecycle states
    recently_contacted: int  # of the targeted, left out by the contact cap
    sampled: int
    by_segment: dict[str, int]
    closes_at: datetime

    def as_dict(self) -> dict[str, Any]:
        return {
            "survey_id": self.survey_id,
            "population": self.population,
            "targeted": self.targeted,
            "recently_contacted": self.recently_contacted,
            "sampled": self.sampled,
            "by_segment": self.by_segment,
            "closes_at": self.closes_at.isoformat(),
        }


def sample_survey(
    db: AppDatabase, survey_id: str, profiles: pd.DataFrame, *, secret: bytes, now: datetime | None = None
) -> SampleReport:
    """Draw the survey's recipients from ``profiles`` (:func:`customer_profiles`) and open the survey."""
    moment = _now(now)
    with db.session() as session:
        survey = _survey(session, survey_id)
        if survey.status != "draft":
            raise InputError(f"survey {survey_id} is {survey.status}; only a draft survey can be sampled")
        targeted = profiles
        if survey.target_segments:
            targeted = targeted[targeted["segment"].isin(survey.target_segments)]
        if survey.target_lifecycle:
            targeted = targeted[targeted["lifecycle"].isin(survey.target_lifecycle)]
        if survey.consented_only:
            targeted = targeted[targeted["consent_marketing"]]
        cap_start = moment - timedelta(days=survey.contact_cap_days)
        contacted = set(
            session.scalars(
                select(SurveyInvitation.customer_key).where(
                    (SurveyInvitation.invited_at >= cap_start) | (SurveyInvitation.last_reminded_at >= cap_start)
                )
            )
        )
        eligible = targeted[~targeted["customer_key"].isin(contacted)].sort_values("customer_key")
        size = min(survey.sample_size, len(eligible))
        chosen = np.sort(np.random.default_rng(survey.seed).choice(len(eligible), size=size, replace=False))
        picked = eligible.iloc[chosen]
        for key, segment, stage in zip(picked["customer_key"], picked["segment"], picked["lifecycle"], strict=True):
            invitation_id = "inv-" + secrets.token_hex(8)
            session.add(
                SurveyInvitation(
                    invitation_id=invitation_id,
                    survey_id=survey_id,
                    customer_key=str(key),
                    segment=_text_or_none(segment),
                    lifecycle=_text_or_none(stage),
                    token_hash=token_hash(invitation_token(secret, invitation_id)),
                    invited_at=moment,
                    reminders_sent=0,
                    last_reminded_at=None,
                    answered=False,
                )
            )
        survey.status = "open"
        survey.opened_at = moment
        survey.closes_at = moment + timedelta(days=survey.response_window_days)
        by_segment = {str(k): int(v) for k, v in sorted(Counter(picked["segment"].fillna("unknown")).items())}
        return SampleReport(
            survey_id,
            population=len(profiles),
            targeted=len(targeted),
            recently_contacted=len(targeted) - len(eligible),
            sampled=len(picked),
            by_segment=by_segment,
            closes_at=survey.closes_at,
        )


def marketing_contacts(con: Any, customer_keys: Sequence[str]) -> dict[str, str]:
    """E-mail addresses from the vault of those ``customer_keys`` whose customers agreed to marketing.

    The only read of personal data in the voice package: for a distribution list the shop sends itself. ``con``
    is the warehouse's DuckDB connection.
    """
    if not customer_keys:
        return {}
    rows = con.execute(
        """
        SELECT p.customer_key, p.email FROM customer_pii p JOIN customers c USING (customer_key)
        WHERE c.consent_marketing AND p.email IS NOT NULL AND p.customer_key IN (SELECT unnest($keys))
        """,
        {"keys": list(customer_keys)},
    ).fetchall()
    return {str(key): str(email) for key, email in rows}


def _text_or_none(value: Any) -> str | None:
    return None if value is None or pd.isna(value) else str(value)


def answer_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/s/{token}"


def recipients(
    db: AppDatabase,
    survey_id: str,
    *,
    secret: bytes,
    base_url: str,
    invitation_ids: Sequence[str] | None = None,
) -> list[dict[str, Any]]:
    """The survey's recipients (all, or the given invitations): pseudonymous key, segment, stage, answer link."""
    with db.session() as session:
        _survey(session, survey_id)
        query = select(SurveyInvitation).where(SurveyInvitation.survey_id == survey_id)
        if invitation_ids is not None:
            query = query.where(SurveyInvitation.invitation_id.in_(list(invitation_ids)))
        invitations = list(session.scalars(query.order_by(SurveyInvitation.customer_key)))
        return [
            {
                "customer_key": inv.customer_key,
                "segment": inv.segment,
                "lifecycle": inv.lifecycle,
                "answer_url": answer_url(base_url, invitation_token(secret, inv.invitation_id)),
                "reminders_sent": inv.reminders_sent,
                "answered": inv.answered,
            }
            for inv in invitations
        ]


def due_reminders(db: AppDatabase, survey_id: str, *, now: datetime | None = None, mark: bool = True) -> list[str]:
    """Invitations to remind now: not answered, last contact ``reminder_after_days`` ago, reminders left, window open.

    With ``mark`` they are counted as reminded (the caller sends them).
    """
    moment = _now(now)
    with db.session() as session:
        survey = _survey(session, survey_id)
        if survey.status != "open" or survey.closes_at is None or moment >= _aware(survey.closes_at):
            return []
        wait = timedelta(days=survey.reminder_after_days)
        due = [
            inv
            for inv in session.scalars(
                select(SurveyInvitation).where(
                    SurveyInvitation.survey_id == survey_id,
                    SurveyInvitation.answered.is_(False),
                    SurveyInvitation.reminders_sent < survey.max_reminders,
                )
            )
            if moment - _aware(inv.last_reminded_at or inv.invited_at) >= wait
        ]
        if mark:
            for inv in due:
                inv.reminders_sent += 1
                inv.last_reminded_at = moment
        return sorted(inv.invitation_id for inv in due)


def close_survey(db: AppDatabase, survey_id: str) -> None:
    with db.session() as session:
        _survey(session, survey_id).status = "closed"


# --- the answer form --------------------------------------------------------------------------------------------------


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


def _invitation_for(session: Session, token: str, moment: datetime) -> tuple[SurveyInvitation, Survey]:
    invitation = session.scalar(select(SurveyInvitation).where(SurveyInvitation.token_hash == token_hash(token)))
    if invitation is None:
        raise SurveyFormError("unknown", "this survey link is not valid")
    survey = _survey(session, invitation.survey_id)
    if invitation.answered:
        raise SurveyFormError("answered", "this survey link has already been used; thank you for answering")
    if survey.status != "open" or survey.closes_at is None or moment >= _aware(survey.closes_at):
        raise SurveyFormError("closed", "this survey has closed")
    return invitation, survey


def survey_form(db: AppDatabase, token: str, *, now: datetime | None = None) -> SurveyForm:
    """The questions behind a one-time token, if it can still be used."""
    with db.session() as session:
        _, survey = _invitation_for(session, token, _now(now))
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
    with db.session() as session:
        invitation, survey = _invitation_for(session, token, moment)
        known = {q.question_id for q in survey.questions}
        stray = sorted(set(answers) - known)
        if stray:
            raise SurveyFormError("invalid", f"answers to unknown question id(s) {', '.join(map(str, stray))}")
        parsed = [_parse_answer(q, answers.get(q.question_id, ())) for q in survey.questions]
        # One use per token, even with two submissions racing: only the first flips `answered`.
        used = session.execute(
            update(SurveyInvitation)
            .where(SurveyInvitation.invitation_id == invitation.invitation_id, SurveyInvitation.answered.is_(False))
            .values(answered=True)
            .execution_options(synchronize_session=False)
        )
        if getattr(used, "rowcount", 1) != 1:
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
        session.add(response)
        return response.response_id


# --- analysis ---------------------------------------------------------------------------------------------------------


def net_promoter_score(scores: Sequence[int]) -> dict[str, Any]:
    """NPS = % promoters (9-10) − % detractors (0-6), with a 95 % interval from the multinomial variance.

    Var(p̂ − d̂) = (p + d − (p − d)²) / n for promoter and detractor shares p, d of n answers.
    """
    n = len(scores)
    if n == 0:
        return {"n": 0, "nps": None, "ci_low": None, "ci_high": None, "promoters": 0, "passives": 0, "detractors": 0}
    promoters = sum(1 for s in scores if s >= 9)
    detractors = sum(1 for s in scores if s <= 6)
    p, d = promoters / n, detractors / n
    half_width = Z_95 * math.sqrt(max(p + d - (p - d) ** 2, 0.0) / n)
    return {
        "n": n,
        "nps": round(100 * (p - d), 2),
        "ci_low": round(max(-100.0, 100 * (p - d - half_width)), 2),
        "ci_high": round(min(100.0, 100 * (p - d + half_width)), 2),
        "promoters": promoters,
        "passives": n - promoters - detractors,
        "detractors": detractors,
    }


def wilson_interval(successes: int, n: int) -> tuple[float, float]:
    """95 % Wilson score interval of a proportion."""
    if n == 0:
        return (0.0, 1.0)
    share = successes / n
    denominator = 1 + Z_95**2 / n
    centre = (share + Z_95**2 / (2 * n)) / denominator
    spread = Z_95 * math.sqrt(share * (1 - share) / n + Z_95**2 / (4 * n * n)) / denominator
    return (max(0.0, centre - spread), min(1.0, centre + spread))


def customer_satisfaction(scores: Sequence[int]) -> dict[str, Any]:
    """CSAT: the share of 4-5 answers on the 1-5 scale, with its 95 % Wilson interval, and the mean score."""
    n = len(scores)
    satisfied = sum(1 for s in scores if s >= 4)
    low, high = wilson_interval(satisfied, n)
    return {
        "n": n,
        "csat": round(satisfied / n, 4) if n else None,
        "ci_low": round(low, 4) if n else None,
        "ci_high": round(high, 4) if n else None,
        "satisfied": satisfied,
        "mean": round(sum(scores) / n, 3) if n else None,
    }


def _response_rates(invitations: Sequence[SurveyInvitation]) -> tuple[list[dict[str, Any]], list[str]]:
    from scipy.stats import chi2_contingency

    by_segment: dict[str, list[int]] = {}
    for inv in invitations:
        counts = by_segment.setdefault(inv.segment or "unknown", [0, 0])
        counts[0] += 1
        counts[1] += int(inv.answered)
    rows: list[dict[str, Any]] = [
        {"segment": s, "invited": c[0], "responses": c[1], "response_rate": round(c[1] / c[0], 4)}
        for s, c in sorted(by_segment.items())
    ]
    warnings: list[str] = []
    invited = sum(r["invited"] for r in rows)
    answered = sum(r["responses"] for r in rows)
    if invited and answered / invited < LOW_RESPONSE_RATE:
        warnings.append(
            f"only {answered / invited:.0%} of those asked answered: the answers may not speak for the others"
        )
    compared = [r for r in rows if r["invited"] >= MIN_INVITED_PER_SEGMENT]
    table = [[r["responses"], r["invited"] - r["responses"]] for r in compared]
    if len(compared) >= 2 and 0 < sum(t[0] for t in table) < sum(r["invited"] for r in compared):
        p_value = float(chi2_contingency(table)[1])
        if p_value < BIAS_P_VALUE:
            lowest = min(compared, key=lambda r: r["response_rate"])
            highest = max(compared, key=lambda r: r["response_rate"])
            warnings.append(
                f"non-response bias: response rates differ by segment (from {lowest['response_rate']:.0%} in "
                f"{lowest['segment']} to {highest['response_rate']:.0%} in {highest['segment']}, chi-square "
                f"p = {p_value:.3g}); overall figures lean towards the segments that answered more, so read them "
                "by segment"
            )
    return rows, warnings


def analyse_survey(
    db: AppDatabase,
    survey_id: str,
    *,
    spend: Mapping[str, Decimal] | None = None,
    theme_method: ThemeMethod = "auto",
    encoder: SentenceEncoder | None = None,
    n_themes: int = 5,
    seed: int = 0,
) -> dict[str, Any]:
    """Response rates, NPS, CSAT, ratings, choices and open-text themes of a survey.

    ``spend`` (customer key → spend) values the detractors among the answers linked to customers.
    """
    with db.session() as session:
        survey = _survey(session, survey_id)
        invitations = list(session.scalars(select(SurveyInvitation).where(SurveyInvitation.survey_id == survey_id)))
        responses = list(session.scalars(select(SurveyResponse).where(SurveyResponse.survey_id == survey_id)))
        answers = [(r, a) for r in responses for a in r.answers]
        rates, warnings = _response_rates(invitations)
        questions = [_analyse_question(q, answers, theme_method, encoder, n_themes, seed) for q in survey.questions]
        by_segment = _nps_by_segment(survey.questions, answers)
        linked = _linked_value(survey.questions, answers, spend or {})
        answered = sum(1 for inv in invitations if inv.answered)
        return {
            **{k: v for k, v in survey_summary(survey).items() if k != "questions"},
            "invited": len(invitations),
            "responses": len(responses),
            "response_rate": round(answered / len(invitations), 4) if invitations else None,
            "response_rate_by_segment": rates,
            "warnings": warnings,
            "questions": questions,
            "nps_by_segment": by_segment,
            "linked_customers": linked,
        }


def _scores(question: SurveyQuestion, answers: Sequence[tuple[SurveyResponse, SurveyAnswer]]) -> list[int]:
    return [a.number for _, a in answers if a.question_id == question.question_id and a.number is not None]


def _analyse_question(
    question: SurveyQuestion,
    answers: Sequence[tuple[SurveyResponse, SurveyAnswer]],
    theme_method: ThemeMethod,
    encoder: SentenceEncoder | None,
    n_themes: int,
    seed: int,
) -> dict[str, Any]:
    own = [a for _, a in answers if a.question_id == question.question_id]
    result: dict[str, Any] = {
        "position": question.position,
        "kind": question.kind,
        "text": question.text,
        "answers": sum(1 for a in own if not a.dont_know),
        "dont_know": sum(1 for a in own if a.dont_know),
    }
    scores = _scores(question, answers)
    if question.kind == "nps":
        result["nps"] = net_promoter_score(scores)
    elif question.kind == "csat":
        result["csat"] = customer_satisfaction(scores)
    elif question.kind == "rating":
        result["rating"] = {
            "mean": round(sum(scores) / len(scores), 3) if scores else None,
            "distribution": {str(k): v for k, v in sorted(Counter(scores).items())},
        }
    elif question.kind in ("single_choice", "multi_choice"):
        counts = Counter(choice for a in own for choice in (a.choices or []))
        given = result["answers"]
        result["choices"] = [
            {"option": o, "count": counts.get(o, 0), "share": round(counts.get(o, 0) / given, 4) if given else None}
            for o in question.options
        ]
    else:
        texts = [a.text for a in own if a.text]
        items = [FeedbackItem(f"answer-{i}", t) for i, t in enumerate(texts)]
        themes = mine_themes(
            items, analyse_sentiment(texts), n_themes=n_themes, seed=seed, method=theme_method, encoder=encoder
        )
        result["themes"] = themes.as_dict()
    return result


def _first_nps(questions: Sequence[SurveyQuestion]) -> SurveyQuestion | None:
    return next((q for q in questions if q.kind == "nps"), None)


def _nps_by_segment(
    questions: Sequence[SurveyQuestion], answers: Sequence[tuple[SurveyResponse, SurveyAnswer]]
) -> list[dict[str, Any]]:
    question = _first_nps(questions)
    if question is None:
        return []
    by_segment: dict[str, list[int]] = {}
    for response, answer in answers:
        if answer.question_id == question.question_id and answer.number is not None:
            by_segment.setdefault(response.segment or "unknown", []).append(answer.number)
    return [{"segment": s, **net_promoter_score(v)} for s, v in sorted(by_segment.items())]


def _linked_value(
    questions: Sequence[SurveyQuestion],
    answers: Sequence[tuple[SurveyResponse, SurveyAnswer]],
    spend: Mapping[str, Decimal],
) -> dict[str, Any]:
    """Answers linked (with consent) to customers, and the spend of linked NPS detractors."""
    linked = {r.response_id for r, _ in answers if r.customer_key}
    question = _first_nps(questions)
    detractors: set[str] = set()
    for response, answer in answers:
        is_nps = question is not None and answer.question_id == question.question_id
        if is_nps and response.customer_key and answer.number is not None and answer.number <= 6:
            detractors.add(response.customer_key)
    return {
        "responses": len(linked),
        "detractors": len(detractors),
        "detractor_spend": total_spend(spend, detractors),
    }
