"""Consent per purpose: records seeded from the platform's flags, changed by ``privacy consent set``, honoured at
once by the campaign audience, the survey contact export and the share package."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from tests.conftest import build_demo_store, fetch, fetch_clear, run_cli

from shoplens.appdb import AppDatabase
from shoplens.config import Settings
from shoplens.metrics import SEGMENT_NAMES

SHOPIFY = Path(__file__).parents[1] / "fixtures" / "shopify_orders.csv"
SURVEY_YAML = f"""
name: After your order
target: {{segments: [{", ".join(SEGMENT_NAMES)}]}}
sample: {{size: 60, contact_cap_days: 90, seed: 4}}
questions:
  - {{kind: nps, text: "How likely are you to recommend us to a friend or colleague?"}}
"""


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_demo_store(tmp_path_factory.mktemp("consent") / "home", customers=400, seed=11)


def _records(home: Path) -> list[Any]:
    database = AppDatabase(Settings(home=home).app_database_url)
    try:
        with database.engine.connect() as con:
            return list(con.execute(text("SELECT customer_key, purpose, granted, source FROM consent_records")))
    finally:
        database.close()


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _audience(home: Path, campaign_id: str, out: Path) -> list[dict[str, str]]:
    result = run_cli(home, "campaign", "audience", campaign_id, "--out", str(out), "--json")
    assert result.exit_code == 0, result.stderr
    return _csv(out)


def _set(home: Path, email: str, purpose: str, granted: str) -> dict[str, Any]:
    result = run_cli(home, "privacy", "consent", "set", "--email", email, "--purpose", purpose, "--granted", granted,
                     "--json")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert email not in result.stdout  # the e-mail is never printed back
    document: dict[str, Any] = result.json()
    return document


def test_the_import_seeds_one_marketing_record_per_customer_with_a_platform_flag(store: Path) -> None:
    flagged = fetch(store, "SELECT customer_key, consent_marketing FROM customers WHERE consent_marketing IS NOT NULL")
    records = _records(store)
    seeded = {(key, bool(granted)) for key, purpose, granted, source in records if source.startswith("import:")}
    assert seeded == {(key, bool(flag)) for key, flag in flagged}
    assert len(seeded) == len(flagged)


def test_withdrawing_and_granting_marketing_changes_the_next_audience_by_one(store: Path, tmp_path: Path) -> None:
    segments = run_cli(store, "rfm", "--json").json()["segments"]
    segment = max(segments, key=lambda s: s["customers"])["segment"]
    created = run_cli(store, "campaign", "create", "--segment", segment, "--seed", "5", "--holdout", "0.1", "--json")
    assert created.exit_code == 0, created.stderr
    campaign_id = created.json()["campaign_id"]
    before = _audience(store, campaign_id, tmp_path / "before.csv")
    leaving = before[0]
    _set(store, leaving["email"], "marketing", "no")
    after = _audience(store, campaign_id, tmp_path / "after.csv")
    assert len(after) == len(before) - 1
    assert leaving["customer_key"] not in {row["customer_key"] for row in after}

    # A treatment customer the platform never said yes for, with an e-mail in the vault: granting includes them.
    refusing = fetch_clear(
        store,
        "SELECT p.customer_key, p.email FROM customer_pii p JOIN customers c USING (customer_key) "
        "WHERE p.email IS NOT NULL AND NOT coalesce(c.consent_marketing, false) "
        "AND p.customer_key IN (SELECT unnest(?)) ORDER BY p.customer_key LIMIT 1",
        [created.json()["treatment"]],
    )
    assert refusing, "the demo has treatment customers without consent"
    key, email = refusing[0]
    assert _set(store, email, "marketing", "yes")["customer_key"] == key
    granted = _audience(store, campaign_id, tmp_path / "granted.csv")
    assert len(granted) == len(after) + 1
    assert key in {row["customer_key"] for row in granted}

    shown = run_cli(store, "privacy", "consent", "show", "--email", leaving["email"], "--json")
    assert shown.exit_code == 0
    assert leaving["email"] not in shown.stdout
    state = shown.json()["consent"]
    assert state["marketing"]["granted"] is False
    assert state["marketing"]["source"] == "cli"
    assert state["sharing"] == {"granted": True, "source": "default", "at": None}


def test_a_withdrawal_leaves_the_customer_out_of_the_next_survey_contact_export(store: Path, tmp_path: Path) -> None:
    definition = tmp_path / "survey.yaml"
    definition.write_text(SURVEY_YAML)
    created = run_cli(store, "survey", "create", str(definition), "--json")
    assert created.exit_code == 0, created.stderr
    survey_id = created.json()["survey_id"]
    assert run_cli(store, "survey", "sample", survey_id, "--json").exit_code == 0
    before_file, after_file = tmp_path / "before.csv", tmp_path / "after.csv"
    first = run_cli(store, "survey", "export", survey_id, "--out", str(before_file), "--contacts", "--json")
    assert first.exit_code == 0, first.stderr
    before = _csv(before_file)
    assert before
    _set(store, before[-1]["email"], "marketing", "no")
    second = run_cli(store, "survey", "export", survey_id, "--out", str(after_file), "--contacts", "--json").json()
    after = _csv(after_file)
    assert len(after) == second["recipients"] == len(before) - 1
    assert before[-1]["customer_key"] not in {row["customer_key"] for row in after}


def _segment_people(home: Path, out: Path) -> tuple[int, dict[str, Any]]:
    result = run_cli(home, "share", "export", "--out", str(out), "--k", "2", "--json")
    assert result.exit_code == 0, result.stderr
    with zipfile.ZipFile(out) as archive:
        rows = list(csv.DictReader(io.TextIOWrapper(archive.open("segment_preferences.csv"), encoding="utf-8")))
    document = result.json()
    held = document["datasets"]["segment_preferences"]["suppressed_people"]
    return sum(int(row["people"]) for row in rows) + held, document


def test_a_customer_who_withdrew_sharing_is_in_no_cell_of_the_share_package(store: Path, tmp_path: Path) -> None:
    before, _ = _segment_people(store, tmp_path / "before.zip")
    buyer = fetch_clear(
        store,
        "SELECT p.email FROM customer_pii p WHERE p.email IS NOT NULL AND p.customer_key IN "
        "(SELECT customer_key FROM orders WHERE status NOT IN ('cancelled', 'voided')) ORDER BY 1 LIMIT 1",
    )[0][0]
    _set(store, buyer, "sharing", "no")
    after, document = _segment_people(store, tmp_path / "after.zip")
    assert after == before - 1
    assert document["customers_withdrawn"] == 1


def test_a_re_import_of_the_same_export_does_not_undo_a_withdrawal(cli: Callable[..., Any]) -> None:
    assert cli("import", str(SHOPIFY), "--profile", "shopify", "--json").exit_code == 0
    email = "amy.chan@example.com"  # the export says she accepts marketing
    before = cli("privacy", "consent", "show", "--email", email, "--json").json()
    assert before["consent"]["marketing"]["granted"] is True
    assert before["consent"]["marketing"]["source"] == "import:shopify"
    assert (
        cli("privacy", "consent", "set", "--email", email, "--purpose", "marketing", "--granted", "no").exit_code == 0
    )
    records = len(before["records"]) + 1
    assert cli("import", str(SHOPIFY), "--profile", "shopify", "--json").exit_code == 0
    again = cli("privacy", "consent", "show", "--email", email, "--json").json()
    assert again["consent"]["marketing"]["granted"] is False
    assert len(again["records"]) == records


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--purpose", "fun", "--granted", "yes"], "error: a consent purpose is one of analytics, marketing, sharing"),
        (["--purpose", "marketing", "--granted", "maybe"], "error: --granted is yes or no, not 'maybe'"),
    ],
)
def test_bad_consent_input_exits_2_with_one_line(cli: Callable[..., Any], args: list[str], message: str) -> None:
    assert cli("import", str(SHOPIFY), "--profile", "shopify", "--json").exit_code == 0
    result = cli("privacy", "consent", "set", "--email", "amy.chan@example.com", *args)
    assert result.exit_code == 2
    assert result.stderr.strip().startswith(message)
    unknown = cli("privacy", "consent", "set", "--email", "nobody@nowhere.example", "--purpose", "marketing",
                  "--granted", "no")  # fmt: skip
    assert (unknown.exit_code, unknown.stderr.strip()) == (
        2,
        "error: --email: the store holds no customer with that e-mail",
    )


def _audit(home: Path) -> list[tuple[str, dict[str, Any]]]:
    database = AppDatabase(Settings(home=home).app_database_url)
    try:
        return [(row.action, json.loads(row.details)) for row in database.audit_rows()]
    finally:
        database.close()


def test_exports_without_addresses_and_consent_changes_are_audited_too(store: Path, tmp_path: Path) -> None:
    definition = tmp_path / "survey.yaml"
    definition.write_text(SURVEY_YAML.replace("seed: 4", "seed: 8"))
    survey_id = run_cli(store, "survey", "create", str(definition), "--json").json()["survey_id"]
    assert run_cli(store, "survey", "sample", survey_id, "--json").exit_code == 0
    out = tmp_path / "links.csv"
    exported = run_cli(store, "survey", "export", survey_id, "--out", str(out), "--json").json()
    action, details = _audit(store)[exported["audit_entry"] - 1]
    assert (action, details) == (
        "survey.recipients_export",
        {"survey_id": survey_id, "file": "links.csv", "recipients": len(_csv(out))},
    )
    report = run_cli(store, "report", "--format", "html", "--out", str(tmp_path / "r.html"), "--json")
    assert report.exit_code == 0, report.stderr
    assert _audit(store)[report.json()["audit_entry"] - 1][0] == "report.export"
    changes = [details for action, details in _audit(store) if action == "privacy.consent_set"]
    assert changes
    assert all(set(found) == {"customer_key", "purpose", "granted", "source"} for found in changes)
    assert "@" not in json.dumps(_audit(store))


def test_the_api_changes_consent_with_source_api_and_only_for_owners_and_marketers(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from shoplens.web import create_app, create_token

    home = tmp_path / "home"
    assert run_cli(home, "import", str(SHOPIFY), "--profile", "shopify", "--json").exit_code == 0
    key = run_cli(home, "privacy", "consent", "show", "--email", "amy.chan@example.com", "--json").json()
    database = AppDatabase(Settings(home=home).app_database_url)
    try:
        marketer, record = create_token(database, "marketer", "crm")
        vendor, _ = create_token(database, "vendor", "designer")
    finally:
        database.close()
    client = TestClient(create_app(Settings(home=home)))
    path = f"/api/v1/customers/{key['customer_key']}/consent/marketing"
    refused = client.put(path, json={"granted": False}, headers={"Authorization": f"Bearer {vendor}"})
    assert refused.status_code == 403
    done = client.put(path, json={"granted": False}, headers={"Authorization": f"Bearer {marketer}"})
    assert done.status_code == 200, done.text
    assert done.json()["consent"]["marketing"]["granted"] is False
    assert done.json()["consent"]["marketing"]["source"] == "api"
    shown = run_cli(home, "privacy", "consent", "show", "--email", "amy.chan@example.com", "--json").json()
    assert shown["consent"]["marketing"]["source"] == "api"
    entries = _audit(home)
    assert entries[-1] == (
        "privacy.consent_set",
        {"customer_key": key["customer_key"], "purpose": "marketing", "granted": False, "source": "api", "via": "web"},
    )
    unknown = client.get("/api/v1/customers/c_nobody/consent", headers={"Authorization": f"Bearer {marketer}"})
    assert unknown.status_code == 404
    assert unknown.json() == {"error": {"code": "not_found", "message": "the store has no customer with that key"}}
    bad = client.put(
        path.replace("marketing", "fun"), json={"granted": True}, headers={"Authorization": f"Bearer {marketer}"}
    )
    assert bad.status_code == 422
    assert record.role == "marketer"


def test_a_customer_who_withdrew_analytics_is_left_out_of_campaign_groups_and_survey_samples(store: Path) -> None:
    import duckdb
    import ibis

    from shoplens.privacy import ConsentBook
    from shoplens.voice import customer_profiles

    segments = run_cli(store, "rfm", "--json").json()["segments"]
    segment = max(segments, key=lambda s: s["customers"])["segment"]
    first = run_cli(store, "campaign", "create", "--segment", segment, "--seed", "9", "--json").json()
    members = sorted([*first["treatment"], *first["holdout"]])
    email = fetch_clear(store, "SELECT email FROM customer_pii WHERE customer_key = ?", [members[0]])[0][0]
    _set(store, email, "analytics", "no")
    second = run_cli(store, "campaign", "create", "--segment", segment, "--seed", "9", "--json").json()
    assert sorted([*second["treatment"], *second["holdout"]]) == members[1:]

    con = duckdb.connect(str(store / "warehouse.duckdb"), read_only=True)
    try:
        backend = ibis.duckdb.from_connection(con)
        plain = customer_profiles(backend)
        refusing = plain.loc[~plain["consent_marketing"] & (plain["customer_key"] != members[0]), "customer_key"].iloc[
            0
        ]
        books = {
            "marketing": ConsentBook("marketing", {refusing: True}),
            "analytics": ConsentBook("analytics", {members[0]: False}),
        }
        chosen = customer_profiles(backend, **books)
    finally:
        con.close()
    assert len(chosen) == len(plain) - 1
    assert members[0] not in set(chosen["customer_key"])
    left_out_agreed = bool(plain.loc[plain["customer_key"] == members[0], "consent_marketing"].iloc[0])
    assert int(chosen["consent_marketing"].sum()) == int(plain["consent_marketing"].sum()) + 1 - left_out_agreed
    assert bool(chosen.loc[chosen["customer_key"] == refusing, "consent_marketing"].iloc[0])
