"""The Import page: uploads streamed to disk, the detected profile and preview, the import as a background job, its
summary (the same as `shoplens import --json` of the same file), the quarantine download and idempotence."""

from __future__ import annotations

import asyncio
import csv
import html
import io
import json
import os
import re
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from tests.conftest import FIXTURES, fetch, run_cli
from tests.web.conftest import PASSWORD, serving

from shoplens.appdb import AppDatabase, recent_jobs
from shoplens.config import Settings
from shoplens.web import WebSettings, _imports, add_user, create_app

SHOPIFY = FIXTURES / "shopify_orders.csv"
WOOCOMMERCE = FIXTURES / "woocommerce_orders.csv"
IMPORT_SECONDS = 180
# every number of the summary but the time it took
COMPARED = [key for key, _ in _imports.SUMMARY_FIELDS if key != "seconds"]


def fresh_store(home: Path) -> Path:
    """An empty store with an owner, an analyst and a vendor."""
    settings = Settings(home=home)
    settings.ensure_home()
    database = AppDatabase(settings.app_database_url)
    for role in ("owner", "analyst", "vendor"):
        add_user(database, f"{role}@shop.example", PASSWORD, role)
    database.close()
    return home


def sign_in(app: FastAPI, role: str) -> TestClient:
    client = TestClient(app)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
    assert token
    data = {"email": f"{role}@shop.example", "password": PASSWORD, "csrf_token": token.group(1)}
    assert client.post("/login", data=data, follow_redirects=False).status_code == 303
    return client


def csrf_of(client: TestClient) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/import").text)
    assert found
    return found.group(1)


def upload(client: TestClient, files: list[tuple[str, bytes]], profile: str = "") -> httpx.Response:
    parts = [("files", (name, data, "application/octet-stream")) for name, data in files]
    return client.post(
        "/import", data={"csrf_token": csrf_of(client), "profile": profile}, files=parts, follow_redirects=False
    )


def uploaded(client: TestClient, files: list[tuple[str, bytes]], profile: str = "") -> str:
    answer = upload(client, files, profile)
    assert answer.status_code == 303, one_line_error(answer.text)
    location = answer.headers["location"]
    assert re.fullmatch(r"/import/upl-[0-9a-f]{16}", location)
    return location


def one_line_error(page: str) -> str | None:
    found = re.search(r'<p class="error"[^>]*>([^<]*)</p>', page)
    return html.unescape(found.group(1)) if found else None


def unlabelled(html: str) -> list[str]:
    """The form controls of ``html`` (but hidden inputs) without a ``<label for>`` naming them."""
    controls = re.findall(r'<(?:input|select|textarea)\b(?![^>]*type="hidden")[^>]*>', html)
    labelled = set(re.findall(r'<label for="([^"]+)"', html))
    return [c for c in controls if (m := re.search(r'id="([^"]+)"', c)) is None or m.group(1) not in labelled]


def start_and_wait(client: TestClient, location: str) -> str:
    assert (
        client.post(f"{location}/start", data={"csrf_token": csrf_of(client)}, follow_redirects=False).status_code
        == 303
    )
    deadline = time.monotonic() + IMPORT_SECONDS
    while time.monotonic() < deadline:
        page = client.get(location).text
        if 'id="import-done"' in page or 'id="import-failed"' in page:
            return page
        assert "<progress" in page, "a running import shows its progress"
        assert 'http-equiv="refresh"' in page, "and the page reloads itself"
        time.sleep(0.5)
    raise AssertionError("the import did not finish")


def summary_on(page: str) -> dict[str, str]:
    return dict(re.findall(r'data-field="(\w+)">([^<]*)</td>', page))


def cli_import(home: Path, path: Path, *args: str) -> dict[str, Any]:
    result = run_cli(home, "import", str(path), *args, "--json")
    assert result.exit_code == 0, result.stderr
    document: dict[str, Any] = result.json()
    return document


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return fresh_store(tmp_path / "web-home")


@pytest.fixture
def app(store: Path) -> FastAPI:
    return create_app(Settings(home=store))


