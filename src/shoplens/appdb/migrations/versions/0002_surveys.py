"""surveys: questions, invitations with one-time token hashes, responses and answers

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "surveys",
        sa.Column("survey_id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("anonymity", sa.String(24), nullable=False),
        sa.Column("target_segments", sa.JSON(), nullable=False),
        sa.Column("target_lifecycle", sa.JSON(), nullable=False),
        sa.Column("consented_only", sa.Boolean(), nullable=False),
        sa.Column("sample_size", sa.Integer(), nullable=False),
        sa.Column("contact_cap_days", sa.Integer(), nullable=False),
        sa.Column("response_window_days", sa.Integer(), nullable=False),
        sa.Column("reminder_after_days", sa.Integer(), nullable=False),
        sa.Column("max_reminders", sa.Integer(), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closes_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "survey_questions",
        sa.Column("question_id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("survey_id", sa.String(32), sa.ForeignKey("surveys.survey_id", ondelete="CASCADE"), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("text", sa.String(1000), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.Column("dont_know", sa.Boolean(), nullable=False),
        sa.Column("scale_min", sa.Integer(), nullable=True),
        sa.Column("scale_max", sa.Integer(), nullable=True),
    )
    op.create_index("ix_survey_questions_survey_id", "survey_questions", ["survey_id"])
    op.create_table(
        "survey_invitations",
        sa.Column("invitation_id", sa.String(32), primary_key=True),
        sa.Column("survey_id", sa.String(32), sa.ForeignKey("surveys.survey_id", ondelete="CASCADE"), nullable=False),
        sa.Column("customer_key", sa.String(64), nullable=False),
        sa.Column("segment", sa.String(64), nullable=True),
        sa.Column("lifecycle", sa.String(32), nullable=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("invited_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reminders_sent", sa.Integer(), nullable=False),
        sa.Column("last_reminded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered", sa.Boolean(), nullable=False),
        sa.UniqueConstraint("survey_id", "customer_key", name="uq_survey_invitations_customer"),
    )
    op.create_index("ix_survey_invitations_survey_id", "survey_invitations", ["survey_id"])
    op.create_index("ix_survey_invitations_customer_key", "survey_invitations", ["customer_key"])
    op.create_table(
        "survey_responses",
        sa.Column("response_id", sa.String(32), primary_key=True),
        sa.Column("survey_id", sa.String(32), sa.ForeignKey("surveys.survey_id", ondelete="CASCADE"), nullable=False),
        sa.Column("customer_key", sa.String(64), nullable=True),
        sa.Column("segment", sa.String(64), nullable=True),
        sa.Column("submitted_on", sa.Date(), nullable=False),
    )
    op.create_index("ix_survey_responses_survey_id", "survey_responses", ["survey_id"])
    op.create_table(
        "survey_answers",
        sa.Column("answer_id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "response_id",
            sa.String(32),
            sa.ForeignKey("survey_responses.response_id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "question_id",
            sa.Integer(),
            sa.ForeignKey("survey_questions.question_id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("number", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("choices", sa.JSON(), nullable=True),
        sa.Column("dont_know", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_survey_answers_response_id", "survey_answers", ["response_id"])


def downgrade() -> None:
    op.drop_table("survey_answers")
    op.drop_table("survey_responses")
    op.drop_table("survey_invitations")
    op.drop_table("survey_questions")
    op.drop_table("surveys")
