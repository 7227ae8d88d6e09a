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
3. **distribute**: export the recipients (pseudonymous keys and answer links; e-mail addresses only through the
   vault, :func:`shoplens.privacy.contacts`, for customers with marketing consent and written to the audit log),
   and reminders for those who have not answered after some days.
4. **answer** through the public form of the web app with the token (once; not after the window closes).
5. **analyse**: response rate by segment with a non-response bias warning, NPS with a 95 % confidence interval,
   CSAT, ratings, choices, and open answers through the same theme mining as feedback.

This module does steps 1-3; the definition is in ``_survey_spec``, the answer form in ``_survey_form``, the
analysis in ``_survey_results`` (with the scores and their intervals in ``_survey_statistics``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from shoplens.appdb import AppDatabase, Survey, SurveyInvitation, SurveyQuestion, SurveyStore, survey_store
from shoplens.errors import InputError
from shoplens.voice._lint import LintResult
from shoplens.voice._survey_spec import DEFAULT_RATING_SCALE, FIXED_SCALES, SurveySpec, lint_survey

TOKEN_BYTES = 24


# --- creating, sampling, distributing ---------------------------------------------------------------------------------


def _now(now: datetime | None) -> datetime:
    return now if now is not None else datetime.now(UTC)


def _aware(value: datetime) -> datetime:
    """SQLite returns naive datetimes for timezone-aware columns; they were written as UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


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
    with survey_store(db) as store:
        store.add_survey(survey)
    return survey_id, results


def _survey(store: SurveyStore, survey_id: str) -> Survey:
    survey = store.survey(survey_id)
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
    with survey_store(db) as store:
        return [survey_summary(s) for s in store.surveys()]


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
    with survey_store(db) as store:
        survey = _survey(store, survey_id)
        if survey.status != "draft":
            raise InputError(f"survey {survey_id} is {survey.status}; only a draft survey can be sampled")
        targeted = profiles
        if survey.target_segments:
            targeted = targeted[targeted["segment"].isin(survey.target_segments)]
        if survey.target_lifecycle:
            targeted = targeted[targeted["lifecycle"].isin(survey.target_lifecycle)]
        if survey.consented_only:
            targeted = targeted[targeted["consent_marketing"]]
        contacted = store.contacted_since(moment - timedelta(days=survey.contact_cap_days))
        eligible = targeted[~targeted["customer_key"].isin(contacted)].sort_values("customer_key")
        size = min(survey.sample_size, len(eligible))
        chosen = np.sort(np.random.default_rng(survey.seed).choice(len(eligible), size=size, replace=False))
        picked = eligible.iloc[chosen]
        store.add_invitations(
            _invitation(survey_id, str(key), segment, stage, secret=secret, invited_at=moment)
            for key, segment, stage in zip(picked["customer_key"], picked["segment"], picked["lifecycle"], strict=True)
        )
        closes_at = moment + timedelta(days=survey.response_window_days)
        store.open_survey(survey, opened_at=moment, closes_at=closes_at)
        by_segment = {str(k): int(v) for k, v in sorted(Counter(picked["segment"].fillna("unknown")).items())}
        return SampleReport(
            survey_id,
            population=len(profiles),
            targeted=len(targeted),
            recently_contacted=len(targeted) - len(eligible),
            sampled=len(picked),
            by_segment=by_segment,
            closes_at=closes_at,
        )


def _invitation(
    survey_id: str, customer_key: str, segment: Any, stage: Any, *, secret: bytes, invited_at: datetime
) -> SurveyInvitation:
    invitation_id = "inv-" + secrets.token_hex(8)
    return SurveyInvitation(
        invitation_id=invitation_id,
        survey_id=survey_id,
        customer_key=customer_key,
        segment=_text_or_none(segment),
        lifecycle=_text_or_none(stage),
        token_hash=token_hash(invitation_token(secret, invitation_id)),
        invited_at=invited_at,
        reminders_sent=0,
        last_reminded_at=None,
        answered=False,
    )


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
    with survey_store(db) as store:
        _survey(store, survey_id)
        return [
            {
                "customer_key": inv.customer_key,
                "segment": inv.segment,
                "lifecycle": inv.lifecycle,
                "answer_url": answer_url(base_url, invitation_token(secret, inv.invitation_id)),
                "reminders_sent": inv.reminders_sent,
                "answered": inv.answered,
            }
            for inv in store.invitations(survey_id, invitation_ids)
        ]


def due_reminders(db: AppDatabase, survey_id: str, *, now: datetime | None = None, mark: bool = True) -> list[str]:
    """Invitations to remind now: not answered, last contact ``reminder_after_days`` ago, reminders left, window open.

    With ``mark`` they are counted as reminded (the caller sends them).
    """
    moment = _now(now)
    with survey_store(db) as store:
        survey = _survey(store, survey_id)
        if survey.status != "open" or survey.closes_at is None or moment >= _aware(survey.closes_at):
            return []
        wait = timedelta(days=survey.reminder_after_days)
        due = [
            inv
            for inv in store.unanswered_invitations(survey_id, reminded_fewer_than=survey.max_reminders)
            if moment - _aware(inv.last_reminded_at or inv.invited_at) >= wait
        ]
        if mark:
            store.mark_reminded(due, moment)
        return sorted(inv.invitation_id for inv in due)


def close_survey(db: AppDatabase, survey_id: str) -> None:
    with survey_store(db) as store:
        store.close_survey(_survey(store, survey_id))
