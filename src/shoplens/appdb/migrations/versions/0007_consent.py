"""consent: one record per customer decision and purpose (the newest wins)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "consent_records",
        sa.Column("record_id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("customer_key", sa.String(64), nullable=False),
        sa.Column("purpose", sa.String(16), nullable=False),
        sa.Column("granted", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_consent_records_purpose_customer", "consent_records", ["purpose", "customer_key", "record_id"])


def downgrade() -> None:
    op.drop_index("ix_consent_records_purpose_customer", table_name="consent_records")
    op.drop_table("consent_records")
