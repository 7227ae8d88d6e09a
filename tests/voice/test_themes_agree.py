"""One computation for every view: the command line, the API, the dashboard and the monthly report show the same
themes, counts and money at risk for the same store; and a source that does not exist is bad input."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from shoplens.config import Settings
from shoplens.queries import QueryRunner
from shoplens.reports import build_monthly_report
from shoplens.web import create_app

API_TOKEN = "test-api-token-of-some-length"
FIGURES = ("name", "polarity", "texts", "negative_share", "customers", "value_at_risk", "quotes")


def _figures(themes: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [tuple(theme[key] if key != "quotes" else tuple(theme[key]) for key in FIGURES) for theme in themes]


def test_report_cli_and_api_show_the_same_complaints(cli: Callable[..., Any], demo_copy: Path) -> None:
    needs = cli("voice", "needs", "--json", home_dir=demo_copy)
    themes = cli("voice", "themes", "--json", home_dir=demo_copy)
    assert needs.exit_code == 0, needs.stderr
    assert themes.exit_code == 0, themes.stderr
    from_needs = needs.json()["complaint_themes"]
    from_themes = [t for t in themes.json()["themes"] if t["polarity"] == "complaint"]
    assert from_needs, "the demo's reviews complain"
    assert sorted(_figures(from_needs)) == sorted(_figures(from_themes))

    report = build_monthly_report(QueryRunner.for_store(Settings(home=demo_copy)))
    assert report.hidden_needs is not None
    assert _figures(report.hidden_needs["complaint_themes"]) == _figures(from_needs)

    client = TestClient(create_app(Settings(home=demo_copy), api_token=API_TOKEN))
    headers = {"Authorization": f"Bearer {API_TOKEN}"}
    api_needs = client.get("/api/v1/voice/needs", headers=headers)
    api_themes = client.get("/api/v1/voice/themes", headers=headers)
    assert api_needs.status_code == 200, api_needs.text
    assert api_themes.status_code == 200, api_themes.text
    assert _figures(api_needs.json()["complaint_themes"]) == _figures(from_needs)
    assert _figures(api_themes.json()["themes"]) == _figures(themes.json()["themes"])


def test_an_unknown_source_is_bad_input_naming_the_sources(cli: Callable[..., Any], demo_copy: Path) -> None:
    result = cli("voice", "themes", "--source", "nope", "--json", home_dir=demo_copy)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.strip() == "error: no feedback text from source 'nope'; the sources are review"


def test_progress_goes_to_stderr_and_json_alone_to_stdout(cli: Callable[..., Any], demo_copy: Path) -> None:
    result = cli("voice", "themes", "--method", "keywords", "--json", home_dir=demo_copy)
    assert result.exit_code == 0, result.stderr
    document = result.json()
    steps = result.stderr.splitlines()
    assert f"voice themes: sentiment of {document['texts']:,} texts" in steps
    assert any(s.startswith("voice themes: grouping ") and s.endswith(" by keywords") for s in steps)
