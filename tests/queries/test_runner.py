"""The one query layer: every question registered once, one runner, and caches keyed by question and data version."""

from __future__ import annotations

import csv
import threading
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

import shoplens.reports  # registers the share package, a question of its own
from shoplens.cli import main
from shoplens.config import Settings
from shoplens.errors import InputError
from shoplens.queries import (
    CustomerListQuery,
    CustomerListResult,
    KpiQuery,
    KpiResult,
    NoStoreError,
    Query,
    QueryRunner,
    Result,
    ResultStore,
    RfmQuery,
    RfmResult,
    registered,
    registration,
)

MAPPING = {
    "columns": {
        "order_id": "order",
        "ordered_at": "at",
        "customer_id": "customer",
        "product_id": "product",
        "quantity": "quantity",
        "unit_price": "price",
    }
}


def _store(home: Path, rows: list[tuple[str, str, str, str, int, str]], name: str = "orders.csv") -> Path:
    path = home / name
    home.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["order", "at", "customer", "product", "quantity", "price"])
        writer.writerows(rows)
    mapping = home / "mapping.yaml"
    mapping.write_text(yaml.safe_dump(MAPPING), encoding="utf-8")
    code = 0
    try:
        main(["--home", str(home), "import", str(path), "--profile", "generic", "--mapping", str(mapping), "--json"])
    except SystemExit as done:
        code = int(done.code or 0)
    assert code == 0
    return home


ORDERS = [
    ("A1", "2024-03-01 10:00:00", "c1", "p1", 2, "10.00"),
    ("A2", "2024-03-02 11:00:00", "c2", "p2", 1, "5.50"),
    ("A3", "2024-04-05 09:00:00", "c1", "p1", 1, "10.00"),
]


def test_every_question_is_registered_once_with_a_typed_result() -> None:
    questions = registered()
    assert sorted(questions) == [
        "acquisition",
        "also_bought",
        "basket",
        "behaviour",
        "budget_status",
        "clv_fit",
        "clv_predict",
        "clv_summary",
        "cohorts",
        "customer_detail",
        "customer_suggestions",
        "customers",
        "forecast",
        "funnel",
        "guard",
        "kpi_comparison",
        "kpis",
        "lifecycle",
        "market_position",
        "plan_progress",
        "preference_shifts",
        "preferences",
        "products",
        "profit",
        "recommend",
        "rfm",
        "service",
        "sessions",
        "share_package",
        "stage",
        "suggest_evaluation",
        "suppliers",
        "target_pacing",
        "target_suggest",
        "voice_needs",
        "voice_themes",
    ]
    for kind, found in questions.items():
        assert found.query_type.kind == kind
        assert issubclass(found.query_type, Query)
        assert issubclass(found.result_type, Result)
        assert found.query_type.model_config.get("frozen") is True, kind


def test_an_unregistered_query_is_refused_with_its_name() -> None:
    class Unknown(Query):
        pass

    with pytest.raises(InputError, match="no computation is registered for Unknown"):
        registration(Unknown())


def test_the_runner_answers_from_the_warehouse_then_from_disk_and_an_import_makes_it_stale(tmp_path: Path) -> None:
    home = _store(tmp_path / "home", ORDERS)
    runner = QueryRunner.for_store(Settings(home=home))
    first = runner.run(KpiQuery(grain="month"), KpiResult)
    assert not first.cached
    # by hand: March 2 orders (20.00 + 5.50), April 1 order (10.00)
    assert [(r["period"].isoformat(), r["orders"], r["revenue"]) for r in first.rows] == [
        ("2024-03-01", 2, Decimal("25.50")),
        ("2024-04-01", 1, Decimal("10.00")),
    ]
    again = QueryRunner.for_store(Settings(home=home)).run(KpiQuery(grain="month"), KpiResult)
    assert again.cached
    assert again.rows == first.rows
    assert again.data_version == first.data_version
    _store(home, [("A4", "2024-04-06 09:00:00", "c3", "p2", 2, "5.50")], name="more.csv")
    after = QueryRunner.for_store(Settings(home=home)).run(KpiQuery(grain="month"), KpiResult)
    assert not after.cached
    assert after.data_version == first.data_version + 1
    assert after.rows[-1]["orders"] == 2
    assert after.rows[-1]["revenue"] == Decimal("21.00")


def test_a_result_of_the_wrong_type_is_refused(tmp_path: Path) -> None:
    home = _store(tmp_path / "home", ORDERS)
    runner = QueryRunner.for_store(Settings(home=home))
    with pytest.raises(InputError, match="KpiResult answered where RfmResult was expected"):
        runner.run(KpiQuery(), RfmResult)
    assert QueryRunner.for_store(Settings(home=home)).run(RfmQuery()).customers == 2


def test_memory_keeps_answers_by_data_version_and_computes_each_once(tmp_path: Path) -> None:
    home = _store(tmp_path / "home", ORDERS)
    memory = ResultStore()
    runner = QueryRunner.for_store(Settings(home=home), memory=memory)
    query = CustomerListQuery(limit=10)
    answers: list[CustomerListResult] = []
    threads = [threading.Thread(target=lambda: answers.append(runner.run(query, CustomerListResult))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(a) for a in answers}) == 1, "four callers at once, one computation"
    # c1: 2 orders, 30.00; c2: 1 order, 5.50 — largest spender first
    assert [(c["orders"], c["revenue"]) for c in answers[0].customers] == [(2, Decimal("30.00")), (1, Decimal("5.50"))]
    assert runner.run(query, CustomerListResult) is answers[0]
    _store(home, [("A4", "2024-04-06 09:00:00", "c3", "p2", 2, "5.50")], name="more.csv")
    assert runner.run(query, CustomerListResult).total == 3, "an import is seen at once"


def test_a_home_without_a_store_says_how_to_start(tmp_path: Path) -> None:
    with pytest.raises(NoStoreError, match=r"^no store in .* yet: import the store's exports first"):
        QueryRunner.for_store(Settings(home=tmp_path / "empty")).run(KpiQuery())


def test_the_share_package_is_registered_by_the_reports_layer() -> None:
    assert registered()["share_package"].query_type is shoplens.reports.SharePackageQuery
