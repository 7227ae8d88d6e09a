"""Shopify, WooCommerce and generic exports: order totals, refunds, the vault, overlaps, bad mappings."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from tests.conftest import FIXTURES, fetch, fetch_clear


def test_shopify_orders_totals_refunds_and_vault(cli: Callable[..., Any], tmp_path: Path) -> None:
    result = cli("import", str(FIXTURES / "shopify_orders.csv"), "--profile", "shopify", "--json")
    assert result.exit_code == 0, result.stderr
    summary = result.json()
    # 5 line rows: #1001 has two lines (the second without order fields), #1004 has the price "abc".
    assert (summary["rows_read"], summary["rows_loaded"], summary["rows_quarantined"]) == (5, 4, 1)
    assert (summary["orders"], summary["customers"], summary["refunds"]) == (3, 2, 1)
    home = tmp_path / "home"
    orders = {
        r[0]: r[1:]
        for r in fetch(home, "SELECT order_id, gross, discount, shipping, net, status, discount_code FROM orders")
    }
    assert orders["#1001"] == (
        Decimal("340.00"),
        Decimal("40.00"),
        Decimal("30.00"),
        Decimal("300.00"),
        "paid",
        "SPRING10",
    )
    assert orders["#1003"][4] == "cancelled"
    # "Fulfilled at" is when the order shipped: #1001's 2024-03-02 09:00 +0800 is 01:00 UTC; the others are not.
    shipped = fetch(home, "SELECT order_id, shipped_at::VARCHAR, delivered_at FROM orders ORDER BY order_id")
    assert shipped == [("#1001", "2024-03-02 01:00:00", None), ("#1002", None, None), ("#1003", None, None)]
    assert fetch(home, "SELECT order_id, amount FROM refunds") == [("#1002", Decimal("60.00"))]
    # Amy ordered #1001 and #1003 with different capitalisation of her e-mail: one customer.
    keys = dict(fetch(home, "SELECT order_id, customer_key FROM orders"))
    assert keys["#1001"] == keys["#1003"] != keys["#1002"]
    assert fetch_clear(home, "SELECT count(*) FROM customer_pii WHERE email ILIKE 'amy.chan@example.com'") == [(1,)]
    quarantine = pd.read_csv(summary["quarantine_path"])
    assert quarantine[["row", "column", "reason"]].values.tolist() == [[5, "Lineitem price", "not a number"]]
    assert "cara.wong" not in quarantine["values"][0]
    assert "Email=[redacted]" in quarantine["values"][0]


def test_woocommerce_orders(cli: Callable[..., Any], tmp_path: Path) -> None:
    summary = cli("import", str(FIXTURES / "woocommerce_orders.csv"), "--profile", "woocommerce", "--json").json()
    assert (summary["rows_read"], summary["rows_loaded"], summary["rows_quarantined"]) == (5, 4, 1)
    home = tmp_path / "home"
    orders = {r[0]: r[1:] for r in fetch(home, "SELECT order_id, gross, discount, net, status FROM orders")}
    assert orders["2001"] == (Decimal("220.00"), Decimal("20.00"), Decimal("200.00"), "completed")
    assert orders["2002"][3] == "refunded"
    assert fetch(home, "SELECT order_id, amount FROM refunds") == [("2002", Decimal("105.00"))]
    keys = dict(fetch(home, "SELECT order_id, customer_key FROM orders"))
    assert keys["2001"] == keys["2003"]
    quarantine = pd.read_csv(summary["quarantine_path"])
    assert quarantine[["row", "column", "reason"]].values.tolist() == [[5, "Order Date", "unparseable date"]]


GENERIC_MAPPING = """
columns:
  order_id: Beleg
  ordered_at: Datum
  customer_id: Kunde
  email: E-Mail
  product_id: Artikel
  quantity: Menge
  unit_price: Preis
  is_refund: Art
constants:
  currency: EUR
  channel: web
