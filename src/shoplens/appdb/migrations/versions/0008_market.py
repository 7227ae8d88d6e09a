"""market: competitors' figures, online market-size estimates and the store's own figures not in its exports

Revision ID: 0008_market
Revises: 0007
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_market"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "market_competitors",
        sa.Column("name", sa.String(120), primary_key=True),
        sa.Column("price_index", sa.Float(), nullable=True),
        sa.Column("delivery_days", sa.Float(), nullable=True),
        sa.Column("returns_days", sa.Integer(), nullable=True),
        sa.Column("range_size", sa.Integer(), nullable=True),
        sa.Column("rating", sa.Float(), nullable=True),
        sa.Column("note", sa.String(300), nullable=False, server_default=""),
        sa.Column("as_of", sa.Date(), nullable=True),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "market_sizes",
        sa.Column("period", sa.String(7), primary_key=True),
        sa.Column("size", sa.Float(), nullable=False),
        sa.Column("source", sa.String(300), nullable=False, server_default=""),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "market_own_figures",
        sa.Column("measure", sa.String(32), primary_key=True),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("market_own_figures")
    op.drop_table("market_sizes")
    op.drop_table("market_competitors")
