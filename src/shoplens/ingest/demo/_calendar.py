"""The store's calendar: daily demand (weekday, month, festivals and sales), the demand clock repeat purchases
run on, the growth of acquisition, the sale code of each day and the delivery risk; and Hong Kong shopping hours.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import pyarrow as pa

from shoplens.ingest.demo._sampling import FloatArray, IntArray, _categorical
from shoplens.ingest.demo._shop import DISCOUNT_CODE_INDEX

SECONDS_PER_DAY = 86_400
NEW_CUSTOMER_GROWTH_PER_YEAR = 1.8
# Hong Kong shopping hours (local 00..23); orders are stored in UTC, eight hours earlier.
LOCAL_HOUR_WEIGHTS = (3.0, 1.8, 1.0, 0.6, 0.4, 0.4, 0.7, 1.3, 2.2, 3.0, 3.6, 4.0,
                      4.6, 4.4, 4.0, 4.0, 4.2, 4.4, 4.6, 5.2, 6.0, 6.6, 6.4, 4.8)  # fmt: skip
UTC_HOUR_WEIGHTS = tuple(LOCAL_HOUR_WEIGHTS[(hour + 8) % 24] for hour in range(24))
WEEKDAY_DEMAND = (1.04, 1.00, 0.98, 0.97, 0.94, 1.00, 1.10)  # Monday .. Sunday
MONTH_DEMAND = (0.92, 0.85, 0.92, 0.95, 0.98, 0.98, 0.97, 0.95, 0.96, 1.00, 1.12, 1.25)  # January .. December
# Chinese New Year (first day of the lunar year).
CHINESE_NEW_YEAR: dict[int, date] = {
    2020: date(2020, 1, 25), 2021: date(2021, 2, 12), 2022: date(2022, 2, 1), 2023: date(2023, 1, 22),
    2024: date(2024, 2, 10), 2025: date(2025, 1, 29), 2026: date(2026, 2, 17), 2027: date(2027, 2, 6),
    2028: date(2028, 1, 26), 2029: date(2029, 2, 13), 2030: date(2030, 2, 3),
}  # fmt: skip


def _seconds_of_day(rng: np.random.Generator, size: int) -> IntArray:
    hour = _categorical(rng, UTC_HOUR_WEIGHTS, size)
    return hour * 3600 + rng.integers(0, 3600, size)


@dataclass(frozen=True)
class _CalendarDay:
    day: date
    name: str
    kind: str  # holiday | shopping_festival | store_sale
    demand: float = 1.0
    discount_code: str | None = None


def _calendar_for_year(year: int) -> list[_CalendarDay]:
    new_year = CHINESE_NEW_YEAR[year]
    november_first = date(year, 11, 1)
    thanksgiving = november_first + timedelta(days=(3 - november_first.weekday()) % 7 + 21)
    black_friday = thanksgiving + timedelta(days=1)
    entries = [
        _CalendarDay(new_year + timedelta(days=offset), "Chinese New Year Sale", "store_sale", 1.35, "LUCKY8")
        for offset in range(-12, -2)
    ]
    entries += [
        _CalendarDay(new_year - timedelta(days=1), "Chinese New Year's Eve", "holiday", 0.7),
        _CalendarDay(new_year, "Chinese New Year", "holiday", 0.55),
        _CalendarDay(new_year + timedelta(days=1), "Chinese New Year (second day)", "holiday", 0.55),
        _CalendarDay(new_year + timedelta(days=2), "Chinese New Year (third day)", "holiday", 0.6),
        _CalendarDay(date(year, 6, 18), "Mid-Year Sale 6.18", "shopping_festival", 1.6, "MID618"),
        *(_CalendarDay(date(year, 7, d), "Summer Sale", "store_sale", 1.3, "SUMMER15") for d in range(1, 8)),
        *(_CalendarDay(date(year, 9, d), "Anniversary Sale", "store_sale", 1.45, "BIRTHDAY20") for d in (12, 13, 14)),
        _CalendarDay(date(year, 11, 11), "Singles' Day", "shopping_festival", 2.4, "DOUBLE11"),
        _CalendarDay(black_friday, "Black Friday", "shopping_festival", 2.6, "BLACKFRIDAY20"),
        _CalendarDay(
            black_friday + timedelta(days=1), "Black Friday Weekend", "shopping_festival", 1.7, "BLACKFRIDAY20"
        ),
        _CalendarDay(
            black_friday + timedelta(days=2), "Black Friday Weekend", "shopping_festival", 1.6, "BLACKFRIDAY20"
        ),
        _CalendarDay(black_friday + timedelta(days=3), "Cyber Monday", "shopping_festival", 2.0, "CYBER20"),
        *(_CalendarDay(date(year, 12, d), "Christmas Sale", "store_sale", 1.3, "XMAS15") for d in range(12, 24)),
        _CalendarDay(date(year, 12, 24), "Christmas Eve", "holiday", 1.0),
        _CalendarDay(date(year, 12, 25), "Christmas Day", "holiday", 0.6),
        _CalendarDay(date(year, 12, 26), "Boxing Day", "holiday", 1.7, "BOXING20"),
    ]
    return sorted(entries, key=lambda entry: (entry.day, entry.name))


@dataclass(frozen=True)
class _Calendar:
    start: date
    days: int
    entries: tuple[_CalendarDay, ...]  # every entry of every year the window touches
    demand: FloatArray  # relative daily demand, mean 1 over the window
    demand_clock: FloatArray  # cumulative demand at each day boundary (days + 1 values)
    acquisition_cdf: FloatArray  # cumulative share of new customers by day
    sale_code: IntArray  # DISCOUNT_CODES index of the day's sale code, or -1
    delivery_risk: FloatArray  # multiplies the chance of a late delivery

    @property
    def start_epoch_seconds(self) -> int:
        return (self.start - date(1970, 1, 1)).days * SECONDS_PER_DAY

    @property
    def end_seconds(self) -> int:
        return self.days * SECONDS_PER_DAY

    def table(self) -> Any:
        return pa.table(
            {
                "date": pa.array([e.day for e in self.entries], pa.date32()),
                "name": pa.array([e.name for e in self.entries], pa.string()),
                "kind": pa.array([e.kind for e in self.entries], pa.string()),
            }
        )


def _build_calendar(start: date, days: int) -> _Calendar:
    dates = [start + timedelta(days=offset) for offset in range(days)]
    demand = np.array([WEEKDAY_DEMAND[d.weekday()] * MONTH_DEMAND[d.month - 1] for d in dates])
    sale_code = np.full(days, -1, dtype=np.int64)
    delivery_risk = np.where([d.month == 12 for d in dates], 1.6, 1.0)
    entries: list[_CalendarDay] = []
    for year in range(start.year, dates[-1].year + 1):
        entries += _calendar_for_year(year)
        new_year_offset = (CHINESE_NEW_YEAR[year] - start).days
        low, high = max(new_year_offset - 5, 0), min(new_year_offset + 5, days)
        if low < high:
            delivery_risk[low:high] = 2.5  # couriers and suppliers stop for the holiday
    for entry in entries:
        offset = (entry.day - start).days
        if 0 <= offset < days:
            demand[offset] *= entry.demand
            if entry.discount_code is not None and sale_code[offset] < 0:
                sale_code[offset] = DISCOUNT_CODE_INDEX[entry.discount_code]
    demand /= demand.mean()
    demand_clock = np.concatenate([[0.0], np.cumsum(demand)])
    growth = NEW_CUSTOMER_GROWTH_PER_YEAR ** (np.arange(days) / 365.0)
    acquisition_cdf = np.cumsum(growth * demand)
    acquisition_cdf /= acquisition_cdf[-1]
    return _Calendar(start, days, tuple(entries), demand, demand_clock, acquisition_cdf, sale_code, delivery_risk)