date_format: ["%d.%m.%Y %H:%M", "%Y-%m-%d %H:%M"]
timezone: Europe/Berlin
decimal_separator: ","
refund_values: [Retoure]
"""
GENERIC_CSV = """Beleg;Datum;Kunde;E-Mail;Artikel;Menge;Preis;Art
A-1;15.07.2024 10:30;K1;k1@example.de;SKU-1;2;"1.234,50";Verkauf
A-1;15.07.2024 10:30;K1;k1@example.de;SKU-2;1;9,99;Verkauf
A-2;2024-12-01 09:00;K2;k2@example.de;SKU-1;1;"1.234,50";Verkauf
A-2R;2024-12-03 09:00;K2;k2@example.de;SKU-1;1;"1.234,50";Retoure
A-3;32.13.2024 09:00;K3;k3@example.de;SKU-1;1;5,00;Verkauf
"""


def test_generic_mapping_decimal_comma_and_timezone(cli: Callable[..., Any], tmp_path: Path) -> None:
    mapping, data = tmp_path / "mapping.yaml", tmp_path / "export.csv"
    mapping.write_text(GENERIC_MAPPING)
    data.write_text(GENERIC_CSV, encoding="utf-8")
    result = cli("import", str(data), "--profile", "generic", "--mapping", str(mapping), "--json")
    assert result.exit_code == 0, result.stderr
    summary = result.json()
    assert (summary["rows_loaded"], summary["rows_quarantined"], summary["refunds"]) == (4, 1, 1)
    home = tmp_path / "home"
    orders = dict(fetch(home, "SELECT order_id, gross FROM orders"))
    assert orders == {"A-1": Decimal("2478.99"), "A-2": Decimal("1234.50")}
    times = dict(fetch(home, "SELECT order_id, ordered_at::VARCHAR FROM orders"))
    assert times == {"A-1": "2024-07-15 08:30:00", "A-2": "2024-12-01 08:00:00"}  # CEST = UTC+2, CET = UTC+1
    assert fetch(home, "SELECT amount, currency FROM refunds JOIN orders o USING (customer_key) LIMIT 1")[0][
        0
    ] == Decimal("1234.50")


DELIVERY_MAPPING = """
columns:
  order_id: Beleg
  ordered_at: Datum
  quantity: Menge
  unit_price: Preis
  promised_delivery_date: Zugesagt
  shipped_at: Versandt
  delivered_at: Zugestellt
