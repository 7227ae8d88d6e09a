"""The store's files after a real Shopify export is imported: who can read them, and what they hold in clear."""

from __future__ import annotations

import csv
import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

SHOPIFY = Path(__file__).parents[1] / "fixtures" / "shopify_orders.csv"


@pytest.fixture(autouse=True)
def _keep_umask() -> Iterator[None]:
    """The store sets the process's umask; give the test process its own back afterwards."""
    before = os.umask(0o022)
    os.umask(before)
    yield
    os.umask(before)


def _fixture_emails() -> set[str]:
    with SHOPIFY.open(newline="", encoding="utf-8") as handle:
        return {row["Email"].strip().lower() for row in csv.DictReader(handle) if "@" in row["Email"]}


def _imported_home(cli: Callable[..., Any], tmp_path: Path) -> Path:
    result = cli("import", str(SHOPIFY), "--profile", "shopify", "--json")
    assert result.exit_code == 0, result.stderr
    return tmp_path / "home"


def test_every_file_and_folder_of_the_store_is_the_owner_s_only(cli: Callable[..., Any], tmp_path: Path) -> None:
    home = _imported_home(cli, tmp_path)
    paths = [home, *home.rglob("*")]
    modes = {path.relative_to(home).as_posix(): stat.S_IMODE(path.stat().st_mode) for path in paths}
    assert {"warehouse.duckdb", "app.db"} <= set(modes)
    wrong = {name: oct(mode) for name, mode in modes.items() if mode != (0o700 if (home / name).is_dir() else 0o600)}
    assert wrong == {}


def test_an_existing_home_readable_by_others_is_closed(cli: Callable[..., Any], tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir(mode=0o755)
    home.chmod(0o755)
    _imported_home(cli, tmp_path)
    assert stat.S_IMODE(home.stat().st_mode) == 0o700


def _fixture_people() -> dict[str, set[str]]:
    """The fixture's e-mails, names and phones, as the export holds them."""
    found: dict[str, set[str]] = {"emails": _fixture_emails(), "names": set(), "phones": set()}
    with SHOPIFY.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            found["names"] |= {row[c].strip().lower() for c in ("Billing Name", "Shipping Name") if row[c].strip()}
            found["phones"] |= {row[c].strip() for c in ("Billing Phone", "Shipping Phone", "Phone") if row[c].strip()}
    return found


def _plain_in_tables(path: Path, needles: set[str]) -> set[str]:
    """The ``needles`` found in clear in any text column of any warehouse table."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        columns = con.execute(
            "SELECT table_name, column_name FROM information_schema.columns WHERE data_type = 'VARCHAR'"
        ).fetchall()
        found: set[str] = set()
        for table, column in columns:
            values = con.execute(f'SELECT DISTINCT lower("{column}") FROM "{table}" WHERE "{column}" IS NOT NULL')
            found |= {needle for (value,) in values.fetchall() for needle in needles if needle in value}
        return found
    finally:
        con.close()


def _plain_in_files(home: Path, needles: set[str]) -> set[str]:
    """The ``needles`` found as bytes in any file of the store (warehouse, app database, quarantine, caches, keys)."""
    found: set[str] = set()
    for path in home.rglob("*"):
        if path.is_file():
            raw = path.read_bytes().lower()
            found |= {f"{path.relative_to(home)}: {needle}" for needle in needles if needle.encode() in raw}
    return found


def test_no_e_mail_name_or_phone_of_the_export_is_in_clear_in_any_file_of_the_store(
    cli: Callable[..., Any], tmp_path: Path
) -> None:
    home = _imported_home(cli, tmp_path)
    for command in (("rfm", "--json"), ("guard", "--json"), ("status", "--json")):  # fill the result caches too
        assert cli(*command).exit_code == 0
    people = _fixture_people()
    assert (len(people["emails"]), len(people["names"]), len(people["phones"])) == (3, 3, 3)  # one order is quarantined
    needles = set().union(*people.values())
    assert {"quarantine", "cache"} <= {path.name for path in home.iterdir()}
    assert _plain_in_tables(home / "warehouse.duckdb", needles) == set()
    assert _plain_in_files(home, needles) == set()
    # The check can fail: the person's own export shows every one of them in clear.
    exported = cli("privacy", "export", "--email", sorted(people["emails"])[0], "--json").stdout.lower()
    assert sum(needle in exported for needle in needles) == 3
