"""The audit log: who did what to the store's data, as a hash chain (see :mod:`shoplens.privacy`).

Rows are only ever appended. ``hash`` covers the row and the previous row's hash, keyed with the store secret,
so editing, deleting or reordering rows breaks the chain where it happened.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shoplens.appdb._models import Base


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
