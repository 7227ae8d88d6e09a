"""Numbers people read, on every page, in the report and in the terminal: no number with more than four decimal
places, no raw snake_case header; the overview's KPIs and their changes as the API gives them, in the store's
currency; tables sorted and downloaded as the API's values."""

from __future__ import annotations

import csv
import html
import io
import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from tests.conftest import run_cli
from tests.web.conftest import Store, logged_in, table_columns, table_texts, table_values

from shoplens.reports import NumberStyle, header
from shoplens.web._pages import NAVIGATION

LONG_DECIMAL = re.compile(r"\d[.,]\d{5,}")
SNAKE = re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b")
PAGES = [path for path, _, roles in NAVIGATION if "owner" in roles]


def _visible(page: str) -> str:
    """The text a person reads: no style sheets, no tags, no attributes (the raw values live in data- attributes)."""
    page = re.sub(r"<(style|script)[^>]*>.*?</\1>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def _headers(page: str) -> list[str]:
    return [html.unescape(re.sub(r"<[^>]+>", "", h)).strip() for h in re.findall(r"<th[^>]*>(.*?)</th>", page, re.S)]


@pytest.fixture(scope="module")
def owner(demo_store: Store) -> TestClient:
    from shoplens.config import Settings
    from shoplens.web import create_app

    return logged_in(create_app(Settings(home=demo_store.home)), demo_store, "owner")


@pytest.mark.parametrize("path", PAGES)
def test_no_page_shows_long_decimals_or_snake_case_headers(owner: TestClient, path: str) -> None:
    page = owner.get(path)
    assert page.status_code == 200
    assert LONG_DECIMAL.findall(_visible(page.text)) == []
    assert [h for h in _headers(page.text) if SNAKE.search(h)] == []


def test_the_report_shows_no_long_decimals_or_snake_case_headers(owner: TestClient) -> None:
    report = owner.get("/reports/monthly", params={"format": "html"})
    assert report.status_code == 200
    assert LONG_DECIMAL.findall(_visible(report.text)) == []
    assert [h for h in _headers(report.text) if SNAKE.search(h)] == []
    assert re.search(r"\$\d{1,3}(,\d{3})*\.\d{2}", _visible(report.text)), "money is written in dollars"


@pytest.mark.parametrize(
    "command",
    [["kpis"], ["rfm"], ["cohorts"], ["products"], ["lifecycle"], ["behaviour"], ["profit"], ["acquisition"]],
)
def test_no_terminal_table_shows_long_decimals_or_raw_field_names(demo_store: Store, command: list[str]) -> None:
    shown = run_cli(demo_store.home, *command)
    assert shown.exit_code == 0, shown.stderr
    assert LONG_DECIMAL.findall(shown.stdout) == []
    answer = run_cli(demo_store.home, *command, "--json").json()
    fields = {
        key
        for value in answer.values()
        if isinstance(value, list)
        for row in value
        if isinstance(row, dict)
        for key in row
        if "_" in key
    }
    assert sorted(f for f in fields if re.search(rf"(?<![\w-]){re.escape(f)}(?![\w-])", shown.stdout)) == []


def test_the_overview_cards_are_the_apis_numbers_in_dollars_with_their_changes(
    owner: TestClient, as_role: Callable[[str], TestClient]
) -> None:
    api = as_role("analyst")
    latest = api.get("/api/v1/kpis").json()["rows"][-1]
    compared = api.get("/api/v1/kpis/compare").json()
    assert compared["period"] == latest["period"]
    page = owner.get("/").text
    style = NumberStyle()
    cards = dict(re.findall(r'<div class="card" data-kpi="(\w+)">.*?<div class="value"[^>]*>([^<]+)</div>', page, re.S))
    assert cards["revenue"] == style.money(Decimal(str(latest["revenue"])))
    assert cards["orders"] == f"{latest['orders']:,}"
    assert cards["repeat_rate"] == f"{latest['repeat_rate']:.1%}"
    assert cards["revenue"].startswith("$")
    for change in compared["changes"]:
        if change["kpi"] not in cards:
            continue
        card = page.split(f'<div class="card" data-kpi="{change["kpi"]}">', 1)[1].split('<div class="card"', 1)[0]
        for field in ("change_vs_previous", "change_vs_last_year"):
            value = change[field]
            shown = re.search(rf'data-against="{field}">(?:[▲▼] )?([^ <]+(?: pp)?)', card)
            assert shown, (change["kpi"], field)
            if value is None:
                assert shown.group(1) == "–"
            elif change["change_kind"] == "points":
                assert shown.group(1) == f"{value * 100:+.1f} pp"
            else:
                assert shown.group(1) == f"{value:+.1%}"


def test_a_year_earlier_is_the_same_days_counted_again(demo_store: Store, as_role: Callable[[str], TestClient]) -> None:
    """The last-year column against a count made straight from the warehouse over the same store-local days."""
    from tests.conftest import fetch

    compared = as_role("analyst").get("/api/v1/kpis/compare").json()
    windows = {w["window"]: w for w in compared["windows"]}
    first, last = (date.fromisoformat(windows["last_year"][k]) for k in ("first_day", "last_day"))
    assert (first.month, first.day) == (date.fromisoformat(windows["current"]["first_day"]).month, 1)
    [(orders,)] = fetch(
        demo_store.home,
        "SELECT count(*) FROM orders WHERE CAST(ordered_at AS DATE) BETWEEN ? AND ?",  # the demo store is on UTC
        [first, last],
    )
    [change] = [c for c in compared["changes"] if c["kpi"] == "orders"]
    assert change["last_year"] == orders
    assert change["change_vs_last_year"] == pytest.approx(change["current"] / orders - 1, abs=1e-6)


def test_a_table_sorts_by_any_column_and_downloads_the_apis_values(owner: TestClient, store_app: FastAPI) -> None:
    api_products = owner.get("/api/v1/products").json()["top_products"][:10]
    page = owner.get("/products", params={"table": "top-products", "sort": "units", "order": "desc"}).text
    assert re.search(r'<th[^>]*aria-sort="descending"[^>]*data-column="units"', page)
    assert table_columns(page, "top-products")[2] == "units"
    shown_units = [int(row[2]) for row in table_values(page, "top-products")]
    assert shown_units == sorted((p["units"] for p in api_products), reverse=True)
    assert [row[2] for row in table_texts(page, "top-products")] == [f"{u:,}" for u in shown_units]
    download = owner.get("/products", params={"csv": "top-products"})
    assert download.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(download.text)))
    assert rows[0] == [header(c) for c in ["name", "category", "units", "customers", "revenue", "abc_class"]]
    assert [float(r[4]) for r in rows[1:]] == [float(p["revenue"]) for p in api_products]
    assert owner.get("/products", params={"csv": "nothing-here"}).text.count("has no table") == 1
