"""The owner's Settings page: store settings, people and API tokens, through the command line's own rules, each
change one audit entry; other roles get 403, nobody logged in goes to the login page."""

from __future__ import annotations

import html
import json
import re
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from tests.conftest import run_cli
from tests.web.conftest import PASSWORD, Store, logged_in, serving

from shoplens.appdb import AppDatabase
from shoplens.config import Settings
from shoplens.web import create_app, list_users

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
STORE_DEFAULTS = {
    "timezone": "UTC",
    "currency": "USD",
    "store_name": "My shop",
    "locale": "en_US",
    "warehouse_url": None,
}


@pytest.fixture(autouse=True)
def no_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in STORE_DEFAULTS:
        monkeypatch.delenv(f"SHOPLENS_{key.upper()}", raising=False)
    monkeypatch.delenv("SHOPLENS_STORE_TIMEZONE", raising=False)


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, "the page carries the session's CSRF token"
    return found.group(1)


def _errors(page: str) -> list[str]:
    return [html.unescape(text) for text in re.findall(r'<p class="error" role="alert"[^>]*>(.*?)</p>', page)]


def _audit(home: Path) -> list[tuple[int, str, str, dict[str, Any]]]:
    database = AppDatabase(Settings(home=home).app_database_url)
    try:
        return [(row.id, row.actor, row.action, json.loads(row.details)) for row in database.audit_rows()]
    finally:
        database.close()


def _audit_since(home: Path, last_id: int) -> list[tuple[str, str, dict[str, Any]]]:
    return [(actor, action, details) for entry_id, actor, action, details in _audit(home) if entry_id > last_id]


def _newest_audit_id(home: Path) -> int:
    return max((entry_id for entry_id, *_ in _audit(home)), default=0)


def _user_id(home: Path, email: str) -> int:
    database = AppDatabase(Settings(home=home).app_database_url)
    try:
        return next(user.user_id for user in list_users(database) if user.email == email)
    finally:
        database.close()


@pytest.fixture
def own_app(own_store: Path) -> FastAPI:
    return create_app(Settings(home=own_store))


@pytest.fixture
def owner(own_app: FastAPI, own_store: Path, demo_store: Store) -> TestClient:
    return logged_in(own_app, Store(own_store, demo_store.tokens), "owner")


def _store_form(client: TestClient, **values: str) -> dict[str, str]:
    current = {"store_name": "My shop", "timezone": "UTC", "currency": "USD", "locale": "en_US"}
    return {"csrf_token": _csrf(client.get("/settings").text), **current, **values}


def test_store_settings_saved_on_the_page_are_what_config_show_prints(
    owner: TestClient, own_app: FastAPI, own_store: Path, demo_store: Store
) -> None:
    assert run_cli(own_store, "config", "show", "--json").json() == STORE_DEFAULTS
    before = _newest_audit_id(own_store)
    form = _store_form(owner, timezone="Asia/Hong_Kong", currency="eur", locale="en-gb", store_name=" Tea & Co ")
    answer = owner.post("/settings/store", data=form, follow_redirects=False)
    assert (answer.status_code, answer.headers["location"]) == (303, "/settings?notice=settings")

    shown = run_cli(own_store, "config", "show", "--json")
    assert shown.exit_code == 0, shown.stderr
    expected = {"timezone": "Asia/Hong_Kong", "currency": "EUR", "store_name": "Tea & Co", "locale": "en_GB"}
    assert shown.json() == {**expected, "warehouse_url": None}
    owner_actor = f"user:{_user_id(own_store, demo_store.email('owner'))}"
    assert _audit_since(own_store, before) == [
        (owner_actor, "config.set", {"key": key, "via": "web"})
        for key in ("store_name", "timezone", "currency", "locale")
    ]
    page = owner.get(answer.headers["location"]).text
    assert '<a href="/settings" aria-current="page">Settings</a>' in page, "the owner's menu has the page"
    assert "Store settings saved." in page
    assert 'id="setting-timezone" name="timezone" value="Asia/Hong_Kong"' in page
    assert 'name="store_name" value="Tea &amp; Co"' in page
    # the running app counts its days in the new zone from the next request on
    assert own_app.state.settings.timezone == "Asia/Hong_Kong"
    assert own_app.state.store.settings.timezone == "Asia/Hong_Kong"

    before = _newest_audit_id(own_store)
    again = owner.post("/settings/store", data=_store_form(owner, **expected), follow_redirects=False)
    assert again.headers["location"] == "/settings?notice=unchanged"
    assert _audit_since(own_store, before) == [], "saving the same values is no change"

    only_currency = _store_form(owner, **(expected | {"currency": "HKD"}))
    assert owner.post("/settings/store", data=only_currency, follow_redirects=False).status_code == 303
    assert run_cli(own_store, "config", "show", "--json").json()["currency"] == "HKD"
    assert [action_and_key[1:] for action_and_key in _audit_since(own_store, before)] == [
        ("config.set", {"key": "currency", "via": "web"})
    ]


