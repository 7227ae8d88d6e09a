"""plans: targets, budgets, retention campaigns with their members, and the loyalty ledger

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "targets",
        sa.Column("target_id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("kpi", sa.String(32), nullable=False),
        sa.Column("period", sa.String(7), nullable=False),
        sa.Column("channel", sa.String(64), nullable=False, server_default=""),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("note", sa.String(300), nullable=False, server_default=""),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("kpi", "period", "channel", name="uq_targets_kpi_period_channel"),
    )
    op.create_table(
        "budgets",
        sa.Column("channel", sa.String(64), primary_key=True),
        sa.Column("period", sa.String(7), primary_key=True),
        sa.Column("amount", sa.Float(), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "campaigns",
        sa.Column("campaign_id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("segment", sa.String(64), nullable=False),
        sa.Column("holdout_share", sa.Float(), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("window_days", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
    )
    op.create_table(
        "campaign_members",
        sa.Column("campaign_id", sa.String(32), sa.ForeignKey("campaigns.campaign_id"), primary_key=True),
        sa.Column("customer_key", sa.String(64), primary_key=True),
        sa.Column("arm", sa.String(16), nullable=False),
        sa.Column("pre_orders", sa.Integer(), nullable=False),
        sa.Column("pre_revenue", sa.Float(), nullable=False),
    )
    op.create_table(
        "loyalty_ledger",
        sa.Column("entry_id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("customer_key", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.String(128), nullable=True),
        sa.Column("reason", sa.String(200), nullable=False, server_default=""),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("kind", "order_id", "customer_key", name="uq_loyalty_ledger_order"),
    )
    op.create_index("ix_loyalty_ledger_customer", "loyalty_ledger", ["customer_key", "at"])


def downgrade() -> None:
    op.drop_index("ix_loyalty_ledger_customer", table_name="loyalty_ledger")
    op.drop_table("loyalty_ledger")
    op.drop_table("campaign_members")
    op.drop_table("campaigns")
    op.drop_table("budgets")
    op.drop_table("targets")
