"""The vault: personal data is released only through :func:`shoplens.privacy.contacts`, by consent, with one
audit entry per release that holds counts and never a personal value; and what an import writes to it."""

from __future__ import annotations

import csv
import json
import sqlite3
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import ibis
import pytest
from tests.conftest import CliResult, show_vault_in_clear

from shoplens.errors import InputError, VaultKeyError, WarehouseError
from shoplens.privacy import (
    HASH_COLUMNS,
    PERSONAL_COLUMNS,
    VAULT_COLUMNS,
    AuditRow,
    ConsentBook,
    VaultKeys,
    audit_sink,
    contacts,
    keyed_hash,
    recent_audit,
    record_audit,
    seal,
    vault_rows,
    vault_upserts,
    verify_audit,
)

SECRET = b"vault-tests-secret-0123456789abcdef"
KEYS = VaultKeys(bytes(range(32)))
SURVEY_YAML = """
name: How was your order?
target: {segments: [Champions, Loyal, Potential loyalists, At risk, Hibernating, Lost, About to sleep]}
sample: {size: 40, contact_cap_days: 90, seed: 3}
reminders: {after_days: 1, max: 1}
questions:
  - {kind: nps, text: "How likely are you to recommend us to a friend or colleague?"}
"""


class ListAuditStore:
    """An audit store kept in a list: the chain's rules need nothing from the app database."""

    def __init__(self) -> None:
        self.rows: list[AuditRow] = []

    def append_audit(self, seal: Callable[[AuditRow | None], AuditRow]) -> AuditRow:
        sealed = seal(self.rows[-1] if self.rows else None)
        self.rows.append(sealed)
        return sealed

    def audit_rows(self) -> Iterator[AuditRow]:
        return iter(list(self.rows))

    def newest_audit_rows(self, limit: int) -> list[AuditRow]:
        return self.rows[::-1][:limit]


VAULT = [
    # customer_key, email, name, consent_marketing (None: unknown)
    ("c1", "ann@example.com", "Ann Lee", True),
    ("c2", "bob@example.com", "Bob Wu", False),
    ("c3", "cat@example.com", "Cat Ng", None),
    ("c4", None, "Dan Ho", True),
    ("c5", "eve@example.com", None, True),
]


@pytest.fixture
def warehouse() -> Iterator[ibis.BaseBackend]:
    con = duckdb.connect()
    con.execute("CREATE TABLE customer_pii (customer_key VARCHAR, email VARCHAR, name VARCHAR)")
    con.execute("CREATE TABLE customers (customer_key VARCHAR, consent_marketing BOOLEAN)")
    sealed = [
        (
            key,
            *(
                None if value is None else seal(KEYS, value, customer_key=key, column=column)
                for value, column in ((email, "email"), (name, "name"))
            ),
        )
        for key, email, name, _ in VAULT
    ]
    con.executemany("INSERT INTO customer_pii VALUES (?, ?, ?)", sealed)
    con.executemany("INSERT INTO customers VALUES (?, ?)", [(row[0], row[3]) for row in VAULT])
    yield ibis.duckdb.from_connection(con)
    con.close()


def test_only_consenting_customers_with_an_email_are_released_in_the_order_asked(
    warehouse: ibis.BaseBackend,
) -> None:
    store = ListAuditStore()
    asked = ["c5", "c1", "c2", "c3", "c4", "c9", "c1"]  # c9 is unknown; c1 asked twice
    release = contacts(
        warehouse,
        asked,
        purpose="survey invitations",
        action="survey.contacts_export",
        audit=audit_sink(store, actor="cli", secret=SECRET),
        consent=ConsentBook("marketing"),
        keys=KEYS,
    )
    # c2 refused, c3 never said (unknown is no), c4 has no e-mail, c9 is not in the vault.
    assert [(c.customer_key, c.email, c.name) for c in release.contacts] == [
        ("c5", "eve@example.com", None),
        ("c1", "ann@example.com", None),
    ]
    assert (release.asked, release.left_out) == (6, 4)
    assert [row.action for row in store.rows] == ["survey.contacts_export"]
    assert release.audit_entry.details == {
        "purpose": "survey invitations",
        "asked": 6,
        "released": 2,
        "left_out": 4,
        "fields": ["email"],
        "consent": "marketing",
    }


