"""Suppliers on the shared demo store: the command's figures against an independent pandas computation from the
warehouse tables, the pricing replay's units by supplier, a revenue target's units, and the API and the page
showing the same answer to the roles that may see it."""

from __future__ import annotations

import shutil
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import duckdb
import ibis
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from tests.conftest import run_cli
from tests.web.conftest import Store, table_values

from shoplens.actions import load_rules, replay_store
from shoplens.metrics import NOT_PURCHASED_STATUSES

CENT = Decimal("0.01")
WINTER_SALE = "rules:\n  - {name: winter-sale, scope: {all: true}, discount_percent: 20, min_margin_percent: 0}\n"
# DEMO_END is 2025-12-30, so December is not complete: the last twelve complete months are Dec 2024 to Nov 2025.
WINDOW = (date(2024, 12, 1), date(2025, 11, 30))
ROUNDED = 0.051  # units are shown to 0.1: half a step, and a hair for the float that 143.75 rounds from


def _frames(home: Path) -> dict[str, pd.DataFrame]:
    reads = {
        "orders": "SELECT * FROM orders",
        "order_lines": "SELECT * EXCLUDE (row_key) FROM order_lines",
        "refunds": "SELECT * EXCLUDE (row_key) FROM refunds",
        "products": "SELECT * FROM products",
    }
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        return {name: con.sql(sql).to_arrow_table().to_pandas() for name, sql in reads.items()}


def _half_up(value: Decimal) -> Decimal:
    return value.quantize(CENT, ROUND_HALF_UP)


@pytest.fixture(scope="module")
def expected(demo_store: Store) -> dict[str, Any]:
    return expected_suppliers(demo_store.home, WINDOW)


def expected_suppliers(home: Path, window: tuple[date, date]) -> dict[str, Any]:
    """Per supplier over ``window``, computed from the warehouse tables with pandas and Decimal (a UTC store)."""
    frames = _frames(home)
    orders, lines, refunds, products = (frames[n] for n in ("orders", "order_lines", "refunds", "products"))
    status = orders["status"].fillna("").str.strip().str.lower()
    bought = orders[~status.isin(NOT_PURCHASED_STATUSES)]
    day = bought["ordered_at"].dt.date
    in_window = bought[(day >= window[0]) & (day <= window[1])].set_index("order_id")
    lines = lines[lines["order_id"].isin(in_window.index)]
    supplier_of = dict(zip(products["product_id"], products["supplier"].fillna("(none)"), strict=True))
    cost_of = dict(zip(products["product_id"], products["cost"], strict=True))
    sales: dict[str, Decimal] = defaultdict(Decimal)
    units: Counter[str] = Counter()
    cost: dict[str, Decimal] = defaultdict(Decimal)
    order_lines: dict[str, list[tuple[str, Decimal]]] = defaultdict(list)
    for line in lines.itertuples():
        order = in_window.loc[line.order_id]
        amount = Decimal(line.amount)
        share = amount if order.gross == order.net else _half_up(Decimal(order.net) * amount / Decimal(order.gross))
        supplier = supplier_of.get(line.product_id, "(none)")
        sales[supplier] += share
        units[supplier] += int(line.quantity)
        cost[supplier] += Decimal(cost_of[line.product_id]) * int(line.quantity)
        order_lines[line.order_id].append((line.product_id, amount))
    given: dict[str, Decimal] = defaultdict(Decimal)
    reasons: Counter[tuple[str, str]] = Counter()
    of_window = refunds[refunds["order_id"].isin(in_window.index)]
    assert refunds["order_id"].notna().all(), "every demo refund names its order"
    for refund in of_window.itertuples():
        reason = refund.reason if isinstance(refund.reason, str) else "(no reason given)"
        if isinstance(refund.product_id, str):
            given[supplier_of[refund.product_id]] += Decimal(refund.amount)
            reasons[(supplier_of[refund.product_id], reason)] += 1
            continue
        placed = order_lines[refund.order_id]
        whole = sum((amount for _, amount in placed), Decimal(0))
        for product_id, amount in placed:
            given[supplier_of[product_id]] += _half_up(Decimal(refund.amount) * amount / whole)
        for supplier in {supplier_of[product_id] for product_id, _ in placed}:
            reasons[(supplier, reason)] += 1
    revenue = {s: sales[s] - given[s] for s in sales}
    margin = {s: revenue[s] - cost[s] for s in sales}
    return {
        "units": dict(units),
        "sales": dict(sales),
        "refunds": {s: given[s] for s in sales},
        "revenue": revenue,
        "margin": margin,
        "reasons": reasons,
        "refund_count": len(of_window),
    }


