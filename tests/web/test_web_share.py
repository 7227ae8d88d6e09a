"""Sharing over the web: every role downloads the k-anonymous package, each download is one audit entry."""

from __future__ import annotations

import io
import json
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pytest
from fastapi.testclient import TestClient
from tests.web.conftest import Store

from shoplens.appdb import ApiToken, AppDatabase
from shoplens.config import Settings
from shoplens.privacy import recent_audit, verify_audit
from shoplens.reports import _share as share_module
from shoplens.web import _dashboard, create_app

FILES = {
    "funnel_dropoffs.csv",
    "segment_preferences.csv",
    "product_affinity.csv",
    "response_times.csv",
    "data_dictionary.md",
    "manifest.json",
}


def _token_id(store: Store, role: str) -> str:
    database = AppDatabase(Settings(home=store.home).app_database_url)
    with database.session() as session:
        ids = [t.token_id for t in session.query(ApiToken).all() if t.role == role]
    database.close()
    assert len(ids) == 1
    return ids[0]


def test_a_vendor_downloads_the_package_and_the_audit_log_says_so(
    as_role: Callable[[str], TestClient], demo_store: Store, cli: Callable[..., Any]
) -> None:
    answer = as_role("vendor").get("/api/v1/share/package", params={"format": "csv"})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(answer.content))
    assert set(archive.namelist()) == FILES
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["k"] == 10

    exported = cli(
        "share", "export", "--out", str(demo_store.home / "cli-share.zip"), "--json", home_dir=demo_store.home
    )
    assert exported.exit_code == 0, exported.stderr
    for name, counts in exported.json()["datasets"].items():
        summary = manifest["datasets"][name]
        assert (summary["rows"], summary["suppressed_cells"], summary["suppressed_people"]) == (
            counts["rows"],
            counts["suppressed_cells"],
            counts["suppressed_people"],
        ), f"the web's {name} is the command line's"

    settings = Settings(home=demo_store.home)
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        keys = {row[0] for row in con.execute("SELECT customer_key FROM customers").fetchall()}
        orders = {row[0] for row in con.execute("SELECT order_id FROM orders").fetchall()}
    text = "\n".join(archive.read(name).decode() for name in FILES if name.endswith(".csv"))
    cells = {cell.strip('"') for line in text.splitlines() for cell in line.split(",")}
    assert not cells & keys, "no customer key leaves the store"
    assert not cells & orders, "no order id leaves the store"

    database = AppDatabase(settings.app_database_url)
    entries = {e.id: e for e in recent_audit(database, limit=50)}
    verdict = verify_audit(database, secret=settings.store_secret())
    database.close()
    entry = entries[int(answer.headers["x-audit-entry"])]
    assert entry.action == "share.export"
    assert entry.actor == f"token:{_token_id(demo_store, 'vendor')}"
    assert entry.details["sha256"] == answer.headers["x-content-sha256"]
    assert entry.details["k"] == 10
    assert entry.details["via"] == "web"
    assert verdict.ok


def test_k_below_ten_is_refused_over_the_web(as_role: Callable[[str], TestClient]) -> None:
    refused = as_role("owner").get("/api/v1/share/package", params={"k": 5})
    assert refused.status_code == 422
    assert set(refused.json()) == {"error"}
    stricter = as_role("owner").get("/api/v1/share/package", params={"k": 50, "format": "parquet"})
    assert stricter.status_code == 200
    manifest = json.loads(zipfile.ZipFile(io.BytesIO(stricter.content)).read("manifest.json"))
    assert manifest["k"] == 50
    assert "segment_preferences.parquet" in zipfile.ZipFile(io.BytesIO(stricter.content)).namelist()


def test_the_sharing_page_lists_downloads_for_analysts_only(as_role: Callable[[str], TestClient]) -> None:
    download = as_role("analyst").get("/sharing/package", params={"format": "csv"})
    assert download.status_code == 200
    entry = download.headers["x-audit-entry"]
    owner_page = as_role("owner").get("/sharing").text
    assert f"<tr><td>{entry}</td>" in owner_page
    vendor_page = as_role("vendor").get("/sharing").text
    assert 'id="share-csv"' in vendor_page
    assert "Recent downloads" not in vendor_page
    assert 'href="/sharing"' in vendor_page


def test_a_package_that_takes_long_shows_a_waiting_page_then_downloads(
    own_store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = share_module.build_share_package

    def slow_build(context: Any, *, k: int, min_pair_support: float, withdrawn: tuple[str, ...]) -> Any:
        time.sleep(0.5)
        return real(context, k=k, min_pair_support=min_pair_support, withdrawn=withdrawn)

    monkeypatch.setattr(share_module, "build_share_package", slow_build)
    monkeypatch.setattr(_dashboard, "PAGE_WAIT_SECONDS", 0.05)
    token = "a-server-token-of-enough-length-0123456789"
    client = TestClient(
        create_app(Settings(home=own_store), api_token=token), headers={"Authorization": f"Bearer {token}"}
    )
    waiting = client.get("/sharing/package", params={"format": "csv"})
    assert waiting.headers["content-type"].startswith("text/html")
    assert "Computing the package to share (the download starts when it is ready)" in waiting.text
    assert '<meta http-equiv="refresh" content="2">' in waiting.text
    deadline = time.monotonic() + 30
    while (
        (answer := client.get("/sharing/package", params={"format": "csv"}))
        .headers["content-type"]
        .startswith("text/html")
    ):
        assert time.monotonic() < deadline, "the package is built within 30 seconds"
        time.sleep(0.2)
    assert answer.headers["content-type"] == "application/zip"
    assert set(zipfile.ZipFile(io.BytesIO(answer.content)).namelist()) == FILES