@pytest.mark.parametrize("export", [SHOPIFY, WOOCOMMERCE], ids=["shopify", "woocommerce"])
def test_the_pages_summary_is_what_the_command_line_prints_for_the_same_file(
    app: FastAPI, store: Path, tmp_path: Path, export: Path
) -> None:
    client = sign_in(app, "analyst")
    location = uploaded(client, [(export.name, export.read_bytes())])
    before = client.get(location).text
    expected = cli_import(tmp_path / "cli-home", export)
    assert f'data-profile="{expected["profile"]}"' in before, "the page detects the profile the command line does"
    page = start_and_wait(client, location)
    shown = summary_on(page)
    assert {key: shown[key] for key in COMPARED} == {key: str(expected[key]) for key in COMPARED}
    assert f"with the {expected['profile']} profile" in page
    kept = store / "uploads" / location.rsplit("/", 1)[1]
    assert not list(kept.glob("1-*")), "the uploaded export, personal data and all, is gone after the import"
    for table in ("orders", "order_lines", "customers"):
        assert fetch(store, f"SELECT count(*) FROM {table}") == fetch(
            tmp_path / "cli-home", f"SELECT count(*) FROM {table}"
        )


def test_the_preview_names_the_rows_the_import_quarantines(app: FastAPI, tmp_path: Path) -> None:
    client = sign_in(app, "owner")
    page = client.get(uploaded(client, [(SHOPIFY.name, SHOPIFY.read_bytes())])).text
    expected = cli_import(tmp_path / "cli-home", SHOPIFY)
    with Path(expected["quarantine_path"]).open(encoding="utf-8") as rows:
        quarantined = [(int(r["row"]), r["column"], r["reason"]) for r in csv.DictReader(rows)]
    shown = [
        (int(record), column, reason)
        for record, column, reason in re.findall(r'<li data-record="(\d+)">record \d+: ([^:]+): ([^<]+)</li>', page)
    ]
    assert shown == quarantined  # the file has fewer records than the preview shows: all of its faults
    assert "amy.chan@example.com" not in page, "personal columns are redacted in the preview"
    assert "Amy Chan" not in page
    upload_form = client.get("/import").text
    assert unlabelled(upload_form) == []
    assert 'id="import-files"' in upload_form


def _broken_woocommerce() -> bytes:
    """The WooCommerce fixture with a record of too many fields and a record whose item cost is no number."""
    lines = WOOCOMMERCE.read_text(encoding="utf-8").splitlines()
    header = next(csv.reader([lines[0]]))
    rows = list(csv.reader(io.StringIO("\n".join(lines[1:]))))
    rows[0][header.index("Item Cost")] = "twelve"
    rows[1] = [*rows[1], "surplus"]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode()


def test_a_malformed_files_quarantine_downloads_with_record_numbers_and_reasons(
    app: FastAPI, store: Path, tmp_path: Path
) -> None:
    broken = tmp_path / "broken_orders.csv"
    broken.write_bytes(_broken_woocommerce())
    client = sign_in(app, "analyst")
    location = uploaded(client, [(broken.name, broken.read_bytes())])
    page = start_and_wait(client, location)
    assert 'id="quarantine-download"' in page
    answer = client.get(f"{location}/quarantine")
    assert answer.status_code == 200
    assert answer.headers["content-disposition"].startswith('attachment; filename="quarantine-imp-')
    downloaded = [(int(r["row"]), r["column"], r["reason"]) for r in csv.DictReader(io.StringIO(answer.text))]
    expected = cli_import(tmp_path / "cli-home", broken)
    with Path(expected["quarantine_path"]).open(encoding="utf-8") as rows:
        from_cli = [(int(r["row"]), r["column"], r["reason"]) for r in csv.DictReader(rows)]
    assert downloaded == from_cli
    assert summary_on(page)["rows_quarantined"] == str(len(downloaded)) == str(expected["rows_quarantined"])
    assert (1, "Item Cost", "not a number") in downloaded
    assert any(record == 2 and reason == "too many fields" for record, _, reason in downloaded)
    database = AppDatabase(Settings(home=store).app_database_url)
    try:
        entries = [row for row in database.audit_rows() if row.action == "import.quarantine_download"]
    finally:
        database.close()
    assert [str(row.id) for row in entries] == [answer.headers["x-audit-entry"]]


def test_uploading_the_same_file_again_adds_no_rows_and_says_so(app: FastAPI, store: Path) -> None:
    client = sign_in(app, "owner")
    first = summary_on(start_and_wait(client, uploaded(client, [(SHOPIFY.name, SHOPIFY.read_bytes())])))
    counts = {t: fetch(store, f"SELECT count(*) FROM {t}") for t in ("orders", "order_lines", "customers", "refunds")}
    location = uploaded(client, [(SHOPIFY.name, SHOPIFY.read_bytes())])
    again = start_and_wait(client, location)
    assert client.post(f"{location}/start", data={"csrf_token": csrf_of(client)}).status_code == 200
    assert summary_on(client.get(location).text) == summary_on(again), "a second Start starts nothing"
    database = AppDatabase(Settings(home=store).app_database_url)
    try:
        assert [job.kind for job in recent_jobs(database)] == ["import", "import"], "one import per upload"
    finally:
        database.close()
    second = summary_on(again)
    assert {t: fetch(store, f"SELECT count(*) FROM {t}") for t in counts} == counts
    assert second["rows_loaded"] == "0"
    assert second["rows_duplicate"] == first["rows_loaded"]
    assert second["rows_quarantined"] == first["rows_quarantined"]
    assert f"Nothing new: all {first['rows_loaded']} valid rows were already in the warehouse" in again


