"""The audit log's rows: who did what to the store's data, as a hash chain (the chain's rules: :mod:`shoplens.privacy`).

Rows are only ever appended. ``hash`` covers the row and the previous row's hash, keyed with the store secret,
so editing, deleting or reordering rows breaks the chain where it happened.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import DateTime, Integer, String, Text, select, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Mapped, mapped_column

from shoplens.appdb._models import Base
from shoplens.errors import WarehouseError
from shoplens.privacy import AuditRow

if TYPE_CHECKING:
    from shoplens.appdb._session import AppDatabase

WRITE_ATTEMPTS = 5


class AuditRecord(Base):
    """One audit entry. ``actor`` names an account (``user:<id>``, ``token:<id>``, ``cli``), never a customer."""

    __tablename__ = "audit_log"

    # The id is part of the hashed content, so the writer assigns it (last id + 1) inside its transaction; the
    # primary key and the unique prev_hash make a racing writer fail and retry instead of forking the chain.
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(64))
    details: Mapped[str] = mapped_column(Text)  # canonical JSON: sorted keys, no spaces
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64))

    def row(self) -> AuditRow:
        return AuditRow(self.id, self.at, self.actor, self.action, self.details, self.prev_hash, self.hash)


def append_audit(database: AppDatabase, seal: Callable[[AuditRow | None], AuditRow]) -> AuditRow:
    """Store ``seal(newest row)`` in one transaction.

    The newest row is read inside the same transaction that writes the new one; a writer that raced another
    hits the primary key (same next id) or the unique ``prev_hash`` and starts again on the new newest row.
    """
    for attempt in range(WRITE_ATTEMPTS):
        try:
            with database.session(writer=True) as session:
                if session.get_bind().dialect.name == "postgresql":
                    # Writers queue here; readers (verify, list) are not blocked.
                    session.execute(text("LOCK TABLE audit_log IN SHARE ROW EXCLUSIVE MODE"))
                newest = session.scalars(select(AuditRecord).order_by(AuditRecord.id.desc()).limit(1)).first()
                sealed = seal(newest.row() if newest is not None else None)
                session.add(
                    AuditRecord(
                        id=sealed.id,
                        at=sealed.at,
                        actor=sealed.actor,
                        action=sealed.action,
                        details=sealed.details,
                        prev_hash=sealed.prev_hash,
                        hash=sealed.hash,
                    )
                )
            return sealed
        except (IntegrityError, OperationalError) as exc:  # lost a race (or SQLite was busy): read again
            if attempt == WRITE_ATTEMPTS - 1:
                raise WarehouseError(f"cannot append to the audit log: {str(exc).splitlines()[0][:160]}") from None
    raise AssertionError("unreachable")


def audit_rows(database: AppDatabase) -> Iterator[AuditRow]:
    """Every row, oldest first, read in batches."""
    columns = (
        AuditRecord.id,
        AuditRecord.at,
        AuditRecord.actor,
        AuditRecord.action,
        AuditRecord.details,
        AuditRecord.prev_hash,
        AuditRecord.hash,
    )
    with database.session() as session:
        for found in session.execute(select(*columns).order_by(AuditRecord.id).execution_options(yield_per=1000)):
            yield AuditRow(*found)


def newest_audit_rows(database: AppDatabase, limit: int) -> list[AuditRow]:
    with database.session() as session:
        records = session.scalars(select(AuditRecord).order_by(AuditRecord.id.desc()).limit(limit))
        return [record.row() for record in records]
