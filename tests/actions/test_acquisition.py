"""Acquisition economics on the demo store (against pandas on the warehouse tables, and the channel the demo plants
with low-value customers) and on UCI Online Retail (no spend: nothing invented)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest
from tests.conftest import build_demo_store, import_online_retail

from shoplens.actions import payback_days
from shoplens.config import Settings
from shoplens.metrics import NOT_PURCHASED_STATUSES
from shoplens.queries import AcquisitionQuery, AcquisitionResult, QueryRunner


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_demo_store(tmp_path_factory.mktemp("acquisition") / "home", customers=600, seed=7)


@pytest.fixture(scope="module")
def demo_tables(demo_home: Path) -> dict[str, pd.DataFrame]:
    columns = {
        "orders": "order_id, customer_key, ordered_at, channel, net, status",
        "refunds": "order_id, customer_key, refunded_at, amount",
        "marketing_spend": "channel, amount",
    }
    with duckdb.connect(str(demo_home / "warehouse.duckdb"), read_only=True) as con:
        return {name: con.sql(f"SELECT {chosen} FROM {name}").df() for name, chosen in columns.items()}


def _expected_per_channel(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """CAC and ROAS by the definitions, in pandas: a customer's channel is that of their first purchase (by time,
    then order id); revenue is their purchases' net less the refunds given to them (refunds of orders that were
    never purchases left out); CAC = channel spend / new customers, ROAS = revenue / spend."""
    orders = tables["orders"]
    status = orders["status"].fillna("").str.strip().str.lower()
    bought = orders[~status.isin(NOT_PURCHASED_STATUSES) & orders["customer_key"].notna()]
    first = bought.sort_values(["ordered_at", "order_id"]).groupby("customer_key").head(1)
    channel_of = first.set_index("customer_key")["channel"]
    net = bought.groupby("customer_key")["net"].sum().astype(float)
    refunds = tables["refunds"]
    not_sold = set(orders.loc[status.isin(NOT_PURCHASED_STATUSES), "order_id"])
    given = refunds[refunds["customer_key"].notna() & refunds["refunded_at"].notna()]
    given = given[~given["order_id"].isin(not_sold)]
    refunded = given.groupby("customer_key")["amount"].sum().astype(float)
    revenue = net.sub(refunded, fill_value=0.0).reindex(channel_of.index, fill_value=0.0)
    per = pd.DataFrame({"channel": channel_of, "revenue": revenue}).groupby("channel")
    expected = pd.DataFrame({"new_customers": per.size(), "revenue": per["revenue"].sum()})
    spend = tables["marketing_spend"].groupby("channel")["amount"].sum().astype(float)
    expected["spend"] = spend.reindex(expected.index)
    expected["cac"] = expected["spend"] / expected["new_customers"]
    expected["roas"] = expected["revenue"] / expected["spend"]
    return expected


@pytest.fixture(scope="module")
def acquisition(demo_home: Path) -> dict[str, Any]:
    result = QueryRunner.for_store(Settings(home=demo_home)).run(AcquisitionQuery(), AcquisitionResult)
    document: dict[str, Any] = json.loads(result.model_dump_json(exclude={"query"}))
    return document


def test_the_command_prints_the_contract_shape(cli: Callable[..., Any], demo_home: Path) -> None:
    result = cli("acquisition", "--json", home_dir=demo_home)
    assert result.exit_code == 0, result.stderr
    document = result.json()
    contract = {"channel", "new_customers", "repeat_rate_90d", "predicted_clv", "cac", "roas", "ltv_cac"}
    assert all(contract | {"payback_days"} <= set(row) for row in document["channels"])
    month = document["by_acquisition_month"][0]
    assert set(month) == {
        "month",
        "channel",
        "new_customers",
        "spend",
        "cac",
        "revenue_per_customer",
        "value_per_customer",
    }


def test_cac_and_roas_match_pandas_on_the_warehouse_tables(
    acquisition: dict[str, Any], demo_tables: dict[str, pd.DataFrame]
) -> None:
    expected = _expected_per_channel(demo_tables)
    found = {row["channel"]: row for row in acquisition["channels"]}
    assert set(found) == set(expected.index)
    for channel, row in expected.iterrows():
        assert found[channel]["new_customers"] == row["new_customers"], channel
        assert found[channel]["revenue"] == pytest.approx(row["revenue"], abs=0.01), channel
        if pd.isna(row["spend"]):  # organic: no spend rows, so no CAC and no ROAS
            assert (found[channel]["cac"], found[channel]["roas"], found[channel]["ltv_cac"]) == (None, None, None)
        else:
            assert found[channel]["cac"] == pytest.approx(row["cac"], rel=1e-9), channel
            assert found[channel]["roas"] == pytest.approx(row["roas"], rel=1e-9), channel
    assert acquisition["spend_known"] is True
    assert acquisition["basis"] == "margin"  # the demo catalogue has a cost for every product
    months = acquisition["by_acquisition_month"]
    assert sum(row["new_customers"] for row in months) == int(expected["new_customers"].sum())


def test_the_channel_planted_with_low_value_customers_is_found(acquisition: dict[str, Any]) -> None:
    # ingest/demo/_shop.py: marketplace customers buy least often (purchase rate x0.70), drop out soonest
    # (loyalty x0.55) and spend less per order (x0.80) than those of any other channel
    rates = {row["channel"]: row["repeat_rate_90d"] for row in acquisition["channels"]}
    assert min(rates, key=lambda channel: rates[channel]) == "marketplace"


def test_predicted_clv_is_null_with_a_reason_until_a_fit_exists(acquisition: dict[str, Any]) -> None:
    assert acquisition["predicted_clv"]["available"] is False
    assert acquisition["predicted_clv"]["reason"].startswith("no CLV fit of bgnbd and gamma-gamma for the current data")
    assert all(row["predicted_clv"] is None for row in acquisition["channels"])


def test_payback_by_hand() -> None:
    # 4 customers: 2 observed 10+ days, 2 observed 100+ days. Day 0 brings 200 (50 each), day 50 brings 120 from the
    # 2 still observed (60 each): cumulative per customer 50 by day 0, 50 + 60 = 110 by day 50.
    value_by_day = {0: 200.0, 50: 120.0}
    observed = {10: 2, 100: 2}
    assert payback_days(value_by_day, observed, 40.0) == 0
    assert payback_days(value_by_day, observed, 100.0) == 50
    assert payback_days(value_by_day, observed, 120.0) is None  # not reached within the days observed
    assert payback_days(value_by_day, observed, None) is None


@pytest.mark.slow
def test_online_retail_has_no_spend_and_says_so(cli: Callable[..., Any], tmp_path: Path) -> None:
    home = import_online_retail(tmp_path / "uci", b"acquisition-tests-secret-0123456789ab")
    result = cli("acquisition", "--json", home_dir=home)
    assert result.exit_code == 0, result.stderr
    document = result.json()
    assert document["spend_known"] is False
    assert document["basis"] == "revenue"  # the UCI file has no product costs
    assert any(note.startswith("the warehouse has no marketing spend") for note in document["notes"])
    for row in document["channels"]:
        assert (row["cac"], row["roas"], row["ltv_cac"], row["payback_days"]) == (None, None, None, None)
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        statuses = ", ".join(f"'{status}'" for status in NOT_PURCHASED_STATUSES)
        buyers = con.sql(
            "SELECT count(DISTINCT customer_key) FROM orders WHERE customer_key IS NOT NULL "
            f"AND lower(trim(coalesce(status, ''))) NOT IN ({statuses})"
        ).fetchall()
    assert sum(row["new_customers"] for row in document["channels"]) == buyers[0][0]


def test_predicted_clv_from_the_saved_fits(cli: Callable[..., Any], demo_home: Path) -> None:
    for model in ("bgnbd", "gamma-gamma"):
        assert cli("clv", "fit", "--model", model, "--json", home_dir=demo_home).exit_code == 0
    document = cli("acquisition", "--json", home_dir=demo_home).json()
    assert document["predicted_clv"]["available"] is True
    predicted = {row["channel"]: row["predicted_clv"] for row in document["channels"]}
    assert all(value is not None and value > 0 for value in predicted.values())
    # the planted channel (see test_the_channel_planted_with_low_value_customers_is_found) is worth least ahead too
    assert min(predicted, key=lambda channel: predicted[channel]) == "marketplace"


def _rounded(value: Any) -> Any:
    """Floats to 9 significant digits (engines may sum floats in another order), everything else as it is."""
    if isinstance(value, float):
        return float(f"{value:.9g}")
    if isinstance(value, dict):
        return {key: _rounded(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_rounded(item) for item in value]
    return value


@pytest.mark.postgres
def test_postgres_answers_as_duckdb_does(
    cli: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, postgres_url: str
) -> None:
    def answers(home: Path) -> tuple[Any, ...]:
        build_demo_store(home, customers=300, seed=5)
        cli("targets", "set", "--kpi", "revenue", "--period", "2025-12", "--value", "50000", home_dir=home)
        cli(
            "targets",
            "set",
            "--kpi",
            "orders",
            "--period",
            "2025-12",
            "--value",
            "50",
            "--channel",
            "social",
            home_dir=home,
        )
        cli("budget", "set", "--channel", "social", "--period", "2025-12", "--amount", "900", home_dir=home)
        found = [
            cli(*command, "--json", home_dir=home).json()
            for command in (["acquisition"], ["targets", "pacing"], ["targets", "suggest"], ["budget", "status"])
        ]
        for document in found:
            document.pop("data_version")
        return tuple(_rounded(document) for document in found)

    monkeypatch.delenv("SHOPLENS_WAREHOUSE_URL", raising=False)
    on_duckdb = answers(tmp_path / "duckdb")
    monkeypatch.setenv("SHOPLENS_WAREHOUSE_URL", postgres_url)
    on_postgres = answers(tmp_path / "postgres")
    assert on_postgres == on_duckdb