def test_a_vendor_may_not_upload_import_or_download(app: FastAPI) -> None:
    owner = sign_in(app, "owner")
    location = uploaded(owner, [(SHOPIFY.name, SHOPIFY.read_bytes())])
    vendor = sign_in(app, "vendor")
    assert 'href="/import"' not in vendor.get("/").text, "the menu has no Import for a vendor"
    for method, path in (
        ("GET", "/import"),
        ("POST", "/import"),
        ("GET", location),
        ("POST", f"{location}/start"),
        ("POST", f"{location}/mapping"),
        ("GET", f"{location}/quarantine"),
    ):
        answer = vendor.request(method, path, files={"files": ("a.csv", b"x")} if method == "POST" else None)
        assert answer.status_code == 403, path
    assert len(list((Path(app.state.settings.home) / "uploads").iterdir())) == 1, "the vendor's upload is not kept"


def test_client_file_names_are_never_paths(app: FastAPI, store: Path) -> None:
    client = sign_in(app, "owner")
    location = uploaded(client, [("../../../outside/evil name.csv", SHOPIFY.read_bytes())])
    directory = store / "uploads" / location.rsplit("/", 1)[1]
    kept = sorted(p.name for p in directory.iterdir() if p.name != _imports.STATE)
    assert kept == ["1-evil-name.csv"]
    assert (directory / kept[0]).read_bytes() == SHOPIFY.read_bytes()
    assert oct((directory / kept[0]).stat().st_mode & 0o777) == "0o600"
    assert not (store.parent / "outside").exists()
    assert "evil name.csv" in client.get(location).text, "the page shows the name the file was given"

    refused = upload(client, [("report.exe", b"MZ")])
    assert refused.status_code == 200
    assert one_line_error(refused.text) == (
        "Not uploaded: report.exe: not a file the import reads; use .csv, .tsv, .txt, .parquet, .jsonl or "
        ".ndjson, each optionally .gz."
    )
    assert len(list((store / "uploads").iterdir())) == 1, "a refused upload leaves nothing behind"


def test_a_file_that_is_not_the_chosen_kind_gets_a_one_line_reason_and_no_start(app: FastAPI) -> None:
    client = sign_in(app, "owner")
    location = uploaded(client, [(WOOCOMMERCE.name, WOOCOMMERCE.read_bytes())], profile="shopify")
    page = client.get(location).text
    reason = one_line_error(page)
    assert reason is not None
    assert reason.startswith("woocommerce_orders.csv: ")
    assert "shopify" in reason
    assert "\n" not in reason
    assert "uploads" not in reason, "the server's paths are not shown"
    assert 'id="start-import"' not in page
    assert client.post(f"{location}/start", data={"csrf_token": csrf_of(client)}).status_code == 200
    assert "import-progress" not in client.get(location).text, "nothing was started"


def test_an_upload_not_imported_within_a_day_is_deleted_at_the_next_upload(app: FastAPI, store: Path) -> None:
    client = sign_in(app, "owner")
    old = store / "uploads" / uploaded(client, [(SHOPIFY.name, SHOPIFY.read_bytes())]).rsplit("/", 1)[1]
    recent = store / "uploads" / uploaded(client, [(SHOPIFY.name, SHOPIFY.read_bytes())]).rsplit("/", 1)[1]
    state = json.loads((old / _imports.STATE).read_text(encoding="utf-8"))
    state["created_at"] = (datetime.now(UTC) - timedelta(days=1, minutes=1)).isoformat()
    (old / _imports.STATE).write_text(json.dumps(state), encoding="utf-8")
    newest = store / "uploads" / uploaded(client, [(SHOPIFY.name, SHOPIFY.read_bytes())]).rsplit("/", 1)[1]
    assert sorted(p.name for p in (store / "uploads").iterdir()) == sorted([recent.name, newest.name])