date_format: "%d.%m.%Y %H:%M"
timezone: Europe/Berlin
"""
DELIVERY_CSV = """Beleg;Datum;Menge;Preis;Zugesagt;Versandt;Zugestellt
D-1;15.07.2024 10:30;1;5;18.07.2024;15.07.2024 16:00;19.07.2024 01:30
D-2;15.07.2024 10:30;1;5;;;
D-3;15.07.2024 10:30;1;5;bald;;
D-4;15.07.2024 10:30;1;5;18.07.2024;15.07.2024 16:00;14.07.2024 09:00
"""


def test_generic_mapping_reads_delivery_dates(cli: Callable[..., Any], tmp_path: Path) -> None:
    mapping, data = tmp_path / "mapping.yaml", tmp_path / "export.csv"
    mapping.write_text(DELIVERY_MAPPING)
    data.write_text(DELIVERY_CSV, encoding="utf-8")
    result = cli("import", str(data), "--profile", "generic", "--mapping", str(mapping), "--json")
    assert result.exit_code == 0, result.stderr
    summary = result.json()
    assert (summary["rows_loaded"], summary["rows_quarantined"]) == (2, 2)
    # The promised day stays the day written; times are Berlin summer time (UTC+2), stored as UTC.
    found = fetch(
        tmp_path / "home",
        "SELECT order_id, promised_delivery_date::VARCHAR, shipped_at::VARCHAR, delivered_at::VARCHAR FROM orders "
        "ORDER BY order_id",
    )
    assert found == [("D-1", "2024-07-18", "2024-07-15 14:00:00", "2024-07-18 23:30:00"), ("D-2", None, None, None)]
    quarantine = pd.read_csv(summary["quarantine_path"])
    assert quarantine[["row", "column", "reason"]].values.tolist() == [
        [3, "Zugesagt", "unparseable date"],
        [4, "Zugestellt", "delivered before it was ordered"],
    ]


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        ("columns: [1, 2]", "mapping: columns: Input should be a valid dictionary"),
        (
            "columns:\n  order_id: Beleg\n  colour: Farbe\n",
            "mapping: columns: Value error, unknown canonical field(s) colour",
        ),
        (
            "columns:\n  order_id: Beleg\n",
            "mapping: columns must map the required field(s) ordered_at, quantity, unit_price",
        ),
        ("colums:\n  order_id: Beleg\n", "mapping: columns: Field required"),
        (
            "columns: {order_id: Beleg, ordered_at: Datum, quantity: Menge, unit_price: Preis}\ntimezone: Mars/Base",
            "mapping: timezone: Value error, unknown time zone 'Mars/Base'",
        ),
        (
            "columns: {order_id: X, ordered_at: Datum, quantity: Menge, unit_price: Preis}\ndelimiter: ';'",
            "export.csv: not a generic export, missing column(s): X",
        ),
        ("columns: : :", "not valid YAML at line 1"),
    ],
)
def test_bad_mapping_exits_2_with_one_line(cli: Callable[..., Any], tmp_path: Path, mapping: str, message: str) -> None:
    mapping_file, data = tmp_path / "mapping.yaml", tmp_path / "export.csv"
    mapping_file.write_text(mapping)
    data.write_text(GENERIC_CSV)
    result = cli("import", str(data), "--profile", "generic", "--mapping", str(mapping_file), "--json")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1
    assert message in result.stderr


def test_generic_without_mapping_is_refused(cli: Callable[..., Any], tmp_path: Path) -> None:
    data = tmp_path / "export.csv"
    data.write_text(GENERIC_CSV)
    result = cli("import", str(data), "--profile", "generic")
    assert (result.exit_code, result.stderr.strip()) == (
        2,
        "error: the generic profile needs --mapping FILE (see shoplens import --help)",
    )


def test_overlapping_newer_export_adds_only_new_rows(cli: Callable[..., Any], tmp_path: Path) -> None:
    """Two exports of a growing shop overlap by their middle rows; the second adds only what is new."""
    lines = ["customer_id,date,quantity,amount"] + [
        f"{i % 7},1997-01-{1 + i % 28:02d},{1 + i % 3},{10 + i}.50" for i in range(60)
    ]
    older, newer = tmp_path / "older.csv", tmp_path / "newer.csv"
    older.write_text("\n".join(lines[:41]) + "\n")  # rows 0-39
    newer.write_text("\n".join([lines[0], *lines[21:]]) + "\n")  # rows 20-59
    first = cli("import", str(older), "--profile", "cdnow", "--json").json()
    second = cli("import", str(newer), "--profile", "cdnow", "--json").json()
    assert first["rows_loaded"] == 40
    assert (second["rows_read"], second["rows_loaded"], second["rows_duplicate"]) == (40, 20, 20)
    assert fetch(tmp_path / "home", "SELECT count(*), sum(amount) FROM order_lines") == [
        (60, Decimal(sum(10 + i for i in range(60))) + Decimal("30.00"))
    ]


ORDERS_MAPPING = """
columns: {order_id: invoice, ordered_at: date, email: email, currency: currency, product_id: sku,
          quantity: qty, unit_price: price}
