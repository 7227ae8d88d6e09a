"""The market the store sells in, as the user knows it: competitors' figures and estimates of the online market's
size.

A competitor is unique by name (adding it again replaces its figures); each measure may be unknown (NULL). A
market-size estimate is unique by period, a month (YYYY-MM) or a year (YYYY). The store's own return window, which
no export carries, is kept as an own figure. None of it holds personal data.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Date, DateTime, Float, Integer, String, delete, select
from sqlalchemy.orm import Mapped, mapped_column

from shoplens.appdb._models import Base
from shoplens.appdb._session import AppDatabase


class Competitor(Base):
    __tablename__ = "market_competitors"

    name: Mapped[str] = mapped_column(String(120), primary_key=True)
    price_index: Mapped[float | None] = mapped_column(Float, nullable=True)  # this store = 100
    delivery_days: Mapped[float | None] = mapped_column(Float, nullable=True)
    returns_days: Mapped[int | None] = mapped_column(Integer, nullable=True)  # the return window
    range_size: Mapped[int | None] = mapped_column(Integer, nullable=True)  # products on offer
    rating: Mapped[float | None] = mapped_column(Float, nullable=True)  # 0-5
    note: Mapped[str] = mapped_column(String(300), default="")  # where the figures come from
    as_of: Mapped[date | None] = mapped_column(Date, nullable=True)
    set_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "price_index": self.price_index,
            "delivery_days": self.delivery_days,
            "returns_days": self.returns_days,
            "range_size": self.range_size,
            "rating": self.rating,
            "note": self.note or None,
            "as_of": self.as_of,
            "set_at": self.set_at,
        }


class MarketSize(Base):
    __tablename__ = "market_sizes"

    period: Mapped[str] = mapped_column(String(7), primary_key=True)  # YYYY-MM or YYYY
    size: Mapped[float] = mapped_column(Float)  # the online market in the store's currency
    source: Mapped[str] = mapped_column(String(300), default="")
    set_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    def as_dict(self) -> dict[str, Any]:
        return {"period": self.period, "size": self.size, "source": self.source or None, "set_at": self.set_at}


class OwnFigure(Base):
    """A figure of the store's own that the warehouse cannot measure (``returns_days``)."""

    __tablename__ = "market_own_figures"

    measure: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[float] = mapped_column(Float)
    set_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class MarketStore:
    """Reads and writes of competitors, market sizes and own figures; each call is one transaction. Values are
    checked by the caller (:mod:`shoplens.actions`)."""

    def __init__(self, database: AppDatabase) -> None:
        self.database = database

    def set_competitor(
        self,
        *,
        name: str,
        price_index: float | None = None,
        delivery_days: float | None = None,
        returns_days: int | None = None,
        range_size: int | None = None,
        rating: float | None = None,
        note: str = "",
        as_of: date | None = None,
    ) -> tuple[Competitor, bool]:
        """Add the competitor ``name``, or replace its figures; the row and whether it replaced one."""
        with self.database.session(writer=True) as session:
            found = session.get(Competitor, name)
            competitor = found or Competitor(name=name)
            competitor.price_index, competitor.delivery_days = price_index, delivery_days
            competitor.returns_days, competitor.range_size, competitor.rating = returns_days, range_size, rating
            competitor.note, competitor.as_of, competitor.set_at = note, as_of, datetime.now(UTC)
            session.add(competitor)
            session.flush()
            return competitor, found is not None

    def competitors(self) -> list[Competitor]:
        """Every competitor, by name."""
        with self.database.session() as session:
            return list(session.scalars(select(Competitor).order_by(Competitor.name)))

    def delete_competitor(self, name: str) -> bool:
        """Delete one competitor; False when there was none."""
        with self.database.session(writer=True) as session:
            done = session.execute(delete(Competitor).where(Competitor.name == name))
            return bool(getattr(done, "rowcount", 0))

    def set_size(self, *, period: str, size: float, source: str = "") -> tuple[MarketSize, bool]:
        """Set the market size of ``period``, replacing one set before; the row and whether it replaced one."""
        with self.database.session(writer=True) as session:
            found = session.get(MarketSize, period)
            estimate = found or MarketSize(period=period)
            estimate.size, estimate.source, estimate.set_at = size, source, datetime.now(UTC)
            session.add(estimate)
            session.flush()
            return estimate, found is not None

    def sizes(self) -> list[MarketSize]:
        """Every market-size estimate, by period."""
        with self.database.session() as session:
            return list(session.scalars(select(MarketSize).order_by(MarketSize.period)))

    def delete_size(self, period: str) -> bool:
        """Delete one estimate; False when there was none."""
        with self.database.session(writer=True) as session:
            done = session.execute(delete(MarketSize).where(MarketSize.period == period))
            return bool(getattr(done, "rowcount", 0))

    def set_own(self, measure: str, value: float | None) -> None:
        """Set one of the store's own figures; None forgets it."""
        with self.database.session(writer=True) as session:
            found = session.get(OwnFigure, measure)
            if value is None:
                if found is not None:
                    session.delete(found)
                return
            figure = found or OwnFigure(measure=measure)
            figure.value, figure.set_at = value, datetime.now(UTC)
            session.add(figure)

    def own(self) -> dict[str, float]:
        """The store's own figures as set, by measure."""
        with self.database.session() as session:
            return {figure.measure: figure.value for figure in session.scalars(select(OwnFigure))}
