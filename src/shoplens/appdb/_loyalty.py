"""The loyalty ledger: append-only point movements per customer (pseudonymous key).

``points`` is positive for earn and bonus entries and negative for redemptions and expiries; a balance is the sum
of a customer's entries and is never stored. An order earns once: (kind, order_id, customer_key) is unique.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy import DateTime, Index, Integer, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, mapped_column

from shoplens.appdb._models import Base
from shoplens.appdb._session import AppDatabase


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


LedgerKey = tuple[str, str | None, str]


def ledger_entries(database: AppDatabase, customer_key: str | None = None) -> list[LedgerEntry]:
    """The ledger in the order it happened (time, then entry id), of one customer or of everyone."""
    query = select(LedgerEntry).order_by(LedgerEntry.at, LedgerEntry.entry_id)
    if customer_key is not None:
        query = query.where(LedgerEntry.customer_key == customer_key)
    with database.session() as session:
        return list(session.scalars(query))


def append_ledger_entries(
    database: AppDatabase,
    plan: Callable[[list[LedgerEntry]], Sequence[LedgerEntry]],
    customer_key: str | None = None,
) -> list[LedgerEntry]:
    """Append what ``plan`` makes of the ledger (one customer's, or everyone's), holding the write lock from the
    read to the write, so that two redemptions at once cannot both spend the same points. Entries whose (kind,
    order_id, customer_key) is already in the ledger are left out, so running the same accrual twice adds nothing;
    entries without an order id (redemptions) are always appended. Returns the entries appended.
    """
    query = select(LedgerEntry).order_by(LedgerEntry.at, LedgerEntry.entry_id)
    if customer_key is not None:
        query = query.where(LedgerEntry.customer_key == customer_key)
    with database.session(writer=True) as session:
        ledger = list(session.scalars(query))
        rows = session.execute(select(LedgerEntry.kind, LedgerEntry.order_id, LedgerEntry.customer_key))
        existing: set[LedgerKey] = {(kind, order_id, customer) for kind, order_id, customer in rows}
        added: list[LedgerEntry] = []
        for entry in plan(ledger):
            key = (entry.kind, entry.order_id, entry.customer_key)
            if entry.order_id is not None and key in existing:
                continue
            existing.add(key)
            session.add(entry)
            added.append(entry)
        return added
