"""The Cohorts page and the cohort filters of the API and the command line, on the shared web demo store."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

from fastapi.testclient import TestClient
from markupsafe import escape
from tests.conftest import run_cli
from tests.web.conftest import Store

from shoplens.reports import NumberStyle
from shoplens.web._cohort_table import cohort_grid

UNKNOWN_PRODUCT_NOTE = "No customer matches: no customer's first order contains product 'NO-SUCH-PRODUCT'."


def table_of(page: str, measure: str) -> str:
    found = re.search(rf'<table class="cohorts" id="cohort-{measure}".*?</table>', page, re.S)
    assert found is not None, measure
    return found.group(0)


def test_the_cohorts_page_writes_the_apis_percentages_and_leaves_period_0_uncoloured(
    as_role: Callable[[str], TestClient],
) -> None:
    client = as_role("analyst")
    answer = client.get("/api/v1/cohorts", params={"channel": "organic"})
    assert answer.status_code == 200, answer.text
    rows = answer.json()["rows"]
    assert rows
    assert answer.json()["note"] is None
    page = client.get("/cohorts", params={"channel": "organic"}).text
    retention = table_of(page, "retention")
    assert "<caption>The share of each cohort&#39;s customers who ordered in each month" in retention
    assert '<th scope="col">Cohort</th><th scope="col" class="num">Customers</th>' in retention
    assert '<th scope="col" class="num">Month of first order</th><th scope="col" class="num">Month 1</th>' in retention
    lines = re.findall(r"<tr><th scope=\"row\">([^<]+)</th>(.*?)</tr>", retention, re.S)
    cohorts = sorted({r["cohort"] for r in rows})
    assert [label for label, _ in lines] == [f"{date.fromisoformat(c):%b %Y}" for c in cohorts]
    for (_, cells), cohort in zip(lines, cohorts, strict=True):
        ours = [r for r in rows if r["cohort"] == cohort]
        assert f'data-size="{ours[0]["cohort_customers"]}"' in cells
        shown = re.findall(r'<td class="num[^"]*" data-period="(\d+)"( style="[^"]*")?>([^<]*)</td>', cells)
        assert [int(period) for period, _, _ in shown] == [r["period_index"] for r in ours]
        for (period, style, text), row in zip(shown, ours, strict=True):
            assert text == f"{row['retention'] * 100:.1f}%"
            if period == "0":
                assert text == "100.0%"
                assert style == "", "period 0 is written out but not coloured"
    best = max(r["retention"] for r in rows if r["period_index"] >= 1)
    assert best > 0, "some customers come back after period 0"
    strongest = re.findall(r'style="background-color: rgba\(30, 64, 175, 0.850\); color: #fff">([^<]+)<', retention)
    assert set(strongest) == {f"{best * 100:.1f}%"}, "the highest retention after period 0 is the darkest"
    cumulative = table_of(page, "cumulative_revenue_per_customer")
    last = rows[-1]
    assert f">{NumberStyle().money(last['cumulative_revenue_per_customer'])}</td>" in cumulative
    revenue = table_of(page, "revenue_retention")
    assert "<caption>Each month&#39;s revenue from the cohort as a share of its revenue" in revenue
    assert 'name="channel" value="organic"' in page


def test_the_filters_reach_the_api_and_the_page_and_change_the_answer(
    as_role: Callable[[str], TestClient],
) -> None:
    client = as_role("analyst")
    everyone = client.get("/api/v1/cohorts").json()["rows"]
    filtered = client.get("/api/v1/cohorts", params={"country": "HK", "discount_code": "welcome10"}).json()
    assert (filtered["query"]["country"], filtered["query"]["discount_code"]) == ("HK", "welcome10")
    size = sum(r["cohort_customers"] for r in filtered["rows"] if r["period_index"] == 0)
    all_sizes = sum(r["cohort_customers"] for r in everyone if r["period_index"] == 0)
    assert 0 < size < all_sizes, "a filtered answer is not the cached unfiltered one"
    blank = client.get("/api/v1/cohorts", params={"country": "", "first_product": " "}).json()
    assert blank["rows"] == everyone, "an empty filter is no filter"
    assert client.get("/api/v1/cohorts", params={"country": "x" * 201}).status_code == 422


def test_a_product_nobody_bought_first_gives_the_same_note_everywhere(
    as_role: Callable[[str], TestClient], demo_store: Store
) -> None:
    client = as_role("analyst")
    answer = client.get("/api/v1/cohorts", params={"first_product": "NO-SUCH-PRODUCT"})
    assert answer.status_code == 200
    assert (answer.json()["rows"], answer.json()["note"]) == ([], UNKNOWN_PRODUCT_NOTE)
    page = client.get("/cohorts", params={"first_product": "NO-SUCH-PRODUCT"}).text
    assert f'<p class="error" id="cohort-note" role="status">{escape(UNKNOWN_PRODUCT_NOTE)}</p>' in page
    assert 'class="cohorts"' not in page
    cli = run_cli(demo_store.home, "cohorts", "--first-product", "NO-SUCH-PRODUCT", "--json")
    assert cli.exit_code == 0, cli.stderr
    assert (cli.json()["rows"], cli.json()["note"]) == ([], UNKNOWN_PRODUCT_NOTE)
    plain = run_cli(demo_store.home, "cohorts", "--first-product", "NO-SUCH-PRODUCT")
    assert " ".join(plain.stdout.split()) == UNKNOWN_PRODUCT_NOTE
    helped = run_cli(demo_store.home, "cohorts", "--help")
    for option in ("--first-product", "--first-category", "--discount-code", "--channel", "--country"):
        assert option in helped.stdout


def _luminance(red: float, green: float, blue: float) -> float:
    channels = [c / 255 for c in (red, green, blue)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def test_every_shaded_cohort_cell_keeps_its_text_readable() -> None:
    """WCAG 2's contrast (https://www.w3.org/TR/WCAG21/#dfn-contrast-ratio) of each cell's text on its colour over
    the white table is at least 4.5:1, across the whole scale from the lowest value to the highest."""
    rows = [
        {"cohort": date(2025, 1, 1), "period_index": period, "cohort_customers": 100, "retention": period / 100}
        for period in range(101)
    ]
    grid = cohort_grid(rows, "month", "retention", "Retention", "", NumberStyle())
    styles = [cell.style for cell in grid.lines[0].cells[1:]]
    assert len(styles) == 100
    ratios = []
    for style in styles:
        found = re.fullmatch(r"background-color: rgba\((\d+), (\d+), (\d+), ([0-9.]+)\); color: (#fff|#000)", style)
        assert found, style
        red, green, blue, opacity = (float(found.group(i)) for i in range(1, 5))
        background = _luminance(*(255 - opacity * (255 - c) for c in (red, green, blue)))
        ink = 1.0 if found.group(5) == "#fff" else 0.0
        lighter, darker = max(background, ink), min(background, ink)
        ratios.append((lighter + 0.05) / (darker + 0.05))
    assert min(ratios) >= 4.5, f"the lowest contrast is {min(ratios):.2f}:1"
    assert {style.rsplit(" ", 1)[1] for style in styles} == {"#fff", "#000"}, "light cells dark ink, dark cells white"
