"""A store built only from a shop's own exports — Shopify orders and products, a GA4 event export, a Google Ads
report, stock and tickets, each imported without naming its profile — answers the funnel, the margins and the
share package as the demo store does (no demo involved)."""

from __future__ import annotations

import csv
import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pytest

FIRST_DAY = datetime(2024, 3, 1, tzinfo=UTC)
DAYS = 120
PRODUCTS = [(f"SKU-{n:02d}", f"Product {n}", ["Mugs", "Tea", "Linen"][n % 3], 10 + 3 * n, 4 + n) for n in range(12)]
SOURCES = [("google", "cpc"), ("newsletter", "email"), ("(direct)", "(none)"), ("instagram", "social")]


@dataclass
class Shop:
    """What the generated exports hold, counted as they are written (the test's independent answer)."""

    orders: list[dict[str, str]] = field(default_factory=list)
    sessions: dict[str, int] = field(default_factory=lambda: dict.fromkeys(("view", "cart", "checkout", "order"), 0))
    spend_cents: int = 0
    events: int = 0


def _write_csv(path: Path, header: list[str], rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)
    return path


def _param(key: str, value: str | int) -> dict[str, Any]:
    text, number = (value, None) if isinstance(value, str) else (None, str(value))
    return {"key": key, "value": {"string_value": text, "int_value": number, "float_value": None, "double_value": None}}


def _ga4_event(name: str, at: datetime, visitor: str, session: int, source: tuple[str, str], sku: str | None) -> str:
    micros = int(at.timestamp() * 1_000_000)
    params = [_param("ga_session_id", session), _param("page_location", f"https://shop.example/{name}")]
    params += [_param("source", source[0]), _param("medium", source[1])]
    return json.dumps(
        {
            "event_date": at.strftime("%Y%m%d"),
            "event_timestamp": str(micros),
            "event_name": name,
            "event_params": params,
            "user_pseudo_id": visitor,
            "user_id": None,
            "device": {"category": "mobile" if session % 3 else "desktop"},
            "traffic_source": {"name": "(direct)", "medium": "(none)", "source": "(direct)"},
            "items": [{"item_id": sku, "item_name": sku, "quantity": 1}] if sku else [],
        }
    )


def _generate(out: Path, seed: int = 11) -> Shop:
    rng = np.random.default_rng(seed)
    shop = Shop()
    products = [
        {
            "Handle": f"p{n}",
            "Title": title,
            "Body (HTML)": "",
            "Vendor": f"Maker {n % 4}",
            "Type": kind,
            "Variant SKU": sku,
            "Variant Price": f"{price:.2f}",
            "Cost per item": f"{cost:.2f}",
        }
        for n, (sku, title, kind, price, cost) in enumerate(PRODUCTS)
    ]
    _write_csv(out / "products_export_1.csv", list(products[0]), products)
    events: list[str] = []
    for visitor in range(160):
        at = FIRST_DAY + timedelta(days=int(rng.integers(0, DAYS)), seconds=int(rng.integers(0, 80_000)))
        source = SOURCES[visitor % len(SOURCES)]
        sku = PRODUCTS[int(rng.integers(0, len(PRODUCTS)))][0]
        steps = ["page_view", "view_item"]
        for step, chance in (("add_to_cart", 0.5), ("begin_checkout", 0.6), ("purchase", 0.7)):
            if rng.random() >= chance:
                break
            steps.append(step)
        for offset, name in enumerate(steps):
            events.append(
                _ga4_event(name, at + timedelta(minutes=3 * offset), f"v{visitor}", 1000 + visitor, source, sku)
            )
        reached = {"view": True, "cart": "add_to_cart" in steps, "checkout": "begin_checkout" in steps}
        reached["order"] = "purchase" in steps
        for step, hit in reached.items():
            shop.sessions[step] += int(hit)
        if reached["order"]:
            email = f"buyer{visitor % 90}@example.com"
            price = next(p for s, _, _, p, _ in PRODUCTS if s == sku)
            shop.orders.append(
                {
                    "Name": f"#{1000 + len(shop.orders)}",
                    "Email": email.upper() if visitor % 5 == 0 else email,
                    "Financial Status": "paid",
                    "Created at": (at + timedelta(minutes=15)).strftime("%Y-%m-%d %H:%M:%S +0000"),
                    "Currency": "USD",
                    "Lineitem quantity": str(1 + visitor % 2),
                    "Lineitem name": next(t for s, t, _, _, _ in PRODUCTS if s == sku),
                    "Lineitem price": f"{price:.2f}",
                    "Lineitem sku": sku,
                    "Source": "web",
                }
            )
    shop.events = len(events)
    (out / "events_20240301.jsonl").write_text("\n".join(events) + "\n")
    _write_csv(out / "orders_export_1.csv", list(shop.orders[0]), shop.orders)
    report = [
        "Campaign report",
        "March 1, 2024 - June 28, 2024",
        "Day,Campaign,Campaign type,Currency code,Cost,Impr.,Clicks",
    ]
    for day in range(DAYS):
        cents = int(rng.integers(500, 5000))
        shop.spend_cents += cents
        date = (FIRST_DAY + timedelta(days=day)).date().isoformat()
        report.append(f"{date},Brand - Search,Search,USD,{cents / 100:.2f},{int(rng.integers(100, 900))},{day % 40}")
    (out / "Campaign report.csv").write_text("\n".join(report) + "\n")
    stock = [
        {"product_id": sku, "date": (FIRST_DAY + timedelta(days=d)).date().isoformat(), "on_hand": str(40 - d % 30)}
        for sku, *_ in PRODUCTS
        for d in range(0, DAYS, 7)
    ]
    _write_csv(out / "stock.csv", ["product_id", "date", "on_hand"], stock)
    tickets = [
        {
            "ticket_id": f"T{n}",
            "created_at": "2024-04-02 10:00:00",
            "first_response_at": "2024-04-02 12:30:00",
            "channel": "email",
            "email": shop.orders[n]["Email"],
            "subject": "Where is my parcel?",
        }
        for n in range(5)
    ]
    _write_csv(out / "tickets.csv", list(tickets[0]), tickets)
    return shop


