"""CDNOW master and sample: every purchase record lands, per customer, as in the raw files."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest
from tests.conftest import CDNOW_MASTER, CDNOW_SAMPLE, show_vault_in_clear


@pytest.mark.parametrize(
    ("path", "customers", "total"),
    [
        (CDNOW_SAMPLE, 2_357, Decimal("244091.94")),
        pytest.param(CDNOW_MASTER, 23_570, Decimal("2500315.63"), marks=pytest.mark.slow),
    ],
    ids=["sample", "master"],
)
def test_counts_per_customer_equal_the_raw_file(
    cli: Callable[..., Any], tmp_path: Path, path: Path, customers: int, total: Decimal
) -> None:
    raw = pd.read_csv(path, dtype={"customer_id": str})
    result = cli("import", str(path), "--profile", "cdnow", "--json")
    assert result.exit_code == 0, result.stderr
    summary = result.json()
    assert summary["rows_read"] == summary["rows_loaded"] == len(raw)
    assert summary["customers"] == raw["customer_id"].nunique() == customers
    # Same-day purchases of a customer form one order, as in the published summaries.
    assert summary["orders"] == len(raw.drop_duplicates(["customer_id", "date"]))

    with duckdb.connect(str(tmp_path / "home" / "warehouse.duckdb"), read_only=True) as con:
        show_vault_in_clear(con, tmp_path / "home")
        per_customer = (
            con.execute(
                """
            SELECT v.source_customer_id, count(*) AS lines, count(DISTINCT o.order_id) AS orders,
                   sum(l.quantity) AS quantity, sum(l.amount) AS amount
            FROM order_lines l JOIN orders o USING (order_id) JOIN customer_pii v USING (customer_key)
            GROUP BY 1
            """
            )
            .df()
            .set_index("source_customer_id")
            .sort_index()
        )
        grand_total = con.execute("SELECT sum(amount) FROM order_lines").fetchone()
    expected = (
        raw.groupby("customer_id")
        .agg(lines=("date", "size"), orders=("date", "nunique"), quantity=("quantity", "sum"))
        .sort_index()
    )
    assert per_customer["lines"].tolist() == expected["lines"].tolist()
    assert per_customer["orders"].tolist() == expected["orders"].tolist()
    assert per_customer["quantity"].tolist() == expected["quantity"].tolist()
    assert grand_total == (total,)
    assert grand_total[0] == Decimal(str(round(raw["amount"].sum(), 2)))


def test_sample_reimport_adds_nothing(cli: Callable[..., Any]) -> None:
    first = cli("import", str(CDNOW_SAMPLE), "--profile", "cdnow", "--json").json()
    second = cli("import", str(CDNOW_SAMPLE), "--profile", "cdnow", "--json").json()
    assert first["rows_loaded"] == 6_919
    # 21 sample rows are exact duplicates of another row: real separate purchases, kept on the first import.
    assert (second["rows_loaded"], second["rows_duplicate"]) == (0, 6_919)
