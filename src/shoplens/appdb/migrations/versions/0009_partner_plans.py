"""partner plans: joint plans with suppliers, marketplaces and web designers, and their shared KPIs

Revision ID: 0009_partner_plans
Revises: 0008_market
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_partner_plans"
down_revision = "0008_market"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "partner_plans",
        sa.Column("plan_id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("partner_name", sa.String(200), nullable=False),
        sa.Column("partner_kind", sa.String(16), nullable=False),
        sa.Column("goals", sa.JSON(), nullable=False),
        sa.Column("starts", sa.Date(), nullable=False),
        sa.Column("ends", sa.Date(), nullable=False),
        sa.Column("datasets", sa.JSON(), nullable=False),
        sa.Column("partner_email", sa.String(320), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_partner_plans_partner_email", "partner_plans", ["partner_email"])
    op.create_table(
        "partner_plan_kpis",
        sa.Column(
            "plan_id",
            sa.Integer(),
            sa.ForeignKey("partner_plans.plan_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("kpi", sa.String(32), primary_key=True),
        sa.Column("period", sa.String(7), primary_key=True),
        sa.Column("channel", sa.String(64), primary_key=True, server_default=""),
        sa.Column("value", sa.Float(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("partner_plan_kpis")
    op.drop_index("ix_partner_plans_partner_email", table_name="partner_plans")
    op.drop_table("partner_plans")