def test_a_form_without_the_csrf_token_is_refused_and_nothing_kept(app: FastAPI, store: Path) -> None:
    client = sign_in(app, "owner")
    answer = client.post("/import", files={"files": (SHOPIFY.name, SHOPIFY.read_bytes())})
    assert one_line_error(answer.text) == (
        "Not uploaded: the form's CSRF token must come before its files; reload the page and retry."
    )
    assert not any((store / "uploads").iterdir())


def test_a_file_of_no_known_kind_is_mapped_in_a_form_then_imported_as_the_cli_does(
    app: FastAPI, tmp_path: Path
) -> None:
    own = tmp_path / "till.csv"
    own.write_text(
        "Receipt,When,Buyer,Item,Count,Each\n"
        "R1,2024-05-01 10:00:00,c1,SKU-1,2,10.50\n"
        "R2,2024-05-02 11:00:00,c2,SKU-2,1,abc\n"
        "R3,yesterday,c1,SKU-1,1,10.50\n"
        "R4,2024-05-04 12:00:00,c3,SKU-3,3,4.00\n",
        encoding="utf-8",
    )
    client = sign_in(app, "analyst")
    location = uploaded(client, [(own.name, own.read_bytes())])
    page = client.get(location).text
    assert "The kind of export is not known: till.csv: cannot tell which export this is" in page
    for field in ("order_id", "ordered_at", "product_id", "quantity", "unit_price"):
        assert f'<select id="map-{field}"' in page
    assert unlabelled(page) == []
    chosen = {
        "order_id": "Receipt",
        "ordered_at": "When",
        "customer_id": "Buyer",
        "product_id": "Item",
        "quantity": "Count",
        "unit_price": "Each",
    }
    form = {f"column_{field}": column for field, column in chosen.items()} | {"currency": "eur"}
    answer = client.post(f"{location}/mapping", data={**form, "csrf_token": csrf_of(client)}, follow_redirects=False)
    assert answer.status_code == 303
    preview = client.get(location).text
    faults = re.findall(r'<li data-record="(\d+)">record \d+: ([^:]+): ([^<]+)</li>', preview)
    mapping_file = tmp_path / "mapping.yaml"
    mapping_file.write_text(json.dumps({"columns": chosen, "constants": {"currency": "EUR"}}), encoding="utf-8")
    expected = cli_import(tmp_path / "cli-home", own, "--profile", "generic", "--mapping", str(mapping_file))
    with Path(expected["quarantine_path"]).open(encoding="utf-8") as rows:
        from_cli = [(r["row"], r["column"], r["reason"]) for r in csv.DictReader(rows)]
    assert faults == from_cli
    assert [record for record, _, _ in faults] == ["2", "3"]
    shown = summary_on(start_and_wait(client, location))
    assert {key: shown[key] for key in COMPARED} == {key: str(expected[key]) for key in COMPARED}


def _chunked_upload(
    app: FastAPI, cookies: dict[str, str], chunks: Iterable[bytes], boundary: str, probe: Callable[[], int]
) -> list[int]:
    """POST /import through the app's ASGI interface, one chunk at a time (made as they are asked for); before
    each chunk is handed over, ``probe()``. Returns the probes' values and the answer's status code."""
    seen: list[int] = []
    status: list[int] = []
    source = iter(chunks)
    waiting = next(source, None)

    async def receive() -> dict[str, Any]:
        nonlocal waiting
        await asyncio.sleep(0)
        seen.append(probe())
        chunk, waiting = waiting or b"", next(source, None)
        return {"type": "http.request", "body": chunk, "more_body": waiting is not None}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            status.append(message["status"])

    cookie = "; ".join(f"{k}={v}" for k, v in cookies.items())
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/import",
        "raw_path": b"/import",
        "query_string": b"",
        "root_path": "",
        "server": ("testserver", 80),
        "client": ("127.0.0.1", 5000),
        "headers": [
            (b"host", b"testserver"),
            (b"origin", b"http://testserver"),
            (b"cookie", cookie.encode()),
            (b"content-type", f"multipart/form-data; boundary={boundary}".encode()),
        ],
    }
    asyncio.run(app(scope, receive, send))
    return [*seen, status[0]]


def _multipart_head(boundary: str, name: str) -> bytes:
    return (
        f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{name}"\r\n'
        "Content-Type: text/csv\r\n\r\n"
    ).encode()


