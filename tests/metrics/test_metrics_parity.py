"""Every analysis gives the same answer on every engine (DuckDB is the reference), on both stores.

Like ibis' backend suite: one test body, a ``con``-style ``engine`` fixture. Known gaps of an engine are
listed in ``KNOWN_GAPS`` and marked ``xfail(strict=True)``, so a gap that closes is noticed too.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from metrics_backends import RunnerFor, Store, same

from shoplens.queries import (
    BasketQuery,
    BehaviourQuery,
    CohortQuery,
    FunnelQuery,
    KpiQuery,
    LifecycleQuery,
    ProductQuery,
    Query,
    RfmQuery,
    StageQuery,
)

QUERIES: list[tuple[str, Query]] = [
    ("kpis-month", KpiQuery(grain="month")),
    ("kpis-week-channel", KpiQuery(grain="week", by="channel")),
    ("kpis-day-window", KpiQuery(grain="day", start=date(2024, 11, 1), end=date(2024, 12, 31), by="device")),
    ("kpis-quarter-country", KpiQuery(grain="quarter", by="country")),
    ("kpis-month-segment", KpiQuery(grain="month", by="segment")),
    ("funnel", FunnelQuery()),
    ("funnel-source", FunnelQuery(by="source")),
    ("cohorts-month", CohortQuery(grain="month")),
    ("cohorts-quarter-channel", CohortQuery(grain="quarter", by="channel")),
    ("rfm", RfmQuery()),
    ("rfm-as-of", RfmQuery(as_of=date(2025, 6, 30))),
    ("lifecycle", LifecycleQuery()),
    ("stage", StageQuery()),
    ("behaviour", BehaviourQuery(min_customers=10)),
    ("basket", BasketQuery(min_support=0.002)),
    ("products", ProductQuery(min_buyers=10)),
]
UCI_QUERIES = [("kpis-week-country", KpiQuery(grain="week", by="country")), ("basket", BasketQuery())]

# engine -> query ids it is known to answer differently (none today).
KNOWN_GAPS: dict[str, set[str]] = {"postgres": set(), "spark": set()}


def _compare(engine: tuple[str, RunnerFor], duckdb_runner: RunnerFor, store: Store, name: str, query: Any) -> None:
    engine_name, runner_for = engine
    if name in KNOWN_GAPS.get(engine_name, set()):
        pytest.xfail(f"known gap of {engine_name}: {name}")
    expected = duckdb_runner(store).run(query).model_dump()
    got = runner_for(store).run(query).model_dump()
    same(expected, got)


@pytest.mark.parametrize(("name", "query"), QUERIES, ids=[n for n, _ in QUERIES])
def test_demo_store_same_on_every_engine(
    other_engine: tuple[str, RunnerFor], duckdb_runner: RunnerFor, demo: Store, name: str, query: Query
) -> None:
    _compare(other_engine, duckdb_runner, demo, name, query)


@pytest.mark.slow
@pytest.mark.parametrize(("name", "query"), UCI_QUERIES, ids=[n for n, _ in UCI_QUERIES])
def test_uci_same_on_every_engine(
    other_engine: tuple[str, RunnerFor], duckdb_runner: RunnerFor, uci: Store, name: str, query: Query
) -> None:
    _compare(other_engine, duckdb_runner, uci, name, query)
