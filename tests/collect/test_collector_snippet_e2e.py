"""The page snippet in a real headless Chromium against ``shoplens collect serve``: it sends events only after
the visitor's consent, and never under Do-Not-Track or Global Privacy Control.

Needs Debian's ``chromium`` at /usr/bin/chromium and the ``playwright`` Python package (its own browser download
is never used). The shop's pages come from a small server of their own on another port (another origin), which
the collector allows.
"""

from __future__ import annotations

import http.client
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from tests.collect.conftest import spooled
from tests.conftest import free_port

from shoplens.config import Settings

pytestmark = pytest.mark.e2e

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
DO_NOT_TRACK = "Object.defineProperty(Navigator.prototype, 'doNotTrack', {get: () => '1'});"
PRIVACY_CONTROL = "Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', {get: () => true});"
CONSENT_FLAG = "window.shoplensConsent = true;"
# The shop's pages: the script each runs before the snippet.
PAGES = {"/consent": "", "/flag": CONSENT_FLAG, "/dnt": CONSENT_FLAG, "/gpc": CONSENT_FLAG}


@dataclass(frozen=True)
class Collector:
    url: str
    shop: str
    spool: Path


@pytest.fixture(scope="module")
def shop() -> Iterator[tuple[str, dict[str, str]]]:
    """The shop's web server (its origin, and the page bodies, filled in once the collector's address is known)."""
    bodies: dict[str, str] = {}

    class Pages(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = bodies.get(self.path, "").encode()
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Pages)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", bodies
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def collector(tmp_path_factory: pytest.TempPathFactory, shop: tuple[str, dict[str, str]]) -> Iterator[Collector]:
    home = tmp_path_factory.mktemp("collector") / "home"
    port, (origin, bodies) = free_port(), shop
    url = f"http://127.0.0.1:{port}"
    for path, flag in PAGES.items():
        bodies[path] = (
            f"<!doctype html><html><head><script>{flag}</script>"
            f'<script src="{url}/collect/v1/snippet.js"></script></head><body>shop</body></html>'
        )
    args = [sys.executable, "-m", "shoplens", "--home", str(home), "collect", "serve", "--port", str(port)]
    process = subprocess.Popen([*args, "--origin", origin], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
                connection.request("GET", "/collect/v1/health")
                if connection.getresponse().status == 200:
                    break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the collector did not start: {process.stderr.read() if process.stderr else ''}")
            time.sleep(0.2)
        yield Collector(url, origin, Settings(home=home).spool_dir)
    finally:
        process.terminate()
        process.wait(timeout=10)


def open_shop_page(browser: Any, collector: Collector, path: str, *, init: str = "") -> Any:
    """The shop's page at ``path`` (with the snippet); ``init`` runs before any script of the page."""
    context = browser.new_context()
    if init:
        context.add_init_script(init)
    page = context.new_page()
    page.sent = []
    page.on("request", lambda request: page.sent.append(request.url) if "/collect/v1/events" in request.url else None)
    page.goto(f"{collector.shop}{path}")
    return page


def events_of(collector: Collector, page_path: str, count: int, wait: float = 10.0) -> list[dict[str, Any]]:
    """The spooled events of ``page_path`` once there are ``count`` of them (or after ``wait`` seconds)."""
    deadline = time.monotonic() + wait
    while True:
        found = [e for e in spooled(collector.spool) if e["page"] == page_path]
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def test_nothing_is_sent_before_consent_and_everything_after(browser: Any, collector: Collector) -> None:
    page = open_shop_page(browser, collector, "/consent")
    assert page.evaluate("shoplens.track('cart', {product_id: 'P-0'})") is False
    page.evaluate("shoplens.flush()")
    page.wait_for_timeout(700)
    assert page.sent == []
    page.evaluate("shoplens.consent(true)")  # the page_view of the page, once
    assert page.evaluate("shoplens.track('product_view', {product_id: 'P-1'})") is True
    page.evaluate("shoplens.flush()")
    sent = events_of(collector, "/consent", 2)
    assert sorted((e["type"], e["product_id"] or "") for e in sent) == [("view", ""), ("view", "P-1")]
    assert len({e["session_id"] for e in sent}) == 1
    assert all(UUID.fullmatch(e["event_id"]) for e in sent)
    assert page.evaluate("sessionStorage.getItem('shoplens_session_id')") == sent[0]["session_id"]
    page.context.close()


def test_the_consent_flag_before_the_script_sends_the_page_view(browser: Any, collector: Collector) -> None:
    page = open_shop_page(browser, collector, "/flag")
    page.evaluate("shoplens.flush()")
    assert [e["type"] for e in events_of(collector, "/flag", 1)] == ["view"]
    page.context.close()


@pytest.mark.parametrize(("path", "opt_out"), [("/dnt", DO_NOT_TRACK), ("/gpc", PRIVACY_CONTROL)])
def test_do_not_track_and_global_privacy_control_send_nothing_even_with_consent(
    browser: Any, collector: Collector, path: str, opt_out: str
) -> None:
    page = open_shop_page(browser, collector, path, init=opt_out)
    assert page.evaluate("shoplens.optedOut()") is True
    page.evaluate("shoplens.consent(true)")
    assert page.evaluate("shoplens.track('order')") is False
    page.evaluate("shoplens.flush()")
    page.wait_for_timeout(1000)
    assert page.sent == []
    assert events_of(collector, path, 1, wait=0.5) == []
    page.context.close()
