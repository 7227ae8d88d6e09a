"""The web app's reader: a warm request opens nothing, an import is seen at once, a busy warehouse answers 503."""

from __future__ import annotations

import csv
import subprocess
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb
import pytest
from fastapi.testclient import TestClient
from tests.web.conftest import Store, table_values

from shoplens.config import Settings
from shoplens.errors import InputError
from shoplens.queries import QueryRunner, ResultStore, StillComputingError, _store
from shoplens.web import _dashboard, create_app

TOKEN = "a-server-token-of-enough-length-0123456789"
BEARER = {"Authorization": f"Bearer {TOKEN}"}
MAPPING = Path(str(resources.files("shoplens.ingest").joinpath("mappings", "demo.yaml")))


def test_a_warm_request_does_not_open_the_warehouse(demo_store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    client = TestClient(
        create_app(Settings(home=demo_store.home)), headers={"Authorization": f"Bearer {demo_store.tokens['owner']}"}
    )
    first = client.get("/api/v1/rfm")
    assert first.status_code == 200
    opened: list[Path] = []
    real = _store.connect

    def counting(settings: Settings, **options: Any) -> Any:
        opened.append(settings.warehouse_path)
        return real(settings, **options)

    monkeypatch.setattr(_store, "connect", counting)
    again = client.get("/api/v1/rfm")
    assert again.content == first.content
    assert again.headers["etag"] == first.headers["etag"]
    assert opened == [], "the same question on the same data is answered from memory"
    assert client.get("/customers").status_code == 200
    assert len(opened) == 3, (
        "the page's first drawing gets lifecycle, stage and the recommendations, one opening each: RFM is the API's"
    )
    assert client.get("/customers").status_code == 200
    assert len(opened) == 3, "drawing it again opens nothing"


def _late_order(demo_export: Path, out: Path) -> None:
    """One more demo order: 2 × 10.00, no discount, shipping or tax, on the last day of the demo data."""
    with demo_export.open(encoding="utf-8", newline="") as source:
        reader = csv.DictReader(source)
        row = next(reader)
        fields = reader.fieldnames or []
    row.update(
        order_id="LATE-1",
        ordered_at="2025-12-30 12:00:00",
        quantity="2",
        unit_price="10.00",
        line_discount="0.00",
        order_discount="0.00",
        shipping="0.00",
        tax="0.00",
        discount_code="",
        refund_amount="",
        refund_reason="",
        is_refund="false",
        status="paid",
        promised_delivery_date="",  # not yet delivered: the first row's dates are of an order two years before
        shipped_at="",
        delivered_at="",
    )
    with out.open("w", encoding="utf-8", newline="") as target:
        writer = csv.DictWriter(target, fieldnames=fields)
        writer.writeheader()
        writer.writerow(row)


def test_an_import_is_seen_by_the_next_request(
    own_store: Path, demo_store: Store, cli: Callable[..., Any], tmp_path: Path
) -> None:
    client = TestClient(create_app(Settings(home=own_store), api_token=TOKEN), headers=BEARER)
    before = client.get("/api/v1/kpis", params={"grain": "quarter"})
    extra = tmp_path / "late.csv"
    _late_order(demo_store.home / "demo-export" / "orders.csv", extra)
    imported = cli(
        "import", str(extra), "--profile", "generic", "--mapping", str(MAPPING), "--json", home_dir=own_store
    )
    assert imported.exit_code == 0, imported.stderr
    assert imported.json()["rows_loaded"] == 1
    after = client.get("/api/v1/kpis", params={"grain": "quarter"})
    assert after.headers["etag"] != before.headers["etag"]
    last_before, last_after = before.json()["rows"][-1], after.json()["rows"][-1]
    assert last_after["orders"] == last_before["orders"] + 1
    assert Decimal(str(last_after["revenue"])) == Decimal(str(last_before["revenue"])) + Decimal("20.00")


def test_a_warehouse_held_by_a_writer_answers_503_in_the_one_error_shape(own_store: Path) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; held = duckdb.connect(sys.argv[1]); print('held', flush=True); time.sleep(60)",
            str(own_store / "warehouse.duckdb"),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        client = TestClient(create_app(Settings(home=own_store), api_token=TOKEN), headers=BEARER)
        answer = client.get("/api/v1/kpis")
    finally:
        holder.kill()
        holder.wait()
    assert answer.status_code == 503
    assert answer.headers["retry-after"] == "5"
    assert answer.json() == {"error": {"code": "busy", "message": _store.BUSY}}
    time.sleep(0.1)
    assert client.get("/api/v1/kpis").status_code == 200, "once the writer is gone the store answers again"


def test_a_slow_result_is_computed_once_in_the_background_while_pages_say_so(own_store: Path) -> None:
    memory = ResultStore()
    calls: list[float] = []

    def slow() -> tuple[int, str]:
        calls.append(time.monotonic())
        time.sleep(0.5)
        with duckdb.connect(str(own_store / "warehouse.duckdb"), read_only=True) as con:
            found = con.execute("SELECT count(*) FROM orders").fetchone()
        assert found is not None
        return int(found[0]), "slow-q"

    with pytest.raises(StillComputingError) as first:
        memory.compute("slow-q", "slow", slow, wait=0.05)
    assert first.value.kind == "slow"
    with pytest.raises(StillComputingError):
        memory.compute("slow-q", "slow", slow, wait=0.05)
    answer = memory.compute("slow-q", "slow", slow)  # waits for the computation already under way
    with duckdb.connect(str(own_store / "warehouse.duckdb"), read_only=True) as con:
        orders = con.execute("SELECT count(*) FROM orders").fetchone()
    assert orders is not None
    assert answer == orders[0]
    assert memory.compute("slow-q", "slow", slow, wait=0.0) == answer
    assert len(calls) == 1, "asked four times, computed once"


def test_an_error_in_the_background_reaches_the_request_and_is_not_kept(own_store: Path) -> None:
    memory = ResultStore()
    attempts: list[int] = []

    def failing() -> tuple[int, str]:
        attempts.append(1)
        raise InputError("no such thing to compute")

    for _ in range(2):
        with pytest.raises(InputError, match="no such thing to compute"):
            memory.compute("failing-q", "failing", failing)
    assert len(attempts) == 2, "a failure is not kept: the next request tries again"


def test_a_page_whose_numbers_take_long_says_what_it_computes_and_reloads(
    own_store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = QueryRunner._answer

    def slow_answer(self: QueryRunner, query: Any) -> Any:
        time.sleep(0.4)
        return real(self, query)

    monkeypatch.setattr(QueryRunner, "_answer", slow_answer)
    monkeypatch.setattr(_dashboard, "PAGE_WAIT_SECONDS", 0.05)
    client = TestClient(create_app(Settings(home=own_store), api_token=TOKEN), headers=BEARER)
    waiting = client.get("/funnel")
    assert waiting.status_code == 200
    assert '<meta http-equiv="refresh" content="2">' in waiting.text
    assert "Computing the funnel over every web session on the store's data" in waiting.text
    deadline = time.monotonic() + 20
    while 'id="computing"' in (page := client.get("/funnel").text):
        assert time.monotonic() < deadline, "the funnel is computed within 20 seconds"
        time.sleep(0.2)
    steps = client.get("/api/v1/funnel").json()["steps"]
    assert table_values(page, "funnel-steps")[0][1] == str(steps[0]["sessions"])
