"""The suggestion and acquisition routes: roles, the k-anonymity rule for vendors, and 404 in the one error shape."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from tests.conftest import fetch
from tests.web.conftest import Store, table_values

from shoplens.privacy import DEFAULT_K
from shoplens.web._tables import PAGE_ROWS


def _most_bought_product(store: Store) -> str:
    return str(
        fetch(store.home, "SELECT product_id FROM order_lines GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1")[0][0]
    )


def test_vendors_see_only_pairs_bought_by_k_customers(as_role: Callable[[str], TestClient], demo_store: Store) -> None:
    product = _most_bought_product(demo_store)
    route = f"/api/v1/products/{product}/also-bought?limit=100"
    analyst = as_role("analyst").get(route)
    vendor = as_role("vendor").get(route)
    assert analyst.status_code == vendor.status_code == 200
    everything, released = analyst.json()["also_bought"], vendor.json()["also_bought"]
    assert all(row["customers"] >= DEFAULT_K for row in released)
    assert released == [row for row in everything if row["customers"] >= DEFAULT_K][: len(released)]
    small = [row for row in everything if row["customers"] < DEFAULT_K]
    print(f"\n{len(everything)} pairs for the analyst, {len(released)} for the vendor; {len(small)} under k")
    assert small, "the demo store has pairs under k, so the rule is exercised"
    assert vendor.json()["suppressed_pairs"] >= len(small)
    assert analyst.json()["suppressed_pairs"] == 0


def test_unknown_product_and_customer_are_404_in_the_error_shape(as_role: Callable[[str], TestClient]) -> None:
    analyst = as_role("analyst")
    answer = analyst.get("/api/v1/products/NO-SUCH-PRODUCT/also-bought")
    assert answer.status_code == 404
    assert answer.json() == {"error": {"code": "not_found", "message": "no product 'NO-SUCH-PRODUCT' in the store"}}
    answer = analyst.get("/api/v1/customers/no-such-key/suggestions")
    assert answer.status_code == 404
    assert answer.json() == {"error": {"code": "not_found", "message": "no customer 'no-such-key' in the store"}}


def test_customer_suggestions_are_customer_level(as_role: Callable[[str], TestClient], demo_store: Store) -> None:
    ((key,),) = fetch(
        demo_store.home,
        "SELECT customer_key FROM orders WHERE customer_key IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1",
    )
    assert as_role("vendor").get(f"/api/v1/customers/{key}/suggestions").status_code == 403
    answer = as_role("marketer").get(f"/api/v1/customers/{key}/suggestions")
    assert answer.status_code == 200
    suggested = [row["product_id"] for row in answer.json()["suggestions"]]
    owned = {
        row[0]
        for row in fetch(
            demo_store.home,
            "SELECT DISTINCT product_id FROM orders JOIN order_lines USING (order_id) WHERE customer_key = ?",
            [key],
        )
    }
    assert len(suggested) == 10
    assert not set(suggested) & owned


def test_acquisition_by_landing_page_in_the_api(as_role: Callable[[str], TestClient]) -> None:
    answer = as_role("analyst").get("/api/v1/acquisition?by=landing_page")
    assert answer.status_code == 200
    document = answer.json()
    assert document["by"] == "landing_page"
    assert sum(row["new_customers"] for row in document["groups"]) == sum(
        row["new_customers"] for row in document["channels"]
    )
    assert as_role("analyst").get("/api/v1/acquisition?by=weather").status_code == 422
    assert as_role("vendor").get("/api/v1/acquisition").status_code == 403


def test_the_acquisition_page_has_a_table_by_landing_page(as_role: Callable[[str], TestClient]) -> None:
    client = as_role("marketer")
    groups = client.get("/api/v1/acquisition?by=landing_page").json()["groups"]
    page = client.get("/acquisition").text
    expected = [[g["landing_page"], str(g["sessions"]), str(g["new_customers"])] for g in groups]
    assert len(expected) > PAGE_ROWS, "the demo store has more landing pages than one page of a table"
    shown = [row[:3] for row in table_values(page, "acquisition-landing-pages")]
    assert shown == expected[:PAGE_ROWS]
    pages = -(-len(expected) // PAGE_ROWS)
    assert f"{len(expected):,} rows, page 1 of {pages}" in page
    second = client.get("/acquisition", params={"table": "acquisition-landing-pages", "page": 2}).text
    assert [row[:3] for row in table_values(second, "acquisition-landing-pages")] == expected[PAGE_ROWS : 2 * PAGE_ROWS]
