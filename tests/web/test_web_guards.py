"""The app-wide guards: unknown query parameters (422), the session cookie on cross-site changes (403), the client
address behind proxies, and no server path in an answer."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from tests.web.conftest import Store, logged_in

from shoplens.config import Settings
from shoplens.web import WebSettings, create_app


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x", path)


def _routes(app: FastAPI) -> list[tuple[str, str]]:
    """(method, path) of every route the app's own dependency guards (every route FastAPI adds)."""
    found = []
    for route in iter_route_contexts(app.routes):
        if getattr(route, "dependant", None) is None:
            continue
        for method in sorted(set(route.methods or ()) - {"HEAD"}):
            found.append((method, route.path))
    return found


def test_every_route_answers_422_to_an_unknown_query_parameter(
    store_app: FastAPI, as_role: Callable[[str], TestClient]
) -> None:
    client = as_role("owner")
    routes = _routes(store_app)
    assert len(routes) >= 40
    for method, path in routes:
        answer = client.request(method, _concrete(path), params={"zz_unknown": "1"})
        assert answer.status_code == 422, f"{method} {path}: {answer.status_code}"
        assert answer.json() == {
            "error": {"code": "invalid_request", "message": "unknown query parameter(s): zz_unknown"}
        }, f"{method} {path}"


def test_declared_parameters_still_work(as_role: Callable[[str], TestClient]) -> None:
    client = as_role("owner")
    assert client.get("/api/v1/kpis", params={"grain": "month", "by": "channel"}).status_code == 200
    assert client.get("/api/v1/customers", params={"lifecycle": "active", "limit": 5}).status_code == 200


def test_without_credentials_an_unknown_parameter_is_still_401(store_app: FastAPI) -> None:
    answer = TestClient(store_app).get("/api/v1/kpis", params={"zz_unknown": "1"})
    assert answer.status_code == 401


CROSS_SITE = "cross-site"


@pytest.mark.parametrize(
    ("headers", "allowed"),
    [
        ({"Origin": "https://evil.example"}, False),
        ({"Origin": "null"}, False),
        ({"Referer": "https://evil.example/page"}, False),
        ({}, False),
        ({"Origin": "http://testserver"}, True),
        ({"Referer": "http://testserver/clv"}, True),
    ],
)
def test_a_cookie_authenticated_post_needs_the_same_origin(
    store_app: FastAPI, demo_store: Store, headers: dict[str, str], allowed: bool
) -> None:
    client = logged_in(store_app, demo_store, "analyst")
    answer = client.post("/api/v1/voice/sentiment", json={"texts": ["great"], "method": "vader"}, headers=headers)
    if allowed:
        assert answer.status_code == 200, answer.text
    else:
        assert answer.status_code == 403
        assert answer.json()["error"]["code"] == "forbidden"
        assert "another site" in answer.json()["error"]["message"]


def test_a_cross_site_clv_fit_with_the_cookie_is_refused_but_the_csrf_token_lets_a_script_in(
    store_app: FastAPI, demo_store: Store
) -> None:
    client = logged_in(store_app, demo_store, "analyst")
    refused = client.post("/api/v1/clv/fit", headers={"Origin": "https://evil.example"})
    assert refused.status_code == 403
    page = client.get("/").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    body = {"texts": ["fine"], "method": "vader"}
    allowed = client.post("/api/v1/voice/sentiment", json=body, headers={"X-CSRF-Token": token.group(1)})
    assert allowed.status_code == 200


def test_bearer_tokens_are_not_affected(as_role: Callable[[str], TestClient]) -> None:
    answer = as_role("analyst").post(
        "/api/v1/voice/sentiment",
        json={"texts": ["bad"], "method": "vader"},
        headers={"Origin": "https://evil.example"},
    )
    assert answer.status_code == 200


def test_the_logout_form_still_works(store_app: FastAPI, demo_store: Store) -> None:
    client = logged_in(store_app, demo_store, "owner")
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/").text)
    assert token
    out = client.post("/logout", data={"csrf_token": token.group(1)}, follow_redirects=False)
    assert out.status_code == 303
    assert client.get("/", follow_redirects=False).headers["location"] == "/login"


def _fail_logins(client: TestClient, store: Store, forwarded: Callable[[int], str]) -> list[int]:
    statuses = []
    for attempt in range(7):
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
        assert token
        data = {"email": f"nobody{attempt}@shop.example", "password": "wrong password", "csrf_token": token.group(1)}
        answer = client.post("/login", data=data, headers={"X-Forwarded-For": forwarded(attempt)})
        statuses.append(answer.status_code)
    return statuses


def test_a_rotating_forwarded_for_does_not_reset_the_login_limit(demo_store: Store) -> None:
    app = create_app(Settings(home=demo_store.home))
    statuses = _fail_logins(TestClient(app), demo_store, lambda n: f"203.0.113.{n}")
    assert statuses == [401] * 5 + [429] * 2, "five failures per address, whatever the header says"


def test_behind_a_trusted_proxy_the_forwarded_address_is_the_client() -> None:
    web = WebSettings(trusted_proxies="127.0.0.1/32")
    assert web.client_address("127.0.0.1", "198.51.100.7, 127.0.0.1") == "198.51.100.7"
    assert web.client_address("127.0.0.1", "198.51.100.7, 203.0.113.9") == "203.0.113.9"
    assert web.client_address("192.0.2.1", "198.51.100.7") == "192.0.2.1", "an untrusted peer's header is ignored"
    assert web.client_address("127.0.0.1", "not-an-address") == "127.0.0.1"
    assert WebSettings().client_address("127.0.0.1", "198.51.100.7") == "127.0.0.1", "default: no proxy trusted"


def test_trusted_proxies_come_from_the_environment_and_are_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOPLENS_TRUSTED_PROXIES", "10.0.0.0/8, 192.0.2.10")
    assert [str(n) for n in WebSettings().trusted_proxies] == ["10.0.0.0/8", "192.0.2.10/32"]
    monkeypatch.setenv("SHOPLENS_TRUSTED_PROXIES", "proxy.example")
    with pytest.raises(ValueError, match="a trusted proxy is an IP address or network"):
        WebSettings()


def test_a_clv_fit_answer_names_no_server_path(as_role: Callable[[str], TestClient], demo_store: Store) -> None:
    answer = as_role("analyst").post("/api/v1/clv/fit", params={"model": "bgnbd"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["saved_to"] == "models/bgnbd.json"
    assert (demo_store.home / "models" / "bgnbd.json").is_file()
    assert str(demo_store.home) not in answer.text