def test_a_release_without_the_consent_rule_and_with_names_says_so_in_the_log(warehouse: ibis.BaseBackend) -> None:
    store = ListAuditStore()
    release = contacts(
        warehouse,
        ["c1", "c2", "c3", "c4"],
        purpose="access request",
        action="privacy.export",
        audit=audit_sink(store, actor="user:7", secret=SECRET),
        consent=None,
        keys=KEYS,
        with_name=True,
        context={"request": "r-12"},
    )
    assert [(c.customer_key, c.email, c.name) for c in release.contacts] == [
        ("c1", "ann@example.com", "Ann Lee"),
        ("c2", "bob@example.com", "Bob Wu"),
        ("c3", "cat@example.com", "Cat Ng"),
    ]
    entry = recent_audit(store, limit=1)[0]
    assert (entry.actor, entry.action) == ("user:7", "privacy.export")
    assert entry.details["fields"] == ["email", "name"]
    assert entry.details["consent"] == "not required"
    assert entry.details["request"] == "r-12"
    logged = store.rows[0].details
    assert "@" not in logged
    assert not any(name in logged for _, _, name, _ in VAULT if name)


def test_the_newest_consent_record_overrides_the_platform_flag_either_way(warehouse: ibis.BaseBackend) -> None:
    store = ListAuditStore()
    # c1 agreed on the platform and withdrew here; c3 never said there and agreed here; c2's refusal stands.
    book = ConsentBook("marketing", {"c1": False, "c3": True})
    release = contacts(
        warehouse,
        ["c1", "c2", "c3", "c4", "c5"],
        purpose="survey invitations",
        action="survey.contacts_export",
        audit=audit_sink(store, actor="cli", secret=SECRET),
        consent=book,
        keys=KEYS,
    )
    assert [c.customer_key for c in release.contacts] == ["c3", "c5"]
    assert book.withdrawn == {"c1"}
    with pytest.raises(InputError, match="released on marketing consent, not on sharing consent"):
        contacts(
            warehouse,
            ["c1"],
            purpose="x",
            action="survey.contacts_export",
            audit=audit_sink(store, actor="cli", secret=SECRET),
            consent=ConsentBook("sharing"),
            keys=KEYS,
        )


def test_without_a_record_analytics_and_sharing_default_to_yes_and_marketing_to_the_flag(
    warehouse: ibis.BaseBackend,
) -> None:
    customers = warehouse.table("customers")
    for purpose, expected in (("marketing", {"c1", "c4", "c5"}), ("sharing", {"c1", "c2", "c3", "c4", "c5"})):
        found = ConsentBook(purpose, {"c5": False}).consenting(customers).to_pyarrow().column(0).to_pylist()  # type: ignore[arg-type]
        assert set(found) == expected - {"c5"}, purpose


def test_the_vault_holds_no_value_in_clear_and_a_wrong_key_opens_none(warehouse: ibis.BaseBackend) -> None:
    stored = warehouse.table("customer_pii").to_pyarrow().to_pylist()
    held = {value for row in stored for value in (row["email"], row["name"]) if value is not None}
    assert len(held) == 8  # 4 e-mails and 4 names, each sealed with its own nonce
    assert not any(plain in text for text in held for _, email, name, _ in VAULT for plain in (email, name) if plain)
    store = ListAuditStore()
    wrong = VaultKeys(bytes(32), where="file vault.key")
    with pytest.raises(VaultKeyError) as refused:
        contacts(
            warehouse,
            ["c1"],
            purpose="survey invitations",
            action="survey.contacts_export",
            audit=audit_sink(store, actor="cli", secret=SECRET),
            consent=ConsentBook("marketing"),
            keys=wrong,
        )
    assert str(refused.value) == (
        f"the vault key file vault.key cannot decrypt the vault (it was encrypted with key {KEYS.current_id}); "
        "restore the key from a backup"
    )


