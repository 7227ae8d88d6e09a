"""Every sensitive action leaves one audit entry, with keys and counts only: sign-ins (and failed ones), accounts
and tokens, and the chain's head moves with each entry."""

from __future__ import annotations

import io
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from shoplens.appdb import AppDatabase
from shoplens.config import Settings
from shoplens.web import add_user, create_app

PASSWORD = "a long enough password"
OWNER = "owner@shop.example"


def _entries(home: Path) -> list[tuple[str, str, dict[str, Any]]]:
    database = AppDatabase(Settings(home=home).app_database_url)
    try:
        return [(row.actor, row.action, json.loads(row.details)) for row in database.audit_rows()]
    finally:
        database.close()


def _log_in(client: TestClient, email: str, password: str) -> Any:
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
    assert token
    data = {"email": email, "password": password, "csrf_token": token.group(1)}
    return client.post("/login", data=data, follow_redirects=False)


def test_sign_ins_failed_sign_ins_and_sign_outs_are_audited_without_the_e_mail(tmp_path: Path) -> None:
    home = tmp_path / "home"
    settings = Settings(home=home)
    settings.ensure_home()
    database = AppDatabase(settings.app_database_url)
    user = add_user(database, OWNER, PASSWORD, "owner")
    database.close()
    client = TestClient(create_app(settings), base_url="http://localhost")
    assert _log_in(client, OWNER, "not the password").status_code == 401
    assert _log_in(client, "nobody@shop.example", PASSWORD).status_code == 401
    assert _log_in(client, OWNER, PASSWORD).status_code == 303
    overview = client.get("/")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', overview.text)
    assert csrf
    assert client.post("/logout", data={"csrf_token": csrf.group(1)}, follow_redirects=False).status_code == 303
    failed = {"reason": "wrong e-mail or password", "via": "web"}
    assert _entries(home) == [
        ("system", "web.sign_in_failed", failed),
        ("system", "web.sign_in_failed", failed),
        (f"user:{user.user_id}", "web.sign_in", {"role": "owner", "via": "web"}),
        (f"user:{user.user_id}", "web.sign_out", {"via": "web"}),
    ]
    assert "@" not in json.dumps(_entries(home))
    assert json.loads((home / "audit.head").read_text())["id"] == 4


def test_accounts_and_tokens_are_audited_by_id_and_role(
    cli: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(PASSWORD + "\n"))
    added = cli("user", "add", "analyst@shop.example", "--role", "analyst", "--password-stdin", "--json")
    assert added.exit_code == 0, added.stderr
    token = cli("token", "create", "--role", "vendor", "--name", "designer", "--json")
    assert token.exit_code == 0, token.stderr
    home = tmp_path / "home"
    assert _entries(home) == [
        ("cli", "account.user_add", {"user_id": added.json()["user_id"], "role": "analyst"}),
        ("cli", "account.token_create", {"token_id": token.json()["token_id"], "role": "vendor"}),
    ]
    assert [added.json()["audit_entry"], token.json()["audit_entry"]] == [1, 2]
    listed = cli("audit", "list", "--json").stdout
    assert "analyst@shop.example" not in listed
    assert token.json()["token"] not in listed
