"""A vendor never receives a row describing fewer than k people, on any route a vendor may call.

The routes are read from the app object, so a route added later is covered without a line here: each GET route
under the API whose role check lets vendors through is called with its defaults and with each of its parameters
at its most revealing value (every choice of an enum, the smallest number allowed). Every list of rows in the
answer must name the people (or orders) behind each row, and each must be at least k.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable, Iterator
from typing import Any

import duckdb
import pyarrow.csv as pacsv
import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from tests.web.conftest import Store, logged_in

from shoplens.privacy import DEFAULT_K
from shoplens.web._vendor import RELEASED_BY

COUNT_COLUMNS = set(RELEASED_BY.values()) | {"people"}
K = DEFAULT_K


def _roles_of(route: Any) -> tuple[str, ...]:
    found: list[str] = []
    dependant = getattr(route, "dependant", None)
    for dependency in dependant.dependencies if dependant else []:
        found += getattr(dependency.call, "roles", ())
    return tuple(found)


def vendor_routes(app: FastAPI) -> list[Any]:
    """Every GET route of the API (routers included) whose role check lets a vendor through (the dashboard's
    pages draw the same answers; :func:`test_the_dashboard_shows_a_vendor_the_same_rows_as_the_api`)."""
    return [
        route
        for route in iter_route_contexts(app.routes)
        if (route.path or "").startswith("/api/v1/") and "GET" in (route.methods or ()) and "vendor" in _roles_of(route)
    ]


def revealing_parameters(app: FastAPI, path: str) -> Iterator[dict[str, Any]]:
    """The defaults, then each query parameter alone at each enum value or at the smallest value allowed."""
    yield {}
    for parameter in app.openapi()["paths"][path]["get"].get("parameters", []):
        if parameter.get("in") == "path":  # filled in by the caller
            continue
        schema = parameter.get("schema", {})
        options = schema.get("anyOf", [schema])
        for option in options:
            for value in option.get("enum", []):
                yield {parameter["name"]: value}
            if "minimum" in option:
                yield {parameter["name"]: option["minimum"]}
            if "exclusiveMinimum" in option:
                yield {parameter["name"]: option["exclusiveMinimum"] + 1e-6}


def small_rows(document: Any, where: str = "") -> Iterator[str]:
    """Where ``document`` holds a row that does not name k people or more behind it."""
    if isinstance(document, dict):
        for key, value in document.items():
            yield from small_rows(value, f"{where}.{key}")
    elif isinstance(document, list):
        for index, row in enumerate(document):
            if isinstance(row, dict):
                counted = COUNT_COLUMNS & set(row)
                if not counted:
                    yield f"{where}[{index}] names nobody behind it: {sorted(row)[:6]}"
                elif any(not isinstance(row[c], int) or row[c] < K for c in counted):
                    yield f"{where}[{index}] has {[row[c] for c in counted]} behind it"


def small_rows_in_zip(data: bytes) -> Iterator[str]:
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        for name in package.namelist():
            if name.endswith(".csv"):
                table = pacsv.read_csv(io.BytesIO(package.read(name)))
                yield from small_rows(table.to_pylist(), name)


@pytest.fixture
def vendor(store_app: FastAPI, demo_store: Store) -> TestClient:
    return TestClient(store_app, headers={"Authorization": f"Bearer {demo_store.tokens['vendor']}"})


def test_the_vendor_routes_are_the_store_level_ones(store_app: FastAPI) -> None:
    paths = sorted(route.path for route in vendor_routes(store_app))
    assert paths == [
        "/api/v1/basket",
        "/api/v1/funnel",
        "/api/v1/kpis",
        "/api/v1/kpis/compare",
        "/api/v1/plans/{plan_id}/progress",
        "/api/v1/products",
        "/api/v1/products/{product_id}/also-bought",
        "/api/v1/share/package",
    ]


def test_a_vendor_never_receives_a_row_describing_fewer_than_k_people(
    store_app: FastAPI, vendor: TestClient, demo_store: Store
) -> None:
    asked = 0
    # A path's parameters are filled with the store's most-bought product, the one with the most pairs to give away.
    with duckdb.connect(str(demo_store.home / "warehouse.duckdb"), read_only=True) as con:
        [(product_id,)] = con.sql(
            "SELECT l.product_id FROM order_lines l JOIN orders o USING (order_id) WHERE o.customer_key IS NOT NULL "
            "GROUP BY 1 ORDER BY count(DISTINCT o.customer_key) DESC, 1 LIMIT 1"
        ).fetchall()
    for route in vendor_routes(store_app):
        # a plan's progress answers a vendor token 403 (a token names no vendor account; see test_web_plans.py)
        path = route.path.replace("{product_id}", str(product_id)).replace("{plan_id}", "1")
        for params in revealing_parameters(store_app, route.path):
            answer = vendor.get(path, params=params)
            asked += 1
            where = f"{route.path} {params}"
            if answer.status_code == 403:
                assert answer.json()["error"]["code"] == "forbidden", where
                continue
            assert answer.status_code == 200, f"{where}: {answer.text[:200]}"
            if answer.headers["content-type"] == "application/zip":
                assert list(small_rows_in_zip(answer.content)) == [], where
            else:
                assert list(small_rows(answer.json())) == [], where
    assert asked >= 20


def test_daily_kpis_by_country_release_exactly_the_rows_with_k_customers(
    as_role: Callable[[str], TestClient], vendor: TestClient
) -> None:
    params = {"by": "country", "grain": "day"}
    everyone = as_role("analyst").get("/api/v1/kpis", params=params).json()["rows"]
    seen = vendor.get("/api/v1/kpis", params=params).json()
    large = [(row["period"], row["country"]) for row in everyone if row["customers"] >= K]
    assert [(row["period"], row["country"]) for row in seen["rows"]] == large
    assert seen["vendor_rule"]["suppressed_rows"] == {"rows": len(everyone) - len(large)}
    assert len(everyone) - len(large) > 0, "the demo store has days of one customer per country"


def test_rfm_splits_are_refused_to_vendors_but_not_to_analysts(
    as_role: Callable[[str], TestClient], vendor: TestClient
) -> None:
    refused = vendor.get("/api/v1/kpis", params={"by": "segment"})
    assert refused.status_code == 403
    assert refused.json() == {
        "error": {"code": "forbidden", "message": "vendors may not split figures by customer-level groups (by=segment)"}
    }
    assert as_role("analyst").get("/api/v1/kpis", params={"by": "segment"}).status_code == 200


def test_basket_rules_a_vendor_sees_are_backed_by_k_orders(
    as_role: Callable[[str], TestClient], vendor: TestClient
) -> None:
    params = {"min_support": 0.0001, "limit": 10_000}
    everyone = as_role("analyst").get("/api/v1/basket", params=params).json()["rules"]
    seen = vendor.get("/api/v1/basket", params=params).json()["rules"]
    assert min(rule["orders"] for rule in everyone) == 1, "the attack is real: a rule backed by one order"
    assert seen == [rule for rule in everyone if rule["orders"] >= K]


def test_the_dashboard_shows_a_vendor_the_same_rows_as_the_api(
    store_app: FastAPI, demo_store: Store, vendor: TestClient
) -> None:
    page = logged_in(store_app, demo_store, "vendor")
    api = vendor.get("/api/v1/kpis", params={"by": "country", "grain": "day"}).json()["rows"]
    html = page.get("/", params={"by": "country", "grain": "day"}).text
    assert len(re.findall(r"<tr data-period=", html)) == len(api)
    assert "segment</option>" not in html, "the split a vendor may not use is not offered"
    refused = page.get("/", params={"by": "segment"}).text
    assert "The table can be split by channel, device, country, not by &#39;segment&#39;." in refused
