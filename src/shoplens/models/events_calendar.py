"""The store's special-events calendar (``events_calendar``: date, name, kind), edited by the user.

The demand forecast (:mod:`shoplens.models.forecast`) uses it: each named event becomes a regressor, estimated from
its past occurrences, and days of kind ``"closed"`` are closures. A multi-day event (a 12-day Christmas sale) is one
row per day with the same name. Every change goes through the warehouse (any engine) and bumps its data version, so
cached results go stale.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pyarrow as pa

from shoplens.errors import FieldError, InputError
from shoplens.warehouse import TableChange, Warehouse

# Suggested kinds; any short word is accepted. "closed" has a meaning for the forecast: the store is shut.
KNOWN_KINDS = ("holiday", "shopping_festival", "store_sale", "promotion", "closed")
MAX_EVENT_DAYS = 366
MAX_NAME_LENGTH = 200


@dataclass(frozen=True)
class CalendarEvent:
    date: date
    name: str
    kind: str | None

    def as_dict(self) -> dict[str, str | None]:
        return {"date": self.date.isoformat(), "name": self.name, "kind": self.kind}


def _check(name: str, kind: str | None, first_day: date, last_day: date) -> tuple[str, str | None]:
    clean_name = " ".join(name.split())
    if not clean_name:
        raise InputError("an event needs a name")
    if len(clean_name) > MAX_NAME_LENGTH:
        raise InputError(f"event names are at most {MAX_NAME_LENGTH} characters")
    clean_kind = kind.strip().lower().replace(" ", "_") if kind else None
    if last_day < first_day:
        raise FieldError(f"{{last_day}} {last_day} is before {{first_day}} {first_day}")
    if (last_day - first_day).days + 1 > MAX_EVENT_DAYS:
        raise InputError(f"an event spans at most {MAX_EVENT_DAYS} days")
    return clean_name, clean_kind or None


def _calendar_rows(events: list[CalendarEvent]) -> pa.Table:
    return pa.table(
        {
            "date": pa.array([e.date for e in events], pa.date32()),
            "name": pa.array([e.name for e in events], pa.string()),
            "kind": pa.array([e.kind for e in events], pa.string()),
        }
    )


def add_event(
    warehouse: Warehouse, *, name: str, first_day: date, last_day: date | None = None, kind: str | None = None
) -> list[CalendarEvent]:
    """Add ``name`` on every day from ``first_day`` to ``last_day`` (inclusive); a day it is already on gets the
    new kind. Returns the rows written."""
    last_day = last_day or first_day
    clean_name, clean_kind = _check(name, kind, first_day, last_day)
    days = [first_day + timedelta(days=offset) for offset in range((last_day - first_day).days + 1)]
    events = [CalendarEvent(day, clean_name, clean_kind) for day in days]
    rows = _calendar_rows(events)
    # One change: the days already holding this event are replaced, the others added; the data version moves.
    warehouse.apply_changes([TableChange("events_calendar", rows, replaced=rows.select(["date", "name"]))])
    return events


def remove_event(
    warehouse: Warehouse, *, name: str, first_day: date | None = None, last_day: date | None = None
) -> int:
    """Remove ``name`` (on all its days, or from ``first_day`` to ``last_day``); return how many days were removed."""
    clean_name = " ".join(name.split())
    low = first_day or date.min
    high = last_day or first_day or date.max
    removed = [event for event in list_events(warehouse, start=low, end=high) if event.name == clean_name]
    if removed:
        keys = _calendar_rows(removed).select(["date", "name"])
        warehouse.apply_changes([TableChange("events_calendar", _calendar_rows([]), replaced=keys)])
    return len(removed)


def list_events(warehouse: Warehouse, *, start: date | None = None, end: date | None = None) -> list[CalendarEvent]:
    """Calendar rows from ``start`` to ``end`` (inclusive, either open), by date and name."""
    table = warehouse.backend.table("events_calendar")
    if start is not None:
        table = table.filter(table["date"] >= start)
    if end is not None:
        table = table.filter(table["date"] <= end)
    rows = table.order_by(["date", "name"]).to_pyarrow().to_pylist()  # NULL stays None, days stay dates
    return [
        CalendarEvent(
            date=row["date"].date() if hasattr(row["date"], "hour") else row["date"],
            name=str(row["name"]),
            kind=None if row["kind"] is None else str(row["kind"]),
        )
        for row in rows
    ]