@pytest.fixture
def store(cli: Callable[..., Any], tmp_path: Path, warehouse_engine: str) -> Shop:
    """The exports imported into a fresh store, on each engine (DuckDB; PostgreSQL under its marker)."""
    out = tmp_path / "exports"
    out.mkdir()
    shop = _generate(out)
    for name, profile in (
        ("products_export_1.csv", "shopify-products"),
        ("orders_export_1.csv", "shopify"),
        ("events_20240301.jsonl", "ga4"),
        ("Campaign report.csv", "google-ads"),
        ("stock.csv", "inventory"),
        ("tickets.csv", "tickets"),
    ):
        result = cli("import", str(out / name), "--json")
        assert result.exit_code == 0, result.stderr
        summary = result.json()
        assert summary["profile"] == profile
        assert summary["rows_quarantined"] == 0, name
    return shop


def test_every_kind_of_export_lands_in_its_table(cli: Callable[..., Any], store: Shop) -> None:
    tables = cli("status", "--json").json()["tables"]
    emails = {order["Email"].lower() for order in store.orders}
    assert tables["orders"] == len(store.orders)
    assert tables["customers"] == len(emails)
    assert tables["products"] == len(PRODUCTS)
    assert tables["events"] == store.events
    assert tables["marketing_spend"] == DAYS
    assert tables["inventory"] == len(PRODUCTS) * len(range(0, DAYS, 7))
    assert tables["tickets"] == 5
    assert "demo-export" not in str(cli("status", "--json").json())


def test_the_funnel_answers_from_the_ga4_export(cli: Callable[..., Any], store: Shop) -> None:
    steps = {row["step"]: row["sessions"] for row in cli("funnel", "--json").json()["steps"]}
    assert steps == store.sessions


def test_products_carry_the_imported_catalogue(cli: Callable[..., Any], store: Shop) -> None:
    """Order lines find their product in the catalogue: its category and supplier, and the revenue sold."""
    rows = cli("products", "--top", str(len(PRODUCTS)), "--json").json()["top_products"]
    catalogue = {sku: (kind, f"Maker {n % 4}") for n, (sku, _, kind, _, _) in enumerate(PRODUCTS)}
    sold: dict[str, Decimal] = {}
    for order in store.orders:
        amount = Decimal(order["Lineitem quantity"]) * Decimal(order["Lineitem price"])
        sold[order["Lineitem sku"]] = sold.get(order["Lineitem sku"], Decimal(0)) + amount
    assert {row["product_id"]: (row["category"], row["supplier"]) for row in rows} == {
        sku: catalogue[sku] for sku in sold
    }
    assert {row["product_id"]: Decimal(str(row["sales"])) for row in rows} == sold


def test_the_share_package_has_a_funnel(cli: Callable[..., Any], store: Shop, tmp_path: Path) -> None:
    package = tmp_path / "share.zip"
    document = cli("share", "export", "--out", str(package), "--k", "5", "--json").json()
    assert document["datasets"]["funnel_dropoffs"]["rows"] > 0
    with zipfile.ZipFile(package) as archive:
        names = archive.namelist()
        text = b"".join(archive.read(name) for name in names)
    assert any(name.startswith("funnel_dropoffs") for name in names)
    assert b"@example.com" not in text.lower()
