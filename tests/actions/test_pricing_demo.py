"""Pricing rules on the demo store: the check against an independent computation over its catalogue, and the
replay's honest fallback where the store's prices never moved."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest
from tests.conftest import build_demo_store

from shoplens.metrics import NOT_PURCHASED_STATUSES

WINTER_SALE = """\
rules:
  - {name: winter-sale, scope: {all: true}, discount_percent: 20, min_margin_percent: 30}
"""


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_demo_store(tmp_path_factory.mktemp("pricing-demo") / "home", customers=300, seed=5)


def catalogue(home: Path) -> list[tuple[str, str, Decimal | None, Decimal | None]]:
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        return con.execute("SELECT product_id, category, cost, price FROM products ORDER BY product_id").fetchall()


def test_a_store_wide_sale_is_refused_exactly_where_cost_leaves_too_little(
    cli: Callable[..., Any], demo_home: Path, tmp_path: Path
) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(WINTER_SALE)
    result = cli("pricing", "check", str(rules), "--json", home_dir=demo_home)
    document = result.json()
    expected = {}
    for product_id, _, cost, price in catalogue(demo_home):
        assert cost is not None  # the demo gives every product a cost and a price
        assert price is not None
        sale = (price * Decimal("0.8")).quantize(Decimal("0.01"), ROUND_HALF_UP)
        margin = (sale - cost) / sale * 100
        if margin < 30:
            expected[product_id] = float(margin.quantize(Decimal("0.01"), ROUND_HALF_UP))
    assert expected, "the demo's dearest-to-make products (electronics cost 55-75% of the price) fall below"
    assert {v["product_id"]: v["margin"] for v in document["violations"]} == expected
    assert result.exit_code == 1
    assert document["checked"] == len(catalogue(demo_home))


def test_electronics_on_their_own_floor_make_the_sale_acceptable(
    cli: Callable[..., Any], demo_home: Path, tmp_path: Path
) -> None:
    # Electronics cost at most 75% of the price (ingest/demo/_catalogue.py): 10% off leaves (0.90 - 0.75) / 0.90
    # = 16.7% at worst, above a 15% floor; everything else costs at most 55%, so 20% off leaves (0.80 - 0.55) /
    # 0.80 = 31% at worst (the price is rounded to the cent, within 0.1 point).
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        WINTER_SALE + "  - {name: electronics, scope: {category: Electronics}, discount_percent: 10,"
        " min_margin_percent: 15, priority: 1}\n"
    )
    result = cli("pricing", "check", str(rules), "--json", home_dir=demo_home)
    assert result.exit_code == 0, result.stdout
    electronics = sum(1 for row in catalogue(demo_home) if row[1] == "Electronics")
    assert result.json()["outranked"] == electronics


def test_demo_prices_never_move_so_the_elasticity_is_assumed(
    cli: Callable[..., Any], demo_home: Path, tmp_path: Path
) -> None:
    with duckdb.connect(str(demo_home / "warehouse.duckdb"), read_only=True) as con:
        moved = con.execute(
            "SELECT count(*) FROM (SELECT product_id FROM order_lines GROUP BY 1 HAVING count(DISTINCT unit_price) > 1)"
        ).fetchone()
    assert moved == (0,)  # the demo sells every product at its catalogue price
    rules = tmp_path / "rules.yaml"
    rules.write_text(WINTER_SALE)
    document = cli("pricing", "simulate", str(rules), "--json", home_dir=demo_home).json()
    assert (document["elasticity_source"], document["elasticity"]) == ("assumed", -2.0)
    assert document["interval"]["elasticity"] == [-3.5, -1.0]
    # at elasticity -1 a discount leaves revenue as it was: the low end of the revenue interval is the baseline
    assert document["interval"]["revenue"][0] == pytest.approx(document["baseline"]["revenue"], abs=0.05)


def test_a_segment_rule_prices_the_lines_of_that_segments_customers(
    cli: Callable[..., Any], demo_home: Path, tmp_path: Path
) -> None:
    """The replay reaches a segment's customers as RFM scored them the day before the replayed months."""
    import ibis

    from shoplens.metrics import purchase_refunds, purchases, rfm_scores

    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "rules: [{name: champions, scope: {segment: Champions}, discount_percent: 10, min_margin_percent: 0}]"
    )
    document = cli("pricing", "simulate", str(rules), "--json", home_dir=demo_home).json()
    start, end = date.fromisoformat(document["start"]), date.fromisoformat(document["end"])
    backend = ibis.duckdb.connect(str(demo_home / "warehouse.duckdb"), read_only=True)
    orders, refunds = backend.table("orders"), backend.table("refunds")
    scores = rfm_scores(purchases(orders), purchase_refunds(refunds, orders), as_of=start - timedelta(days=1))
    champions = set(scores.filter(scores.segment == "Champions").customer_key.to_pyarrow().to_pylist())
    backend.disconnect()
    with duckdb.connect(str(demo_home / "warehouse.duckdb"), read_only=True) as con:
        lines = con.execute(
            "SELECT o.customer_key FROM order_lines l JOIN orders o USING (order_id) "
            "WHERE CAST(o.ordered_at AS DATE) BETWEEN ? AND ? AND l.quantity > 0 "
            "AND coalesce(lower(o.status), '') NOT IN (SELECT unnest(?))",
            [start, end, list(NOT_PURCHASED_STATUSES)],
        ).fetchall()
    assert champions
    assert document["lines"] == len(lines)
    assert document["lines_repriced"] == sum(key in champions for (key,) in lines) > 0