def test_an_empty_request_is_still_recorded(warehouse: ibis.BaseBackend) -> None:
    store = ListAuditStore()
    release = contacts(
        warehouse,
        [],
        purpose="survey reminders",
        action="survey.contacts_export",
        audit=audit_sink(store, actor="cli", secret=SECRET),
        consent=ConsentBook("marketing"),
        keys=KEYS,
    )
    assert release.contacts == []
    assert json.loads(store.rows[0].details)["asked"] == 0


def test_bad_purpose_or_context_is_refused_before_anything_is_read(warehouse: ibis.BaseBackend) -> None:
    store = ListAuditStore()
    sink = audit_sink(store, actor="cli", secret=SECRET)
    with pytest.raises(InputError, match="needs a purpose of 1 to 80 characters"):
        contacts(warehouse, ["c1"], purpose=" ", action="survey.contacts_export", audit=sink, consent=None, keys=KEYS)
    with pytest.raises(InputError, match="may not set asked, released: the vault records those itself"):
        contacts(
            warehouse,
            ["c1"],
            purpose="x",
            action="survey.contacts_export",
            audit=sink,
            consent=None,
            keys=KEYS,
            context={"released": 0, "asked": 1},
        )
    assert store.rows == []


def test_a_warehouse_without_a_vault_is_a_clear_error() -> None:
    con = duckdb.connect()
    try:
        with pytest.raises(WarehouseError) as refused:
            contacts(
                ibis.duckdb.from_connection(con),
                ["c1"],
                purpose="survey invitations",
                action="survey.contacts_export",
                audit=audit_sink(ListAuditStore(), actor="cli", secret=SECRET),
                consent=ConsentBook("marketing"),
                keys=KEYS,
            )
    finally:
        con.close()
    assert str(refused.value) == "the warehouse has no customer vault yet: import data first"


def test_the_chain_rules_hold_on_any_store() -> None:
    store = ListAuditStore()
    for number in range(1, 4):
        record_audit(store, actor="system", action="test.chain", details={"n": number}, secret=SECRET)
    assert verify_audit(store, secret=SECRET).as_dict() == {"ok": True, "entries": 3, "first_bad_entry": None}
    second = store.rows[1]
    store.rows[1] = AuditRow(
        second.id, second.at, second.actor, second.action, '{"n":9}', second.prev_hash, second.hash
    )
    assert verify_audit(store, secret=SECRET).as_dict() == {
        "ok": False,
        "entries": 3,
        "first_bad_entry": 2,
        "problem": "entry 2 was changed or follows a deleted entry",
    }


# --- what an import writes ------------------------------------------------------------------------------------------

AT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
STORED_CLEAR = {
    "customer_key": ["k1", "k2", "k3"],
    "source_customer_id": ["s1", "s2", "s3"],
    "email": ["old1@example.com", None, "same3@example.com"],
    "name": ["Old One", "Old Two", "Same Three"],
    "phone": [None, None, None],
    "address": ["1 Old Road", None, None],
}
INCOMING = {
    "customer_key": ["k1", "k2", "k3", "k4"],
    "source_customer_id": ["s1-new", "s2", "s3", "s4"],
    "email": ["new1@example.com", "new2@example.com", " Same3@Example.com", "new4@example.com"],
    "address": [None, "2 New Road", None, None],
}


def _hashes(rows: dict[str, list[Any]]) -> dict[str, list[Any]]:
    """The keyed hashes the importer computes (its SQL and this function agree: tests/warehouse)."""

    def normal(name: str, value: str) -> str:
        return value.strip().lower() if name == "email" else value

    return {
        HASH_COLUMNS[name]: [None if v is None else keyed_hash(SECRET, name, normal(name, v)) for v in rows[name]]
        for name in PERSONAL_COLUMNS
        if name in rows
    }


