"""``shoplens privacy erase`` on a copy of a demo store: the person is gone from every table, text column, app-database
row, quarantine file and cache, the shop's totals stay right, and the erasure is audited by key only."""

from __future__ import annotations

import csv
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import duckdb
import pytest
from tests.conftest import run_cli, show_vault_in_clear

TEXT_TYPES = ("VARCHAR",)


def _person(home: Path) -> dict[str, Any]:
    """The customer with a review, a ticket, a refund and the most orders: the widest trace to erase."""
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        show_vault_in_clear(con, home)
        [(key, email, name, phone, address)] = con.sql(
            """SELECT p.customer_key, p.email, p.name, p.phone, p.address FROM customer_pii p
               JOIN (SELECT customer_key, count(*) n FROM orders GROUP BY 1) o USING (customer_key)
               WHERE p.customer_key IN (SELECT customer_key FROM feedback)
                 AND p.customer_key IN (SELECT customer_key FROM tickets)
                 AND p.customer_key IN (SELECT customer_key FROM refunds)
               ORDER BY o.n DESC, p.customer_key LIMIT 1"""
        ).fetchall()
    return {"key": key, "email": email, "name": name, "phone": phone, "address": address}


def _text_hits(home: Path, needles: list[str]) -> list[str]:
    """Every warehouse text column, app-database text, quarantine file and cache file holding one of ``needles``."""
    found = []
    lowered = [n.lower() for n in needles]
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        columns = con.sql(
            "SELECT table_name, column_name FROM information_schema.columns WHERE data_type = 'VARCHAR'"
        ).fetchall()
        for table, column in columns:
            for needle in lowered:
                [(hits,)] = con.sql(
                    f'SELECT count(*) FROM "{table}" WHERE lower("{column}") LIKE ?', params=[f"%{needle}%"]
                ).fetchall()
                if hits:
                    found.append(f"warehouse {table}.{column}")
    with sqlite3.connect(home / "app.db") as app:
        for (table,) in app.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
            for row in app.execute(f'SELECT * FROM "{table}"'):
                if any(needle in str(value).lower() for value in row for needle in lowered):
                    found.append(f"app {table}")
    for path in [*home.glob("quarantine/**/*"), *home.glob("cache/**/*")]:
        if path.is_file() and any(needle in path.read_text(errors="ignore").lower() for needle in lowered):
            found.append(str(path.relative_to(home)))
    return found


def _totals(home: Path) -> tuple[Any, ...]:
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        [row] = con.sql(
            "SELECT (SELECT sum(net) FROM orders), (SELECT count(*) FROM orders), (SELECT sum(amount) FROM refunds), "
            "(SELECT count(*) FROM customers), (SELECT count(*) FROM events), (SELECT count(*) FROM feedback)"
        ).fetchall()
    return tuple(row)


@pytest.fixture(scope="module")
def erased(demo_home: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    home = tmp_path_factory.mktemp("erase") / "home"
    shutil.copytree(demo_home, home)
    person = _person(home)
    # A quarantined row naming the person, as a later malformed export would leave it.
    quarantine = home / "quarantine"
    quarantine.mkdir(exist_ok=True)
    with (quarantine / "imp-planted.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["source_file", "row", "column", "reason", "byte_offset", "values"])
        writer.writerow(
            ["x.csv", 2, "unit_price", "not a number", "", f"email={person['email'].upper()}; unit_price=abc"]
        )
        writer.writerow(["x.csv", 3, "unit_price", "not a number", "", "email=someone@else.example; unit_price=abc"])
    assert run_cli(home, "rfm", "--json").exit_code == 0  # fills the result cache
    # An app-database trace too: a withdrawal of marketing consent, recorded under the person's key.
    withdrawn = run_cli(
        home, "privacy", "consent", "set", "--email", person["email"], "--purpose", "marketing", "--granted", "no"
    )
    assert withdrawn.exit_code == 0, withdrawn.stderr
    before = run_cli(home, "privacy", "export", "--email", person["email"], "--json").json()
    totals = _totals(home)
    done = run_cli(home, "privacy", "erase", "--email", person["email"], "--yes", "--json")
    assert done.exit_code == 0, done.stderr
    return {"home": home, "person": person, "before": before, "totals": totals, "erase": done.json()}


def test_erase_counts_every_row_export_found(erased: dict[str, Any]) -> None:
    found = {name: len(rows) for name, rows in erased["before"]["tables"].items() if rows and name != "order_lines"}
    assert erased["erase"]["warehouse"] == found
    assert erased["erase"]["quarantine_rows"] == 1
    assert erased["erase"]["customer_key"] == erased["person"]["key"]

    app_rows = {name: len(rows) for name, rows in erased["before"]["app_database"].items()}
    assert app_rows["consent_records"] >= 1, "the export lists the consent records of the person"
    assert all(
        row["customer_key"] == erased["person"]["key"] for row in erased["before"]["app_database"]["consent_records"]
    )
    assert erased["erase"]["app_database"] == app_rows


def test_nothing_of_the_person_is_left(erased: dict[str, Any]) -> None:
    person, home = erased["person"], erased["home"]
    needles = [person["email"], person["key"], person["phone"], person["address"]]
    # Only the audit log keeps the key: the export before and the erasure itself (the proof the request was met).
    assert set(_text_hits(home, needles)) == {"app audit_log"}
    entries = run_cli(home, "audit", "list", "--json").json()["entries"]
    assert sorted(e["action"] for e in entries if person["key"] in str(e)) == [
        "privacy.consent_set",
        "privacy.erase",
        "privacy.export",
    ]
    again = run_cli(home, "privacy", "export", "--email", person["email"], "--json").json()
    assert again["found"] is False
    with (home / "quarantine" / "imp-planted.csv").open() as handle:
        assert [row[1] for row in csv.reader(handle)] == ["row", "3"]


def test_the_shop_s_totals_stay_right(erased: dict[str, Any]) -> None:
    assert _totals(erased["home"]) == erased["totals"]


def test_the_erasure_is_audited_by_key_never_by_e_mail(erased: dict[str, Any]) -> None:
    home, person = erased["home"], erased["person"]
    entries = run_cli(home, "audit", "list", "--json").json()["entries"]
    [entry] = [e for e in entries if e["action"] == "privacy.erase"]
    assert entry["details"]["customer_key"] == person["key"]
    assert person["email"].lower() not in str(entries).lower()
    assert run_cli(home, "audit", "verify", "--json").json()["ok"] is True


def test_erase_asks_for_confirmation_and_an_e_mail(erased: dict[str, Any]) -> None:
    home = erased["home"]
    unconfirmed = run_cli(home, "privacy", "erase", "--email", "a@b.example")
    assert (unconfirmed.exit_code, unconfirmed.stderr.strip()) == (
        2,
        "error: erasing cannot be undone: add --yes to confirm",
    )
    bad = run_cli(home, "privacy", "erase", "--email", "n/a", "--yes")
    assert (bad.exit_code, bad.stderr.strip()) == (2, "error: --email: that is not an e-mail address")


def test_no_byte_of_the_e_mail_is_left_in_the_warehouse_file(erased: dict[str, Any]) -> None:
    """DuckDB keeps deleted rows' bytes in freed blocks; the erasure writes the file anew so that none survive."""
    data = (erased["home"] / "warehouse.duckdb").read_bytes()
    assert erased["person"]["email"].encode() not in data
    assert erased["person"]["key"].encode() not in data
