"""The loyalty ledger: append-only point movements per customer (pseudonymous key).

``points`` is positive for earn and bonus entries and negative for redemptions and expiries; a balance is the sum
of a customer's entries and is never stored. An order earns once: (kind, order_id, customer_key) is unique.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shoplens.appdb._models import Base


class LedgerEntry(Base):
    __tablename__ = "loyalty_ledger"
    __table_args__ = (
        UniqueConstraint("kind", "order_id", "customer_key", name="uq_loyalty_ledger_order"),
        Index("ix_loyalty_ledger_customer", "customer_key", "at"),
    )

    entry_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    customer_key: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    kind: Mapped[str] = mapped_column(String(16))  # earn | bonus | redeem | expire | adjust
    points: Mapped[int] = mapped_column(Integer)
    order_id: Mapped[str | None] = mapped_column(String(128))
    reason: Mapped[str] = mapped_column(String(200), default="")
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
