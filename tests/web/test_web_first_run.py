"""A new store's dashboard: the overview says what to import first and how, and every empty page says what
would fill it (the one empty-state block), with the runner's own message beside it."""

from __future__ import annotations

import csv
import re
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from markupsafe import escape
from tests.conftest import run_cli
from tests.web.conftest import PASSWORD, Store, logged_in

from shoplens.appdb import AppDatabase
from shoplens.config import Settings
from shoplens.queries import registered
from shoplens.web import add_user, create_app
from shoplens.web._empty import FILLERS, QUESTION_NEEDS
from shoplens.web._pages import NAVIGATION

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
ROLES_USED = ("owner", "analyst", "marketer", "vendor")
# menu pages that are not read from the store's data: they are never empty
NOT_DATA_PAGES = {"/", "/sharing", "/import", "/settings"}
# pages whose emptiness is their own, not the missing orders
OWN_EMPTY = {"/surveys": "surveys", "/jobs": "jobs"}
IMPORT_LINK = '<a href="/import">Upload the export on the Import page</a>'
SHOPIFY_ORDERS = (
    '<a href="https://help.shopify.com/en/manual/fulfillment/managing-orders/exporting-orders">'
    "Shopify admin → Orders → Export</a>"
)
WOOCOMMERCE_ORDERS = (
    '<a href="https://woocommerce.com/document/woocommerce-analytics/">'
    "WooCommerce → Analytics → Orders → Download (profile woocommerce-analytics)</a>"
)


def _with_users(home: Path) -> Store:
    home.mkdir(parents=True, exist_ok=True)
    database = AppDatabase(Settings(home=home).app_database_url)
    for role in ROLES_USED:
        add_user(database, f"{role}@shop.example", PASSWORD, role)
    database.close()
    return Store(home, {})


@pytest.fixture(scope="module")
def new_store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    """A home with users and nothing else: no warehouse file."""
    return _with_users(tmp_path_factory.mktemp("first-run") / "home")


@pytest.fixture(scope="module")
def new_app(new_store: Store) -> FastAPI:
    return create_app(Settings(home=new_store.home))


@pytest.fixture(scope="module")
def shop_store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    """A new home after ``shoplens import tests/fixtures/shopify_orders.csv``."""
    store = _with_users(tmp_path_factory.mktemp("first-import") / "home")
    imported = run_cli(store.home, "import", str(FIXTURES / "shopify_orders.csv"), "--json")
    assert imported.exit_code == 0, imported.stderr
    assert imported.json()["orders"] == 3
    return store


def _main(page: str) -> str:
    found = re.search(r"<main>(.*)</main>", page, re.S)
    assert found
    return found.group(1)


def _empty_needs(page: str) -> list[str]:
    return re.findall(r'<section class="empty-state" data-empty="([a-z]+)"', page)


def _purchases_in_export() -> int:
    with (FIXTURES / "shopify_orders.csv").open(encoding="utf-8", newline="") as file:
        lines = list(csv.DictReader(file))
    bad = set()
    for line in lines:
        try:
            Decimal(line["Lineitem price"])
        except InvalidOperation:
            bad.add(line["Name"])
    voided = {line["Name"] for line in lines if line["Financial Status"] == "voided"}
    return len({line["Name"] for line in lines} - bad - voided)


def _card(page: str, kpi: str) -> str:
    found = re.search(rf'<div class="card" data-kpi="{kpi}">(.*?)</div>\s*</div>', page, re.S)
    assert found, kpi
    return found.group(1)


def _no_store_message(home: Path) -> str:
    told = (
        "no data in this store yet: import the store's exports first (shoplens import FILE --profile P, or "
        "shoplens demo)"
    )
    assert str(home) not in told
    return str(escape(told))


def test_every_menu_page_of_a_new_store_says_what_fills_it(new_app: FastAPI, new_store: Store) -> None:
    client = logged_in(new_app, new_store, "owner")
    menu = [path for path, _, roles in NAVIGATION if "owner" in roles]
    assert len(menu) == 19
    for path in menu:
        response = client.get(path)
        assert response.status_code == 200, path
        if path in NOT_DATA_PAGES:
            assert _empty_needs(response.text) == [], path
            continue
        need = OWN_EMPTY.get(path, "orders")
        assert _empty_needs(response.text) == [need], path
        # surveys are sent, not imported: no Import page for them
        assert (IMPORT_LINK in response.text) is (need != "surveys"), path
        if need == "orders":
            main = _main(response.text)
            assert f"shoplens says: {_no_store_message(new_store.home)}</p>" in main, path
            assert "<li><code>shoplens import orders_export.csv</code></li>" in main, path
            assert "<li><code>shoplens demo</code></li>" in main, path
            assert '<li>See <a href="/">the first-run guide on the Overview</a></li>' in main, path


def test_the_import_link_is_shown_only_to_roles_that_may_import(new_app: FastAPI, new_store: Store) -> None:
    for role, may_import in (("owner", True), ("analyst", True), ("marketer", False)):
        page = logged_in(new_app, new_store, role).get("/cohorts").text
        assert _empty_needs(page) == ["orders"], role
        assert (IMPORT_LINK in page) is may_import, role
        welcome = logged_in(new_app, new_store, role).get("/").text
        assert ('<p><a href="/import">Or upload it on the Import page</a>.</p>' in welcome) is may_import, role
        assert ("<p>An owner or an analyst can import it.</p>" in welcome) is not may_import, role


