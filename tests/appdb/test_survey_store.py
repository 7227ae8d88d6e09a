"""The survey store: what the survey life cycle reads and writes, on SQLite and on the PostgreSQL server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from shoplens.appdb import AppDatabase, Survey, SurveyInvitation, SurveyQuestion, survey_store

START = datetime(2026, 3, 1, 12, tzinfo=UTC)


def _survey(survey_id: str) -> Survey:
    survey = Survey(
        survey_id=survey_id,
        name="After delivery",
        status="draft",
        anonymity="anonymous",
        target_segments=[],
        target_lifecycle=[],
        consented_only=False,
        sample_size=3,
        contact_cap_days=30,
        response_window_days=14,
        reminder_after_days=3,
        max_reminders=1,
        seed=0,
        created_at=START,
        opened_at=None,
        closes_at=None,
    )
    survey.questions.append(
        SurveyQuestion(
            position=1,
            kind="nps",
            text="How likely are you to recommend us?",
            options=[],
            required=True,
            dont_know=False,
            scale_min=0,
            scale_max=10,
        )
    )
    return survey


def _invitation(invitation_id: str, survey_id: str, customer_key: str, invited_at: datetime) -> SurveyInvitation:
    return SurveyInvitation(
        invitation_id=invitation_id,
        survey_id=survey_id,
        customer_key=customer_key,
        segment="Champions",
        lifecycle="active",
        token_hash=f"hash-{invitation_id}",
        invited_at=invited_at,
        reminders_sent=0,
        last_reminded_at=None,
        answered=False,
    )


def _close_then_fail(db: AppDatabase, survey_id: str) -> None:
    with survey_store(db) as store:
        survey = store.survey(survey_id)
        assert survey is not None
        store.close_survey(survey)
        raise RuntimeError("the block fails: nothing it wrote is kept")


def _exercise(url: str) -> None:
    db = AppDatabase(url)
    with survey_store(db) as store:
        store.add_survey(_survey("sv-1"))
        store.add_invitations(
            [
                _invitation("inv-c", "sv-1", "cust-c", START),
                _invitation("inv-a", "sv-1", "cust-a", START - timedelta(days=40)),
                _invitation("inv-b", "sv-1", "cust-b", START - timedelta(days=40)),
            ]
        )
    with survey_store(db) as store:
        assert [s.survey_id for s in store.surveys()] == ["sv-1"]
        assert store.survey("sv-nope") is None
        assert [inv.customer_key for inv in store.invitations("sv-1")] == ["cust-a", "cust-b", "cust-c"]
        assert [inv.invitation_id for inv in store.invitations("sv-1", ["inv-b"])] == ["inv-b"]
        # cust-a and cust-b were invited 40 days ago; a reminder 10 days ago counts as a contact too.
        store.mark_reminded(store.invitations("sv-1", ["inv-a"]), START - timedelta(days=10))
    with survey_store(db) as store:
        assert store.contacted_since(START - timedelta(days=30)) == {"cust-a", "cust-c"}
        assert sorted(i.invitation_id for i in store.unanswered_invitations("sv-1", reminded_fewer_than=1)) == [
            "inv-b",
            "inv-c",
        ]
        found = store.invitation_by_token_hash("hash-inv-c")
        assert found is not None
        assert found.customer_key == "cust-c"
        assert store.invitation_by_token_hash("hash-unknown") is None
    with survey_store(db) as store:
        assert store.claim_invitation("inv-c") is True
    with survey_store(db) as store:
        assert store.claim_invitation("inv-c") is False  # a token answers once
        unanswered = store.unanswered_invitations("sv-1", reminded_fewer_than=5)
        assert sorted(i.invitation_id for i in unanswered) == ["inv-a", "inv-b"]
    with pytest.raises(RuntimeError, match="nothing it wrote is kept"):
        _close_then_fail(db, "sv-1")
    with survey_store(db) as store:
        survey = store.survey("sv-1")
        assert survey is not None
        assert survey.status == "draft"
        assert [q.kind for q in survey.questions] == ["nps"]
    db.close()


def test_sqlite_survey_store(tmp_path: Path) -> None:
    _exercise(f"sqlite:///{tmp_path / 'app.db'}")


@pytest.mark.postgres
def test_postgres_survey_store(postgres_url: str) -> None:
    _exercise(postgres_url)
