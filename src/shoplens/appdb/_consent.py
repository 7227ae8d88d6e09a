"""Consent records (the rules: :mod:`shoplens.privacy`): one row per decision, never updated; the newest wins."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Boolean, DateTime, Index, Integer, String, func, select
from sqlalchemy.orm import Mapped, mapped_column

from shoplens.appdb._models import Base
from shoplens.privacy import PLATFORM_PREFIX, PURPOSES, ConsentBook, ConsentRecord, Purpose

if TYPE_CHECKING:
    from shoplens.appdb._session import AppDatabase


class ConsentEntry(Base):
    """A customer's decision for one purpose; ``source`` is ``import:<profile>``, ``cli`` or ``api``."""

    __tablename__ = "consent_records"
    __table_args__ = (Index("ix_consent_records_purpose_customer", "purpose", "customer_key", "record_id"),)

    # Rows are only appended, so the highest id of a (customer, purpose) is its newest decision.
    record_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    customer_key: Mapped[str] = mapped_column(String(64))
    purpose: Mapped[str] = mapped_column(String(16))
    granted: Mapped[bool] = mapped_column(Boolean)
    source: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    def record(self) -> ConsentRecord:
        return ConsentRecord(self.customer_key, cast(Purpose, self.purpose), self.granted, self.source, self.at)


def add_consent(database: AppDatabase, records: Sequence[ConsentRecord]) -> int:
    with database.session(writer=True) as session:
        session.add_all(
            ConsentEntry(customer_key=r.customer_key, purpose=r.purpose, granted=r.granted, source=r.source, at=r.at)
            for r in records
        )
    return len(records)


def latest_consent(
    database: AppDatabase, purpose: Purpose, customer_keys: Sequence[str] | None = None
) -> dict[str, ConsentRecord]:
    newest = (
        select(func.max(ConsentEntry.record_id))
        .where(ConsentEntry.purpose == purpose)
        .group_by(ConsentEntry.customer_key)
        .scalar_subquery()
    )
    wanted = set(customer_keys) if customer_keys is not None else None
    with database.session() as session:
        rows = session.scalars(select(ConsentEntry).where(ConsentEntry.record_id.in_(newest)))
        return {row.customer_key: row.record() for row in rows if wanted is None or row.customer_key in wanted}


def latest_platform_consent(database: AppDatabase, purpose: Purpose, customer_keys: Sequence[str]) -> dict[str, bool]:
    newest = (
        select(func.max(ConsentEntry.record_id))
        .where(ConsentEntry.purpose == purpose, ConsentEntry.source.startswith(PLATFORM_PREFIX))
        .group_by(ConsentEntry.customer_key)
        .scalar_subquery()
    )
    wanted = set(customer_keys)
    with database.session() as session:
        rows = session.execute(
            select(ConsentEntry.customer_key, ConsentEntry.granted).where(ConsentEntry.record_id.in_(newest))
        )
        return {key: bool(granted) for key, granted in rows if key in wanted}


def consent_history(database: AppDatabase, customer_key: str) -> list[ConsentRecord]:
    """Every record of one customer, oldest first."""
    with database.session() as session:
        rows = session.scalars(
            select(ConsentEntry).where(ConsentEntry.customer_key == customer_key).order_by(ConsentEntry.record_id)
        )
        return [row.record() for row in rows]


def consent_state(database: AppDatabase, key: str, platform_flag: bool | None) -> dict[str, Any]:
    """Per purpose: granted now, and the record that says so (or the default when there is none: the platform's
    flag for marketing, yes for the others)."""
    state: dict[str, Any] = {}
    for purpose in PURPOSES:
        found = database.latest_consent(purpose, [key]).get(key)
        if found is not None:
            state[purpose] = {"granted": found.granted, "source": found.source, "at": found.as_dict()["at"]}
        else:
            source = "platform flag" if purpose == "marketing" else "default"
            state[purpose] = {"granted": ConsentBook(purpose).default(platform_flag), "source": source, "at": None}
    return state
