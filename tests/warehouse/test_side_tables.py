"""Files shaped like one canonical table: typed by the table, de-duplicated by its key, customer ids keyed."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from shoplens.errors import InputError, MissingColumnsError
from shoplens.ingest import customer_key
from shoplens.warehouse import Warehouse, load_table_file

SECRET = b"t" * 40


def test_spend_loads_once_and_keeps_money_exact(tmp_path: Path) -> None:
    spend = tmp_path / "spend.csv"
    spend.write_text(
        "date,channel,amount\n2024-05-01,search,120.10\n2024-05-01,social,80.05\n2024-05-02,search,99.99\n"
    )
    with Warehouse(tmp_path / "warehouse.duckdb") as warehouse:
        assert load_table_file(warehouse, "marketing_spend", spend, SECRET) == 3
        version = warehouse.data_version
        assert load_table_file(warehouse, "marketing_spend", spend, SECRET) == 0
        assert warehouse.data_version == version
        rows = warehouse.con.execute(
            "SELECT date, channel, amount FROM marketing_spend ORDER BY date, channel"
        ).fetchall()
    assert rows == [
        (date(2024, 5, 1), "search", Decimal("120.10")),
        (date(2024, 5, 1), "social", Decimal("80.05")),
        (date(2024, 5, 2), "search", Decimal("99.99")),
    ]


def test_customer_ids_become_pseudonymous_keys(tmp_path: Path) -> None:
    events = tmp_path / "events.csv"
    events.write_text(
        "event_id,session_id,customer_id,type,at\n"
        "e1,s1,C-17,view,2024-05-01 10:00:00\n"
        "e2,s1,,cart,2024-05-01 10:01:00\n"
    )
    with Warehouse(tmp_path / "warehouse.duckdb") as warehouse:
        assert load_table_file(warehouse, "events", events, SECRET) == 2
        keys = warehouse.con.execute("SELECT event_id, customer_key FROM events ORDER BY event_id").fetchall()
    assert keys == [("e1", customer_key(SECRET, "C-17")), ("e2", None)]


def test_a_bad_record_fails_the_file_naming_it(tmp_path: Path) -> None:
    spend = tmp_path / "spend.csv"
    spend.write_text("date,channel,amount\n2024-05-01,search,120.10\n2024-05-02,search,lots\n")
    with Warehouse(tmp_path / "warehouse.duckdb") as warehouse:
        with pytest.raises(InputError) as raised:
            load_table_file(warehouse, "marketing_spend", spend, SECRET)
        assert warehouse.con.execute("SELECT count(*) FROM marketing_spend").fetchall() == [(0,)]
    assert str(raised.value) == f"{spend}: 1 record(s) cannot be loaded, first at 2 (amount: not a decimal(18,2))"


def test_missing_columns_and_unknown_tables_are_refused(tmp_path: Path) -> None:
    spend = tmp_path / "spend.csv"
    spend.write_text("day,channel,amount\n2024-05-01,search,1\n")
    with Warehouse(tmp_path / "warehouse.duckdb") as warehouse:
        with pytest.raises(MissingColumnsError, match="not a marketing_spend export, missing column\\(s\\): date"):
            load_table_file(warehouse, "marketing_spend", spend, SECRET)
        with pytest.raises(InputError, match="cannot load 'orders' directly"):
            load_table_file(warehouse, "orders", spend, SECRET)
