"""Shopify and WooCommerce product exports into the catalogue: variants, image rows, prices, costs, re-imports."""

from __future__ import annotations

import csv
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from tests.conftest import FIXTURES, fetch

from shoplens.ingest import registered_profiles

DATA = Path(__file__).parent / "data"
SHOPIFY = DATA / "shopify_products"
WOO = DATA / "woocommerce_products"
VARIANT_FIELDS = (
    "Option1 Value",
    "Option2 Value",
    "Option3 Value",
    "Variant SKU",
    "Variant Price",
    "Variant Compare At Price",
    "Cost per item",
)


def _records(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _import(cli: Callable[..., Any], path: Path, profile: str) -> dict[str, Any]:
    result = cli("import", str(path), "--profile", profile, "--json")
    assert result.exit_code == 0, result.stderr
    summary: dict[str, Any] = result.json()
    return summary


def _is_variant(record: dict[str, str]) -> bool:
    return any((record.get(f) or "").strip() for f in VARIANT_FIELDS)


@pytest.mark.parametrize(
    "name", ["packt_products_export_1.csv", "solidus_importer_jewelery.csv", "solidus_importer_products.csv"]
)
def test_shopify_variants_load_and_image_rows_are_duplicates(
    cli: Callable[..., Any], tmp_path: Path, name: str
) -> None:
    path = SHOPIFY / name
    records = _records(path)
    variants = [r for r in records if _is_variant(r)]
    summary = _import(cli, path, "shopify-products")
    assert (summary["rows_read"], summary["rows_quarantined"]) == (len(records), 0)
    assert (summary["rows_loaded"], summary["rows_duplicate"]) == (len(variants), len(records) - len(variants))
    home = tmp_path / "home"
    assert fetch(home, "SELECT count(*) FROM products") == [(len(variants),)]
    # Every variant's price is the file's; its vendor and type are those on its product's first row.
    first_rows: dict[str, dict[str, str]] = {}
    for record in records:
        first_rows.setdefault(record["Handle"], record)
    expected = sorted(
        (Decimal(r["Variant Price"]), first_rows[r["Handle"]]["Vendor"], first_rows[r["Handle"]]["Type"])
        for r in variants
    )
    stored = fetch(home, "SELECT price, supplier, category FROM products")
    assert sorted(stored) == expected
    handles = {r["Handle"] for r in variants}
    titled = fetch(home, "SELECT count(DISTINCT split_part(name, ' - ', 1)) FROM products")
    assert titled == [(len({first_rows[h]["Title"] for h in handles}),)]
    again = _import(cli, path, "shopify-products")
    assert (again["rows_loaded"], again["rows_duplicate"]) == (0, again["rows_read"] - again["rows_quarantined"])
    assert fetch(home, "SELECT count(*) FROM products") == [(len(variants),)]


def test_shopify_variant_names_ids_and_the_packt_gloves(cli: Callable[..., Any], tmp_path: Path) -> None:
    path = SHOPIFY / "packt_products_export_1.csv"
    gloves = [r for r in _records(path) if r["Handle"] == "gardening-gloves"]
    _import(cli, path, "shopify-products")
    rows = fetch(
        tmp_path / "home",
        "SELECT product_id, name, supplier, price FROM products WHERE product_id LIKE 'Gardening Gloves%' "
        "ORDER BY product_id",
    )
    # The second variant row carries only the Handle and variant fields; the product fields come from the first.
    assert rows == [
        (
            "Gardening Gloves - Green",
            "Gardening Gloves - Green",
            gloves[0]["Vendor"],
            Decimal(gloves[0]["Variant Price"]),
        ),
        (
            "Gardening Gloves - Yellow",
            "Gardening Gloves - Yellow",
            gloves[0]["Vendor"],
            Decimal(gloves[1]["Variant Price"]),
        ),
    ]
    single = fetch(tmp_path / "home", "SELECT name FROM products WHERE product_id = 'Floor Lamp'")
    assert single == [("Floor Lamp",)]


SHOPIFY_HEADER = (
    "Handle,Title,Body (HTML),Vendor,Type,Tags,Published,Option1 Name,Option1 Value,Variant SKU,Variant Price,"
    "Variant Compare At Price,Image Src,Cost per item,Status\n"
)


def test_shopify_catalogue_edge_cases_and_a_newer_cost(cli: Callable[..., Any], tmp_path: Path) -> None:
    first = tmp_path / "products_export_1.csv"
    first.write_text(
        SHOPIFY_HEADER
        + "tee,Tee,<p>Soft</p>,Cotton Co,Shirts,,true,Size,S,TEE-S,20.00,,https://img/1.jpg,8.00,active\n"
        + "tee,,,,,,,,M,TEE-M,22.00,,,8.50,\n"
        + "tee,,,,,,,,,,,,https://img/2.jpg,,\n"
        + "tee,,,,,,,,L,TEE-L,twenty,,,9.00,\n"
        + "mug,Mug,,Clay Ltd,Kitchen,,true,Title,Default Title,,12.50,15.00,https://img/3.jpg,4.10,draft\n"
    )
    summary = _import(cli, first, "shopify-products")
    # 5 rows: 3 variants load, the image row is a duplicate of its product, TEE-L's price is not a number.
    assert [summary[k] for k in ("rows_read", "rows_loaded", "rows_duplicate", "rows_quarantined")] == [5, 3, 1, 1]
    quarantine = pd.read_csv(summary["quarantine_path"])
    assert quarantine[["row", "column", "reason"]].values.tolist() == [[4, "price", "not a number"]]
    home = tmp_path / "home"
    assert fetch(home, "SELECT product_id, name, category, supplier, cost, price FROM products ORDER BY 1") == [
        ("Mug", "Mug", "Kitchen", "Clay Ltd", Decimal("4.10"), Decimal("12.50")),
        ("TEE-M", "Tee - M", "Shirts", "Cotton Co", Decimal("8.50"), Decimal("22.00")),
        ("TEE-S", "Tee - S", "Shirts", "Cotton Co", Decimal("8.00"), Decimal("20.00")),
    ]
    later = tmp_path / "products_export_2.csv"
    later.write_text(
        SHOPIFY_HEADER
        + "tee,Tee,<p>Soft</p>,Cotton Co,Shirts,,true,Size,S,TEE-S,20.00,,https://img/1.jpg,8.40,active\n"
        + "tee,,,,,,,,M,TEE-M,22.00,,,8.50,\n"
        + "mug,Mug,,Clay Ltd,Kitchen,,true,Title,Default Title,,12.50,15.00,https://img/3.jpg,,active\n"
    )
    summary = _import(cli, later, "shopify-products")
    # TEE-S has a new cost; TEE-M is unchanged; the mug's empty cost keeps the stored one (nothing changes).
    assert [summary[k] for k in ("rows_read", "rows_loaded", "rows_updated", "rows_duplicate")] == [3, 1, 1, 2]
    assert fetch(home, "SELECT product_id, cost FROM products ORDER BY 1") == [
        ("Mug", Decimal("4.10")),
        ("TEE-M", Decimal("8.50")),
        ("TEE-S", Decimal("8.40")),
    ]


def test_shopify_product_category_when_there_is_no_type(cli: Callable[..., Any], tmp_path: Path) -> None:
    path = tmp_path / "products_export.csv"
    path.write_text(
        "Handle,Title,Body (HTML),Vendor,Product Category,Type,Option1 Value,Variant SKU,Variant Price\n"
        "tee,Tee,,Cotton Co,Apparel & Accessories > Clothing > Shirts & Tops,,Default Title,T-1,20\n"
        "hat,Hat,,Cotton Co,Apparel & Accessories > Hats,Caps,Default Title,H-1,9\n"
    )
    _import(cli, path, "shopify-products")
    categories = fetch(tmp_path / "home", "SELECT product_id, category FROM products ORDER BY 1")
    assert categories == [("H-1", "Caps"), ("T-1", "Shirts & Tops")]


def _woo_category(categories: str) -> str | None:
    first = categories.split(",")[0]
    return first.split(">")[-1].strip() or None


def test_woocommerce_sample_products(cli: Callable[..., Any], tmp_path: Path) -> None:
    path = WOO / "classic-commerce_sample_products.csv"
    records = _records(path)
    summary = _import(cli, path, "woocommerce-products")
    assert (summary["rows_read"], summary["rows_loaded"], summary["rows_quarantined"]) == (24, len(records), 0)
    home = tmp_path / "home"
    by_sku = {r["SKU"]: r for r in records}
    stored = {r[0]: r[1:] for r in fetch(home, "SELECT product_id, name, category, price, supplier FROM products")}
    assert set(stored) == set(by_sku)
    for sku, record in by_sku.items():
        price = record["Sale price"] or record["Regular price"]
        parent = by_sku.get(record["Parent"], record)
        assert stored[sku] == (
            record["Name"],
            _woo_category(parent["Categories"]),
            Decimal(price) if price else None,
            None,
        ), sku
    variations = sum(r["Type"] == "variation" for r in records)
    assert variations == 9
    assert fetch(home, "SELECT count(*) FROM products WHERE category IS NULL") == [(0,)]
    again = _import(cli, path, "woocommerce-products")
    assert (again["rows_loaded"], again["rows_duplicate"]) == (0, 24)


def test_woocommerce_rows_without_sku_or_id_are_quarantined(cli: Callable[..., Any], tmp_path: Path) -> None:
    path = WOO / "classic-commerce_importer_sample.csv"
    records = _records(path)
    anonymous = [n for n, r in enumerate(records, start=1) if not r["SKU"]]
    summary = _import(cli, path, "woocommerce-products")
    assert (summary["rows_loaded"], summary["rows_quarantined"]) == (len(records) - len(anonymous), len(anonymous))
    quarantine = pd.read_csv(summary["quarantine_path"])
    assert quarantine[["row", "column", "reason"]].values.tolist() == [
        [n, "product_id", "missing product id"] for n in anonymous
    ]
    # "Clothing, Clothing > T-shirts": the first category listed.
    assert fetch(tmp_path / "home", "SELECT category FROM products WHERE product_id = 'WOOLOGO'") == [("Clothing",)]


def test_woocommerce_cost_of_goods_escaped_commas_and_a_newer_price(cli: Callable[..., Any], tmp_path: Path) -> None:
    header = "ID,Type,SKU,Name,Published,Sale price,Regular price,Categories,Parent,Meta: _wc_cog_cost\n"
    first = tmp_path / "wc-product-export-1.csv"
    first.write_text(
        header
        + '10,variable,JKT,Jacket,1,,,"Outerwear > Coats\\, Jackets, Sale",,\n'
        + "11,variation,JKT-S,Jacket - S,1,,80,,JKT,31.50\n"
        + "12,variation,,Jacket - M,1,70,80,,JKT,32\n"
        + "13,simple,CAP,Cap,1,,ten,Hats,,3\n"
    )
    summary = _import(cli, first, "woocommerce-products")
    assert [summary[k] for k in ("rows_read", "rows_loaded", "rows_quarantined")] == [4, 3, 1]
    quarantine = pd.read_csv(summary["quarantine_path"])
    assert quarantine[["row", "column", "reason"]].values.tolist() == [[4, "price", "not a number"]]
    home = tmp_path / "home"
    assert fetch(home, "SELECT product_id, category, cost, price FROM products ORDER BY 1") == [
        ("12", "Coats, Jackets", Decimal("32"), Decimal("70")),
        ("JKT", "Coats, Jackets", None, None),
        ("JKT-S", "Coats, Jackets", Decimal("31.50"), Decimal("80")),
    ]
    later = tmp_path / "wc-product-export-2.csv"
    later.write_text(header + "11,variation,JKT-S,Jacket - S,1,75,80,,JKT,31.50\n")
    summary = _import(cli, later, "woocommerce-products")
    assert (summary["rows_loaded"], summary["rows_updated"]) == (1, 1)
    assert fetch(home, "SELECT price FROM products WHERE product_id = 'JKT-S'") == [(Decimal("75"),)]


@pytest.mark.parametrize(
    ("path", "profile"),
    [
        (SHOPIFY / "packt_products_export_1.csv", "shopify-products"),
        (SHOPIFY / "solidus_importer_jewelery.csv", "shopify-products"),
        (WOO / "classic-commerce_sample_products.csv", "woocommerce-products"),
        (WOO / "classic-commerce_importer_sample.csv", "woocommerce-products"),
        (DATA / "shopify_customers" / "solidus_importer_customers.csv", "shopify-customers"),
        (FIXTURES / "shopify_orders.csv", "shopify"),
        (FIXTURES / "woocommerce_orders.csv", "woocommerce"),
    ],
)
def test_each_export_matches_only_its_own_profile(path: Path, profile: str) -> None:
    with path.open(newline="", encoding="utf-8") as handle:
        header = next(csv.reader(handle))
    matching = [p.name for p in registered_profiles().values() if p.required and not p.missing_columns(header)]
    assert matching == [profile]


def test_order_lines_without_a_sku_find_their_shopify_product(cli: Callable[..., Any], tmp_path: Path) -> None:
    """Neither export has SKUs here: the order's "Lineitem name" is the variant's product id in the catalogue."""
    path = SHOPIFY / "packt_products_export_1.csv"
    _import(cli, path, "shopify-products")
    orders = tmp_path / "orders_export_1.csv"
    orders.write_text(
        "Name,Email,Created at,Currency,Lineitem quantity,Lineitem name,Lineitem price,Lineitem sku\n"
        "#1,ann@example.com,2024-03-01 10:00:00 +0000,USD,2,Gardening Gloves - Green,19.99,\n"
        "#1,ann@example.com,2024-03-01 10:00:00 +0000,USD,1,Floor Lamp,49.00,\n"
    )
    cli("import", str(orders), "--profile", "shopify", "--json")
    home = tmp_path / "home"
    joined = fetch(
        home,
        "SELECT l.product_id, p.supplier IS NOT NULL FROM order_lines l JOIN products p USING (product_id) ORDER BY 1",
    )
    assert joined == [("Floor Lamp", True), ("Gardening Gloves - Green", True)]
