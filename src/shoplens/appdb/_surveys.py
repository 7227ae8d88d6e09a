"""Survey tables of the app database (migration 0002), and the reads and writes the survey life cycle makes on
them (:class:`SurveyStore`). Change the tables only together with a new Alembic migration.

Privacy by construction: invitations carry the pseudonymous ``customer_key`` and only a hash of the one-time
token; a response carries the customer key only when the survey links answers and the customer agreed, and its
date only to the day, so an anonymous answer cannot be matched back to its invitation by time.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from shoplens.appdb._models import Base
from shoplens.appdb._session import AppDatabase


class Survey(Base):
    """A survey: its questions, who it targets, how many are asked, and for how long."""

    __tablename__ = "surveys"

    survey_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))  # draft | open | closed
    anonymity: Mapped[str] = mapped_column(String(24))  # anonymous | linked-with-consent
    target_segments: Mapped[list[str]] = mapped_column(JSON)  # RFM segments; empty = all
    target_lifecycle: Mapped[list[str]] = mapped_column(JSON)  # lifecycle states; empty = all
    consented_only: Mapped[bool] = mapped_column(Boolean)  # only customers who agreed to marketing
    sample_size: Mapped[int] = mapped_column(Integer)
    contact_cap_days: Mapped[int] = mapped_column(Integer)  # no customer is asked twice within this many days
    response_window_days: Mapped[int] = mapped_column(Integer)
    reminder_after_days: Mapped[int] = mapped_column(Integer)
    max_reminders: Mapped[int] = mapped_column(Integer)
    seed: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    opened_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closes_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    questions: Mapped[list[SurveyQuestion]] = relationship(
        back_populates="survey", order_by="SurveyQuestion.position", cascade="all, delete-orphan"
    )


class SurveyQuestion(Base):
    __tablename__ = "survey_questions"

    question_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    survey_id: Mapped[str] = mapped_column(ForeignKey("surveys.survey_id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))  # nps | csat | rating | single_choice | multi_choice | open_text
    text: Mapped[str] = mapped_column(String(1000))
    options: Mapped[list[str]] = mapped_column(JSON)
    required: Mapped[bool] = mapped_column(Boolean)
    dont_know: Mapped[bool] = mapped_column(Boolean)  # offers "Don't know / not applicable"
    scale_min: Mapped[int | None] = mapped_column(Integer)
    scale_max: Mapped[int | None] = mapped_column(Integer)

    survey: Mapped[Survey] = relationship(back_populates="questions")


class SurveyInvitation(Base):
    """One sampled customer: when she was asked and reminded, and whether her one-time token was used."""

    __tablename__ = "survey_invitations"
    __table_args__ = (UniqueConstraint("survey_id", "customer_key", name="uq_survey_invitations_customer"),)

    invitation_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    survey_id: Mapped[str] = mapped_column(ForeignKey("surveys.survey_id", ondelete="CASCADE"), index=True)
    customer_key: Mapped[str] = mapped_column(String(64), index=True)
    segment: Mapped[str | None] = mapped_column(String(64))
    lifecycle: Mapped[str | None] = mapped_column(String(32))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    reminders_sent: Mapped[int] = mapped_column(Integer)
    last_reminded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    answered: Mapped[bool] = mapped_column(Boolean)


class SurveyResponse(Base):
    __tablename__ = "survey_responses"

    response_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    survey_id: Mapped[str] = mapped_column(ForeignKey("surveys.survey_id", ondelete="CASCADE"), index=True)
    customer_key: Mapped[str | None] = mapped_column(String(64))  # only with the customer's consent
    segment: Mapped[str | None] = mapped_column(String(64))  # the segment she was sampled from
    submitted_on: Mapped[date] = mapped_column(Date)

    answers: Mapped[list[SurveyAnswer]] = relationship(back_populates="response", cascade="all, delete-orphan")


class SurveyAnswer(Base):
    __tablename__ = "survey_answers"

    answer_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    response_id: Mapped[str] = mapped_column(ForeignKey("survey_responses.response_id", ondelete="CASCADE"), index=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("survey_questions.question_id", ondelete="CASCADE"))
    number: Mapped[int | None] = mapped_column(Integer)
    text: Mapped[str | None] = mapped_column(Text)
    choices: Mapped[Any] = mapped_column(JSON, nullable=True)
    dont_know: Mapped[bool] = mapped_column(Boolean)

    response: Mapped[SurveyResponse] = relationship(back_populates="answers")


class SurveyStore:
    """The survey tables within one transaction: the reads and writes of the survey life cycle, nothing more.

    Objects it returns stay attached to the transaction, so their related rows (a survey's questions, a
    response's answers) load on first use while the store is open. Open one with :func:`survey_store`.
    """

    def __init__(self, session: Session) -> None:
        self._session = session

    def add_survey(self, survey: Survey) -> None:
        """Store a new survey with its questions."""
        self._session.add(survey)

    def survey(self, survey_id: str) -> Survey | None:
        return self._session.get(Survey, survey_id)

    def surveys(self) -> list[Survey]:
        """Every survey, oldest first."""
        return list(self._session.scalars(select(Survey).order_by(Survey.created_at)))

    def open_survey(self, survey: Survey, opened_at: datetime, closes_at: datetime) -> None:
        survey.status, survey.opened_at, survey.closes_at = "open", opened_at, closes_at

    def close_survey(self, survey: Survey) -> None:
        survey.status = "closed"

    def contacted_since(self, moment: datetime) -> set[str]:
        """Customer keys invited or reminded by any survey at or after ``moment``."""
        return set(
            self._session.scalars(
                select(SurveyInvitation.customer_key).where(
                    (SurveyInvitation.invited_at >= moment) | (SurveyInvitation.last_reminded_at >= moment)
                )
            )
        )

    def add_invitations(self, invitations: Iterable[SurveyInvitation]) -> None:
        self._session.add_all(invitations)

    def invitations(self, survey_id: str, invitation_ids: Sequence[str] | None = None) -> list[SurveyInvitation]:
        """The survey's invitations (all, or those with the given ids), by customer key."""
        query = select(SurveyInvitation).where(SurveyInvitation.survey_id == survey_id)
        if invitation_ids is not None:
            query = query.where(SurveyInvitation.invitation_id.in_(list(invitation_ids)))
        return list(self._session.scalars(query.order_by(SurveyInvitation.customer_key)))

    def unanswered_invitations(self, survey_id: str, *, reminded_fewer_than: int) -> list[SurveyInvitation]:
        """The survey's invitations not yet answered and reminded fewer than ``reminded_fewer_than`` times."""
        return list(
            self._session.scalars(
                select(SurveyInvitation).where(
                    SurveyInvitation.survey_id == survey_id,
                    SurveyInvitation.answered.is_(False),
                    SurveyInvitation.reminders_sent < reminded_fewer_than,
                )
            )
        )

    def mark_reminded(self, invitations: Iterable[SurveyInvitation], moment: datetime) -> None:
        for invitation in invitations:
            invitation.reminders_sent += 1
            invitation.last_reminded_at = moment

    def invitation_by_token_hash(self, token_hash: str) -> SurveyInvitation | None:
        return self._session.scalar(select(SurveyInvitation).where(SurveyInvitation.token_hash == token_hash))

    def claim_invitation(self, invitation_id: str) -> bool:
        """Mark the invitation answered; False if it already was.

        One use per token, even with two submissions racing: a single conditional UPDATE, so only the first
        flips ``answered``.
        """
        used = self._session.execute(
            update(SurveyInvitation)
            .where(SurveyInvitation.invitation_id == invitation_id, SurveyInvitation.answered.is_(False))
            .values(answered=True)
            .execution_options(synchronize_session=False)
        )
        return getattr(used, "rowcount", 1) == 1

    def add_response(self, response: SurveyResponse) -> None:
        """Store a response with its answers."""
        self._session.add(response)

    def responses(self, survey_id: str) -> list[SurveyResponse]:
        return list(self._session.scalars(select(SurveyResponse).where(SurveyResponse.survey_id == survey_id)))


@contextmanager
def survey_store(db: AppDatabase) -> Iterator[SurveyStore]:
    """The survey tables in one transaction: committed when the block ends, rolled back if it raises."""
    with db.session() as session:
        yield SurveyStore(session)