@pytest.mark.parametrize(
    ("key", "value", "reason"),
    [
        ("timezone", "Mars/Base", "unknown time zone 'Mars/Base'"),
        ("currency", "XXXX", "currency must be an ISO 4217 code of three letters such as USD or EUR, not 'XXXX'"),
        (
            "locale",
            "zz_ZZ",
            "locale must be a language and region such as en_GB or zh_HK, not 'zz_ZZ': 'zz' is not a language code "
            "the system's locale table knows",
        ),
        ("store_name", "   ", "store_name must not be empty"),
    ],
)
def test_a_bad_value_is_refused_with_the_command_lines_reason_and_changes_nothing(
    owner: TestClient, own_store: Path, key: str, value: str, reason: str
) -> None:
    settings_file = own_store / "settings.json"
    kept_before = settings_file.read_bytes() if settings_file.exists() else None
    before = _newest_audit_id(own_store)
    # a good change next to the bad value is not kept either
    other = {"store_name": "Tea & Co"} if key != "store_name" else {"timezone": "Europe/London"}
    answer = owner.post("/settings/store", data=_store_form(owner, **other, **{key: value}))
    assert answer.status_code == 400
    assert _errors(answer.text) == [reason]
    assert f'name="{key}" value="{html.escape(value)}"' in answer.text, "the form shows what was typed"
    assert (settings_file.read_bytes() if settings_file.exists() else None) == kept_before
    assert _audit_since(own_store, before) == []
    assert run_cli(own_store, "config", "show", "--json").json() == STORE_DEFAULTS
    refused = run_cli(own_store, "config", "set", key, value)
    assert (refused.exit_code, refused.stderr.strip()) == (2, f"error: {reason}"), "the command line says the same"