def test_the_overview_of_a_new_store_lists_the_orders_import_first(new_app: FastAPI, new_store: Store) -> None:
    page = _main(logged_in(new_app, new_store, "owner").get("/").text)
    assert "<h1>Welcome to shoplens</h1>" in page
    assert f"shoplens says: {_no_store_message(new_store.home)}</p>" in page
    assert 'data-kpi="' not in page
    first, rest = page.split('<li id="optional-imports">')
    assert '<li id="first-import" data-export="orders">' in first
    assert SHOPIFY_ORDERS in first
    assert WOOCOMMERCE_ORDERS in first
    assert '<code class="import-command">shoplens import orders_export.csv</code>' in first
    assert '<code class="import-command">shoplens import orders_export.csv --profile shopify</code>' in first
    assert re.findall(r'<tr data-export="([a-z]+)">', rest) == [
        "customers",
        "products",
        "events",
        "feedback",
        "spend",
        "tickets",
        "inventory",
    ]
    assert "<td><code>shoplens import customers_export.csv --profile shopify-customers</code></td>" in rest
    assert '<a href="https://help.shopify.com/en/manual/customers/import-export-customers">' in rest
    assert '<a href="https://help.shopify.com/en/manual/products/import-export/export-products">' in rest
    assert '<a href="https://woocommerce.com/document/product-csv-importer-exporter/">' in rest
    assert "<p>Build a demo store with generated customers and orders: <code>shoplens demo</code>.</p>" in rest


def test_the_guide_names_every_profile_shoplens_profiles_lists(new_app: FastAPI, new_store: Store) -> None:
    listed = run_cli(new_store.home, "profiles", "--json")
    assert listed.exit_code == 0
    names = {profile["name"] for profile in listed.json()["profiles"]}
    page = _main(logged_in(new_app, new_store, "owner").get("/").text)
    profile_codes = re.findall(r"<code>([a-z0-9-]+)</code>", page)
    assert set(profile_codes) - {"shoplens"} == names
    every_named = {name for filler in FILLERS.values() for name in filler.profiles}
    assert every_named <= names


def test_each_mapped_question_is_a_registered_kind_with_a_filler() -> None:
    kinds = set(registered())
    assert set(QUESTION_NEEDS) <= kinds
    assert set(QUESTION_NEEDS.values()) <= set(FILLERS)


def test_a_warehouse_without_orders_gets_the_welcome(tmp_path: Path) -> None:
    store = _with_users(tmp_path / "home")
    reviews = tmp_path / "reviews.csv"
    reviews.write_text("id,text,rating\nr1,Lovely linen shirt,5\nr2,Arrived torn,1\n", encoding="utf-8")
    imported = run_cli(store.home, "import", str(reviews), "--json")
    assert imported.exit_code == 0, imported.stderr
    assert imported.json()["orders"] == 0
    client = logged_in(create_app(Settings(home=store.home)), store, "owner")
    page = _main(client.get("/").text)
    assert "<h1>Welcome to shoplens</h1>" in page
    told = "the warehouse has no orders yet: import the store's exports first (shoplens import FILE --profile P)"
    assert f"shoplens says: {escape(told)}</p>" in page
    assert _empty_needs(client.get("/cohorts").text) == ["orders"]
    # the CLV model reads the orders itself, and says so in its own words; the hint is the model's
    clv = client.get("/clv").text
    assert _empty_needs(clv) == ["clv"]
    assert (
        "shoplens says: no orders from known customers in the warehouse: import orders with customer ids first" in clv
    )
    assert "<li><code>shoplens clv fit --model bgnbd</code></li>" in clv


def test_a_bad_value_is_said_without_an_empty_state(new_app: FastAPI, new_store: Store) -> None:
    page = logged_in(new_app, new_store, "owner").get("/?start=2024-03-05&end=2024-03-01").text
    assert '<p class="error" role="alert">The start of the date range is after its end.</p>' in page
    assert _empty_needs(page) == []


def test_after_the_first_import_the_overview_shows_kpis(shop_store: Store) -> None:
    client: TestClient = logged_in(create_app(Settings(home=shop_store.home)), shop_store, "owner")
    page = client.get("/").text
    assert 'id="welcome"' not in page
    assert _empty_needs(page) == []
    # the export's purchases: its orders neither voided nor with a line price that is not a number (quarantined)
    assert f'<div class="value" data-value="{_purchases_in_export()}">' in _card(page, "orders")
    assert 'data-period="2024-03-01"' in page
    funnel = client.get("/funnel").text
    assert _empty_needs(funnel) == ["events"]
    told = "no web session events in the warehouse: the funnel needs the store's events export"
    assert f"shoplens says: {escape(told)}</p>" in funnel
    assert "<li><code>shoplens import events.csv --profile events</code></li>" in funnel
    assert IMPORT_LINK in funnel
