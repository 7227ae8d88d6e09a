"""A TablePlan's ``content_id``: rows without a key get a fingerprint of their content and occurrence; a row
that has one keeps it. Columns typed DOUBLE read the plan's decimal separator."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from shoplens import SourceProfile, register_profile
from shoplens.ingest import TablePlan, col


def _visits(header: Sequence[str], mapping: Mapping[str, object] | None) -> TablePlan:
    return TablePlan(
        table="sessions",
        expressions={"session_id": col("visit"), "bounce_rate": col("bounce"), "converted": col("bought")},
        layout="visits",
        decimal_separator=",",
        content_id="session_id",
    )


def test_rows_without_an_id_get_one_from_their_content(cli: Callable[..., Any], tmp_path: Path) -> None:
    register_profile(SourceProfile("test-visits", "visits", ("visit", "bounce", "bought"), _visits, target="table"))
    data = tmp_path / "visits.csv"
    data.write_text('visit,bounce,bought\nV-7,"0,25",yes\n,"0,5",no\n,"0,5",no\n,"0,75",no\n,lots,no\n')
    summary = cli("import", str(data), "--profile", "test-visits", "--json").json()
    assert (summary["rows_read"], summary["rows_loaded"], summary["rows_quarantined"]) == (5, 4, 1)
    assert pd.read_csv(summary["quarantine_path"])[["row", "column", "reason"]].values.tolist() == [
        [5, "bounce", "not a number"]
    ]
    with duckdb.connect(str(tmp_path / "home" / "warehouse.duckdb"), read_only=True) as con:
        rows = con.execute("SELECT session_id, bounce_rate FROM sessions ORDER BY bounce_rate").fetchall()
    assert [rate for _, rate in rows] == [0.25, 0.5, 0.5, 0.75]
    ids = [session for session, _ in rows]
    assert ids[0] == "V-7"
    assert len(set(ids)) == 4  # the two identical rows are two sessions
    again = cli("import", str(data), "--profile", "test-visits", "--json").json()
    assert (again["rows_loaded"], again["rows_duplicate"]) == (0, 4)
    # A row written differently is a different fact; the ids of the others do not move.
    data.write_text('visit,bounce,bought\n,"0,5",no\n,"0,5",no\n,"0,75",yes\n')
    third = cli("import", str(data), "--profile", "test-visits", "--json").json()
    assert (third["rows_loaded"], third["rows_duplicate"]) == (1, 2)
