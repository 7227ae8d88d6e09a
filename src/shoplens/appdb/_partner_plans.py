"""Joint plans with business partners: who the partner is, the goals, the KPIs both sides watch (each with a
target per month), the plan's dates, and which share-package datasets the partner receives.

A plan's KPIs use the targets' vocabulary (``shoplens.actions.KPIS``) and are measured as targets are; they are
kept with the plan, not in the targets table, so a partner's goal never replaces the shop's own target. The
partner may be linked to an existing vendor account by its e-mail, so that the vendor can see the plan's
progress. Nothing here is about a customer.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import JSON, Date, DateTime, Float, ForeignKey, Integer, String, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shoplens.appdb._accounts import User
from shoplens.appdb._models import Base
from shoplens.appdb._session import AppDatabase

PARTNER_KINDS = ("supplier", "marketplace", "web_designer", "other")


class PartnerPlanKpi(Base):
    """One shared KPI of a plan: its target for one month (and sales channel, "" for the whole shop)."""

    __tablename__ = "partner_plan_kpis"

    plan_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("partner_plans.plan_id", ondelete="CASCADE"), primary_key=True
    )
    kpi: Mapped[str] = mapped_column(String(32), primary_key=True)
    period: Mapped[str] = mapped_column(String(7), primary_key=True)  # YYYY-MM
    channel: Mapped[str] = mapped_column(String(64), primary_key=True, default="")
    value: Mapped[float] = mapped_column(Float)


class PartnerPlan(Base):
    """A joint plan with one partner (``partner_kind`` one of :data:`PARTNER_KINDS`)."""

    __tablename__ = "partner_plans"

    plan_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    partner_name: Mapped[str] = mapped_column(String(200))
    partner_kind: Mapped[str] = mapped_column(String(16))
    goals: Mapped[list[str]] = mapped_column(JSON)
    starts: Mapped[date] = mapped_column(Date)
    ends: Mapped[date] = mapped_column(Date)
    datasets: Mapped[list[str]] = mapped_column(JSON)  # names of share-package datasets
    partner_email: Mapped[str | None] = mapped_column(String(320), nullable=True, index=True)  # a vendor account's
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    kpis: Mapped[list[PartnerPlanKpi]] = relationship(
        lazy="selectin",
        cascade="all, delete-orphan",
        order_by=(PartnerPlanKpi.period, PartnerPlanKpi.kpi, PartnerPlanKpi.channel),
    )


class PartnerPlanStore:
    """Reads and writes of partner plans; each call is one transaction. Values are checked by the caller."""

    def __init__(self, database: AppDatabase) -> None:
        self.database = database

    def create(
        self,
        *,
        partner_name: str,
        partner_kind: str,
        starts: date,
        ends: date,
        goals: list[str],
        datasets: list[str],
        kpis: list[tuple[str, str, float, str]],
        partner_email: str | None = None,
    ) -> PartnerPlan:
        """A new plan with its KPIs (``kpis``: kpi, period, target value, channel)."""
        with self.database.session(writer=True) as session:
            plan = PartnerPlan(
                partner_name=partner_name,
                partner_kind=partner_kind,
                goals=list(goals),
                starts=starts,
                ends=ends,
                datasets=list(datasets),
                partner_email=partner_email,
                created_at=datetime.now(UTC),
                kpis=[
                    PartnerPlanKpi(kpi=kpi, period=period, value=value, channel=channel)
                    for kpi, period, value, channel in kpis
                ],
            )
            session.add(plan)
            session.flush()
            session.refresh(plan)
            return plan

    def plans(self, *, partner_email: str | None = None) -> list[PartnerPlan]:
        """Every plan (of the partner account ``partner_email`` when given), oldest first."""
        with self.database.session() as session:
            chosen = select(PartnerPlan).order_by(PartnerPlan.plan_id)
            if partner_email is not None:
                chosen = chosen.where(PartnerPlan.partner_email == partner_email)
            return list(session.scalars(chosen))

    def plan(self, plan_id: int) -> PartnerPlan | None:
        with self.database.session() as session:
            return session.get(PartnerPlan, plan_id)

    def delete(self, plan_id: int) -> PartnerPlan | None:
        """Delete one plan with its KPIs; the plan as it was, or None when there was none."""
        with self.database.session(writer=True) as session:
            plan = session.get(PartnerPlan, plan_id)
            if plan is not None:
                session.delete(plan)
            return plan

    def vendor_account(self, email: str) -> bool:
        """Whether ``email`` (lower-case) is an active vendor account."""
        with self.database.session() as session:
            user = session.scalar(select(User).where(User.email == email))
            return user is not None and user.active and user.role == "vendor"
