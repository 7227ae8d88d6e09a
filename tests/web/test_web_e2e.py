"""End to end in a real headless Chromium against ``shoplens serve`` on a demo store.

Needs Debian's ``chromium`` at /usr/bin/chromium and the ``playwright`` Python package (its own browser
download is never used). Screenshots go to ``test-artifacts/`` for people to look at.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from tests.web.conftest import PASSWORD, Store, serving

from shoplens.reports import NumberStyle

pytestmark = pytest.mark.e2e

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(scope="module")
def server(demo_store: Store) -> Iterator[str]:
    """``shoplens serve`` on a free localhost port, until the module's tests are done."""
    with serving(demo_store.home) as url:
        yield url


def _log_in(browser: object, server: str, email: str, *, width: int = 1280) -> object:
    context = browser.new_context(viewport={"width": width, "height": 900})  # type: ignore[attr-defined]
    page = context.new_page()
    page.goto(f"{server}/")
    assert page.url.endswith("/login"), "without a session the dashboard sends people to the login page"
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{server}/")
    return page


def _shot(page: object, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]


def test_overview_shows_the_apis_kpis_and_filters_by_date(browser: object, server: str, demo_store: Store) -> None:
    page = _log_in(browser, server, demo_store.email("analyst"))
    page.wait_for_selector("#kpi-table", timeout=120_000)  # type: ignore[attr-defined]  # a computing page reloads
    token = demo_store.tokens["analyst"]
    api = httpx.get(f"{server}/api/v1/kpis", headers={"Authorization": f"Bearer {token}"}).json()["rows"]
    cells = page.locator("#kpi-table td[data-kpi=revenue]")  # type: ignore[attr-defined]
    assert cells.evaluate_all("cells => cells.map(c => c.dataset.value)") == [row["revenue"] for row in api]
    assert cells.all_inner_texts() == [NumberStyle().money(Decimal(row["revenue"])) for row in api]
    latest = page.locator(".card[data-kpi=orders] .value").inner_text()  # type: ignore[attr-defined]
    assert latest == f"{api[-1]['orders']:,}"
    compared = httpx.get(f"{server}/api/v1/kpis/compare", headers={"Authorization": f"Bearer {token}"}).json()
    [revenue] = [c for c in compared["changes"] if c["kpi"] == "revenue"]
    delta = page.locator(".card[data-kpi=revenue] [data-against=change_vs_previous]").inner_text()  # type: ignore[attr-defined]
    assert f"{revenue['change_vs_previous']:+.1%}" in delta
    _shot(page, "overview")

    page.fill("input[name=start]", "2025-01-01")  # type: ignore[attr-defined]
    page.fill("input[name=end]", "2025-03-31")  # type: ignore[attr-defined]
    page.click("form.filters button[type=submit]")  # type: ignore[attr-defined]
    page.wait_for_url(re.compile(r".*start=2025-01-01.*"))  # type: ignore[attr-defined]
    page.wait_for_selector("#kpi-table", timeout=120_000)  # type: ignore[attr-defined]
    periods = page.locator("#kpi-table tr[data-period]").evaluate_all(  # type: ignore[attr-defined]
        "rows => rows.map(r => r.dataset.period)"
    )
    assert periods == ["2025-01-01", "2025-02-01", "2025-03-01"]
    _shot(page, "overview-filtered")


def test_drill_down_from_a_segment_and_phone_width(browser: object, server: str, demo_store: Store) -> None:
    page = _log_in(browser, server, demo_store.email("marketer"), width=390)
    page.click("header a[href='/customers']")  # type: ignore[attr-defined]
    page.click("a[data-segment='Champions']")  # type: ignore[attr-defined]
    page.wait_for_selector("#segment-customers")  # type: ignore[attr-defined]
    keys = page.locator("#segment-customers code").all_inner_texts()  # type: ignore[attr-defined]
    token = demo_store.tokens["marketer"]
    api = httpx.get(
        f"{server}/api/v1/customers",
        params={"segment": "Champions", "limit": 50},
        headers={"Authorization": f"Bearer {token}"},
    ).json()
    assert keys == [c["customer_key"] for c in api["customers"]]
    overflow = page.evaluate("document.documentElement.scrollWidth > window.innerWidth")  # type: ignore[attr-defined]
    assert not overflow, "the page fits a phone's width (wide tables scroll inside their box)"
    _shot(page, "customers-champions-phone")


