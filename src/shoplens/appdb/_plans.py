"""Targets and budgets: what the shop means to reach per KPI and month, and what it means to spend per channel.

A target is unique by KPI, month and channel ("" for the whole shop); setting it again replaces its value. A
budget is unique by channel and month. Neither holds personal data.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime, Float, Integer, String, UniqueConstraint, delete, select
from sqlalchemy.orm import Mapped, mapped_column

from shoplens.appdb._models import Base
from shoplens.appdb._session import AppDatabase


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


class PlanStore:
    """Reads and writes of targets and budgets; each call is one transaction."""

    def __init__(self, database: AppDatabase) -> None:
        self.database = database

    def set_target(self, *, kpi: str, period: str, value: float, channel: str = "", note: str = "") -> Target:
        """Set the target of ``kpi`` for ``period`` (and ``channel``), replacing one set before."""
        with self.database.session(writer=True) as session:
            found = session.scalars(
                select(Target).where(Target.kpi == kpi, Target.period == period, Target.channel == channel)
            ).first()
            target = found or Target(kpi=kpi, period=period, channel=channel)
            target.value, target.note, target.set_at = value, note, datetime.now(UTC)
            session.add(target)
            session.flush()
            return target

    def targets(self, *, period: str | None = None) -> list[Target]:
        """Every target (of ``period`` when given), by period, KPI and channel."""
        with self.database.session() as session:
            chosen = select(Target).order_by(Target.period, Target.kpi, Target.channel)
            if period is not None:
                chosen = chosen.where(Target.period == period)
            return list(session.scalars(chosen))

    def delete_target(self, *, kpi: str, period: str, channel: str = "") -> bool:
        """Delete one target; False when there was none."""
        with self.database.session(writer=True) as session:
            done = session.execute(
                delete(Target).where(Target.kpi == kpi, Target.period == period, Target.channel == channel)
            )
            return bool(getattr(done, "rowcount", 0))

    def set_budget(self, *, channel: str, period: str, amount: float) -> Budget:
        """Set the budget of ``channel`` for ``period``, replacing one set before."""
        with self.database.session(writer=True) as session:
            budget = session.get(Budget, (channel, period)) or Budget(channel=channel, period=period)
            budget.amount, budget.set_at = amount, datetime.now(UTC)
            session.add(budget)
            session.flush()
            return budget

    def budgets(self, *, period: str | None = None) -> list[Budget]:
        """Every budget (of ``period`` when given), by period and channel."""
        with self.database.session() as session:
            chosen = select(Budget).order_by(Budget.period, Budget.channel)
            if period is not None:
                chosen = chosen.where(Budget.period == period)
            return list(session.scalars(chosen))

    def delete_budget(self, *, channel: str, period: str) -> bool:
        """Delete one budget; False when there was none."""
        with self.database.session(writer=True) as session:
            done = session.execute(delete(Budget).where(Budget.channel == channel, Budget.period == period))
            return bool(getattr(done, "rowcount", 0))
