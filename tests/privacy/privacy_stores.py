"""Helpers the privacy tests share with their fixtures: a runner over a store's warehouse, and its time zones."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import ibis

from shoplens.queries import QueryRunner

UCI_TIMEZONE = "Europe/London"  # the UCI file's times are UK local time
DEMO_TIMEZONE = "UTC"  # the demo command keeps the default store settings


@contextmanager
def runner_over(home: Path, timezone: str) -> Iterator[QueryRunner]:
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    try:
        yield QueryRunner.over(ibis.duckdb.from_connection(con), store_timezone=timezone)
    finally:
        con.close()