"""


def _orders_file(path: Path, lines: list[tuple[str, str, str, str, str, int, str]]) -> Path:
    rows = [",".join(map(str, line)) for line in lines]
    path.write_text("invoice,date,email,currency,sku,qty,price\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def _import_orders(cli: Callable[..., Any], mapping: Path, path: Path) -> dict[str, Any]:
    result = cli("import", str(path), "--profile", "generic", "--mapping", str(mapping), "--json")
    assert result.exit_code == 0, result.stderr
    summary: dict[str, Any] = result.json()
    assert summary["rows_read"] == summary["rows_loaded"] + summary["rows_quarantined"] + summary["rows_duplicate"]
    return summary


def test_an_order_id_of_another_file_does_not_merge(cli: Callable[..., Any], tmp_path: Path) -> None:
    """Two stores number their invoices alike: the second store's INV-1 is not a line added to the first's."""
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(ORDERS_MAPPING)
    first_store = [
        ("INV-1", "2019-03-01 10:00:00", "ann@a.example", "GBP", "A", 2, "10.00"),
        ("INV-1", "2019-03-01 10:00:00", "ann@a.example", "GBP", "B", 1, "5.50"),
        ("INV-2", "2019-03-02 11:00:00", "bob@a.example", "GBP", "A", 1, "10.00"),
    ]
    other_store = [
        ("INV-1", "2024-06-01 09:00:00", "cy@b.example", "EUR", "X", 3, "99.00"),
        ("INV-1", "2024-06-01 09:00:00", "cy@b.example", "EUR", "Y", 1, "1.00"),
        ("INV-9", "2024-06-02 09:00:00", "cy@b.example", "EUR", "X", 1, "99.00"),
    ]
    first = _orders_file(tmp_path / "store_a.csv", first_store)
    other = _orders_file(tmp_path / "store_b.csv", other_store)
    _import_orders(cli, mapping, first)
    summary = _import_orders(cli, mapping, other)
    assert (summary["rows_read"], summary["rows_loaded"], summary["rows_quarantined"]) == (3, 1, 2)
    quarantine = pd.read_csv(summary["quarantine_path"])
    reason = "order id already stored from another file (another customer, currency or order time)"
    assert quarantine[["row", "column", "reason"]].values.tolist() == [[1, "invoice", reason], [2, "invoice", reason]]
    home = tmp_path / "home"
    # The first store's INV-1 keeps its two lines and its total, 2 x 10.00 + 5.50.
    assert fetch(home, "SELECT count(*) FROM order_lines WHERE order_id = 'INV-1'") == [(2,)]
    assert dict(fetch(home, "SELECT order_id, gross FROM orders")) == {
        "INV-1": Decimal("25.50"),
        "INV-2": Decimal("10.00"),
        "INV-9": Decimal("99.00"),
    }
    # Importing either file again adds nothing: the first store's lines are duplicates, the other's INV-1 is
    # quarantined again.
    again = _import_orders(cli, mapping, first)
    assert (again["rows_loaded"], again["rows_duplicate"], again["rows_quarantined"]) == (0, 3, 0)
    again = _import_orders(cli, mapping, other)
    assert (again["rows_loaded"], again["rows_duplicate"], again["rows_quarantined"]) == (0, 1, 2)
    assert fetch(home, "SELECT sum(gross) FROM orders") == [(Decimal("134.50"),)]


def test_an_order_continued_in_the_next_export_is_one_order(cli: Callable[..., Any], tmp_path: Path) -> None:
    """A store's next export holds more lines of an order it already gave: same customer, currency and time."""
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(ORDERS_MAPPING)
    line = ("INV-7", "2024-01-31 23:59:00", "dee@a.example", "GBP")
    _import_orders(cli, mapping, _orders_file(tmp_path / "january.csv", [(*line, "A", 1, "4.00")]))
    summary = _import_orders(cli, mapping, _orders_file(tmp_path / "february.csv", [(*line, "B", 2, "3.00")]))
    assert (summary["rows_loaded"], summary["rows_quarantined"]) == (1, 0)
    home = tmp_path / "home"
    assert fetch(home, "SELECT order_id, gross FROM orders") == [("INV-7", Decimal("10.00"))]
    assert fetch(home, "SELECT line_no, product_id FROM order_lines ORDER BY line_no") == [(1, "A"), (2, "B")]
