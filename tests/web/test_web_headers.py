"""Every answer carries the security headers; the dashboard's pages need nothing the page policy forbids."""

from __future__ import annotations

import base64
import hashlib
import re

from fastapi import FastAPI
from fastapi.testclient import TestClient
from tests.web.conftest import PASSWORD, Store

from shoplens.web._headers import DOCS_CDN, PAGE_POLICY

FIXED = {"x-frame-options": "DENY", "x-content-type-options": "nosniff", "referrer-policy": "same-origin"}
PAGES = ["/", "/customers", "/sharing", "/jobs", "/settings"]


def _owner_session(app: FastAPI, store: Store) -> TestClient:
    client = TestClient(app)
    page = client.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    data = {"email": store.email("owner"), "password": PASSWORD, "csrf_token": token.group(1)}
    assert client.post("/login", data=data, follow_redirects=False).status_code == 303
    return client


def _assert_headers(answer: object, policy: str = PAGE_POLICY) -> None:
    headers = answer.headers  # type: ignore[attr-defined]
    assert headers["content-security-policy"] == policy
    for name, value in FIXED.items():
        assert headers[name] == value


def test_api_answers_and_errors_carry_the_headers(store_app: FastAPI) -> None:
    client = TestClient(store_app)
    _assert_headers(client.get("/api/v1/health"))
    refused = client.get("/api/v1/kpis")
    assert refused.status_code == 401
    _assert_headers(refused)


def test_dashboard_pages_render_under_the_policy(store_app: FastAPI, demo_store: Store) -> None:
    client = _owner_session(store_app, demo_store)
    for path in PAGES:
        answer = client.get(path)
        assert answer.status_code == 200, path
        _assert_headers(answer)
        # The policy allows no script and no outside resource: the pages must use none.
        assert "<script" not in answer.text, path
        assert re.search(r'(src|href)="(https?:)?//', answer.text) is None, path


def test_the_docs_page_allows_exactly_its_own_inline_script(store_app: FastAPI) -> None:
    answer = TestClient(store_app).get("/docs")
    assert answer.status_code == 200
    policy = answer.headers["content-security-policy"]
    inline = re.findall(r"<script>(.*?)</script>", answer.text, re.DOTALL)
    assert len(inline) == 1
    digest = base64.b64encode(hashlib.sha256(inline[0].encode()).digest()).decode()
    assert f"script-src {DOCS_CDN} 'sha256-{digest}';" in policy
    assert "'unsafe-inline'" not in policy.split("style-src")[0]
    for name, value in FIXED.items():
        assert answer.headers[name] == value


def test_a_login_page_and_a_refused_body_carry_the_headers(store_app: FastAPI) -> None:
    client = TestClient(store_app)
    _assert_headers(client.get("/login"))
    too_large = client.post("/api/v1/voice/sentiment", content=b"x", headers={"Content-Length": str(2**40)})
    assert too_large.status_code == 413
    _assert_headers(too_large)
