"""Retention campaigns: the target group frozen at creation, split into treatment and a random holdout.

The split is stored member by member with each member's pre-period orders and revenue (for the balance check and
the variance reduction at measurement), together with the seed that reproduces it. Members are pseudonymous keys.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Date, DateTime, Float, ForeignKey, Integer, String, select
from sqlalchemy.orm import Mapped, mapped_column

from shoplens.appdb._models import Base

if TYPE_CHECKING:
    from shoplens.appdb._session import AppDatabase


class Campaign(Base):
    __tablename__ = "campaigns"

    campaign_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    segment: Mapped[str] = mapped_column(String(64))
    holdout_share: Mapped[float] = mapped_column(Float)
    seed: Mapped[int] = mapped_column(Integer)
    as_of: Mapped[date] = mapped_column(Date)  # the last day of the pre-period; the campaign window starts after it
    window_days: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    details: Mapped[dict[str, Any]] = mapped_column(JSON)  # balance check, minimum detectable effect, ...


class CampaignMember(Base):
    __tablename__ = "campaign_members"

    campaign_id: Mapped[str] = mapped_column(String(32), ForeignKey("campaigns.campaign_id"), primary_key=True)
    customer_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    arm: Mapped[str] = mapped_column(String(16))  # treatment | holdout
    pre_orders: Mapped[int] = mapped_column(Integer)
    pre_revenue: Mapped[float] = mapped_column(Float)


def save_campaign(db: AppDatabase, campaign: Campaign, members: Iterable[CampaignMember]) -> None:
    """Store a new campaign and its members in one transaction (a campaign is frozen once created)."""
    with db.session(writer=True) as session:
        session.add(campaign)
        session.flush()  # the campaign row first: members refer to it
        session.add_all(list(members))


def campaign_by_id(db: AppDatabase, campaign_id: str) -> Campaign | None:
    with db.session() as session:
        return session.get(Campaign, campaign_id)


def all_campaigns(db: AppDatabase) -> list[Campaign]:
    """Every campaign, newest first."""
    with db.session() as session:
        return list(session.scalars(select(Campaign).order_by(Campaign.created_at.desc(), Campaign.campaign_id)))


def campaign_members(db: AppDatabase, campaign_id: str) -> list[CampaignMember]:
    """The members of a campaign, by customer key."""
    with db.session() as session:
        query = select(CampaignMember).where(CampaignMember.campaign_id == campaign_id)
        return list(session.scalars(query.order_by(CampaignMember.customer_key)))
