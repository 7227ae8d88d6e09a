"""The monthly report: the PDF's KPI figures are the API's, for the CLI and the dashboard download alike."""

from __future__ import annotations

import html
import re
import shutil
import subprocess
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.web.conftest import Store

from shoplens.reports._monthly import SLIPPING_SEGMENTS

MONTH = "2025-06"


def _pdf_text(pdf: Path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.fail("pdftotext is needed (apt-get install poppler-utils)")
    return subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True).stdout


def _kpi_line(text: str, label: str) -> list[str]:
    line = next(line for line in text.splitlines() if line.strip().startswith(label))
    return line.removeprefix(line[: line.index(label) + len(label)]).split()


def test_pdf_report_shows_the_apis_kpis(
    cli: Callable[..., Any], demo_store: Store, as_role: Callable[[str], TestClient], tmp_path: Path
) -> None:
    out = tmp_path / "report.pdf"
    made = cli("report", "--month", MONTH, "--format", "pdf", "--out", str(out), "--json", home_dir=demo_store.home)
    assert made.exit_code == 0, made.stderr
    made_json = made.json()
    assert {k: made_json[k] for k in ("month", "format", "path", "partial", "chosen")} == {
        "month": MONTH,
        "format": "pdf",
        "path": str(out),
        "partial": False,  # a month asked for by name, complete
        "chosen": None,
    }
    text = _pdf_text(out)
    rows = as_role("analyst").get("/api/v1/kpis", params={"start": "2025-05-01", "end": "2025-06-30"}).json()["rows"]
    previous, current = rows
    revenue = [Decimal(v.removeprefix("$").replace(",", "")) for v in _kpi_line(text, "Revenue")]
    assert all(v.startswith("$") for v in _kpi_line(text, "Revenue")), "money in the store's currency"
    assert revenue == [Decimal(current["revenue"]), Decimal(previous["revenue"])]
    assert _kpi_line(text, "Orders") == [str(current["orders"]), str(previous["orders"])]
    assert _kpi_line(text, "New customers") == [str(current["new_customers"]), str(previous["new_customers"])]
    assert "Champions" in text


def test_the_dashboard_offers_the_report_but_not_to_vendors(as_role: Callable[[str], TestClient]) -> None:
    pdf = as_role("owner").get("/reports/monthly", params={"month": MONTH, "format": "pdf"})
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    html = as_role("owner").get("/reports/monthly", params={"month": MONTH})
    assert "Online customer report — June 2025" in html.text
    assert as_role("vendor").get("/reports/monthly").status_code == 403
    assert as_role("owner").get("/reports/monthly", params={"month": "June"}).status_code == 422


def test_the_report_shows_hidden_needs_and_next_steps_read_off_its_numbers(
    as_role: Callable[[str], TestClient],
) -> None:
    client = as_role("owner")
    report = client.get("/reports/monthly", params={"month": MONTH}).text
    needs = client.get("/api/v1/voice/needs").json()  # the report asks the default question
    complaints = re.search(r'<table id="complaints">.*?</table>', report, re.S)
    assert complaints is not None
    assert re.findall(r"<tr><td>([^<]+)</td>", complaints.group(0)) == [
        html.escape(t["name"]) for t in needs["complaint_themes"]
    ]
    steps = re.findall(r"<li>(.*?)</li>", re.search(r'<ol id="next-steps">.*?</ol>', report, re.S).group(0), re.S)  # type: ignore[union-attr]
    segments = client.get("/api/v1/rfm", params={"as_of": "2025-06-30"}).json()["segments"]
    slipping = [s for s in segments if s["segment"] in SLIPPING_SEGMENTS and s["customers"]]
    worst = max(slipping, key=lambda s: Decimal(str(s["revenue"])))
    assert steps[0].startswith(html.escape(f"{worst['segment']}: {worst['customers']} customers who brought"))
    top = needs["complaint_themes"][0]
    assert html.escape(f"“{top['name']}” ({top['texts']} texts from {top['customers']} customers") in steps[1]


def test_the_report_lists_the_top_recommendations_of_the_api(as_role: Callable[[str], TestClient]) -> None:
    client = as_role("owner")
    report = client.get("/reports/monthly", params={"month": MONTH}).text
    advice = client.get("/api/v1/recommendations").json()["recommendations"][:5]
    listed = re.search(r'<ol id="recommendations">.*?</ol>', report, re.S)
    assert listed is not None
    titles = re.findall(r"<li><strong>(.*?)</strong>", listed.group(0))
    assert [html.unescape(t) for t in titles] == [r["title"] for r in advice]
