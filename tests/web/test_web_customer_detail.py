"""The customer detail: ``GET /api/v1/customers/{key}`` and the page ``/customers/{key}``, checked against SQL written
by hand over the demo store's warehouse, against the customer list, and against the vault it must never show."""

from __future__ import annotations

import html
import re
import shutil
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.conftest import fetch, run_cli, vault_in_clear
from tests.web.conftest import Store, logged_in, table_columns, table_links, table_values
from tests.web.test_web_preferences import customers_with_orders

from shoplens.config import Settings
from shoplens.metrics import NOT_PURCHASED_STATUSES
from shoplens.queries import ClvPredictQuery, ClvPredictResult, QueryRunner
from shoplens.queries._preferences import NO_CONSENT
from shoplens.web import create_app

NOBODY = "c_" + "0" * 20
UNKNOWN = "no customer with this key has orders in the store"
STATUSES = ", ".join(f"'{status}'" for status in NOT_PURCHASED_STATUSES)
KEY = re.compile(r"c_[0-9a-f]{20}")


def _busiest_with_refunds(home: Path) -> str:
    """The customer with the most purchases among those who had a refund (so every column of a month matters)."""
    found = fetch(
        home,
        f"SELECT o.customer_key FROM orders o WHERE lower(trim(coalesce(o.status, ''))) NOT IN ({STATUSES}) "
        "AND o.customer_key IN (SELECT r.customer_key FROM refunds r JOIN orders p USING (order_id) "
        f"WHERE r.refunded_at IS NOT NULL AND lower(trim(coalesce(p.status, ''))) NOT IN ({STATUSES})) "
        "GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1",
    )
    assert found, "the demo store has customers with refunds"
    return str(found[0][0])


def _months_by_sql(home: Path, key: str) -> list[list[str]]:
    """The customer's months written out in SQL: purchases by the month they were placed, refunds (of purchases) by
    the month they were given; the demo store keeps UTC, so its months are UTC months."""
    found = fetch(
        home,
        f"""
        WITH bought AS (
            SELECT CAST(date_trunc('month', ordered_at) AS DATE) AS month, count(*) AS orders, sum(net) AS net_sales
            FROM orders WHERE customer_key = ? AND lower(trim(coalesce(status, ''))) NOT IN ({STATUSES})
            GROUP BY 1
        ), given AS (
            SELECT CAST(date_trunc('month', refunded_at) AS DATE) AS month, sum(amount) AS refunds
            FROM refunds r WHERE customer_key = ? AND refunded_at IS NOT NULL AND NOT EXISTS (
                SELECT 1 FROM orders o WHERE o.order_id = r.order_id
                AND lower(trim(coalesce(o.status, ''))) IN ({STATUSES}))
            GROUP BY 1
        )
        SELECT coalesce(b.month, g.month) AS month, coalesce(b.orders, 0), coalesce(b.net_sales, 0),
               coalesce(g.refunds, 0)
        FROM bought b FULL OUTER JOIN given g ON b.month = g.month ORDER BY 1
        """,
        [key, key],
    )
    return [
        [
            month.isoformat(),
            str(orders),
            f"{Decimal(net):.2f}",
            f"{Decimal(refunds):.2f}",
            f"{Decimal(net - refunds):.2f}",
        ]
        for month, orders, net, refunds in found
    ]


@pytest.fixture(scope="module")
def detail_key(demo_store: Store) -> str:
    return _busiest_with_refunds(demo_store.home)


def test_orders_by_month_are_the_purchases_and_refunds_of_the_warehouse(
    as_role: Callable[[str], TestClient], demo_store: Store, detail_key: str
) -> None:
    assert Settings(home=demo_store.home).timezone == "UTC", "the SQL below reads UTC months as the store's months"
    answer = as_role("marketer").get(f"/api/v1/customers/{detail_key}")
    assert answer.status_code == 200
    document = answer.json()
    months = [[m["month"], str(m["orders"]), m["net_sales"], m["refunds"], m["revenue"]] for m in document["months"]]
    expected = _months_by_sql(demo_store.home, detail_key)
    assert months == expected
    assert any(row[3] != "0.00" for row in months), "the customer's refunds are in their months"
    assert document["total_orders"] == sum(int(row[1]) for row in expected)
    first, last = fetch(
        demo_store.home,
        f"SELECT min(CAST(ordered_at AS DATE)), max(CAST(ordered_at AS DATE)) FROM orders "
        f"WHERE customer_key = ? AND lower(trim(coalesce(status, ''))) NOT IN ({STATUSES})",
        [detail_key],
    )[0]
    assert (document["first_order_day"], document["last_order_day"]) == (first.isoformat(), last.isoformat())