@pytest.fixture(scope="module")
def document(demo_store: Store) -> dict[str, Any]:
    result = run_cli(demo_store.home, "suppliers", "--months", "12", "--json")
    assert result.exit_code == 0, result.stderr
    found: dict[str, Any] = result.json()
    return found


def test_revenue_share_margin_and_return_rate_per_supplier_match_pandas(
    document: dict[str, Any], expected: dict[str, Any]
) -> None:
    assert (document["start"], document["end"]) == tuple(day.isoformat() for day in WINDOW)
    rows = {row["supplier"]: row for row in document["suppliers"]}
    assert set(rows) == set(expected["revenue"])
    assert len(rows) > 10, "the demo catalogue has a couple of dozen suppliers"
    total_revenue = sum(expected["revenue"].values())
    total_margin = sum(expected["margin"].values())
    for name, row in rows.items():
        assert row["units"] == expected["units"][name], name
        assert Decimal(str(row["revenue"])) == expected["revenue"][name], name
        assert Decimal(str(row["margin"])) == expected["margin"][name], name
        assert row["revenue_share"] == pytest.approx(float(expected["revenue"][name] / total_revenue), abs=1e-6)
        assert row["margin_share"] == pytest.approx(float(expected["margin"][name] / total_margin), abs=1e-6)
        rate = expected["refunds"][name] / expected["sales"][name]
        assert row["return_rate"] == pytest.approx(float(rate), abs=1e-6), name
        assert sum(month["units"] for month in row["monthly_units"]) == row["units"]
    assert Decimal(str(document["totals"]["revenue"])) == total_revenue
    assert [row["supplier"] for row in document["suppliers"]] == sorted(rows, key=lambda s: (-rows[s]["revenue"], s))


def test_refund_reasons_per_supplier_match_pandas(document: dict[str, Any], expected: dict[str, Any]) -> None:
    found = Counter(
        {
            (row["supplier"], reason["reason"]): reason["refunds"]
            for row in document["suppliers"]
            for reason in row["reasons"]
        }
    )
    assert found == expected["reasons"]
    assert expected["refund_count"] > 20, "the demo store refunds some orders in a year"
    for row in document["suppliers"]:
        counts = [reason["refunds"] for reason in row["top_reasons"]]
        assert counts == sorted(counts, reverse=True)
        assert row["top_reasons"] == row["reasons"][:3]


def test_units_under_a_pricing_rule_are_the_simulators_per_product_units_by_supplier(
    demo_store: Store, tmp_path: Path
) -> None:
    rules_file = tmp_path / "rules.yaml"
    rules_file.write_text(WINTER_SALE)
    result = run_cli(demo_store.home, "suppliers", "--months", "12", "--rules", str(rules_file), "--json")
    assert result.exit_code == 0, result.stderr
    document = result.json()
    simulate = run_cli(demo_store.home, "pricing", "simulate", str(rules_file), "--months", "12", "--json").json()
    pricing = document["pricing"]
    assert (pricing["start"], pricing["end"], pricing["elasticity"]) == (
        simulate["start"],
        simulate["end"],
        simulate["elasticity"],
    )
    assert simulate["elasticity_source"] == "assumed", "the demo's prices never move: -2.0 is assumed"
    with duckdb.connect(str(demo_store.home / "warehouse.duckdb"), read_only=True) as con:
        products = con.execute("SELECT product_id, supplier FROM products").df()
    supplier_of = dict(zip(products["product_id"], products["supplier"], strict=True))
    backend = ibis.duckdb.connect(str(demo_store.home / "warehouse.duckdb"), read_only=True)
    try:
        per_product = replay_store(backend, load_rules(rules_file), months=12).products()
    finally:
        backend.disconnect()
    summed: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for product in per_product:
        summed[supplier_of[product.product_id]][0] += product.baseline_units
        summed[supplier_of[product.product_id]][1] += product.simulated_units
    rows = {row["supplier"]: row["pricing"] for row in document["suppliers"]}
    for name, (baseline, simulated) in summed.items():
        assert rows[name]["baseline_units"] == pytest.approx(baseline, abs=ROUNDED), name
        assert rows[name]["simulated_units"] == pytest.approx(simulated, abs=ROUNDED), name
    # The suppliers' units add up to the simulator's own totals (each row is rounded to 0.1).
    tolerance = ROUNDED * (len(rows) + 1)
    assert sum(r["simulated_units"] for r in rows.values()) == pytest.approx(simulate["units"], abs=tolerance)
    assert sum(r["baseline_units"] for r in rows.values()) == pytest.approx(simulate["baseline"]["units"], abs=ROUNDED)


