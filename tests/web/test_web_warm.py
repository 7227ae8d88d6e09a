"""After an import the server computes the dashboard's answers in the background, so the next page is ready."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
from tests.web.conftest import Store, logged_in, table_values

from shoplens.config import Settings
from shoplens.queries import LifecycleQuery, QueryRunner, RecommendQuery, RfmQuery, RfmResult, StageQuery
from shoplens.web import WebSettings, _dashboard, create_app
from shoplens.web._warehouse import StoreReader


def _copy(store: Store, to: Path) -> Path:
    shutil.copytree(store.home, to, ignore=shutil.ignore_patterns("cache", "demo-export"))  # nothing computed yet
    return to


def test_the_first_visit_after_an_import_finds_its_page_computed(
    demo_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_dashboard, "PAGE_WAIT_SECONDS", 0.001)  # a page not ready at once says "computing"
    warm = create_app(Settings(home=_copy(demo_store, tmp_path / "warm")), web_settings=WebSettings(warm_pages=True))
    cold = create_app(Settings(home=_copy(demo_store, tmp_path / "cold")), web_settings=WebSettings(warm_pages=False))
    reader = warm.state.store
    version = reader.version()  # what the first request after the import does: it sees a new data version
    deadline = time.monotonic() + 240
    while "funnel" not in reader.warmed:
        assert time.monotonic() < deadline, f"the funnel is computed in the background (so far: {reader.warmed})"
        time.sleep(0.2)
    assert reader.warmed[:3] == ["kpis", "kpi_comparison", "funnel"], "the overview first, then the funnel"
    assert reader.version() == version
    page = logged_in(warm, demo_store, "analyst").get("/funnel").text
    reader.stop_warming()
    assert 'id="funnel-steps"' in page
    assert 'id="computing"' not in page
    client = logged_in(cold, demo_store, "analyst")
    unwarmed = client.get("/funnel").text
    assert 'id="computing"' in unwarmed, "without the warm-up the first visit starts the computation"
    while 'id="computing"' in unwarmed:  # and the page shows the same table once it is done
        assert time.monotonic() < deadline, "the funnel is computed on the first visit too"
        time.sleep(0.2)
        unwarmed = client.get("/funnel").text
    assert table_values(unwarmed, "funnel-steps") == table_values(page, "funnel-steps")


def test_each_segment_s_first_page_of_customers_is_warmed_after_the_dashboard_s_answers(
    demo_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_dashboard, "PAGE_WAIT_SECONDS", 0.001)  # a page not ready at once says "computing"
    settings = Settings(home=_copy(demo_store, tmp_path / "warm"))
    app = create_app(settings, web_settings=WebSettings(warm_pages=False))
    page_questions = (RfmQuery(), LifecycleQuery(), StageQuery(), RecommendQuery())  # what /customers asks
    reader = StoreReader(settings, warm=page_questions, warm_more=_dashboard.segment_pages)
    app.state.store = reader
    reader.version()
    assert reader.wait_warm(240)
    segments = [row.segment for row in QueryRunner.for_store(settings).run(RfmQuery(), RfmResult).segments]
    assert len(segments) >= 5
    assert reader.warmed == ["rfm", "lifecycle", "stage", "recommend"] + ["customers"] * len(segments)
    client = logged_in(app, demo_store, "analyst")
    for segment in (segments[0], segments[-1]):
        page = client.get("/customers", params={"segment": segment}).text
        assert 'id="computing"' not in page, segment
        assert f"Customers in “{segment}”" in page
