"""Import of the real UCI Online Retail file, checked against an independent pandas computation."""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest
from tests.conftest import ONLINE_RETAIL, show_vault_in_clear

from shoplens.cli import main

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def raw() -> pd.DataFrame:
    frame = pd.read_parquet(ONLINE_RETAIL)
    frame["record"] = range(1, len(frame) + 1)
    frame["cancelled"] = frame["InvoiceNo"].str.startswith("C")
    frame["adjustment"] = frame["InvoiceNo"].str.startswith("A")
    # The profile's rules, restated: negative price first, then zero price on a sale, then A invoices.
    reason = pd.Series(pd.NA, index=frame.index, dtype="object")
    reason[frame["adjustment"]] = "bad-debt adjustment invoice, not a sale"
    reason[~frame["cancelled"] & (frame["UnitPrice"] == 0)] = "zero price on a sale"
    reason[frame["UnitPrice"] < 0] = "negative price"
    frame["reason"] = reason
    return frame


def _import_json(*args: str) -> dict[str, Any]:
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        main(list(args))  # returns normally on success, exits on failure
    document: dict[str, Any] = json.loads(buffer.getvalue())
    return document


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    home = tmp_path_factory.mktemp("retail")
    args = ["--home", str(home), "import", str(ONLINE_RETAIL), "--profile", "online-retail", "--json"]
    return {"home": home, "first": _import_json(*args), "second": _import_json(*args)}


def _warehouse(home: Path) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)


def test_summary_counts_equal_pandas(raw: pd.DataFrame, imported: dict[str, Any]) -> None:
    summary = imported["first"]
    good = raw[raw["reason"].isna()]
    sales = good[~good["cancelled"]]
    assert summary["rows_read"] == len(raw) == 541_909
    assert summary["rows_quarantined"] == raw["reason"].notna().sum() == 2_518
    assert summary["rows_loaded"] == len(good)
    assert summary["rows_duplicate"] == 0
    assert summary["rows_read"] == summary["rows_loaded"] + summary["rows_quarantined"] + summary["rows_duplicate"]
    assert summary["orders"] == sales["InvoiceNo"].nunique()
    assert summary["customers"] == good["CustomerID"].nunique()
    assert summary["refunds"] == good["cancelled"].sum() == 9_288
    assert summary["guest_rows"] == sales["CustomerID"].isna().sum()


def test_reimport_adds_nothing(raw: pd.DataFrame, imported: dict[str, Any]) -> None:
    second = imported["second"]
    assert second["rows_loaded"] == 0
    assert second["rows_duplicate"] == imported["first"]["rows_loaded"]
    assert (second["orders_new"], second["customers_new"]) == (0, 0)
    with _warehouse(imported["home"]) as con:
        lines = con.execute("SELECT count(*) FROM order_lines").fetchone()
        refunds = con.execute("SELECT count(*) FROM refunds").fetchone()
    sales = raw[raw["reason"].isna() & ~raw["cancelled"]]
    assert lines == (len(sales),)
    assert refunds == (9_288,)


def test_money_to_the_cent(raw: pd.DataFrame, imported: dict[str, Any]) -> None:
    good = raw[raw["reason"].isna()]
    cents = (good["Quantity"].abs() * (good["UnitPrice"] * 10_000).round().astype("int64")).floordiv(1)
    # Line amounts are rounded to the cent (half away from zero) from exact 4-decimal prices.
    line_cents = [int((Decimal(int(c)) / Decimal(100)).quantize(Decimal(1), rounding="ROUND_HALF_UP")) for c in cents]
    good = good.assign(line_cents=line_cents)
    with _warehouse(imported["home"]) as con:
        gross = con.execute("SELECT sum(gross), sum(net), count(*) FROM orders").fetchone()
        refunded = con.execute("SELECT sum(amount) FROM refunds").fetchone()
        per_order = con.execute("SELECT order_id, gross FROM orders ORDER BY order_id").fetchall()
    assert gross is not None
    assert refunded is not None
    sales = good[~good["cancelled"]]
    assert gross[0] == Decimal(int(sales["line_cents"].sum())) / 100
    assert gross[1] == gross[0]  # no discounts in this file
    assert refunded[0] == Decimal(int(good.loc[good["cancelled"], "line_cents"].sum())) / 100
    expected = sales.groupby("InvoiceNo")["line_cents"].sum().sort_index()
    assert gross[2] == len(expected)
    assert [order_id for order_id, _ in per_order] == expected.index.tolist()
    assert [int(gross_value * 100) for _, gross_value in per_order] == expected.tolist()


def test_quarantine_file_explains_every_row(raw: pd.DataFrame, imported: dict[str, Any]) -> None:
    quarantine = pd.read_csv(imported["first"]["quarantine_path"])
    bad = raw[raw["reason"].notna()]
    assert quarantine["row"].tolist() == bad["record"].tolist()
    assert quarantine["reason"].value_counts().to_dict() == bad["reason"].value_counts().to_dict()
    assert set(quarantine["column"]) == {"UnitPrice", "InvoiceNo"}


def test_personal_ids_stay_in_the_vault(raw: pd.DataFrame, imported: dict[str, Any]) -> None:
    source_ids = {str(int(v)) for v in raw["CustomerID"].dropna().unique()}
    with _warehouse(imported["home"]) as con:
        show_vault_in_clear(con, imported["home"])
        keys = {r[0] for r in con.execute("SELECT customer_key FROM customers").fetchall()}
        order_keys = {r[0] for r in con.execute("SELECT DISTINCT customer_key FROM orders").fetchall()} - {None}
        vault = {r[0] for r in con.execute("SELECT source_customer_id FROM customer_pii").fetchall()}
    assert order_keys <= keys
    assert all(k.startswith("c_") and len(k) == 22 for k in keys)
    assert not keys & source_ids
    good = raw[raw["reason"].isna()]
    assert vault == {str(int(v)) for v in good["CustomerID"].dropna().unique()}


def test_uk_local_times_are_stored_as_utc(raw: pd.DataFrame, imported: dict[str, Any]) -> None:
    summer = raw[(raw["InvoiceNo"] == "558904")].iloc[0]  # 2011-07-04, British Summer Time
    winter = raw[(raw["InvoiceNo"] == "536365")].iloc[0]  # 2010-12-01, GMT
    with _warehouse(imported["home"]) as con:
        got = dict(
            con.execute("SELECT order_id, ordered_at FROM orders WHERE order_id IN ('558904', '536365')").fetchall()
        )
    assert got["536365"] == winter["InvoiceDate"].to_pydatetime()
    assert got["558904"] == (summer["InvoiceDate"] - pd.Timedelta(hours=1)).to_pydatetime()


def test_wrong_profile_exits_2_naming_missing_columns(cli: Callable[..., Any], tmp_path: Path) -> None:
    bad = tmp_path / "wrong.csv"
    bad.write_text("foo,bar\n1,2\n")
    result = cli("import", str(bad), "--profile", "online-retail", "--json")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.strip().count("\n") == 0
    assert "missing column(s): InvoiceNo, StockCode, Description, Quantity, InvoiceDate, UnitPrice" in result.stderr
