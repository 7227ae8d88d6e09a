"""The same exports imported into PostgreSQL and Spark give the same summaries and tables as into DuckDB.

PostgreSQL: the real UCI Online Retail file into a fresh database (``postgres`` marker). Spark: a small demo
store (orders through the generic profile, then products, events, feedback, spend and the calendar) into a
local session (``spark`` marker). Both stores use the DuckDB store's secret, so customer keys agree too.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from tests.conftest import DEMO_END, FIXTURES, ONLINE_RETAIL

from shoplens.config import SECRET_FILE, Settings
from shoplens.privacy import opened_vault_rows
from shoplens.warehouse import connect, store_schema

SUMMARY_COUNTS = (
    "rows_read",
    "rows_loaded",
    "rows_quarantined",
    "rows_duplicate",
    "orders",
    "customers",
    "refunds",
    "guest_rows",
    "orders_new",
    "customers_new",
)
ORDER_COLUMNS = ["order_id", "customer_key", "ordered_at", "gross", "discount", "net", "status"]


def _counts(summary: dict[str, Any]) -> dict[str, Any]:
    return {key: summary[key] for key in SUMMARY_COUNTS}


def _orders(home: Path, url: str | None) -> pa.Table:
    with connect(Settings(home=home, warehouse_url=url), read_only=True) as warehouse:
        orders = warehouse.backend.table("orders").select(ORDER_COLUMNS)
        table = warehouse.backend.to_pyarrow(orders).sort_by("order_id")
    return table.cast(pa.schema([(name, table.schema.field(name).type) for name in ORDER_COLUMNS]))


def _same_secret(source: Path, target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy(source / SECRET_FILE, target / SECRET_FILE)


@pytest.mark.postgres
@pytest.mark.slow
def test_online_retail_into_postgres_matches_duckdb(
    cli: Callable[..., Any], postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, datasets: Path
) -> None:
    duck_home, pg_home = tmp_path / "duckdb", tmp_path / "postgres"
    args = ("import", str(ONLINE_RETAIL), "--profile", "online-retail", "--json")
    duck = cli(*args, home_dir=duck_home).json()
    _same_secret(duck_home, pg_home)
    monkeypatch.setenv("SHOPLENS_WAREHOUSE_URL", postgres_url)
    first = cli(*args, home_dir=pg_home)
    assert first.exit_code == 0, first.stderr
    pg = first.json()
    assert _counts(pg) == _counts(duck)
    assert (pg["rows_read"], pg["rows_quarantined"], pg["refunds"]) == (541_909, 2_518, 9_288)
    assert Path(pg["quarantine_path"]).read_bytes() == Path(duck["quarantine_path"]).read_bytes()

    pg_status = cli("status", "--json", home_dir=pg_home).json()
    monkeypatch.delenv("SHOPLENS_WAREHOUSE_URL")
    duck_status = cli("status", "--json", home_dir=duck_home).json()
    assert pg_status["tables"] == duck_status["tables"]
    assert pg_status["tables"]["order_lines"] == duck["rows_loaded"] - duck["refunds"]
    schema = store_schema(postgres_url, Settings(home=pg_home).store_secret())
    assert pg_status["warehouse"] == "postgresql://" + postgres_url.split("://", 1)[1] + f" (schema {schema})"
    assert (pg_status["first_order"], pg_status["last_order"]) == (
        duck_status["first_order"],
        duck_status["last_order"],
    )
    assert _orders(pg_home, postgres_url).equals(_orders(duck_home, None))

    monkeypatch.setenv("SHOPLENS_WAREHOUSE_URL", postgres_url)
    again = cli(*args, home_dir=pg_home).json()
    assert (again["rows_loaded"], again["rows_duplicate"]) == (0, pg["rows_loaded"])
    assert (again["orders_new"], again["customers_new"]) == (0, 0)
    after = cli("status", "--json", home_dir=pg_home).json()
    assert (after["tables"], after["data_version"]) == (pg_status["tables"], pg_status["data_version"])


@pytest.mark.postgres
def test_a_demo_store_into_postgres_matches_duckdb(
    cli: Callable[..., Any], postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _demo_matches(cli, postgres_url, tmp_path, monkeypatch)


@pytest.mark.spark
@pytest.mark.slow
def test_a_demo_store_into_spark_matches_duckdb(
    cli: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("pyspark")
    _demo_matches(cli, "spark://local", tmp_path, monkeypatch)


def _demo_matches(cli: Callable[..., Any], url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    duck_home, other_home = tmp_path / "duckdb", tmp_path / "other"
    args = ("demo", "--customers", "300", "--seed", "3", "--end-date", DEMO_END, "--no-serve", "--json")
    duck = cli(*args, home_dir=duck_home).json()
    _same_secret(duck_home, other_home)
    monkeypatch.setenv("SHOPLENS_WAREHOUSE_URL", url)
    first = cli(*args, home_dir=other_home)
    assert first.exit_code == 0, first.stderr
    other = first.json()
    assert _counts(other["import"]) == _counts(duck["import"])
    assert other["tables_loaded"] == duck["tables_loaded"]
    assert other["status"]["tables"] == duck["status"]["tables"]
    assert all(other["status"]["tables"][name] > 0 for name in ("orders", "events", "feedback", "marketing_spend"))
    assert _orders(other_home, url).equals(_orders(duck_home, None))
    again = cli(*args, home_dir=other_home).json()
    assert again["import"]["rows_loaded"] == 0
    assert set(again["tables_loaded"].values()) == {0}
    assert again["status"]["tables"] == duck["status"]["tables"]
    assert again["status"]["data_version"] == other["status"]["data_version"]


@pytest.mark.postgres
def test_feedback_finds_its_customers_in_a_postgres_vault(
    cli: Callable[..., Any], postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reviews = tmp_path / "reviews.csv"
    reviews.write_text(
        "text,email,rating,created_at\n"
        "Lovely dress,AMY.CHAN@example.com,5,2024-03-01 10:00:00\n"
        "Arrived late,new.person@example.com,2,2024-03-02 11:00:00\n"
        "Arrived late,new.person@example.com,2,2024-03-02 11:00:00\n"
    )
    shopify = FIXTURES / "shopify_orders.csv"
    duck_home, pg_home = tmp_path / "duckdb", tmp_path / "postgres"
    found: dict[str, tuple[Any, ...]] = {}
    for home, url in ((duck_home, None), (pg_home, postgres_url)):
        if url is None:
            monkeypatch.delenv("SHOPLENS_WAREHOUSE_URL", raising=False)
        else:
            _same_secret(duck_home, pg_home)
            monkeypatch.setenv("SHOPLENS_WAREHOUSE_URL", url)
        assert cli("import", str(shopify), "--profile", "shopify", "--json", home_dir=home).exit_code == 0
        summary = cli("import", str(reviews), "--profile", "feedback", "--json", home_dir=home).json()
        again = cli("import", str(reviews), "--profile", "feedback", "--json", home_dir=home).json()
        with connect(Settings(home=home, warehouse_url=url), read_only=True) as warehouse:
            feedback = warehouse.backend.table("feedback").select("feedback_id", "customer_key", "rating", "text")
            vault = warehouse.backend.table("customer_pii").select("customer_key", "email")
            found[str(url)] = (
                _counts(summary),
                _counts(again),
                warehouse.backend.to_pyarrow(feedback).sort_by("feedback_id").to_pylist(),
                opened_vault_rows(warehouse.backend.to_pyarrow(vault), warehouse.vault_keys())
                .sort_by("customer_key")
                .to_pylist(),
            )
    duck, pg = found["None"], found[postgres_url]
    assert pg == duck
    summary, again, feedback, vault = pg
    assert (summary["rows_loaded"], summary["customers"], summary["customers_new"]) == (3, 2, 1)
    assert (again["rows_loaded"], again["rows_duplicate"]) == (0, 3)
    amy = next(row["customer_key"] for row in vault if row["email"] and row["email"].lower() == "amy.chan@example.com")
    assert [row["customer_key"] for row in feedback if row["text"] == "Lovely dress"] == [amy]
    assert len(vault) == 3  # the two Shopify customers and the new reviewer


@pytest.mark.postgres
def test_two_stores_in_one_postgres_database_never_see_each_other(
    cli: Callable[..., Any], postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each store's tables live in a schema named after its store secret (or the URL's ``?schema=``)."""
    monkeypatch.setenv("SHOPLENS_WAREHOUSE_URL", postgres_url)
    shopify, woo = FIXTURES / "shopify_orders.csv", FIXTURES / "woocommerce_orders.csv"
    first = cli("import", str(shopify), "--profile", "shopify", "--json", home_dir=tmp_path / "a").json()
    second = cli("import", str(woo), "--profile", "woocommerce", "--json", home_dir=tmp_path / "b").json()
    for home, summary in ((tmp_path / "a", first), (tmp_path / "b", second)):
        status = cli("status", "--json", home_dir=home).json()
        assert status["tables"]["orders"] == summary["orders"], home
    named = f"{postgres_url}?schema=shop_named"
    monkeypatch.setenv("SHOPLENS_WAREHOUSE_URL", named)
    cli("import", str(shopify), "--profile", "shopify", "--json", home_dir=tmp_path / "c")
    with connect(Settings(home=tmp_path / "c", warehouse_url=named), read_only=True) as warehouse:
        assert "(schema shop_named)" in warehouse.location
        assert warehouse.backend.table("orders").count().execute() == first["orders"]
