"""Targets and budgets: what the shop means to reach per KPI and month, and what it means to spend per channel.

A target is unique by KPI, month and channel ("" for the whole shop); setting it again replaces its value. A
budget is unique by channel and month. Neither holds personal data.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Float, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shoplens.appdb._models import Base


class Target(Base):
    __tablename__ = "targets"
    __table_args__ = (UniqueConstraint("kpi", "period", "channel", name="uq_targets_kpi_period_channel"),)

    target_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kpi: Mapped[str] = mapped_column(String(32))
    period: Mapped[str] = mapped_column(String(7))  # YYYY-MM
    channel: Mapped[str] = mapped_column(String(64), default="")
    value: Mapped[float] = mapped_column(Float)
    note: Mapped[str] = mapped_column(String(300), default="")
    set_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Budget(Base):
    __tablename__ = "budgets"

    channel: Mapped[str] = mapped_column(String(64), primary_key=True)
    period: Mapped[str] = mapped_column(String(7), primary_key=True)  # YYYY-MM
    amount: Mapped[float] = mapped_column(Float)
    set_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