def test_people_are_added_given_another_role_and_removed_each_with_one_audit_entry(
    owner: TestClient, own_app: FastAPI, own_store: Path, demo_store: Store
) -> None:
    email = "sam@shop.example"
    before = _newest_audit_id(own_store)
    form = {"csrf_token": _csrf(owner.get("/settings").text), "email": email, "role": "analyst"}
    short = owner.post("/settings/users", data=form | {"password": "short", "password_again": "short"})
    assert (short.status_code, _errors(short.text)) == (400, ["the password must have at least 10 characters"])
    differ = owner.post("/settings/users", data=form | {"password": PASSWORD, "password_again": PASSWORD + "!"})
    assert _errors(differ.text) == ["the two passwords differ"]
    added = owner.post(
        "/settings/users", data=form | {"password": PASSWORD, "password_again": PASSWORD}, follow_redirects=False
    )
    assert added.headers["location"] == "/settings?notice=user_added"
    again = owner.post("/settings/users", data=form | {"password": PASSWORD, "password_again": PASSWORD})
    assert _errors(again.text) == ["a user with that e-mail exists already"]

    listed = {u["email"]: u for u in run_cli(own_store, "user", "list", "--json").json()["users"]}
    assert (listed[email]["role"], listed[email]["active"]) == ("analyst", True)
    sam_client = TestClient(own_app)
    login = sam_client.get("/login").text
    signed_in = sam_client.post(
        "/login", data={"email": email, "password": PASSWORD, "csrf_token": _csrf(login)}, follow_redirects=False
    )
    assert signed_in.status_code == 303, "the new person logs in with the first password"
    assert sam_client.get("/jobs").status_code == 200

    row = re.search(
        rf'<tr data-user="(\d+)" data-role="analyst" data-active="yes">\s*<td class="email">{email}</td>',
        owner.get("/settings").text,
    )
    assert row, "the people table lists the new account with its role"
    sam_id = int(row.group(1))
    csrf = _csrf(owner.get("/settings").text)
    changed = owner.post("/settings/users/role", data={"csrf_token": csrf, "email": email, "role": "marketer"})
    assert changed.url.path == "/settings"
    assert "Role changed" in changed.text
    assert 'data-role="marketer"' in changed.text
    assert sam_client.get("/settings").status_code == 403, "a marketer may not see the settings"

    removed = owner.post("/settings/users/remove", data={"csrf_token": csrf, "email": email}, follow_redirects=False)
    assert removed.headers["location"] == "/settings?notice=user_removed"
    assert sam_client.get("/jobs", follow_redirects=False).headers["location"] == "/login", "their session ended"
    retry = TestClient(own_app)
    denied = retry.post(
        "/login", data={"email": email, "password": PASSWORD, "csrf_token": _csrf(retry.get("/login").text)}
    )
    assert denied.status_code == 401, "a removed account cannot log in"
    listed = {u["email"]: u for u in run_cli(own_store, "user", "list", "--json").json()["users"]}
    assert (listed[email]["role"], listed[email]["active"]) == ("marketer", False)

    owner_actor = f"user:{_user_id(own_store, demo_store.email('owner'))}"
    ours = [entry for entry in _audit_since(own_store, before) if not entry[1].startswith("web.")]
    assert ours == [
        (owner_actor, "account.user_add", {"user_id": sam_id, "role": "analyst", "via": "web"}),
        (
            owner_actor,
            "account.user_role",
            {"user_id": sam_id, "role": "marketer", "previous_role": "analyst", "via": "web"},
        ),
        (owner_actor, "account.user_remove", {"user_id": sam_id, "role": "marketer", "via": "web"}),
    ]
    written = json.dumps(_audit_since(own_store, before))
    assert email not in written
    assert PASSWORD not in written


def test_the_last_owner_can_be_neither_demoted_nor_removed(
    owner: TestClient, own_store: Path, demo_store: Store
) -> None:
    owner_email, analyst_email = demo_store.email("owner"), demo_store.email("analyst")
    before = _newest_audit_id(own_store)
    csrf = _csrf(owner.get("/settings").text)
    demoted = owner.post("/settings/users/role", data={"csrf_token": csrf, "email": owner_email, "role": "analyst"})
    assert (demoted.status_code, _errors(demoted.text)) == (
        400,
        ["cannot demote the last owner; make another user owner first"],
    )
    removed = owner.post("/settings/users/remove", data={"csrf_token": csrf, "email": owner_email})
    assert (removed.status_code, _errors(removed.text)) == (
        400,
        ["cannot remove the last owner; make another user owner first"],
    )
    on_the_command_line = run_cli(own_store, "user", "remove", owner_email)
    assert (on_the_command_line.exit_code, on_the_command_line.stderr.strip()) == (
        2,
        "error: cannot remove the last owner; make another user owner first",
    )
    assert _audit_since(own_store, before) == []
    roles = {u["email"]: (u["role"], u["active"]) for u in run_cli(own_store, "user", "list", "--json").json()["users"]}
    assert roles[owner_email] == ("owner", True)

    promoted = owner.post("/settings/users/role", data={"csrf_token": csrf, "email": analyst_email, "role": "owner"})
    assert promoted.status_code == 200
    handed_over = owner.post(
        "/settings/users/role",
        data={"csrf_token": csrf, "email": owner_email, "role": "analyst"},
        follow_redirects=False,
    )
    assert handed_over.status_code == 303, "with a second owner the first may step down"
    assert owner.get("/settings").status_code == 403, "and is an analyst from the next request on"


