"""The small pieces, checked against independent references: zoneinfo, the README's RFM grid, hand sums."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import ibis
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shoplens.metrics import (
    SEGMENT_NAMES,
    SEGMENTS,
    classify_window,
    decide_stage,
    evidence_text,
    local_time,
    period_start,
    segment_of,
)
from shoplens.metrics._facts import pro_rata
from shoplens.metrics._time import StoreZone, python_period_start, utc_offsets
from shoplens.queries import KpiQuery, KpiResult, StageQuery
from shoplens.queries._cache import ResultCache, question_key

ZONES = ["Europe/London", "America/New_York", "Asia/Hong_Kong", "Australia/Sydney", "Asia/Kolkata", "UTC"]
CON = ibis.duckdb.from_connection(duckdb.connect())


def _local(instants: list[datetime], zone: str | StoreZone) -> list[datetime]:
    table = ibis.memtable(pa.table({"ts": pa.array(instants, pa.timestamp("us"))}))
    frame = CON.execute(table.select(local=local_time(table.ts, zone)))
    return [value.to_pydatetime() for value in frame["local"]]


def _zoneinfo(instant: datetime, zone: str) -> datetime:
    return instant.replace(tzinfo=UTC).astimezone(ZoneInfo(zone)).replace(tzinfo=None)


@settings(max_examples=25, deadline=None)
@given(
    zone=st.sampled_from(ZONES),
    instants=st.lists(
        st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2070, 12, 31)), min_size=1, max_size=50
    ),
)
def test_local_time_equals_zoneinfo(zone: str, instants: list[datetime]) -> None:
    assert _local(instants, zone) == [_zoneinfo(i, zone) for i in instants]


@pytest.mark.parametrize("zone", ["Europe/London", "America/New_York", "Australia/Sydney"])
def test_local_time_at_every_transition(zone: str) -> None:
    boundaries = [start for start, _ in utc_offsets(zone) if start is not None]
    around = [b + timedelta(seconds=s) for b in boundaries for s in (-1, 0, 1)]
    assert _local(around, zone) == [_zoneinfo(i, zone) for i in around]
    narrowed = StoreZone(zone, 2010, 2012)
    inside = [i for i in around if 2010 <= i.year <= 2012]
    assert inside
    assert _local(inside, narrowed) == [_zoneinfo(i, zone) for i in inside]


@pytest.mark.parametrize(
    ("day", "grain", "start"),
    [
        (date(2024, 3, 31), "week", date(2024, 3, 25)),
        (date(2024, 3, 31), "month", date(2024, 3, 1)),
        (date(2024, 11, 30), "quarter", date(2024, 10, 1)),
        (date(2024, 1, 1), "week", date(2024, 1, 1)),
    ],
)
def test_period_start(day: date, grain: str, start: date) -> None:
    table = ibis.memtable({"day": [datetime.combine(day, datetime.min.time())]})
    assert CON.to_pyarrow(table.select(p=period_start(table.day, grain))).column("p").to_pylist() == [start]
    assert python_period_start(day, grain) == start


def test_rfm_grid_is_a_partition_with_eleven_named_segments() -> None:
    cells = [cell for segment in SEGMENTS for cell in segment.cells]
    assert sorted(cells) == [(r, fm) for r in range(1, 6) for fm in range(1, 6)]
    assert len(SEGMENT_NAMES) == len(set(SEGMENT_NAMES)) == 11
    assert set(SEGMENT_NAMES) == {
        "Champions",
        "Loyal",
        "Potential loyalists",
        "New",
        "Promising",
        "Need attention",
        "About to sleep",
        "At risk",
        "Can't lose them",
        "Hibernating",
        "Lost",
    }
    assert (segment_of(5, 5), segment_of(5, 1), segment_of(1, 1), segment_of(1, 5)) == (
        "Champions",
        "New",
        "Lost",
        "Can't lose them",
    )
    assert all(s.meaning.endswith(".") and s.action.endswith(".") for s in SEGMENTS)


def test_pro_rata_is_exact_half_up_cents() -> None:
    table = ibis.memtable(
        pa.table(
            {
                "total": pa.array([Decimal("10.00"), Decimal("0.05"), Decimal("100.00")], pa.decimal128(18, 2)),
                "part": pa.array([Decimal("1.00"), Decimal("1.00"), Decimal("0.00")], pa.decimal128(18, 2)),
                "whole": pa.array([Decimal("3.00"), Decimal("2.00"), Decimal("0.00")], pa.decimal128(18, 2)),
            }
        )
    )
    got = CON.execute(table.select(v=pro_rata(table.total, table.part, table.whole)))["v"].tolist()
    # 10 x 1/3 = 3.333 -> 3.33; 0.05 x 1/2 = 0.025 -> 0.03 (half up); a whole of 0 has no share.
    assert got[:2] == [Decimal("3.33"), Decimal("0.03")]
    assert got[2] is None


MATURE_SHAPE = {
    "customers": 5000,
    "repeat_revenue_share": 0.6,
    "retention_stability_cv": 0.1,
    "new_customer_trend": 0.05,
}


@pytest.mark.parametrize(
    ("evidence", "stage"),
    [
        ({"trading_days": 800, "customers": 150, "repeat_revenue_share": 0.6}, "initial"),
        ({"trading_days": 800, "customers": 5000, "repeat_revenue_share": 0.2}, "initial"),
        ({**MATURE_SHAPE, "trading_days": 100, "window": "young store"}, "initial"),
        # The same shape from a 100-day window into an established store is past the initial stage.
        ({**MATURE_SHAPE, "trading_days": 100, "window": "window into an established store"}, "mature"),
        ({**MATURE_SHAPE, "trading_days": 364, "window": "window into an established store"}, "mature"),
        ({**MATURE_SHAPE, "trading_days": 364, "window": "young store"}, "development"),
        ({**MATURE_SHAPE, "trading_days": 729, "window": "young store"}, "mature"),
        ({**MATURE_SHAPE, "trading_days": 800, "window": "young store", "new_customer_trend": 0.5}, "development"),
        ({**MATURE_SHAPE, "trading_days": 800, "window": "young store", "retention_stability_cv": 0.4}, "development"),
        ({**MATURE_SHAPE, "trading_days": 800, "window": "young store", "repeat_revenue_share": 0.45}, "development"),
    ],
)
def test_stage_rule(evidence: dict[str, Any], stage: str) -> None:
    verdict = decide_stage(evidence)
    assert verdict.stage == stage
    assert bool(verdict.next_stage_needs) == (stage != "mature")


def test_a_share_just_short_of_a_threshold_does_not_read_as_the_threshold() -> None:
    verdict = decide_stage(
        {**MATURE_SHAPE, "trading_days": 800, "window": "young store", "repeat_revenue_share": 0.4999}
    )
    assert verdict.stage == "development"
    assert verdict.next_stage_needs == ["at least 50% of revenue from repeat orders (now 49.99%)"]


@pytest.mark.parametrize(
    ("signals", "window"),
    [
        ((0.56, 2.2, 2.5), "window into an established store"),
        ((0.56, 1.0, 1.6), "window into an established store"),
        ((0.10, 1.6, 1.6), "window into an established store"),
        ((0.56, 1.0, 1.0), "young store"),
        ((0.20, 0.99, 0.84), "young store"),
    ],
)
def test_window_needs_two_of_three_signals(signals: tuple[float, float, float], window: str) -> None:
    share, return_ratio, new_ratio = signals
    evidence = {
        "opening_customers": 100,
        "later_customers": 100,
        "opening_repeat_revenue_share": share,
        "opening_return_ratio": return_ratio,
        "opening_new_customer_ratio": new_ratio,
    }
    found, reasons = classify_window(evidence)
    assert found == window
    assert len(reasons) == 3
    assert classify_window({**evidence, "later_customers": 29})[0] == "too short to tell"


@pytest.mark.parametrize(
    ("name", "value", "shown"),
    [
        ("retention_month1_mean", 0.20433066666666666, "20.4%"),
        ("repeat_revenue_share", 1.0, "100%"),
        ("repeat_revenue_share", 0.09783, "9.8%"),
        ("new_customer_trend", -0.2706, "-27.1%"),
        ("new_customer_growth", 0.05, "+5%"),
        ("retention_stability_cv", 0.12453, "0.12"),
        ("customers", 4338, "4338"),
        ("new_customer_growth", None, "–"),
    ],
)
def test_evidence_is_shown_rounded(name: str, value: Any, shown: str) -> None:
    assert evidence_text(name, value) == shown


def test_cache_keeps_types_and_keys_on_query_zone_and_version(tmp_path: Path) -> None:
    cache = ResultCache(tmp_path / "c")
    result = KpiResult(
        query=KpiQuery(grain="day"),
        rows=[{"period": date(2024, 1, 1), "revenue": Decimal("1.10"), "aov": None, "orders": 2}],
        data_version=3,
    )
    key = question_key(KpiQuery(grain="day"), "UTC")
    assert key != question_key(KpiQuery(grain="week"), "UTC")
    assert key != question_key(KpiQuery(grain="day"), "Asia/Hong_Kong")
    cache.put(key, result, 3)
    back = cache.get(key, KpiQuery(grain="day"), 3)
    assert back is not None
    assert back.cached is True
    assert back.model_dump(exclude={"cached"}) == result.model_dump(exclude={"cached"})
    assert cache.get(key, KpiQuery(grain="day"), 4) is None
    assert cache.get(question_key(StageQuery(), "UTC"), StageQuery(), 3) is None


def test_a_change_of_code_changes_every_cache_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """An answer cached by one version of the code is never served by another (a new rule, a fixed bug)."""
    from shoplens.queries import _cache

    before = question_key(KpiQuery(grain="day"), "UTC")
    assert question_key(KpiQuery(grain="day"), "UTC") == before  # stable within one installation
    monkeypatch.setattr(_cache, "code_fingerprint", lambda: "another-version")
    assert question_key(KpiQuery(grain="day"), "UTC") != before