def _listed(client: TestClient, key: str) -> dict[str, Any]:
    offset = 0
    while True:
        page = client.get("/api/v1/customers", params={"offset": offset, "limit": 500}).json()
        for row in page["customers"]:
            if row["customer_key"] == key:
                return dict(row)
        offset += 500
        assert offset < page["total"], f"{key} is in the customer list"


def test_the_totals_are_the_customer_list_s_and_the_segment_today_is_the_list_s(
    as_role: Callable[[str], TestClient], detail_key: str
) -> None:
    client = as_role("analyst")
    document = client.get(f"/api/v1/customers/{detail_key}").json()
    listed = _listed(client, detail_key)
    assert (document["total_revenue"], document["total_orders"]) == (listed["revenue"], listed["orders"])
    assert Decimal(document["total_revenue"]) == Decimal(document["net_sales"]) - Decimal(document["refunds"])
    today = document["segments"][-1]
    assert (today["segment"], today["recency_days"]) == (listed["segment"], listed["recency_days"])
    days = [row["as_of"] for row in document["segments"]]
    assert days == sorted(days), "oldest first"
    assert len(days) >= 4, "four quarter ends and the data end"
    as_of = client.get("/api/v1/rfm", params={"as_of": days[0]}).json()
    segment = document["segments"][0]["segment"]
    if segment is not None:
        assert segment in [row["segment"] for row in as_of["segments"]]


def test_the_page_shows_the_api_s_numbers_in_tables_and_charts_with_a_text_alternative(
    as_role: Callable[[str], TestClient], detail_key: str
) -> None:
    client = as_role("marketer")
    document = client.get(f"/api/v1/customers/{detail_key}").json()
    page = client.get(f"/customers/{detail_key}")
    assert page.status_code == 200
    months = [[m["month"], str(m["orders"]), m["net_sales"], m["refunds"], m["revenue"]] for m in document["months"]]
    assert table_values(page.text, "customer-months") == months
    totals = dict(
        zip(table_columns(page.text, "customer-totals"), table_values(page.text, "customer-totals")[0], strict=True)
    )
    assert (totals["revenue"], totals["orders"]) == (document["total_revenue"], str(document["total_orders"]))
    history = table_values(page.text, "segment-history")
    assert [(row[0], row[2]) for row in history] == [
        (s["as_of"], s["segment"] if s["segment"] is not None else "–") for s in document["segments"]
    ]
    assert page.text.count("<figure") == 2
    assert page.text.count("<figcaption>") == 2
    assert "Net sales per month; the same numbers are in the table Orders by month below." in page.text
    if document["preferences"] is not None:
        shown = dict(table_values(page.text, "preferences"))
        assert shown["price band"] == document["preferences"]["price_band"]


def test_without_fits_the_detail_says_how_to_fit_and_with_them_shows_the_model_s_figures(
    demo_store: Store, own_store: Path, detail_key: str
) -> None:
    # the session's demo store may have been fitted by another test of this process (POST /api/v1/clv/fit)
    shutil.rmtree(own_store / "models", ignore_errors=True)
    app = create_app(Settings(home=own_store))
    client = logged_in(app, demo_store, "analyst")  # the copy keeps the store's accounts
    before = client.get(f"/customers/{detail_key}").text
    assert "Model: no model fitted yet for the current data: shoplens clv fit --model bgnbd" in before
    assert 'id="customer-model"' not in before
    for model in ("bgnbd", "gamma-gamma"):
        fitted = run_cli(own_store, "clv", "fit", "--model", model, "--json")
        assert fitted.exit_code == 0, fitted.stderr
    predicted = QueryRunner.for_store(Settings(home=own_store)).run(ClvPredictQuery(horizon=365), ClvPredictResult)
    expected = next(row for row in predicted.rows if row["customer_key"] == detail_key)
    fresh = logged_in(create_app(Settings(home=own_store)), demo_store, "analyst")
    model = fresh.get(f"/api/v1/customers/{detail_key}").json()["model"]
    for name in ("p_alive", "expected_purchases", "clv"):
        assert model[name] == pytest.approx(expected[name], rel=1e-9), name
    assert (model["churn_risk"], model["value_tier"]) == (expected["churn_risk"], expected["value_tier"])
    page = fresh.get(f"/customers/{detail_key}").text
    shown = dict(zip(table_columns(page, "customer-model"), table_values(page, "customer-model")[0], strict=True))
    assert [float(shown[name]) for name in ("p_alive", "expected_purchases", "clv")] == [
        model["p_alive"],
        model["expected_purchases"],
        model["clv"],
    ]
    assert shown["churn_risk"] == model["churn_risk"]


