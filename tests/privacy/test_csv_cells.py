"""CSV cells a spreadsheet would run as formulas leave escaped (OWASP: a single quote in front), in one helper used
by every CSV written for others; numbers stay numbers."""

from __future__ import annotations

import csv
import io
import zipfile
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest
from privacy_stores import DEMO_TIMEZONE, runner_over
from tests.conftest import run_cli

from shoplens.actions import PriceList, write_price_list
from shoplens.actions._pricing import PriceListEntry
from shoplens.privacy import FORMULA_STARTS, csv_cell, csv_record, csv_row, csv_safe_table
from shoplens.reports import share_package

HOSTILE = ['=HYPERLINK("http://evil.example")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\tTab", "\rCR"]


@pytest.mark.parametrize("text", HOSTILE)
def test_a_formula_cell_gets_a_single_quote_in_front(text: str) -> None:
    assert text.startswith(FORMULA_STARTS)
    assert csv_cell(text) == "'" + text


def test_plain_text_and_numbers_are_written_as_they_are() -> None:
    assert csv_row(["Knit Boots", "a=b", -12, Decimal("-3.50"), 1.5, None]) == [
        "Knit Boots",
        "a=b",
        -12,
        Decimal("-3.50"),
        1.5,
        None,
    ]
    assert csv_record({"name": "@home", "amount": -1}) == {"name": "'@home", "amount": -1}


def test_an_arrow_table_is_escaped_in_its_text_columns_only() -> None:
    table = pa.table({"name": [*HOSTILE, "ok", None], "amount": [-1, -2, -3, -4, -5, -6, 7, 8]})
    safe = csv_safe_table(table)
    assert safe.column("name").to_pylist() == ["'" + t for t in HOSTILE] + ["ok", None]
    assert safe.column("amount").to_pylist() == table.column("amount").to_pylist()
    assert safe.schema == table.schema


def test_a_hostile_product_name_reaches_product_affinity_escaped(tmp_path: Path) -> None:
    home = tmp_path / "home"  # a small store with one product pair bought together often enough to share
    demo = ("demo", "--customers", "500", "--seed", "11", "--end-date", "2025-06-30", "--no-serve", "--json")
    assert run_cli(home, *demo).exit_code == 0
    with duckdb.connect(str(home / "warehouse.duckdb")) as con:
        con.execute("UPDATE products SET name = '=HYPERLINK(\"http://evil.example\",\"' || name || '\")'")
        renamed = con.execute("SELECT count(*) FROM products").fetchone()
    assert renamed is not None
    assert renamed[0] > 0
    with runner_over(home, DEMO_TIMEZONE) as runner:
        package = share_package(runner, k=2)
    with zipfile.ZipFile(io.BytesIO(package.to_zip("csv"))) as archive:
        pairs = pacsv.read_csv(io.BytesIO(archive.read("product_affinity.csv"))).to_pylist()
    assert pairs, "the demo store has product pairs to share"
    names = [row[column] for row in pairs for column in ("product_a_name", "product_b_name")]
    assert all(name.startswith("'=HYPERLINK(") for name in names)


def test_the_pricing_export_escapes_a_hostile_product_id(tmp_path: Path) -> None:
    entry = PriceListEntry(
        product_id="=1+1",
        rule="sale",
        regular_price=Decimal("10.00"),
        sale_price=Decimal("-0.00"),
        starts=None,
        ends=None,
    )
    out = tmp_path / "prices.csv"
    write_price_list(PriceList(entries=[entry], skipped_rules=[]), out, "woocommerce")
    rows = list(csv.reader(out.open(newline="", encoding="utf-8")))
    assert rows[1][0] == "'=1+1"
    assert rows[1][1:3] == ["10.00", "-0.00"], "amounts are numbers, written as they are"