def test_a_token_made_on_the_page_works_until_it_is_revoked(
    owner: TestClient, own_app: FastAPI, own_store: Path, demo_store: Store
) -> None:
    before = _newest_audit_id(own_store)
    csrf = _csrf(owner.get("/settings").text)
    made = owner.post("/settings/tokens", data={"csrf_token": csrf, "name": "nightly export", "role": "analyst"})
    assert made.status_code == 200
    secret = re.search(r'id="new-token-secret" readonly value="([^"]+)"', made.text)
    assert secret, "the new token is shown on the page that answers the form"
    api = TestClient(own_app, headers={"Authorization": f"Bearer {secret.group(1)}"})
    kpis = api.get("/api/v1/kpis")
    assert kpis.status_code == 200
    assert kpis.json()["rows"], "the token reads the store's KPIs"

    page = owner.get("/settings").text
    assert secret.group(1) not in page, "the secret is shown once only"
    listed = [
        t for t in run_cli(own_store, "token", "list", "--json").json()["tokens"] if t["name"] == "nightly export"
    ]
    assert [(t["role"], t["revoked"]) for t in listed] == [("analyst", False)]
    token_id = listed[0]["token_id"]
    assert f'<tr data-token="{token_id}" data-revoked="no">' in page
    assert secret.group(1) not in run_cli(own_store, "token", "list", "--json").stdout

    revoked = owner.post("/settings/tokens/revoke", data={"csrf_token": csrf, "token_id": token_id})
    assert "Token revoked" in revoked.text
    assert f'<tr data-token="{token_id}" data-revoked="yes">' in revoked.text
    refused = api.get("/api/v1/kpis")
    assert refused.status_code == 401
    assert refused.json() == {"error": {"code": "unauthorized", "message": "credentials required"}}
    twice = owner.post("/settings/tokens/revoke", data={"csrf_token": csrf, "token_id": token_id})
    assert (twice.status_code, _errors(twice.text)) == (400, ["that API token is revoked already"])

    owner_actor = f"user:{_user_id(own_store, demo_store.email('owner'))}"
    assert _audit_since(own_store, before) == [
        (owner_actor, "account.token_create", {"token_id": token_id, "role": "analyst", "via": "web"}),
        (owner_actor, "account.token_revoke", {"token_id": token_id, "role": "analyst", "via": "web"}),
    ]
    assert secret.group(1) not in json.dumps(_audit(own_store))


@pytest.mark.parametrize("role", ["analyst", "marketer", "vendor"])
def test_other_roles_get_403_and_change_nothing(
    own_app: FastAPI, own_store: Path, demo_store: Store, role: str
) -> None:
    client = logged_in(own_app, Store(own_store, demo_store.tokens), role)
    denied = client.get("/settings")
    assert denied.status_code == 403
    menu = re.findall(r"<nav>(.*?)</nav>", client.get("/sharing").text, re.DOTALL)
    assert len(menu) == 1
    assert 'href="/sharing"' in menu[0]
    assert 'href="/settings"' not in menu[0], "the menu does not offer the page"
    before = _newest_audit_id(own_store)
    csrf = _csrf(denied.text)
    attempts = {
        "/settings/store": {"timezone": "Asia/Tokyo", "currency": "JPY", "store_name": "x", "locale": "ja_JP"},
        "/settings/users": {
            "email": "x@shop.example",
            "role": "owner",
            "password": PASSWORD,
            "password_again": PASSWORD,
        },
        "/settings/users/role": {"email": demo_store.email(role), "role": "owner"},
        "/settings/users/remove": {"email": demo_store.email("owner")},
        "/settings/tokens": {"name": "mine", "role": "owner"},
    }
    for path, fields in attempts.items():
        assert client.post(path, data={"csrf_token": csrf, **fields}).status_code == 403, path
    bearer = TestClient(own_app, headers={"Authorization": f"Bearer {demo_store.tokens[role]}"})
    assert bearer.get("/settings").status_code == 403
    assert _audit_since(own_store, before) == []
    assert run_cli(own_store, "config", "show", "--json").json() == STORE_DEFAULTS
    assert len(run_cli(own_store, "token", "list", "--json").json()["tokens"]) == len(demo_store.tokens)


def test_without_a_session_the_page_and_its_forms_send_people_to_log_in(own_app: FastAPI) -> None:
    client = TestClient(own_app)
    for method, path in [("GET", "/settings"), ("POST", "/settings/store"), ("POST", "/settings/tokens")]:
        answer = client.request(method, path, follow_redirects=False)
        assert (answer.status_code, answer.headers["location"]) == (303, "/login"), path


