"""``shoplens privacy purge``: what is older than its retention limit goes, counted per kind, in one audit entry;
the counts are checked against an independent count on a copy of the store taken before."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pytest

from shoplens.appdb import AppDatabase
from shoplens.config import Settings

DAY = 86_400
LIMITS = {"CUSTOMER": 500, "QUARANTINE": 60, "CACHE": 10, "WEB_EVENT": 400}

# Independent of the code under test: every dated thing a vault customer did, in plain SQL.
INACTIVE_SQL = """
WITH activity AS (
    SELECT customer_key, first_seen AS "at" FROM customers
    UNION ALL SELECT customer_key, ordered_at FROM orders
    UNION ALL SELECT customer_key, started_at FROM sessions
    UNION ALL SELECT customer_key, "at" FROM events
    UNION ALL SELECT customer_key, "at" FROM feedback
    UNION ALL SELECT customer_key, created_at FROM tickets
)
SELECT count(*) FROM customer_pii p
JOIN (SELECT customer_key, max("at") AS last_at FROM activity GROUP BY 1) a USING (customer_key)
WHERE a.last_at < ?::TIMESTAMP
"""


def _count(path: Path, sql: str, *params: Any) -> int:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return int(con.execute(sql, list(params)).fetchone()[0])  # type: ignore[index]
    finally:
        con.close()


def _keys(path: Path, sql: str, cutoffs: dict[str, str]) -> set[str]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        params = [cutoffs["customers"]] if "?" in sql else []
        return {str(key) for (key,) in con.execute(sql, params).fetchall()}
    finally:
        con.close()


def _files(directory: Path, ages_in_days: list[int]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    now = time.time()
    for index, age in enumerate(ages_in_days):
        path = directory / f"file-{index}.csv"
        path.write_text("record,reason\n1,test\n")
        os.utime(path, (now - age * DAY, now - age * DAY))


@pytest.fixture
def limits(monkeypatch: pytest.MonkeyPatch) -> None:
    for kind, days in LIMITS.items():
        monkeypatch.setenv(f"SHOPLENS_RETENTION_{kind}_DAYS", str(days))


def _naive(text: str) -> str:
    return text.replace("+00:00", "")


def test_purge_removes_exactly_what_is_older_than_each_limit(
    cli: Callable[..., Any], demo_copy: Path, tmp_path: Path, limits: None
) -> None:
    home = demo_copy
    _files(home / "quarantine", [1, 30, 61, 90, 400])  # three are older than 60 days
    _files(home / "cache" / "queries", [0, 5, 11, 20])  # two are older than 10 days
    before = tmp_path / "before.duckdb"
    shutil.copy2(home / "warehouse.duckdb", before)
    vault_before = _count(before, "SELECT count(*) FROM customer_pii")

    dry = cli("privacy", "purge", "--dry-run", "--json", home_dir=home)
    assert dry.exit_code == 0, dry.stderr
    assert cli("status", "--json", home_dir=home).json()["tables"]["customer_pii"] == vault_before
    assert len(list((home / "quarantine").glob("*.csv"))) == 5

    done = cli("privacy", "purge", "--json", home_dir=home)
    assert done.exit_code == 0, done.stderr
    document = done.json()
    cutoffs = {kind: _naive(moment) for kind, moment in document["cutoffs"].items()}
    expected = {
        "customers": _count(before, INACTIVE_SQL, cutoffs["customers"]),
        "quarantine_files": 3,
        "cache_files": 2,
        "events": _count(before, 'SELECT count(*) FROM events WHERE "at" < ?::TIMESTAMP', cutoffs["web_events"]),
        "sessions": _count(
            before, "SELECT count(*) FROM sessions WHERE started_at < ?::TIMESTAMP", cutoffs["web_events"]
        ),
    }
    assert document["removed"] == expected
    assert expected["customers"] > 0
    assert expected["events"] > 0
    assert dry.json()["removed"] == expected  # the dry run counted the same (seconds apart, nothing on the edge)
    assert document["retention_days"] == {"customers": 500, "quarantine": 60, "cache": 10, "web_events": 400}

    after = home / "warehouse.duckdb"
    assert _count(after, "SELECT count(*) FROM customer_pii") == vault_before - expected["customers"]
    inactive_before = _keys(before, INACTIVE_SQL.replace("SELECT count(*) FROM", "SELECT p.customer_key FROM"), cutoffs)
    assert len(inactive_before) == expected["customers"]
    assert inactive_before.isdisjoint(_keys(after, "SELECT customer_key FROM customer_pii", {}))
    assert _count(after, 'SELECT count(*) FROM events WHERE "at" < ?::TIMESTAMP', cutoffs["web_events"]) == 0
    assert sorted(p.name for p in (home / "quarantine").glob("*.csv")) == ["file-0.csv", "file-1.csv"]
    # Orders stay for the shop's accounts (moved to fresh keys, as an erasure does).
    assert _count(after, "SELECT count(*) FROM orders") == _count(before, "SELECT count(*) FROM orders")

    database = AppDatabase(Settings(home=home).app_database_url)
    try:
        entries = [row for row in database.audit_rows() if row.action == "privacy.purge"]
    finally:
        database.close()
    assert len(entries) == 1
    assert entries[0].id == document["audit_entry"]
    assert '"customers":' + str(expected["customers"]) in entries[0].details
    assert "@" not in entries[0].details


def test_a_retention_limit_out_of_range_is_refused(cli: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOPLENS_RETENTION_CUSTOMER_DAYS", "0")
    result = cli("privacy", "purge", "--dry-run", "--json")
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert "retention_customer_days" in result.stderr