def _stored() -> dict[str, list[Any]]:
    """The stored rows as the vault keeps them: values sealed (here a stand-in text), hashes beside them."""
    sealed = {
        name: [None if v is None else f"<sealed {v}>" for v in values]
        for name, values in STORED_CLEAR.items()
        if name != "customer_key"
    }
    return {
        "customer_key": STORED_CLEAR["customer_key"],
        **sealed,
        **_hashes(STORED_CLEAR),
        "updated_at": [datetime(2025, 1, 1)] * 3,
    }


def _upserts(prefer: Any) -> list[tuple[Any, ...]]:
    """Each row the merge writes, a field being its new value in clear or the stored (sealed) one kept."""
    stored, incoming = ibis.memtable(_stored()), ibis.memtable({**INCOMING, **_hashes(INCOMING)})
    rows = vault_upserts(stored, incoming, prefer=prefer, at=AT).order_by("customer_key").to_pyarrow().to_pylist()
    return [
        (row["customer_key"], *(row[name] or row[f"kept_{name}"] for name in PERSONAL_COLUMNS), row["updated_at"])
        for row in rows
    ]


def test_an_order_import_replaces_contact_details_with_known_new_ones() -> None:
    noon = datetime(2026, 3, 1, 12, 0)
    # k3 would not change (the same e-mail, but for case and spaces), so it is left out; k1 keeps its first shop id
    # and its stored address.
    assert _upserts("incoming") == [
        ("k1", "<sealed s1>", "new1@example.com", "<sealed Old One>", None, "<sealed 1 Old Road>", noon),
        ("k2", "<sealed s2>", "new2@example.com", "<sealed Old Two>", None, "2 New Road", noon),
        ("k4", "s4", "new4@example.com", None, None, None, noon),
    ]


def test_a_feedback_import_only_fills_what_the_vault_lacks() -> None:
    noon = datetime(2026, 3, 1, 12, 0)
    assert _upserts("stored") == [
        ("k2", "<sealed s2>", "new2@example.com", "<sealed Old Two>", None, "2 New Road", noon),
        ("k4", "s4", "new4@example.com", None, None, None, noon),
    ]


def test_vault_rows_have_every_vault_column_and_refuse_strangers() -> None:
    incoming = {"customer_key": ["k1"], "email": ["a@example.com"], "email_hash": ["h"]}
    shaped = vault_rows(ibis.memtable(incoming), at=AT)
    assert tuple(shaped.columns) == VAULT_COLUMNS
    assert set(PERSONAL_COLUMNS) | set(HASH_COLUMNS.values()) == set(VAULT_COLUMNS) - {"customer_key", "updated_at"}
    with pytest.raises(InputError) as refused:
        vault_rows(ibis.memtable({"customer_key": ["k1"], "country": ["HK"], "net": [1.0]}))
    assert str(refused.value) == (
        "the vault has no column(s) country, net; it keeps source_customer_id, email, name, phone, address"
    )
    with pytest.raises(InputError) as unhashed:
        vault_rows(ibis.memtable({"customer_key": ["k1"], "email": ["a@example.com"]}))
    assert str(unhashed.value) == "vault rows need the keyed hash of email (email_hash)"


# --- the survey contact export, end to end ----------------------------------------------------------------------------


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _consenting_emails(home: Path, keys: list[str]) -> dict[str, str]:
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        show_vault_in_clear(con, home)
        found = con.execute(
            "SELECT p.customer_key, p.email FROM customer_pii p JOIN customers c USING (customer_key) "
            "WHERE c.consent_marketing AND p.email IS NOT NULL AND p.customer_key IN (SELECT unnest(?))",
            [keys],
        ).fetchall()
    return dict(found)


