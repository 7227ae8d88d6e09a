"""WooCommerce order exports besides Advanced Order Export, and Shopify's older column names, on files written
by others (tests/ingest/data/orders/SOURCES.md)."""

from __future__ import annotations

import csv
import re
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
from tests.conftest import fetch

DATA = Path(__file__).parent / "data" / "orders"
WEBTOFFEE = DATA / "webtoffee_sample_order.csv"
SHOPIFY_OLD = DATA / "shopify_order_import_layout.csv"


def _packed(text: str) -> dict[str, str]:
    return dict(part.split(":", 1) for part in text.split("|") if ":" in part)


def _webtoffee_items() -> list[tuple[str, dict[str, str]]]:
    with WEBTOFFEE.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    return [
        (row["order_number"], _packed(row[name]))
        for row in rows
        for name in sorted((c for c in row if re.fullmatch(r"line_item_\d+", c)), key=lambda c: int(c[10:]))
        if row[name].strip()
    ]


def test_webtoffee_items_become_order_lines(cli: Callable[..., Any], tmp_path: Path) -> None:
    items = _webtoffee_items()
    summary = cli("import", str(WEBTOFFEE), "--json").json()
    assert summary["profile"] == "woocommerce-webtoffee"
    assert (summary["rows_read"], summary["rows_loaded"], summary["rows_quarantined"]) == (len(items), len(items), 0)
    home = tmp_path / "home"
    lines = fetch(home, "SELECT order_id, product_id, quantity FROM order_lines ORDER BY order_id, line_no")
    assert lines == [(order, item["sku"], int(item["quantity"])) for order, item in items]
    with WEBTOFFEE.open(newline="") as handle:
        orders = {row["order_number"]: row for row in csv.DictReader(handle)}
    stored = {r[0]: r[1:] for r in fetch(home, "SELECT order_id, gross, discount, net, shipping, tax FROM orders")}
    for number, row in orders.items():
        items_total = sum(Decimal(item["total"]) for order, item in items if order == number)
        # Item totals are after coupons: net is their sum, gross adds the order's discount back.
        gross, discount, net, shipping, tax = stored[number]
        assert net == items_total
        assert discount == Decimal(row["discount_total"])
        assert gross == items_total + Decimal(row["discount_total"])
        assert (shipping, tax) == (Decimal(row["shipping_total"]), Decimal(row["tax_total"]))
    refunded = {o: _packed(r["refund_items"])["amount"] for o, r in orders.items() if r["refund_items"]}
    assert dict(fetch(home, "SELECT order_id, amount::VARCHAR FROM refunds")) == refunded
    codes = {o: _packed(r["coupon_items"])["code"] for o, r in orders.items() if r["coupon_items"]}
    assert dict(fetch(home, "SELECT order_id, discount_code FROM orders WHERE discount_code IS NOT NULL")) == codes
    # A guest (customer_user 0) is a guest order; the others were placed with an account.
    guests = {o for o, r in orders.items() if r["customer_user"] == "0"}
    assert {r[0] for r in fetch(home, "SELECT order_id FROM orders WHERE is_guest")} == guests
    again = cli("import", str(WEBTOFFEE), "--json").json()
    assert (again["rows_loaded"], again["rows_duplicate"]) == (0, len(items))


def test_webtoffee_trailing_empty_rows_are_quarantined_not_lost(cli: Callable[..., Any], tmp_path: Path) -> None:
    text = WEBTOFFEE.read_text()
    columns = text.splitlines()[0].count(",")
    padded = tmp_path / "with_empty_rows.csv"
    padded.write_text(text + ("," * columns + "\n") * 2)
    summary = cli("import", str(padded), "--profile", "woocommerce-webtoffee", "--json").json()
    items = len(_webtoffee_items())
    assert (summary["rows_read"], summary["rows_loaded"], summary["rows_quarantined"]) == (items + 2, items, 2)
    quarantine = pd.read_csv(summary["quarantine_path"])
    assert quarantine["reason"].tolist() == ["missing order id", "missing order id"]
    assert "billing_email=[redacted]" in quarantine["values"][0]


ANALYTICS_CSV = """Date,Order #,Status,Customer,Customer type,Product(s),Items sold,Coupon(s),Net Sales,Attribution
2024-05-02 14:03:11,2101,Completed,Dana Ho,new,"Ceramic Mug, Oolong Tea",3,WELCOME20,200.00,Organic: Google
2024-05-09 09:30:00,2102,Refunded,Lee Wong,new,Ceramic Mug,1,,60.00,Direct
2024-06-01 18:45:10,2103,Completed,dana ho ,returning,Oolong Tea,2,,190.50,Referral: example.org
2024-06-02 10:00:00,2104,Completed,Sam Li,new,Oolong Tea,two,,95.25,Direct
"""


def test_woocommerce_analytics_orders(cli: Callable[..., Any], tmp_path: Path) -> None:
    """The layout of WooCommerce Analytics > Orders > Download (no public sample exists: written from it)."""
    export = tmp_path / "wc-orders-report-export.csv"
    export.write_text(ANALYTICS_CSV)
    summary = cli("import", str(export), "--json").json()
    assert summary["profile"] == "woocommerce-analytics"
    assert (summary["rows_read"], summary["rows_loaded"], summary["rows_quarantined"]) == (4, 3, 1)
    home = tmp_path / "home"
    net = dict(fetch(home, "SELECT order_id, net::VARCHAR FROM orders"))
    assert net == {"2101": "200.00", "2102": "60.00", "2103": "190.50"}
    keys = dict(fetch(home, "SELECT order_id, customer_key FROM orders"))
    assert keys["2101"] == keys["2103"] != keys["2102"]
    assert pd.read_csv(summary["quarantine_path"])[["row", "column", "reason"]].values.tolist() == [
        [4, "Items sold", "not a whole number"]
    ]


def test_shopify_older_column_names(cli: Callable[..., Any], tmp_path: Path) -> None:
    with SHOPIFY_OLD.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    lines = [r for r in rows if r["Lineitem quantity"].strip()]
    summary = cli("import", str(SHOPIFY_OLD), "--json").json()
    assert summary["profile"] == "shopify"
    # Rows without a line item (a transaction or shipping line) are quarantined, not dropped.
    assert (summary["rows_read"], summary["rows_loaded"]) == (len(rows), len(lines))
    assert summary["rows_quarantined"] == len(rows) - len(lines)
    home = tmp_path / "home"
    stored = fetch(home, "SELECT order_id, ordered_at::VARCHAR, gross::VARCHAR, currency FROM orders ORDER BY 1")
    first = {r["Name"]: r for r in rows if r["Processed At"]}
    expected_gross = {
        name: sum(Decimal(r["Lineitem quantity"]) * Decimal(r["Lineitem price"]) for r in lines if r["Name"] == name)
        for name in first
    }
    assert [(o, f"{g}") for o, _, g, _ in stored] == [(n, f"{expected_gross[n]:.2f}") for n in sorted(first)]
    # "Processed At" carries its offset: stored in UTC.
    assert stored[0][1] == "2018-01-04 23:51:23"
    assert {r[3] for r in stored} == {"USD"}
    consent = fetch(home, "SELECT consent_marketing FROM customers ORDER BY consent_marketing")
    assert sorted(c for (c,) in consent) == sorted(r["Buyer Accepts Marketing"] == "true" for r in first.values())
