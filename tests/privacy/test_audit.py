"""The audit log's hash chain: entries verify, and editing, deleting or re-hashing a row in the file shows."""

from __future__ import annotations

import hashlib
import hmac
import json
import sqlite3
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import text
from tests.conftest import CliResult

from shoplens.appdb import AppDatabase
from shoplens.config import Settings
from shoplens.errors import InputError
from shoplens.privacy import GENESIS_HASH, AuditHead, record_audit, verify_audit

SECRET = b"audit-tests-secret-0123456789abcdef"


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[AppDatabase]:
    database = AppDatabase(f"sqlite:///{tmp_path / 'app.db'}")
    yield database
    database.close()


def write_chain(database: AppDatabase, count: int, secret: bytes = SECRET) -> None:
    for number in range(1, count + 1):
        details = {"n": number, "k": 10}
        record_audit(database, actor=f"user:{number}", action="share.export", details=details, secret=secret)


def test_a_chain_verifies_and_its_first_hash_is_the_documented_hmac(sqlite_db: AppDatabase) -> None:
    details = {"k": 10, "file": "a.zip"}
    first = record_audit(sqlite_db, actor="cli", action="share.export", details=details, secret=SECRET)
    write_chain(sqlite_db, 4)
    assert verify_audit(sqlite_db, secret=SECRET).as_dict() == {"ok": True, "entries": 5, "first_bad_entry": None}
    # Restated by hand: HMAC-SHA256(secret, 64 zeros + canonical [id, at, actor, action, details]).
    at = first.at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    content = f'[1,"{at}","cli","share.export","{{\\"file\\":\\"a.zip\\",\\"k\\":10}}"]'
    assert first.prev_hash == GENESIS_HASH == "0" * 64
    assert first.hash == hmac.new(SECRET, (GENESIS_HASH + content).encode(), hashlib.sha256).hexdigest()


def test_an_empty_log_is_ok(sqlite_db: AppDatabase) -> None:
    assert verify_audit(sqlite_db, secret=SECRET).as_dict() == {"ok": True, "entries": 0, "first_bad_entry": None}


def tamper(database_file: Path, sql: str) -> None:
    with sqlite3.connect(database_file) as con:
        con.execute(sql)


@pytest.mark.parametrize(
    ("sql", "entries", "first_bad"),
    [
        ('UPDATE audit_log SET details = \'{"k":2,"n":3}\' WHERE id = 3', 5, 3),
        ("UPDATE audit_log SET actor = 'user:99' WHERE id = 5", 5, 5),
        ("DELETE FROM audit_log WHERE id = 3", 4, 4),
        ("UPDATE audit_log SET hash = '" + "f" * 64 + "' WHERE id = 2", 5, 2),
        ("DELETE FROM audit_log WHERE id = 1", 4, 2),
    ],
    ids=["edit-details", "edit-actor", "delete-middle", "change-hash", "delete-first"],
)
def test_tampering_in_the_sqlite_file_is_found_at_the_right_entry(
    tmp_path: Path, sqlite_db: AppDatabase, sql: str, entries: int, first_bad: int
) -> None:
    write_chain(sqlite_db, 5)
    tamper(tmp_path / "app.db", sql)
    assert verify_audit(sqlite_db, secret=SECRET).as_dict() == {
        "ok": False,
        "entries": entries,
        "first_bad_entry": first_bad,
        "problem": f"entry {first_bad} was changed or follows a deleted entry",
    }


def test_another_secret_cannot_vouch_for_the_chain(sqlite_db: AppDatabase) -> None:
    write_chain(sqlite_db, 2)
    assert verify_audit(sqlite_db, secret=b"x" * 40).first_bad_entry == 1


def test_racing_writers_keep_one_chain(sqlite_db: AppDatabase) -> None:
    def write(worker: int) -> None:
        for number in range(10):
            record_audit(sqlite_db, actor=f"user:{worker}", action="test.race", details={"n": number}, secret=SECRET)

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(write, range(4)))
    assert verify_audit(sqlite_db, secret=SECRET).as_dict() == {"ok": True, "entries": 40, "first_bad_entry": None}


def test_writers_with_their_own_connections_queue_instead_of_failing(tmp_path: Path) -> None:
    """Separate engines on one file stand for separate processes (the CLI beside a running server)."""
    url = f"sqlite:///{tmp_path / 'app.db'}"
    databases = [AppDatabase(url) for _ in range(4)]

    def write(worker: int) -> None:
        for number in range(15):
            record_audit(
                databases[worker], actor=f"user:{worker}", action="test.race", details={"n": number}, secret=SECRET
            )

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(write, range(4)))
    assert verify_audit(databases[0], secret=SECRET).as_dict() == {"ok": True, "entries": 60, "first_bad_entry": None}
    for database in databases:
        database.close()


