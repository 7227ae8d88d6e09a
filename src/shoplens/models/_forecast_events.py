"""The events calendar as the forecast sees it: named events as regressors, 1 on their days (for weeks, the share
of the week's days), and the effect each is estimated to have.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from shoplens.errors import InputError
from shoplens.models._forecast_periods import DAYS_PER_WEEK, Grain, _period_starts

# Calendar kind meaning "the store is shut that day".
CLOSED_KIND = "closed"


@dataclass(frozen=True)
class EventEffect:
    """How much an event multiplies demand on its days (1.0 = no effect), as estimated from its past occurrences."""

    name: str
    kind: str
    multiplier: float
    periods_seen: int
    estimated: bool  # False: it never happened before, and the average effect of its kind is used


def _event_days(calendar: pd.DataFrame | None, grain: Grain, *, with_closures: bool = False) -> pd.DataFrame:
    """Calendar rows as (date, name, kind); for daily data, closed days are closures, not events (unless
    ``with_closures``: the names a forecast shows on its days include the closures')."""
    if calendar is None or calendar.empty:
        return pd.DataFrame({"date": pd.Series(dtype="datetime64[ns]"), "name": [], "kind": []})
    missing = [c for c in ("date", "name") if c not in calendar.columns]
    if missing:
        raise InputError(f"events calendar lacks column(s) {', '.join(missing)}")
    kinds = calendar["kind"] if "kind" in calendar.columns else pd.Series("", index=calendar.index)
    days = pd.DataFrame(
        {
            "date": pd.to_datetime(calendar["date"]).dt.floor("D"),
            "name": calendar["name"].astype(str),
            "kind": kinds.fillna("").astype(str),
        }
    )
    if grain == "day" and not with_closures:
        days = days[days["kind"] != CLOSED_KIND]
    return days.drop_duplicates(["date", "name"]).reset_index(drop=True)


def _event_regressors(periods: pd.DatetimeIndex, grain: Grain, events: pd.DataFrame) -> pd.DataFrame:
    """One column per event name: 1 on its days, or for weeks the share of the week's days it covers."""
    if events.empty:
        return pd.DataFrame(index=periods)
    weight = 1.0 if grain == "day" else 1.0 / DAYS_PER_WEEK
    coverage = (
        pd.DataFrame({"period": _period_starts(events["date"], grain), "name": events["name"], "weight": weight})
        .groupby(["period", "name"])["weight"]
        .sum()
        .unstack("name", fill_value=0)
    )
    return coverage.reindex(periods, fill_value=0.0).astype("float64")


def _event_names_per_period(periods: pd.DatetimeIndex, grain: Grain, events: pd.DataFrame) -> list[list[str]]:
    names: dict[pd.Timestamp, list[str]] = {}
    for start, name in zip(_period_starts(events["date"], grain), events["name"], strict=True):
        bucket = names.setdefault(pd.Timestamp(start), [])
        if name not in bucket:
            bucket.append(name)
    return [names.get(pd.Timestamp(p), []) for p in periods]


def _kinds(events: pd.DataFrame) -> dict[str, str]:
    return dict(zip(events["name"], events["kind"], strict=True))