def test_a_vendor_cannot_reach_customer_level_pages(browser: object, server: str, demo_store: Store) -> None:
    page = _log_in(browser, server, demo_store.email("vendor"))
    assert page.locator("header a[href='/customers']").count() == 0  # type: ignore[attr-defined]
    answer = page.goto(f"{server}/customers?segment=Champions")  # type: ignore[attr-defined]
    assert answer.status == 403
    assert "c_" not in page.content()  # type: ignore[attr-defined]
    api = page.request.get(f"{server}/api/v1/customers")  # type: ignore[attr-defined]
    assert api.status == 403, "the session cookie does not open the customer API to a vendor"
    _shot(page, "vendor-denied")


def test_every_main_page_from_the_menu_and_the_pdf_report_download(
    browser: object, server: str, demo_store: Store, tmp_path: Path
) -> None:
    page = _log_in(browser, server, demo_store.email("owner"))
    menu = page.locator("header nav a").evaluate_all("links => links.map(a => a.getAttribute('href'))")  # type: ignore[attr-defined]
    assert menu == [
        "/",
        "/funnel",
        "/products",
        "/customers",
        "/cohorts",
        "/behaviour",
        "/segment-shifts",
        "/voice",
        "/clv",
        "/acquisition",
        "/market",
        "/service",
        "/suppliers",
        "/guard",
        "/surveys",
        "/sharing",
        "/import",
        "/jobs",
        "/settings",
    ]
    for path in menu:
        page.click(f"header nav a[href='{path}']")  # type: ignore[attr-defined]
        page.wait_for_load_state()  # type: ignore[attr-defined]
        assert page.locator("h1").count() == 1, f"{path} has its heading"  # type: ignore[attr-defined]
        assert page.locator(f"header nav a[href='{path}'][aria-current=page]").count() == 1  # type: ignore[attr-defined]
        assert page.locator(".error").count() == 0, f"{path} shows no error"  # type: ignore[attr-defined]
        _shot(page, "page-" + (path.strip("/") or "overview"))
    token = demo_store.tokens["owner"]
    stage = httpx.get(f"{server}/api/v1/stage", headers={"Authorization": f"Bearer {token}"}).json()
    page.click("header nav a[href='/customers']")  # type: ignore[attr-defined]
    assert page.locator("#stage").inner_text() == stage["stage"]  # type: ignore[attr-defined]
    assert page.locator("#next-stage-needs li").all_inner_texts() == stage["next_stage_needs"]  # type: ignore[attr-defined]

    page.click("header nav a[href='/']")  # type: ignore[attr-defined]
    # The report is computed on request; while its hidden needs are still being mined the link opens the page that
    # reloads itself every 2 s until the PDF comes: give a busy machine time for a cold themes run.
    with page.expect_download(timeout=300_000) as waiting:  # type: ignore[attr-defined]
        page.click("a[href='/reports/monthly?format=pdf']")  # type: ignore[attr-defined]
    download = waiting.value
    saved = tmp_path / download.suggested_filename
    download.save_as(str(saved))
    month = re.fullmatch(r"shoplens-report-(\d{4}-\d{2})\.pdf", download.suggested_filename)
    assert month is not None, download.suggested_filename
    text = subprocess.run(["pdftotext", "-layout", str(saved), "-"], check=True, capture_output=True, text=True).stdout
    rows = httpx.get(
        f"{server}/api/v1/kpis", params={"grain": "month"}, headers={"Authorization": f"Bearer {token}"}
    ).json()["rows"]
    current = next(row for row in rows if str(row["period"]).startswith(month.group(1)))
    revenue_line = next(line for line in text.splitlines() if line.strip().startswith("Revenue"))
    assert f"{Decimal(current['revenue']):,.2f}" in revenue_line
    assert "Hidden needs" in text
    assert "What to do next" in text
    assert "Recommendations (as of" in text
