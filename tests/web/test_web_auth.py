"""Accounts, login sessions, CSRF, rate limiting, API tokens and settings that refuse to be unsafe."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import select

from shoplens.appdb import AppDatabase, User
from shoplens.config import Settings
from shoplens.errors import InputError
from shoplens.web import WebSettings, add_user, authenticate, create_app

PASSWORD = "a long enough password"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def database(home: Path) -> AppDatabase:
    settings = Settings(home=home)
    settings.ensure_home()
    return AppDatabase(settings.app_database_url)


def _client(home: Path, host: str = "127.0.0.1", secret_key: str | None = None) -> TestClient:
    web = WebSettings(host=host, secret_key=secret_key)
    # Secure cookies travel over HTTPS only, so the exposed server is reached as https://.
    base_url = "http://localhost" if web.is_local else "https://shop.example"
    return TestClient(create_app(Settings(home=home), web_settings=web), base_url=base_url)


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, "the form carries a CSRF token"
    return found.group(1)


def _log_in(client: TestClient, email: str, password: str) -> Any:
    token = _csrf(client.get("/login").text)
    return client.post(
        "/login", data={"email": email, "password": password, "csrf_token": token}, follow_redirects=False
    )


def test_non_local_bind_without_a_secret_key_refuses_to_start() -> None:
    with pytest.raises(ValidationError, match="needs SHOPLENS_SECRET_KEY"):
        WebSettings(host="0.0.0.0", secret_key=None)
    with pytest.raises(ValidationError, match="at least 32 characters"):
        WebSettings(host="0.0.0.0", secret_key="changethis")
    exposed = WebSettings(host="0.0.0.0", secret_key="k" * 40)
    assert exposed.secure_cookies
    local = WebSettings(host="127.0.0.1", secret_key=None)
    assert not local.secure_cookies
    assert local.secret_key
    assert len(local.secret_key) >= 32


def test_serve_refuses_a_public_bind_without_a_key(cli: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SHOPLENS_SECRET_KEY", raising=False)
    result = cli("serve", "--host", "0.0.0.0", "--json")
    assert result.exit_code == 2
    assert "needs SHOPLENS_SECRET_KEY" in result.stderr
    assert "Traceback" not in result.stderr


def test_passwords_are_stored_as_argon2_hashes(database: AppDatabase) -> None:
    add_user(database, "Owner@Shop.example", PASSWORD, "owner")
    with database.session() as session:
        stored = session.scalars(select(User)).one()
    assert stored.email == "owner@shop.example"
    assert stored.password_hash.startswith("$argon2id$")
    assert PASSWORD not in stored.password_hash
    assert authenticate(database, "owner@shop.example", PASSWORD) is not None
    assert authenticate(database, "owner@shop.example", PASSWORD + "x") is None
    assert authenticate(database, "nobody@shop.example", PASSWORD) is None
    with pytest.raises(InputError, match="exists already"):
        add_user(database, "owner@shop.example", PASSWORD, "owner")
    with pytest.raises(InputError, match="unknown role"):
        add_user(database, "admin@shop.example", PASSWORD, "admin")
    with pytest.raises(InputError, match="at least 10 characters"):
        add_user(database, "short@shop.example", "short", "analyst")


def test_login_sets_a_hardened_session_cookie_and_logout_ends_it(home: Path, database: AppDatabase) -> None:
    add_user(database, "analyst@shop.example", PASSWORD, "analyst")
    client = _client(home)
    assert client.get("/", follow_redirects=False).headers["location"] == "/login"
    answer = _log_in(client, "analyst@shop.example", PASSWORD)
    assert (answer.status_code, answer.headers["location"]) == (303, "/")
    cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith("shoplens_session="))
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Secure" not in cookie
    overview = client.get("/")
    assert overview.status_code == 200
    assert "analyst@shop.example (analyst)" in overview.text
    assert client.post("/logout", data={"csrf_token": "forged"}).status_code == 403, "logout needs the CSRF token"
    assert client.post("/logout", data={"csrf_token": _csrf(overview.text)}, follow_redirects=False).status_code == 303
    assert client.get("/", follow_redirects=False).status_code == 303, "the session is gone"


def test_cookies_are_secure_when_served_beyond_localhost(home: Path, database: AppDatabase) -> None:
    add_user(database, "owner@shop.example", PASSWORD, "owner")
    client = _client(home, host="0.0.0.0", secret_key="s" * 40)
    answer = _log_in(client, "owner@shop.example", PASSWORD)
    cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith("shoplens_session="))
    assert "Secure" in cookie


def test_login_without_the_csrf_token_is_refused(home: Path, database: AppDatabase) -> None:
    add_user(database, "owner@shop.example", PASSWORD, "owner")
    client = _client(home)
    client.get("/login")
    forged = client.post("/login", data={"email": "owner@shop.example", "password": PASSWORD, "csrf_token": "x"})
    assert forged.status_code == 403
    assert "shoplens_session" not in forged.cookies


def test_failed_logins_are_rate_limited(home: Path, database: AppDatabase) -> None:
    add_user(database, "owner@shop.example", PASSWORD, "owner")
    client = _client(home)
    assert [_log_in(client, "owner@shop.example", "wrong password").status_code for _ in range(5)] == [401] * 5
    blocked = _log_in(client, "owner@shop.example", PASSWORD)
    assert blocked.status_code == 429, "even the right password waits once the limit is reached"


def test_cli_adds_users_and_tokens_that_the_api_accepts(cli: Callable[..., Any], tmp_path: Path) -> None:
    import io
    import sys

    home = tmp_path / "home"
    stdin = sys.stdin
    try:
        sys.stdin = io.StringIO(PASSWORD + "\n")
        added = cli("user", "add", "m@shop.example", "--role", "marketer", "--password-stdin", "--json")
    finally:
        sys.stdin = stdin
    assert (added.exit_code, added.json()["role"]) == (0, "marketer")
    listed = cli("user", "list", "--json").json()["users"]
    assert [(u["email"], u["role"]) for u in listed] == [("m@shop.example", "marketer")]
    assert "hash" not in str(listed)
    bad_role = cli("token", "create", "--role", "root", "--json")
    assert bad_role.exit_code == 2
    assert "unknown role" in bad_role.stderr
    token = cli("token", "create", "--role", "vendor", "--json").json()["token"]
    client = TestClient(create_app(Settings(home=home)))
    assert client.get("/api/v1/surveys", headers={"Authorization": f"Bearer {token}"}).status_code == 403
    assert client.get("/api/v1/surveys", headers={"Authorization": "Bearer sl_wrong"}).status_code == 401


def test_cli_changes_roles_removes_people_and_revokes_tokens(
    cli: Callable[..., Any], tmp_path: Path, database: AppDatabase
) -> None:
    home = tmp_path / "home"
    owner = add_user(database, "owner@shop.example", PASSWORD, "owner")
    sam = add_user(database, "sam@shop.example", PASSWORD, "analyst")
    last_owner = "error: cannot demote the last owner; make another user owner first"
    assert cli("user", "role", "owner@shop.example", "vendor").stderr.strip() == last_owner
    assert cli("user", "role", "sam@shop.example", "root").exit_code == 2
    assert cli("user", "role", "nobody@shop.example", "analyst").stderr.strip() == "error: no user with that e-mail"
    promoted = cli("user", "role", "SAM@shop.example", "owner", "--json")
    assert promoted.exit_code == 0, promoted.stderr
    assert {k: promoted.json()[k] for k in ("user_id", "role", "previous_role")} == {
        "user_id": sam.user_id,
        "role": "owner",
        "previous_role": "analyst",
    }
    removed = cli("user", "remove", "owner@shop.example", "--json")
    assert (removed.exit_code, removed.json()["user_id"]) == (0, owner.user_id)
    assert authenticate(database, "owner@shop.example", PASSWORD) is None
    assert cli("user", "remove", "owner@shop.example").stderr.strip() == "error: that user is removed already"
    last = cli("user", "remove", "sam@shop.example")
    assert (last.exit_code, last.stderr.strip()) == (
        2,
        "error: cannot remove the last owner; make another user owner first",
    )

    made = cli("token", "create", "--role", "analyst", "--name", "nightly", "--json").json()
    listed = cli("token", "list", "--json").json()["tokens"]
    assert [(t["token_id"], t["name"], t["role"], t["revoked"]) for t in listed] == [
        (made["token_id"], "nightly", "analyst", False)
    ]
    assert made["token"] not in cli("token", "list", "--json").stdout
    client = TestClient(create_app(Settings(home=home)), headers={"Authorization": f"Bearer {made['token']}"})
    assert client.get("/api/v1/surveys").status_code == 200
    assert cli("token", "revoke", made["token_id"], "--json").json()["token_id"] == made["token_id"]
    assert client.get("/api/v1/surveys").status_code == 401
    assert cli("token", "revoke", made["token_id"]).stderr.strip() == "error: that API token is revoked already"
    assert cli("token", "list", "--json").json()["tokens"][0]["revoked"] is True
    assert [(row.actor, row.action) for row in database.audit_rows()] == [
        ("cli", "account.user_role"),
        ("cli", "account.user_remove"),
        ("cli", "account.token_create"),
        ("cli", "account.token_revoke"),
    ], "one entry per change, none for a refused one"
