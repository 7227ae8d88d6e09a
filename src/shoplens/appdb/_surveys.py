"""Survey tables of the app database (migration 0002). Change them only together with a new Alembic migration.

Privacy by construction: invitations carry the pseudonymous ``customer_key`` and only a hash of the one-time
token; a response carries the customer key only when the survey links answers and the customer agreed, and its
date only to the day, so an anonymous answer cannot be matched back to its invitation by time.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shoplens.appdb._models import Base


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
