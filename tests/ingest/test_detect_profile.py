"""`shoplens import` without --profile: the kind of export is told from the file's columns."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pytest

from shoplens.ingest import registered_profiles

FIXTURES = Path(__file__).parents[1] / "fixtures"


@pytest.mark.parametrize(
    ("path", "profile"),
    [
        (FIXTURES / "shopify_orders.csv", "shopify"),
        (FIXTURES / "woocommerce_orders.csv", "woocommerce"),
        (Path("cdnow/CDNOW_master.csv.gz"), "cdnow"),
        (Path("reviews/womens_clothing_ecommerce_reviews.csv.gz"), "feedback"),
    ],
)
def test_the_profile_is_told_from_the_header(cli: Callable[..., Any], datasets: Path, path: Path, profile: str) -> None:
    file = path if path.is_absolute() else datasets / path
    summary = cli("import", str(file), "--json").json()
    assert summary["profile"] == profile
    # The same file named with its profile gives the same counts: detection only chose the profile.
    again = cli("import", str(file), "--profile", profile, "--json").json()
    assert again["rows_duplicate"] == summary["rows_loaded"]


def test_without_json_the_chosen_profile_is_said(cli: Callable[..., Any]) -> None:
    result = cli("import", str(FIXTURES / "shopify_orders.csv"))
    assert result.exit_code == 0
    assert "as a shopify export" in " ".join(result.stderr.split())


def test_a_file_of_no_known_kind_exits_2_naming_its_columns(cli: Callable[..., Any], tmp_path: Path) -> None:
    odd = tmp_path / "odd.csv"
    odd.write_text("colour,size\nred,M\n")
    result = cli("import", str(odd), "--json")
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines()[-1] == (
        f"error: {odd}: cannot tell which export this is (columns: colour, size); "
        "name it with --profile (see shoplens profiles)"
    )


def test_files_of_different_kinds_are_refused_together(cli: Callable[..., Any]) -> None:
    result = cli("import", str(FIXTURES / "shopify_orders.csv"), str(FIXTURES / "woocommerce_orders.csv"), "--json")
    assert result.exit_code == 2
    assert (
        "different kinds of export (shopify_orders.csv: shopify; woocommerce_orders.csv: woocommerce)" in result.stderr
    )


def test_json_lines_are_told_from_their_keys(cli: Callable[..., Any], tmp_path: Path) -> None:
    lines = tmp_path / "reviews.jsonl.gz"
    with gzip.open(lines, "wt") as handle:
        for i, text in enumerate(["Lovely mug", "Arrived broken"]):
            handle.write(json.dumps({"id": str(i), "text": text, "rating": 5 - 4 * i}) + "\n")
    summary = cli("import", str(lines), "--json").json()
    assert (summary["profile"], summary["rows_loaded"]) == ("feedback", 2)


def test_profiles_json_lists_every_profile_with_its_columns(cli: Callable[..., Any]) -> None:
    listed = {row["name"]: row for row in cli("profiles", "--json").json()["profiles"]}
    assert set(listed) == set(registered_profiles())
    shopify = listed["shopify"]
    assert shopify["target"] == "sales"
    assert "Lineitem quantity" in shopify["required_columns"]
    assert shopify["recognised_by"] == [shopify["required_columns"]]
    assert listed["generic"]["needs_mapping"] is True


def test_an_old_warehouse_is_upgraded_in_place(cli: Callable[..., Any], tmp_path: Path) -> None:
    """A warehouse from before accounts and campaigns were kept gains the columns and keeps its rows."""
    home = tmp_path / "home"
    cli("import", str(FIXTURES / "shopify_orders.csv"), "--profile", "shopify", "--json")
    con = duckdb.connect(str(home / "warehouse.duckdb"))
    orders_before = con.execute("SELECT count(*) FROM orders").fetchall()
    con.execute("ALTER TABLE orders DROP COLUMN is_guest")
    con.execute("DROP TABLE marketing_spend")
    con.execute(
        "CREATE TABLE marketing_spend (date DATE NOT NULL, channel VARCHAR NOT NULL, amount DECIMAL(18,2) "
        "NOT NULL, PRIMARY KEY (date, channel))"
    )
    con.execute("INSERT INTO marketing_spend VALUES ('2024-01-01', 'email', 12.50)")
    con.close()
    cli("import", str(FIXTURES / "woocommerce_orders.csv"), "--profile", "woocommerce", "--json")
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    spend = con.execute("SELECT date::VARCHAR, channel, amount::VARCHAR, campaign FROM marketing_spend").fetchall()
    shopify = con.execute("SELECT count(*), count(is_guest) FROM orders WHERE source_profile = 'shopify'").fetchall()
    keys = con.execute(
        "SELECT constraint_type, constraint_column_names FROM duckdb_constraints() "
        "WHERE table_name = 'marketing_spend' AND constraint_type = 'PRIMARY KEY'"
    ).fetchall()
    con.close()
    assert spend == [("2024-01-01", "email", "12.50", "")]
    assert shopify == [(orders_before[0][0], 0)]
    assert keys == [("PRIMARY KEY", ["date", "channel", "campaign"])]