@pytest.mark.parametrize("actor", ["alice@example.com", "c_561377c36938c8280794", "user:", ""])
def test_an_actor_is_an_account_never_a_customer(sqlite_db: AppDatabase, actor: str) -> None:
    with pytest.raises(InputError, match="audit actor must be"):
        record_audit(sqlite_db, actor=actor, action="share.export", details={}, secret=SECRET)


@pytest.mark.postgres
def test_the_chain_on_postgresql(postgres_url: str) -> None:
    database = AppDatabase(postgres_url)
    try:
        with ThreadPoolExecutor(3) as pool:
            list(pool.map(lambda worker: write_chain(database, 4), range(3)))
        assert verify_audit(database, secret=SECRET).as_dict() == {"ok": True, "entries": 12, "first_bad_entry": None}
        with database.engine.begin() as con:
            con.execute(text("UPDATE audit_log SET details = '{}' WHERE id = 7"))
        assert verify_audit(database, secret=SECRET).as_dict() == {
            "ok": False,
            "entries": 12,
            "first_bad_entry": 7,
            "problem": "entry 7 was changed or follows a deleted entry",
        }
        with database.engine.begin() as con:
            con.execute(text("DELETE FROM audit_log WHERE id IN (6, 7)"))
        assert verify_audit(database, secret=SECRET).as_dict() == {
            "ok": False,
            "entries": 10,
            "first_bad_entry": 8,
            "problem": "entry 8 was changed or follows a deleted entry",
        }
    finally:
        database.close()


def test_cli_verify_on_a_fresh_store_is_ok(cli: Callable[..., CliResult]) -> None:
    result = cli("audit", "verify", "--json")
    assert result.exit_code == 0, result.stderr
    assert result.json() == {"ok": True, "entries": 0, "first_bad_entry": None}


def test_cli_verify_exits_1_on_a_broken_chain_and_list_shows_entries(
    cli: Callable[..., CliResult], tmp_path: Path
) -> None:
    home = tmp_path / "home"
    settings = Settings(home=home)
    secret = settings.store_secret()
    database = AppDatabase.for_store(settings)
    write_chain(database, 3, secret=secret)
    database.close()
    assert cli("audit", "verify", "--json").json() == {"ok": True, "entries": 3, "first_bad_entry": None}
    listed = cli("audit", "list", "--limit", "2", "--json")
    assert [entry["id"] for entry in listed.json()["entries"]] == [3, 2]
    assert listed.json()["entries"][0]["details"] == {"k": 10, "n": 3}
    tamper(home / "app.db", 'UPDATE audit_log SET details = \'{"k":99,"n":2}\' WHERE id = 2')
    broken = cli("audit", "verify", "--json")
    assert broken.exit_code == 1
    assert json.loads(broken.stdout) == {
        "ok": False,
        "entries": 3,
        "first_bad_entry": 2,
        "problem": "entry 2 was changed or follows a deleted entry",
    }
    assert "NOT ok: entry 2" in cli("audit", "verify").stdout


def test_cutting_off_the_newest_entries_shows_against_the_head(cli: Callable[..., CliResult], tmp_path: Path) -> None:
    home = tmp_path / "home"
    settings = Settings(home=home)
    secret = settings.store_secret()  # creates the home
    database = AppDatabase.for_store(settings)
    write_chain(database, 8, secret=secret)
    database.close()
    head = home / "audit.head"
    assert oct(head.stat().st_mode & 0o777) == "0o600"
    assert json.loads(head.read_text())["id"] == 8
    tamper(home / "app.db", "DELETE FROM audit_log WHERE id > 5")  # the last 3 rows
    cut = cli("audit", "verify", "--json")
    assert cut.exit_code == 1
    message = "the audit log ends at entry 5 but its head says 8: entries were removed"
    assert cut.json() == {"ok": False, "entries": 5, "first_bad_entry": 6, "problem": message}
    assert cut.stderr.strip() == f"error: {message}"


def test_a_head_behind_the_log_is_fine_and_a_rewritten_head_entry_is_not(sqlite_db: AppDatabase) -> None:
    write_chain(sqlite_db, 4)
    rows = list(sqlite_db.audit_rows())
    behind = AuditHead(rows[2].id, rows[2].hash)  # a writer that kept no head appended the fourth
    assert verify_audit(sqlite_db, secret=SECRET, head=behind).ok
    other = AuditHead(rows[2].id, rows[1].hash)
    verdict = verify_audit(sqlite_db, secret=SECRET, head=other)
    assert (verdict.ok, verdict.first_bad_entry) == (False, 3)
    assert verdict.problem == "entry 3 does not have the hash its head recorded: the log was rewritten"
