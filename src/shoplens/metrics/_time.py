"""Store-local time for metrics: UTC timestamps shown in the store's time zone, and calendar periods.

The warehouse keeps every timestamp in UTC; a store in London or Hong Kong thinks in its own days and
months. Ibis has no portable time-zone conversion, so :func:`local_time` builds one from the zone's
transitions (read from the IANA database through :mod:`zoneinfo`): a balanced tree of ``ts < transition``
tests whose leaves add that stretch's UTC offset. It compiles to plain ``CASE`` and interval arithmetic,
which DuckDB, PostgreSQL and Spark all run alike, and it is exact for every instant from 1990 to 2070.

A zone may be given as a name, or as a :class:`StoreZone` that also names the years the data spans: the
tree then holds only those years' transitions (a handful instead of ~160), which keeps the SQL small.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Literal
from zoneinfo import ZoneInfo

import ibis
import ibis.expr.types as ir

from shoplens.errors import InputError

Grain = Literal["day", "week", "month", "quarter"]
GRAINS: tuple[str, ...] = ("day", "week", "month", "quarter")
_TRUNCATE_UNIT = {"day": "D", "week": "W", "month": "M", "quarter": "Q"}
_FIRST_YEAR, _LAST_YEAR = 1990, 2070  # the importer keeps no date before 1990
_EPOCH_MONDAY = date(1970, 1, 5)  # weeks are numbered from here; weeks start on Monday (ISO)


@dataclass(frozen=True)
class StoreZone:
    """A time zone plus the years the data spans (instants outside them get the nearest year's offset)."""

    name: str
    first_year: int = _FIRST_YEAR
    last_year: int = _LAST_YEAR

    @classmethod
    def spanning(cls, name: str, years: Iterable[int]) -> StoreZone:
        """The zone for data in ``years``, with a year to spare either side; every year when there are none."""
        found = list(years)
        return cls(name, min(found) - 1, max(found) + 1) if found else cls(name)


Zone = str | StoreZone


def as_store_zone(zone: Zone) -> StoreZone:
    return zone if isinstance(zone, StoreZone) else StoreZone(zone)


@lru_cache(maxsize=64)
def utc_offsets(
    zone: str, first_year: int = _FIRST_YEAR, last_year: int = _LAST_YEAR
) -> tuple[tuple[datetime | None, int], ...]:
    """The zone's UTC offset in seconds, as ``(from_utc_instant, offset)`` stretches; the first starts at None.

    Adjacent stretches always differ in offset. Instants are naive UTC datetimes, like the warehouse's.
    """
    tz = ZoneInfo(zone)

    def offset(at: datetime) -> int:
        delta = at.replace(tzinfo=UTC).astimezone(tz).utcoffset()
        return int(delta.total_seconds()) if delta is not None else 0

    start = datetime(first_year, 1, 1)
    stretches: list[tuple[datetime | None, int]] = [(None, offset(start))]
    day, end = start, datetime(last_year + 1, 1, 1)
    while day < end:
        following = day + timedelta(days=1)
        if offset(following) != stretches[-1][1]:
            low, high = day, following  # the change happens in (low, high]: bisect to the second
            while high - low > timedelta(seconds=1):
                middle = low + (high - low) / 2
                middle = middle.replace(microsecond=0)
                if middle <= low:
                    break
                if offset(middle) == stretches[-1][1]:
                    low = middle
                else:
                    high = middle
            stretches.append((high, offset(high)))
        day = following
    return tuple(stretches)


def local_time(utc: ir.TimestampValue, zone: Zone) -> ir.TimestampValue:
    """``utc`` (a naive UTC timestamp) as the wall-clock time in ``zone``."""
    store_zone = as_store_zone(zone)
    stretches = utc_offsets(store_zone.name, store_zone.first_year, store_zone.last_year)
    if len(stretches) == 1:
        only = stretches[0][1]
        return utc if only == 0 else utc + ibis.interval(seconds=only)

    def build(first: int, last: int) -> ir.TimestampValue:
        if first == last:
            seconds = stretches[first][1]
            return utc if seconds == 0 else utc + ibis.interval(seconds=seconds)
        middle = (first + last + 1) // 2
        boundary = stretches[middle][0]
        assert boundary is not None
        return ibis.ifelse(utc < ibis.timestamp(boundary), build(first, middle - 1), build(middle, last))

    return build(0, len(stretches) - 1)


def check_grain(grain: str, allowed: tuple[str, ...] = GRAINS) -> str:
    if grain not in allowed:
        raise InputError(f"grain must be one of {', '.join(allowed)}, not {grain!r}")
    return grain


def period_start(local: ir.TimestampValue, grain: str) -> ir.DateValue:
    """The first day of the ``grain`` period that contains ``local`` (weeks start on Monday)."""
    check_grain(grain)
    return local.truncate(_TRUNCATE_UNIT[grain]).date()


def period_ordinal(period: ir.DateValue, grain: str) -> ir.IntegerValue:
    """Consecutive periods get consecutive integers, so ``b - a`` counts the periods from ``a`` to ``b``."""
    check_grain(grain)
    if grain == "month":
        return period.year() * 12 + period.month()
    if grain == "quarter":
        return period.year() * 4 + period.quarter()
    days = period.delta(ibis.date(_EPOCH_MONDAY), unit="day")
    return days // 7 if grain == "week" else days


def period_end(period: ir.DateValue, grain: str) -> ir.DateValue:
    """The last day of the ``grain`` period that starts on ``period``."""
    check_grain(grain)
    if grain == "day":
        return period
    if grain == "week":
        return _date(period + ibis.interval(days=6))
    # a month has at most 31 days and a quarter at most 92: a jump that long lands in the next period
    jump = 31 if grain == "month" else 92
    following = _date(period + ibis.interval(days=jump)).truncate(_TRUNCATE_UNIT[grain])
    return _date(following - ibis.interval(days=1))


def previous_period_start(period: ir.DateValue, grain: str) -> ir.DateValue:
    """The first day of the period before the ``grain`` period that starts on ``period``."""
    check_grain(grain)
    if grain == "day":
        return _date(period - ibis.interval(days=1))
    if grain == "week":
        return _date(period - ibis.interval(days=7))
    return _date(period - ibis.interval(days=1)).truncate(_TRUNCATE_UNIT[grain])


def add_days(day: ir.DateValue, days: ir.IntegerValue) -> ir.DateValue:
    """``day`` plus ``days`` (an integer expression) days."""
    return _date(day + days.as_interval("D"))


def _date(value: ir.Value) -> ir.DateValue:
    # Date plus interval is a timestamp in DuckDB and PostgreSQL (ibis types it as a date): cast it back.
    return value.cast("timestamp").date()


def python_period_start(day: date, grain: str) -> date:
    """The same as :func:`period_start`, for a Python date (used to fill and label periods)."""
    check_grain(grain)
    if grain == "day":
        return day
    if grain == "week":
        return day - timedelta(days=day.weekday())
    if grain == "month":
        return day.replace(day=1)
    return day.replace(month=3 * ((day.month - 1) // 3) + 1, day=1)


def python_period_end(day: date, grain: str) -> date:
    """The last day of the ``grain`` period that contains ``day``."""
    start = python_period_start(day, grain)
    if grain == "day":
        return start
    if grain == "week":
        return start + timedelta(days=6)
    jump = 31 if grain == "month" else 92
    return python_period_start(start + timedelta(days=jump), grain) - timedelta(days=1)
