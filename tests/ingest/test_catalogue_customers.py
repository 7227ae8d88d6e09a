"""Shopify customer exports (older and newer headers): one customer per e-mail, shared with the orders export,
consent flags, and personal data only in the vault."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
from tests.conftest import FIXTURES, fetch, fetch_clear, vault_in_clear

TEMPLATE = Path(__file__).parent / "data" / "shopify_customers" / "solidus_importer_customers.csv"
NEW_HEADER = (
    "Customer ID,First Name,Last Name,Email,Accepts Email Marketing,Default Address Company,"
    "Default Address Address1,Default Address Address2,Default Address City,Default Address Province Code,"
    "Default Address Country Code,Default Address Zip,Default Address Phone,Phone,Accepts SMS Marketing,"
    "Total Spent,Total Orders,Note,Tax Exempt,Tags\n"
)
OLD_HEADER = (
    "First Name,Last Name,Email,Company,Address1,Address2,City,Province,Province Code,Country,Country Code,Zip,"
    "Phone,Accepts Marketing,Total Spent,Total Orders,Tags,Note,Tax Exempt\n"
)


def _import(cli: Callable[..., Any], path: Path, profile: str = "shopify-customers") -> dict[str, Any]:
    result = cli("import", str(path), "--profile", profile, "--json")
    assert result.exit_code == 0, result.stderr
    summary: dict[str, Any] = result.json()
    return summary


def _held_only_in_the_vault(home: Path, text: str) -> bool:
    """``text`` is in no warehouse table in clear, and the vault holds it (encrypted: found once decrypted)."""
    clear = vault_in_clear(home).to_pylist()
    in_vault = any(text.lower() in str(value).lower() for row in clear for value in row.values() if value)
    return in_vault and _tables_holding(home, text) == []


def _tables_holding(home: Path, text: str) -> list[str]:
    """Every warehouse table with a text column holding ``text`` (any case)."""
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        columns = con.execute(
            "SELECT table_name, column_name FROM information_schema.columns WHERE data_type = 'VARCHAR'"
        ).fetchall()
        found = {
            table
            for table, column in columns
            if con.execute(f'SELECT count(*) FROM "{table}" WHERE "{column}" ILIKE ?', [f"%{text}%"]).fetchone() != (0,)
        }
    return sorted(found)


def test_shopify_customer_template(cli: Callable[..., Any], tmp_path: Path) -> None:
    with TEMPLATE.open(newline="", encoding="utf-8") as handle:
        records = list(csv.DictReader(handle))
    firsts: dict[str, dict[str, str]] = {}
    for record in records:
        firsts.setdefault(record["Email"].strip().lower(), record)
    summary = _import(cli, TEMPLATE)
    # John Doe's two extra address rows repeat his e-mail: duplicates of his first row.
    assert (summary["rows_read"], summary["rows_quarantined"]) == (len(records), 0)
    assert (summary["rows_loaded"], summary["rows_duplicate"]) == (len(firsts), len(records) - len(firsts))
    home = tmp_path / "home"
    stored = sorted(
        fetch_clear(
            home,
            "SELECT p.email, c.country, c.region, c.consent_marketing, c.has_account, c.source_profile, p.name, "
            "p.address FROM customers c JOIN customer_pii p USING (customer_key)",
        )
    )
    expected = sorted(
        (
            email,
            r["Country Code"],
            r["Province Code"],
            r["Accepts Marketing"] == "true",
            True,
            "shopify-customers",
            f"{r['First Name']} {r['Last Name']}",
            ", ".join(v for v in (r["Address1"], r["Address2"], r["City"], r["Zip"]) if v),
        )
        for email, r in firsts.items()
    )
    assert stored == expected
    for email in firsts:
        assert _held_only_in_the_vault(home, email)
    assert _held_only_in_the_vault(home, "Erb St")
    again = _import(cli, TEMPLATE)
    assert (again["rows_loaded"], again["rows_duplicate"]) == (0, len(records))


def test_new_headers_consent_ids_and_a_missing_email(cli: Callable[..., Any], tmp_path: Path) -> None:
    path = tmp_path / "customers_export.csv"
    path.write_text(
        NEW_HEADER
        + "'7001,Dana,Ng,dana.ng@example.org,yes,,5 Elm Rd,,Leeds,,GB,LS1 1AA,,+44 113 000,no,120.00,2,,no,\n"
        + "'7002,Eli,Moss,,no,,9 Oak St,,Austin,TX,US,78701,,,yes,0.00,0,,no,\n"
        + "'7003,Fay,Orr,fay.orr@example.org,no,,,,,,,,,,no,0.00,0,,no,\n"
    )
    summary = _import(cli, path)
    assert (summary["rows_loaded"], summary["rows_quarantined"], summary["customers"]) == (3, 0, 3)
    home = tmp_path / "home"
    rows = fetch_clear(
        home,
        "SELECT p.source_customer_id, p.email, c.country, c.region, c.consent_marketing FROM customers c "
        "JOIN customer_pii p USING (customer_key) ORDER BY 1",
    )
    # Eli has no e-mail: keyed by the customer id. SMS consent is not e-mail consent.
    assert rows == [
        ("7001", "dana.ng@example.org", "GB", None, True),
        ("7002", None, "US", "TX", False),
        ("7003", "fay.orr@example.org", None, None, False),
    ]
    assert _held_only_in_the_vault(home, "dana.ng@example.org")
    assert _held_only_in_the_vault(home, "+44 113")
    later = tmp_path / "customers_export_2.csv"
    later.write_text(NEW_HEADER + "'7001,Dana,Ng,dana.ng@example.org,no,,5 Elm Rd,,Leeds,,GB,LS1 1AA,,,no,150,3,,no,\n")
    summary = _import(cli, later)
    assert (summary["rows_loaded"], summary["rows_updated"]) == (1, 1)
    consent = fetch_clear(
        home,
        "SELECT c.consent_marketing FROM customers c JOIN customer_pii p USING (customer_key) "
        "WHERE p.email = 'dana.ng@example.org'",
    )
    assert consent == [(False,)]


def test_old_headers_without_email_are_quarantined_redacted(cli: Callable[..., Any], tmp_path: Path) -> None:
    path = tmp_path / "customers_export.csv"
    path.write_text(
        OLD_HEADER
        + "Gus,Lee,gus.lee@example.net,,1 Main St,,Toronto,Ontario,ON,Canada,CA,M5V,,yes,10.00,1,,,no\n"
        + "Hana,Ito,,,2 Side St,,Osaka,,,Japan,JP,530,+81 6 0000,no,0.00,0,,,no\n"
        + "Ivy,Poe,not-an-email,,,,,,,,,,,no,0.00,0,,,no\n"
    )
    summary = _import(cli, path)
    assert (summary["rows_loaded"], summary["rows_quarantined"]) == (1, 2)
    quarantine = pd.read_csv(summary["quarantine_path"])
    assert quarantine[["row", "column", "reason"]].values.tolist() == [
        [2, "Email", "no e-mail or customer id"],
        [3, "Email", "no e-mail or customer id"],
    ]
    for values in quarantine["values"]:
        for personal in ("Hana", "Osaka", "+81", "not-an-email"):
            assert personal not in values
    assert fetch(tmp_path / "home", "SELECT country, region, consent_marketing FROM customers") == [("CA", "ON", True)]


def test_customers_and_orders_name_one_person_once(cli: Callable[..., Any], tmp_path: Path) -> None:
    customers = tmp_path / "customers_export.csv"
    customers.write_text(
        OLD_HEADER + "Amy,Chan,  AMY.Chan@example.COM ,,1 Queen's Road,,Hong Kong,,,Hong Kong,HK,,,no,0,0,,,no\n"
    )
    for first, second in (("orders", "customers"), ("customers", "orders")):
        home = tmp_path / f"{first}-first"
        for kind in (first, second):
            path, profile = (FIXTURES / "shopify_orders.csv", "shopify") if kind == "orders" else (customers, None)
            result = cli("import", str(path), "--profile", profile or "shopify-customers", "--json", home_dir=home)
            assert result.exit_code == 0, result.stderr
        # The orders file has Amy (#1001, #1003) and Ben (#1002); Cara's only order is quarantined.
        assert fetch(home, "SELECT count(*) FROM customers") == [(2,)], first
        assert fetch_clear(
            home, "SELECT count(*) FROM customer_pii WHERE lower(trim(email)) = 'amy.chan@example.com'"
        ) == [(1,)]
        amy = fetch(home, "SELECT DISTINCT customer_key FROM orders WHERE order_id IN ('#1001', '#1003')")
        assert len(amy) == 1
        listed = fetch(home, f"SELECT has_account, country FROM customers WHERE customer_key = '{amy[0][0]}'")
        assert listed == [(True, "HK")], first
        assert _held_only_in_the_vault(home, "amy.chan@example.com")