def test_a_form_without_the_sessions_csrf_token_is_refused(owner: TestClient, own_store: Path) -> None:
    form = _store_form(owner, timezone="Asia/Tokyo")
    for forged in ({**form, "csrf_token": "forged"}, {k: v for k, v in form.items() if k != "csrf_token"}):
        assert owner.post("/settings/store", data=forged).status_code == 403
    assert run_cli(own_store, "config", "show", "--json").json()["timezone"] == "UTC"


class _Controls(HTMLParser):
    """The ids of the form controls a person fills in (not hidden fields) and the ids labels point at."""

    def __init__(self) -> None:
        super().__init__()
        self.controls: list[str | None] = []
        self.labelled: set[str] = set()
        self.forms: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag in ("input", "select", "textarea") and found.get("type") != "hidden":
            self.controls.append(found.get("id"))
        elif tag == "label" and found.get("for"):
            self.labelled.add(str(found["for"]))
        elif tag == "form":
            self.forms.append(str(found.get("method")))


def test_every_control_has_a_label_and_every_form_posts(owner: TestClient, own_store: Path) -> None:
    csrf = _csrf(owner.get("/settings").text)
    page = owner.post("/settings/tokens", data={"csrf_token": csrf, "name": "labels", "role": "vendor"}).text
    controls = _Controls()
    controls.feed(page)
    assert len(controls.controls) >= 11  # four settings, a role per person, four for a person, two for a token, …
    assert [control for control in controls.controls if control is None or control not in controls.labelled] == []
    assert set(controls.forms) == {"post"}
    assert page.count(f'name="csrf_token" value="{csrf}"') == len(controls.forms), "every form carries the token"


def _monthly_revenue(page: Any) -> list[Decimal]:
    """The overview's revenue per month, as the API's values (its cells' data-value)."""
    page.wait_for_selector("#kpi-table", timeout=120_000)  # a page still computing reloads itself until it is ready
    cells = page.locator("#kpi-table td[data-kpi=revenue]")
    return [Decimal(value) for value in cells.evaluate_all("cells => cells.map(c => c.dataset.value)")]


def _cli_monthly_revenue(home: Path) -> list[Decimal]:
    return [Decimal(str(row["revenue"])) for row in run_cli(home, "kpis", "--json").json()["rows"]]


@pytest.mark.e2e
def test_an_owner_changes_the_time_zone_in_the_browser_on_a_phone(
    browser: Any, own_store: Path, demo_store: Store
) -> None:
    with serving(own_store) as server:
        context = browser.new_context(viewport={"width": 390, "height": 844})
        page = context.new_page()
        page.goto(f"{server}/settings")
        assert page.url.endswith("/login")
        page.fill("input[name=email]", demo_store.email("owner"))
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{server}/")
        before = _monthly_revenue(page)
        assert before == _cli_monthly_revenue(own_store)
        page.click("header nav a[href='/settings']")
        page.wait_for_selector("#store-form")
        assert not page.evaluate("document.documentElement.scrollWidth > window.innerWidth"), "fits a phone"
        page.get_by_label("Time zone").fill("Mars/Base")
        page.click("#store-form button[type=submit]")
        assert page.locator("#store-error").inner_text() == "unknown time zone 'Mars/Base'"
        assert run_cli(own_store, "config", "show", "--json").json()["timezone"] == "UTC"
        page.get_by_label("Time zone").fill("Asia/Hong_Kong")
        page.click("#store-form button[type=submit]")
        page.wait_for_url(f"{server}/settings?notice=settings")
        assert page.locator("#notice").inner_text() == "Store settings saved."
        assert page.get_by_label("Time zone").input_value() == "Asia/Hong_Kong"
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "settings-phone.png"), full_page=True)
        page.goto(f"{server}/")
        after = _monthly_revenue(page)  # the months as Hong Kong counts them (UTC+8), as the command line does now
        assert after == _cli_monthly_revenue(own_store)
        assert after != before, (
            "orders placed late in the evening (UTC) move into the next day, some into the next month"
        )
        context.close()
    shown = run_cli(own_store, "config", "show", "--json")
    assert shown.json() == {**STORE_DEFAULTS, "timezone": "Asia/Hong_Kong"}