def test_baseline_and_simulated_units_by_hand_formula(demo_store: Store, tmp_path: Path) -> None:
    # 20 % off every product at the assumed elasticity -2: a line of q units at price p sells
    # q x (round(0.8 p, 2) / p) ** -2 units; its supplier's baseline is the q of the replayed days' purchase lines.
    rules_file = tmp_path / "rules.yaml"
    rules_file.write_text(WINTER_SALE)
    document = run_cli(demo_store.home, "suppliers", "--months", "12", "--rules", str(rules_file), "--json").json()
    start, end = date.fromisoformat(document["pricing"]["start"]), date.fromisoformat(document["pricing"]["end"])
    frames = _frames(demo_store.home)
    orders = frames["orders"]
    status = orders["status"].fillna("").str.strip().str.lower()
    day = orders["ordered_at"].dt.date
    replayed = orders[~status.isin(NOT_PURCHASED_STATUSES) & (day >= start) & (day <= end)]
    lines = frames["order_lines"]
    lines = lines[lines["order_id"].isin(replayed["order_id"]) & (lines["quantity"] > 0)]
    supplier_of = dict(zip(frames["products"]["product_id"], frames["products"]["supplier"], strict=True))
    baseline: Counter[str] = Counter()
    simulated: dict[str, float] = defaultdict(float)
    for line in lines.itertuples():
        price = Decimal(line.unit_price)
        sale = _half_up(price * Decimal("0.8"))
        baseline[supplier_of[line.product_id]] += int(line.quantity)
        simulated[supplier_of[line.product_id]] += int(line.quantity) * (float(sale) / float(price)) ** -2.0
    rows = {row["supplier"]: row["pricing"] for row in document["suppliers"]}
    assert {name: row["baseline_units"] for name, row in rows.items() if row["baseline_units"]} == {
        name: float(units) for name, units in baseline.items()
    }
    for name, units in simulated.items():
        assert rows[name]["simulated_units"] == pytest.approx(units, abs=ROUNDED), name


@pytest.fixture(scope="module")
def target_home(demo_store: Store, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the demo store with a revenue target of 100,000 for January 2026."""
    home = tmp_path_factory.mktemp("suppliers-target") / "home"
    shutil.copytree(demo_store.home, home)
    result = run_cli(home, "targets", "set", "--kpi", "revenue", "--period", "2026-01", "--value", "100000", "--json")
    assert result.exit_code == 0, result.stderr
    return home


def test_units_each_supplier_needs_for_a_revenue_target(target_home: Path, expected: dict[str, Any]) -> None:
    result = run_cli(target_home, "suppliers", "--target-period", "2026-01", "--json")
    assert result.exit_code == 0, result.stderr
    document = result.json()
    total = sum(expected["revenue"].values())
    for row in document["suppliers"]:
        name = row["supplier"]
        # target x share / revenue per unit = 100,000 x (revenue / total) / (revenue / units)
        share, per_unit = expected["revenue"][name] / total, expected["revenue"][name] / expected["units"][name]
        assert row["target_units"] == pytest.approx(float(Decimal(100_000) * share / per_unit), abs=ROUNDED), name
    assert document["target"]["period"] == "2026-01"
    missing = run_cli(target_home, "suppliers", "--target-period", "2026-02", "--json")
    assert missing.exit_code == 2
    assert missing.stderr.strip().endswith(
        "no revenue target for 2026-02: set one with shoplens targets set --kpi revenue --period 2026-02 --value V"
    )


def test_the_api_and_the_page_show_the_commands_answer_to_owners_and_analysts(
    as_role: Callable[[str], TestClient], document: dict[str, Any]
) -> None:
    client = as_role("analyst")
    answer = client.get("/api/v1/suppliers", params={"months": 12})
    assert answer.status_code == 200, answer.text
    api = answer.json()
    assert [(r["supplier"], r["units"], Decimal(str(r["revenue"]))) for r in api["suppliers"]] == [
        (r["supplier"], r["units"], Decimal(str(r["revenue"]))) for r in document["suppliers"]
    ]
    page = client.get("/suppliers")
    assert page.status_code == 200
    cells = table_values(page.text, "suppliers")
    assert [(row[0], row[2], row[3]) for row in cells] == [
        (r["supplier"], str(r["units"]), str(r["revenue"])) for r in api["suppliers"]
    ]
    assert "<svg" in page.text
    assert "the same numbers are in the table Units per month below" in page.text
    assert '<table id="supplier-months"' in page.text
    assert 'href="/suppliers"' in page.text, "the menu links the page for an analyst"
    assert client.get("/api/v1/suppliers", params={"target_period": "2031-01"}).status_code == 404
    marketer, vendor = as_role("marketer"), as_role("vendor")
    assert 'href="/suppliers"' not in marketer.get("/service").text
    assert (marketer.get("/api/v1/suppliers").status_code, vendor.get("/api/v1/suppliers").status_code) == (403, 403)
    assert (marketer.get("/suppliers").status_code, vendor.get("/suppliers").status_code) == (403, 403)
