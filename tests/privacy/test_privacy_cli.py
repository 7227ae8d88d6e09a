"""``shoplens privacy export``: everything held on one person of an imported Shopify export, audited by key."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

SHOPIFY = Path(__file__).parents[1] / "fixtures" / "shopify_orders.csv"


def _orders_by_email() -> dict[str, set[str]]:
    with SHOPIFY.open(newline="", encoding="utf-8") as handle:
        orders: dict[str, set[str]] = {}
        for row in csv.DictReader(handle):
            if "@" in row["Email"]:
                orders.setdefault(row["Email"].strip().lower(), set()).add(row["Name"])
        return orders


def test_export_names_the_person_s_vault_row_and_orders_and_is_audited_by_key(cli: Callable[..., Any]) -> None:
    assert cli("import", str(SHOPIFY), "--profile", "shopify", "--json").exit_code == 0
    email, orders = max(_orders_by_email().items(), key=lambda item: len(item[1]))
    result = cli("privacy", "export", "--email", f"  {email.upper()} ", "--json")
    assert result.exit_code == 0, result.stderr
    document = result.json()
    assert document["found"] is True
    assert [row["email"].strip().lower() for row in document["tables"]["customer_pii"]] == [email]
    assert {row["order_id"] for row in document["tables"]["orders"]} == orders
    assert {row["order_id"] for row in document["tables"]["order_lines"]} == orders
    listed = cli("audit", "list", "--json").stdout
    assert document["customer_key"] in listed
    assert email not in listed.lower()
    assert cli("audit", "verify", "--json").json()["ok"] is True


def test_an_unknown_e_mail_is_found_nowhere_and_still_audited(cli: Callable[..., Any]) -> None:
    assert cli("import", str(SHOPIFY), "--profile", "shopify", "--json").exit_code == 0
    result = cli("privacy", "export", "--email", "nobody@nowhere.example", "--json")
    assert result.exit_code == 0, result.stderr
    document = result.json()
    assert document["found"] is False
    assert all(rows == [] for rows in document["tables"].values())
    entries = cli("audit", "list", "--json").json()["entries"]
    assert [entry["action"] for entry in entries].count("privacy.export") == 1


def test_erase_on_every_engine_unlinks_the_person_and_keeps_the_counts(
    cli: Callable[..., Any], warehouse_engine: str
) -> None:
    assert cli("import", str(SHOPIFY), "--profile", "shopify", "--json").exit_code == 0
    email, orders = max(_orders_by_email().items(), key=lambda item: len(item[1]))
    before = cli("status", "--json").json()["tables"]
    done = cli("privacy", "erase", "--email", email, "--yes", "--json")
    assert done.exit_code == 0, done.stderr
    assert done.json()["warehouse"]["orders"] == len(orders)
    after = cli("status", "--json").json()["tables"]
    assert after == {**before, "customer_pii": before["customer_pii"] - 1}
    again = cli("privacy", "export", "--email", email, "--json").json()
    assert again["found"] is False


@pytest.mark.spark
def test_erase_on_spark_leaves_the_person_in_no_parquet_file(
    cli: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("pyspark")
    monkeypatch.setenv("SHOPLENS_WAREHOUSE_URL", "spark://local")
    assert cli("import", str(SHOPIFY), "--profile", "shopify", "--json").exit_code == 0
    email, orders = max(_orders_by_email().items(), key=lambda item: len(item[1]))
    before = cli("status", "--json").json()
    done = cli("privacy", "erase", "--email", email, "--yes", "--json")
    assert done.exit_code == 0, done.stderr
    assert done.json()["warehouse"]["orders"] == len(orders)
    after = cli("status", "--json").json()
    assert after["tables"] == {**before["tables"], "customer_pii": before["tables"]["customer_pii"] - 1}
    assert cli("privacy", "export", "--email", email, "--json").json()["found"] is False
    files = sorted(Path(before["home"]).glob("spark-warehouse/**/*.parquet"))
    assert files, "a local Spark session keeps its tables as Parquet files in the home"
    holding = [path for path in files if email in str(pq.read_table(path).to_pylist()).lower()]
    assert holding == []
