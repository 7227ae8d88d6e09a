"""A third-party profile registers through the same interface the built-ins use, and imports like them."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from shoplens import RowRule, SalesMapping, SourceProfile, register_profile, registered_profiles
from shoplens.ingest import col


def _build(header: Sequence[str], mapping: Mapping[str, object] | None) -> SalesMapping:
    return SalesMapping(
        expressions={
            "order_id": col("ticket"),
            "ordered_at": col("when"),
            "quantity": "'1'",
            "unit_price": col("total"),
            "customer_id": col("member"),
        },
        rules=(RowRule("total", "market stall sales above 500 need a manager's check", "unit_price > 500"),),
    )


def test_registered_profile_is_listed_and_imports(cli: Callable[..., Any], tmp_path: Path) -> None:
    register_profile(SourceProfile("market-stall", "till receipts", ("ticket", "when", "total", "member"), _build))
    assert "market-stall" in registered_profiles()
    listed = cli("profiles", "--json").json()["profiles"]
    assert "market-stall" in [p["name"] for p in listed]
    data = tmp_path / "till.csv"
    data.write_text("ticket,when,total,member\nT1,2024-02-10 11:00:00,12.50,M7\nT2,2024-02-10 12:00:00,900,M8\n")
    summary = cli("import", str(data), "--profile", "market-stall", "--json").json()
    assert (summary["rows_loaded"], summary["rows_quarantined"]) == (1, 1)
    with duckdb.connect(str(tmp_path / "home" / "warehouse.duckdb"), read_only=True) as con:
        assert con.execute("SELECT order_id, net FROM orders").fetchall() == [("T1", Decimal("12.50"))]