def test_an_unknown_key_is_a_404_in_the_one_error_shape_and_a_page_that_says_so(
    as_role: Callable[[str], TestClient],
) -> None:
    client = as_role("analyst")
    unknown = client.get(f"/api/v1/customers/{NOBODY}")
    assert (unknown.status_code, unknown.json()) == (404, {"error": {"code": "not_found", "message": UNKNOWN}})
    bad = client.get("/api/v1/customers/not-a-key")
    assert (bad.status_code, bad.json()["error"]["code"]) == (422, "invalid_request")
    page = client.get(f"/customers/{NOBODY}")
    assert page.status_code == 404
    assert f"{UNKNOWN}." in page.text
    not_a_key = client.get("/customers/not-a-key")
    assert (not_a_key.status_code, "That is not a customer key." in not_a_key.text) == (404, True)


def test_vendors_are_refused_and_strangers_must_sign_in(as_role: Callable[[str], TestClient], detail_key: str) -> None:
    assert as_role("vendor").get(f"/api/v1/customers/{detail_key}").status_code == 403
    assert as_role("vendor").get(f"/customers/{detail_key}").status_code == 403
    assert TestClient(as_role("owner").app).get(f"/api/v1/customers/{detail_key}").status_code == 401


def test_nothing_from_the_vault_is_shown(
    as_role: Callable[[str], TestClient], demo_store: Store, detail_key: str
) -> None:
    client = as_role("owner")
    shown = client.get(f"/customers/{detail_key}").text + client.get(f"/api/v1/customers/{detail_key}").text
    vault = [row for row in vault_in_clear(demo_store.home).to_pylist() if row["customer_key"] == detail_key]
    assert vault, "the customer is in the vault"
    for column in ("source_customer_id", "email", "name", "phone", "address"):
        value = vault[0][column]
        if value:
            assert value not in shown, column
            assert html.escape(value) not in shown, column


def test_every_customer_key_in_a_table_links_its_page(as_role: Callable[[str], TestClient], detail_key: str) -> None:
    client = as_role("owner")
    thresholds = {"min_refunds": 1, "refund_factor": 1.5}  # low enough to flag refunds in any demo store
    page = client.get("/guard", params=thresholds).text
    subjects = [row[1] for row in table_values(page, "guard-flags")]
    links = [row[1] for row in table_links(page, "guard-flags")]
    assert any(KEY.fullmatch(s) for s in subjects), "the demo store has flags on customers"
    assert links == [f"/customers/{s}" if KEY.fullmatch(s) else None for s in subjects]
    segment = client.get(f"/api/v1/customers/{detail_key}").json()["segments"][-1]["segment"]
    listing = client.get("/customers", params={"segment": segment}).text
    listed = re.findall(r"<code>(c_[0-9a-f]{20})</code>", listing)
    assert listed, "the segment's drill-down lists its customers"
    assert re.findall(r'<a href="/customers/(c_[0-9a-f]{20})"><code>\1</code></a>', listing) == listed


def test_a_customer_who_refused_consent_has_a_detail_without_preferences(
    as_role: Callable[[str], TestClient], demo_store: Store
) -> None:
    refused = customers_with_orders(demo_store, False)
    assert refused, "the demo store has customers who refused marketing"
    client = as_role("marketer")
    document = client.get(f"/api/v1/customers/{refused[0]}").json()
    assert (document["preferences"], document["preferences_note"]) == (None, NO_CONSENT)
    assert document["months"], "the rest of the detail is there"
    page = client.get(f"/customers/{refused[0]}").text
    assert f"Preferences: {NO_CONSENT}." in page
    assert 'id="preferences"' not in page
