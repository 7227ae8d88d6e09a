"""Every analysis gives the same answer on every engine (DuckDB is the reference), on both stores.

Like ibis' backend suite: one test body, a ``con``-style ``engine`` fixture. A known gap of an engine is marked on
its case the way ibis marks one, ``pytest.mark.notimpl(["spark"], raises=ResultsDifferError, reason=...)``, or
``notyet`` with the engine's own exception when it cannot run the query (tests/engine_gaps.py): the query still
runs there and must fail that way, so a gap that closes, or changes, fails the run too.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from metrics_backends import ResultsDifferError, RunnerFor, Store, same

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


def case(name: str, query: Query, *known_gaps: pytest.MarkDecorator) -> Any:
    """One query of the parity suite (a ``pytest.param``), with the gap markers of the engines that miss it."""
    return pytest.param(query, id=name, marks=known_gaps)


# No engine has a known gap today: every case passes on PostgreSQL and on Spark.
QUERIES = [
    case("kpis-month", KpiQuery(grain="month")),
    case("kpis-week-channel", KpiQuery(grain="week", by="channel")),
    case("kpis-day-window", KpiQuery(grain="day", start=date(2024, 11, 1), end=date(2024, 12, 31), by="device")),
    case("kpis-quarter-country", KpiQuery(grain="quarter", by="country")),
    case("kpis-month-segment", KpiQuery(grain="month", by="segment")),
    case("funnel", FunnelQuery()),
    case("funnel-source", FunnelQuery(by="source")),
    case("cohorts-month", CohortQuery(grain="month")),
    case("cohorts-quarter-channel", CohortQuery(grain="quarter", by="channel")),
    case("rfm", RfmQuery()),
    case("rfm-as-of", RfmQuery(as_of=date(2025, 6, 30))),
    case("lifecycle", LifecycleQuery()),
    case("stage", StageQuery()),
    case("behaviour", BehaviourQuery(min_customers=10)),
    case("basket", BasketQuery(min_support=0.002)),
    case("products", ProductQuery(min_buyers=10)),
]
UCI_QUERIES = [case("kpis-week-country", KpiQuery(grain="week", by="country")), case("basket", BasketQuery())]


def _compare(engine: tuple[str, RunnerFor], duckdb_runner: RunnerFor, store: Store, query: Any) -> None:
    engine_name, runner_for = engine
    expected = duckdb_runner(store).run(query).model_dump()
    got = runner_for(store).run(query).model_dump()
    try:
        same(expected, got)
    except AssertionError as difference:
        raise ResultsDifferError(f"{engine_name} differs from DuckDB at {difference}") from difference


@pytest.mark.parametrize("query", QUERIES)
def test_demo_store_same_on_every_engine(
    other_engine: tuple[str, RunnerFor], duckdb_runner: RunnerFor, demo: Store, query: Query
) -> None:
    _compare(other_engine, duckdb_runner, demo, query)


@pytest.mark.slow
@pytest.mark.parametrize("query", UCI_QUERIES)
def test_uci_same_on_every_engine(
    other_engine: tuple[str, RunnerFor], duckdb_runner: RunnerFor, uci: Store, query: Query
) -> None:
    _compare(other_engine, duckdb_runner, uci, query)
