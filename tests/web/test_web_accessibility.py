"""Every dashboard page checked by axe-core in a real headless Chromium, photographed at a desktop's and a phone's
width, and walked with the keyboard.

axe-core comes from npm (``make test-deps`` puts it under ``.test-deps/``) and is read from that file: the pages'
CSP forbids scripts, so the checker is evaluated in the page by the test, and nothing is fetched from the network.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Error as PlaywrightError
from tests.web.conftest import Store
from tests.web.test_web_e2e import ARTIFACTS, _log_in, server

from shoplens.web._pages import NAVIGATION

__all__ = ["server"]  # the module-scoped server fixture of the e2e tests, started once for this module too

pytestmark = pytest.mark.e2e

AXE = Path(__file__).resolve().parents[2] / ".test-deps" / "node_modules" / "axe-core" / "axe.min.js"
# what a screen-reader or keyboard user cannot get past; "moderate" and "minor" findings are printed, not failed
BLOCKING = ("serious", "critical")
WIDTHS = (1400, 390)
COMPUTE_SECONDS = 240


@pytest.fixture(scope="module")
def axe_source() -> str:
    if not AXE.is_file():
        pytest.fail(f"axe-core is missing at {AXE}: run `make test-deps` (npm installs it there)")
    return AXE.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def owner_page(browser: Any, server: str, demo_store: Store) -> Iterator[Any]:
    page = _log_in(browser, server, demo_store.email("owner"), width=WIDTHS[0])
    yield page
    page.context.close()


def _pages(server: str, demo_store: Store) -> dict[str, str]:
    """Name → path of every page an owner can open: the menu, a customer's page and a segment's drill-down."""
    token = demo_store.tokens["owner"]
    customers = httpx.get(
        f"{server}/api/v1/customers", params={"limit": 1}, headers={"Authorization": f"Bearer {token}"}
    ).json()["customers"]
    pages = {(path.strip("/") or "overview"): path for path, _label, _roles in NAVIGATION}
    pages["customer"] = f"/customers/{customers[0]['customer_key']}"
    pages["customers-champions"] = "/customers?segment=Champions"
    return pages


def _open(page: Any, url: str) -> None:
    """Go to ``url`` and wait for its answer: a page still computing (or following a running job) reloads itself
    every 2 s, and is opened again until it no longer does, so that nothing reloads under the checker."""
    deadline = time.monotonic() + COMPUTE_SECONDS
    while True:
        try:
            answer = page.goto(url) or page.reload()  # going to the address already shown answers nothing
        except PlaywrightError as aborted:  # the previous page's own reload came first
            if "ERR_ABORTED" not in str(aborted) or time.monotonic() > deadline:
                raise
            continue
        assert answer.status == 200, f"{url} answers {answer.status}"
        if page.locator("meta[http-equiv=refresh]").count() == 0:
            return
        assert time.monotonic() < deadline, f"{url} was still computing after {COMPUTE_SECONDS} s"
        page.wait_for_timeout(1000)


def _violations(page: Any, axe_source: str) -> list[dict[str, Any]]:
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(axe_source)
    found: list[dict[str, Any]] = page.evaluate(
        """async () => {
            const result = await axe.run(document, {resultTypes: ["violations"]});
            return result.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => n.target.join(" ")).slice(0, 5), count: v.nodes.length,
            }));
        }"""
    )
    return found


# every chart says in words what it shows: the SVG itself, or the figure or role="img" box around it, has a name
UNNAMED_CHARTS = """() => [...document.querySelectorAll("main svg")].filter(svg => {
    const named = e => e && ((e.getAttribute("aria-label") || "").trim() || e.getAttribute("aria-labelledby"));
    const figure = svg.closest("figure");
    const caption = figure && figure.querySelector("figcaption");
    return !(named(svg) && svg.getAttribute("role") === "img") && !named(svg.closest("[role=img]"))
        && !(caption && caption.textContent.trim());
}).length"""


def _summary(name: str, violations: list[dict[str, Any]]) -> str:
    blocking = sum(v["count"] for v in violations if v["impact"] in BLOCKING)
    other = sum(v["count"] for v in violations if v["impact"] not in BLOCKING)
    rules = ", ".join(f"{v['id']}({v['impact']}, {v['count']})" for v in violations) or "-"
    return f"{name:<22} serious/critical {blocking:>3}  other {other:>3}  {rules}"


def test_every_page_passes_axe_and_fits_a_phone(
    axe_source: str, browser: Any, server: str, demo_store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    pages = {"login": "/login", **_pages(server, demo_store)}
    ARTIFACTS.mkdir(exist_ok=True)
    anonymous = browser.new_context(viewport={"width": WIDTHS[0], "height": 900})
    owner = _log_in(browser, server, demo_store.email("owner"), width=WIDTHS[0])
    lines, failing, too_wide, unnamed = [], {}, {}, {}
    try:
        for name, path in pages.items():
            page = anonymous.new_page() if name == "login" else owner
            started = time.monotonic()
            _open(page, f"{server}{path}")
            opened = time.monotonic() - started
            for width in WIDTHS:
                page.set_viewport_size({"width": width, "height": 900})
                page.screenshot(path=str(ARTIFACTS / f"{name}-{width}.png"), full_page=True)
            scroll_width = page.evaluate("document.documentElement.scrollWidth")
            if scroll_width > WIDTHS[1] + 1:
                too_wide[name] = scroll_width
            page.set_viewport_size({"width": WIDTHS[0], "height": 900})
            violations = _violations(page, axe_source)
            notes = f"  {WIDTHS[1]} px: {scroll_width} px wide" if name in too_wide else ""
            if charts := page.evaluate(UNNAMED_CHARTS):
                unnamed[name] = charts
                notes += f"  charts without a text alternative: {charts}"
            checked = time.monotonic() - started - opened
            lines.append(f"{_summary(name, violations)}{notes}  (opened in {opened:.1f} s, checked in {checked:.1f} s)")
            blocking = [v for v in violations if v["impact"] in BLOCKING]
            if blocking:
                failing[name] = [(v["id"], v["help"], v["nodes"]) for v in blocking]
    finally:
        owner.context.close()
        anonymous.close()
    with capsys.disabled():
        print("\naxe-core on every page (violations by impact):\n" + "\n".join(lines))
    assert not failing, f"serious or critical accessibility violations: {failing}"
    assert not unnamed, f"charts without a text alternative, by page: {unnamed}"
    assert not too_wide, f"pages that scroll sideways at {WIDTHS[1]} px (their scrollWidth): {too_wide}"


def test_the_keyboard_reaches_the_menu_the_filters_and_a_sort_link_in_order_with_visible_focus(
    owner_page: Any, server: str
) -> None:
    _open(owner_page, f"{server}/")
    menu = [path for path, _label, _roles in NAVIGATION]
    filters = owner_page.locator("form.filters input:visible, form.filters select:visible, form.filters button")
    filter_names = filters.evaluate_all("els => els.map(e => e.name || e.textContent.trim())")
    assert filter_names, "the overview has filter controls"
    first_sort = owner_page.locator("main table th a").first.get_attribute("href")

    reached: list[dict[str, Any]] = []
    for _ in range(80):
        owner_page.keyboard.press("Tab")
        focused = owner_page.evaluate(
            """() => {
                const e = document.activeElement, style = getComputedStyle(e);
                return {tag: e.tagName.toLowerCase(), href: e.getAttribute("href"),
                        name: e.name || e.textContent.trim(), inMenu: !!e.closest("header nav"),
                        inFilters: !!e.closest("form.filters"), inTableHead: !!e.closest("main table th"),
                        outline: style.outlineStyle, outlineWidth: parseFloat(style.outlineWidth)};
            }"""
        )
        # "auto" is the browser's own thin ring, which the page's colours may hide
        assert focused["outline"] not in {"none", "auto"}, f"the focused element has a visible outline: {focused}"
        assert focused["outlineWidth"] >= 2, f"the focus outline is at least 2 px wide: {focused}"
        if reached and focused == reached[-1]:
            continue  # Tab moved between the day, month and year of a date field
        reached.append(focused)
        if focused["inTableHead"]:
            break
    menu_reached = [f["href"] for f in reached if f["inMenu"]]
    assert menu_reached == menu, "Tab goes through the whole menu in its order"
    filters_reached = [f["name"] for f in reached if f["inFilters"]]
    assert filters_reached == filter_names, "then through every filter control in order"
    first = [next(i for i, f in enumerate(reached) if f[part]) for part in ("inMenu", "inFilters", "inTableHead")]
    last_of_menu = max(i for i, f in enumerate(reached) if f["inMenu"])
    assert first == sorted(first), "the menu comes first, then the filters, then the table"
    assert last_of_menu < first[1], "the whole menu before the filters"
    assert reached[-1]["href"] == first_sort, "the first sort link of the first table is reached"