def _rss_bytes() -> int:
    """The memory this process holds now (resident set), from /proc."""
    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def test_a_large_upload_passes_the_general_limit_and_goes_to_disk_as_it_arrives(tmp_path: Path) -> None:
    home = fresh_store(tmp_path / "home")
    limits = WebSettings(max_body_bytes=64 * 1024, max_upload_bytes=32 * 1024 * 1024)
    app = create_app(Settings(home=home), web_settings=limits)
    client = sign_in(app, "owner")
    header = SHOPIFY.read_text(encoding="utf-8").splitlines()[0]
    data = (header + "\n" + ("#9," * 10 + "\n") * 100_000).encode()  # about 3 MB
    assert len(data) > 40 * limits.max_body_bytes
    boundary = "shoplens-test-boundary"
    head = _multipart_head(boundary, "big.csv")
    tail = f"\r\n--{boundary}--\r\n".encode()
    piece = 256 * 1024
    chunks = [head] + [data[i : i + piece] for i in range(0, len(data), piece)] + [tail]

    def on_disk() -> int:
        found = list((home / "uploads").glob("upl-*/1-*.csv"))
        return found[0].stat().st_size if found else 0

    *sizes, status = _chunked_upload(app, dict(client.cookies), chunks, boundary, on_disk)
    assert status == 303
    # before each chunk is handed over, every earlier chunk of the file is on disk already
    for index in range(2, len(chunks)):
        assert sizes[index] == min(len(data), (index - 1) * piece), index
    stored = next((home / "uploads").glob("upl-*/1-big.csv"))
    assert stored.read_bytes() == data

    # through the client too, and past the upload limit it is refused
    assert upload(client, [("big.csv", data)]).status_code == 303
    small = WebSettings(max_body_bytes=64 * 1024, max_upload_bytes=1024 * 1024)
    refused = upload(sign_in(create_app(Settings(home=home), web_settings=small), "owner"), [("big.csv", data)])
    assert refused.status_code == 413
    assert one_line_error(refused.text) == (
        "Not uploaded: the files are larger than 1,048,576 bytes in all, the most this server takes."
    )
    assert client.post("/login", content=b"x" * (limits.max_body_bytes + 1)).status_code == 413, (
        "every other route keeps the general limit"
    )


@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="reads the resident set size from /proc")
def test_a_50_mb_upload_is_not_held_in_memory(tmp_path: Path) -> None:
    home = fresh_store(tmp_path / "home")
    app = create_app(Settings(home=home))
    client = sign_in(app, "owner")
    client.get("/import")
    header = SHOPIFY.read_text(encoding="utf-8").splitlines()[0].encode() + b"\n"
    piece = (b"#9," * 10 + b"\n") * 2048  # 64 KB, made again for each chunk as a client would send it
    count = 50 * 1024 * 1024 // len(piece)
    boundary = "shoplens-test-boundary"

    def body() -> Iterator[bytes]:
        yield _multipart_head(boundary, "big.csv") + header
        for _ in range(count):
            yield bytes(bytearray(piece))  # a new object each time, as from a socket
        yield f"\r\n--{boundary}--\r\n".encode()

    before = _rss_bytes()
    *resident, status = _chunked_upload(app, dict(client.cookies), body(), boundary, _rss_bytes)
    assert status == 303
    stored = next((home / "uploads").glob("upl-*/1-big.csv")).stat().st_size
    assert stored == len(header) + count * len(piece)
    assert max(resident) - before < 16 * 1024 * 1024, "the 50 MB went to disk, not into memory"


@pytest.mark.e2e
def test_uploading_through_the_pages_file_input_shows_the_summary(browser: Any, tmp_path: Path) -> None:
    home = fresh_store(tmp_path / "home")
    with serving(home) as url:
        page = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
        page.goto(f"{url}/login")
        page.fill("input[name=email]", "analyst@shop.example")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{url}/")
        page.click("header nav a[href='/import']")
        page.set_input_files("#import-files", str(SHOPIFY))
        page.click("form.upload button[type=submit]")
        page.wait_for_selector("#start-import")
        assert page.locator("[data-profile]").inner_text() == "shopify"
        assert not page.evaluate("document.documentElement.scrollWidth > window.innerWidth"), "fits 390 px"
        page.click("#start-import")
        page.wait_for_selector("#import-summary", timeout=IMPORT_SECONDS * 1000)
        cells = page.locator("#import-summary td[data-field]")
        shown = dict(
            zip(cells.evaluate_all("cells => cells.map(c => c.dataset.field)"), cells.all_inner_texts(), strict=True)
        )
        expected = cli_import(tmp_path / "cli-home", SHOPIFY)
        assert {key: shown[key] for key in COMPARED} == {key: str(expected[key]) for key in COMPARED}
        assert not page.evaluate("document.documentElement.scrollWidth > window.innerWidth"), "fits 390 px"