def test_the_survey_contact_export_is_one_audit_entry_without_an_address(
    cli: Callable[..., CliResult], demo_copy: Path, tmp_path: Path
) -> None:
    home = demo_copy
    definition = tmp_path / "survey.yaml"
    definition.write_text(SURVEY_YAML)
    survey_id = cli("survey", "create", str(definition), "--json", home_dir=home).json()["survey_id"]
    assert cli("survey", "sample", survey_id, "--json", home_dir=home).json()["sampled"] == 40

    plain = cli("survey", "export", survey_id, "--out", str(tmp_path / "plain.csv"), "--json", home_dir=home)
    assert plain.exit_code == 0, plain.stderr
    # No address, but one-time answer links: whoever holds one answers as that customer, so it is an entry too.
    [link_export] = cli("audit", "list", "--json", home_dir=home).json()["entries"]
    assert link_export["id"] == plain.json()["audit_entry"]
    assert (link_export["action"], link_export["details"]) == (
        "survey.recipients_export",
        {"survey_id": survey_id, "file": "plain.csv", "recipients": 40},
    )

    out = tmp_path / "contacts.csv"
    exported = cli("survey", "export", survey_id, "--out", str(out), "--contacts", "--json", home_dir=home)
    assert exported.exit_code == 0, exported.stderr
    keys = [row["customer_key"] for row in _read_csv(tmp_path / "plain.csv")]
    expected = _consenting_emails(home, keys)
    assert 0 < len(expected) < 40, "the demo store has customers with and without consent"
    assert {row["customer_key"]: row["email"] for row in _read_csv(out)} == expected

    listed = cli("audit", "list", "--json", home_dir=home)
    assert listed.exit_code == 0, listed.stderr
    entry, _ = listed.json()["entries"]
    assert entry["id"] == exported.json()["audit_entry"]
    assert (entry["actor"], entry["action"]) == ("cli", "survey.contacts_export")
    assert entry["details"] == {
        "survey_id": survey_id,
        "file": "contacts.csv",
        "purpose": "survey invitations",
        "asked": 40,
        "released": len(expected),
        "left_out": 40 - len(expected),
        "fields": ["email"],
        "consent": "marketing",
    }
    assert exported.json()["left_out_without_consent"] == 40 - len(expected)
    assert "@" not in listed.stdout
    assert not any(email in listed.stdout for email in expected.values())
    assert cli("audit", "verify", "--json", home_dir=home).json() == {"ok": True, "entries": 2, "first_bad_entry": None}


def test_reminders_with_contacts_are_audited_too(
    cli: Callable[..., CliResult], demo_copy: Path, tmp_path: Path
) -> None:
    home = demo_copy
    definition = tmp_path / "survey.yaml"
    definition.write_text(SURVEY_YAML)
    survey_id = cli("survey", "create", str(definition), "--json", home_dir=home).json()["survey_id"]
    cli("survey", "sample", survey_id, "--json", home_dir=home)
    cli("survey", "export", survey_id, "--out", str(tmp_path / "plain.csv"), "--json", home_dir=home)
    keys = [row["customer_key"] for row in _read_csv(tmp_path / "plain.csv")]
    expected = _consenting_emails(home, keys)
    # Two days ago, as far as the reminder rule (after one day) can tell: all 40 are due.
    two_days_ago = (datetime.now(UTC) - timedelta(days=2)).strftime("%Y-%m-%d %H:%M:%S.%f")
    with sqlite3.connect(home / "app.db") as con:
        con.execute("UPDATE survey_invitations SET invited_at = ?", [two_days_ago])
    out = tmp_path / "reminders.csv"
    reminded = cli("survey", "remind", survey_id, "--out", str(out), "--contacts", "--json", home_dir=home)
    assert reminded.exit_code == 0, reminded.stderr
    assert {row["customer_key"]: row["email"] for row in _read_csv(out)} == expected
    entry, link_export = cli("audit", "list", "--json", home_dir=home).json()["entries"]
    assert link_export["action"] == "survey.recipients_export"
    assert entry["action"] == "survey.contacts_export"
    assert {key: entry["details"][key] for key in ("purpose", "asked", "released", "file")} == {
        "purpose": "survey reminders",
        "asked": 40,
        "released": len(expected),
        "file": "reminders.csv",
    }
