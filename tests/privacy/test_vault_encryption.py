"""The encrypted vault end to end: a re-import writes nothing, rotate-key re-encrypts every row and leaves no old
ciphertext in the file, a missing or wrong key is one clear line, a plain vault from before is encrypted in place,
and e-mails are still found (feedback, export) on every engine."""

from __future__ import annotations

import base64
import csv
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pytest
from tests.conftest import CliResult, vault_in_clear

from shoplens.config import Settings
from shoplens.ingest import hmac_pads
from shoplens.privacy import PERSONAL_COLUMNS, SEALED_PREFIX, keyed_hash, sealed_key_id
from shoplens.warehouse import connect
from shoplens.warehouse._parsing import keyed_hash_sql, normal_address_sql, normal_email_sql

SHOPIFY = Path(__file__).parents[1] / "fixtures" / "shopify_orders.csv"


def _import(cli: Callable[..., CliResult]) -> dict[str, Any]:
    done = cli("import", str(SHOPIFY), "--profile", "shopify", "--json")
    assert done.exit_code == 0, done.stderr
    result: dict[str, Any] = done.json()
    return result


def _stored_vault(home: Path) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        return con.sql("SELECT * FROM customer_pii ORDER BY customer_key").fetchall()


def _vault_on(engine: str) -> list[dict[str, Any]]:
    """The vault rows as stored on the test's engine (read through shoplens's connection, nothing decrypted)."""
    with connect(Settings()) as warehouse:
        rows: list[dict[str, Any]] = (
            warehouse.backend.table("customer_pii").order_by("customer_key").to_pyarrow().to_pylist()
        )
    return rows


def _fixture_emails() -> list[str]:
    with SHOPIFY.open(newline="", encoding="utf-8") as handle:
        return sorted({row["Email"].strip().lower() for row in csv.DictReader(handle) if "@" in row["Email"]})


def test_a_re_import_writes_no_vault_row_on_every_engine(
    cli: Callable[..., CliResult], tmp_path: Path, warehouse_engine: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHOPLENS_HOME", str(tmp_path / "home"))
    _import(cli)
    before = _vault_on(warehouse_engine)
    assert len(before) == 2
    assert all(row[name] is None or row[name].startswith(SEALED_PREFIX) for row in before for name in PERSONAL_COLUMNS)
    again = _import(cli)
    assert (again["rows_loaded"], again["customers_new"]) == (0, 0)
    # Every value is sealed with a fresh nonce: a row written again would hold different text.
    assert _vault_on(warehouse_engine) == before
    for email in _fixture_emails()[:2]:
        exported = cli("privacy", "export", "--email", email.upper(), "--json").json()
        assert [row["email"].lower() for row in exported["tables"]["customer_pii"]] == [email]


def test_rotate_key_re_encrypts_every_row_and_leaves_no_old_ciphertext(
    cli: Callable[..., CliResult], tmp_path: Path
) -> None:
    home = tmp_path / "home"
    _import(cli)
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        [(rows,)] = con.sql("SELECT count(*) FROM customer_pii").fetchall()
    old = {value for row in _stored_vault(home) for value in row if isinstance(value, str) and "." in value}
    old_sealed = {value for value in old if value.startswith(SEALED_PREFIX)}
    assert len(old_sealed) == 8  # two customers: e-mail, name, phone, address each
    raw = (home / "warehouse.duckdb").read_bytes()
    assert any(value.encode() in raw for value in old_sealed), "the file holds the ciphertexts as text"
    clear_before = vault_in_clear(home).to_pylist()
    old_key = (home / "vault.key").read_text()

    rotated = cli("privacy", "rotate-key", "--json")
    assert rotated.exit_code == 0, rotated.stderr
    assert rotated.json()["rows_reencrypted"] == rows == 2
    assert (home / "vault.key").read_text() != old_key
    assert not (home / "vault.key.next").exists()
    new_sealed = {v for row in _stored_vault(home) for v in row if isinstance(v, str) and v.startswith(SEALED_PREFIX)}
    assert {sealed_key_id(value) for value in new_sealed} == {rotated.json()["key_id"]}
    assert new_sealed.isdisjoint(old_sealed)
    raw = (home / "warehouse.duckdb").read_bytes()
    assert [value for value in old_sealed if value.encode() in raw] == []
    assert vault_in_clear(home).to_pylist() == clear_before  # the same people, under the new key
    [entry] = [e for e in cli("audit", "list", "--json").json()["entries"] if e["action"] == "privacy.rotate_key"]
    assert entry["details"] == {"rows_reencrypted": 2, "key_id": rotated.json()["key_id"]}
    assert cli("audit", "verify", "--json").json()["ok"] is True


def test_a_missing_or_wrong_key_is_one_clear_line_and_writes_nothing(
    cli: Callable[..., CliResult], tmp_path: Path
) -> None:
    home = tmp_path / "home"
    _import(cli)
    email = _fixture_emails()[0]
    key_file = home / "vault.key"
    sealed_with = sealed_key_id(next(v for v in _stored_vault(home)[0] if isinstance(v, str) and "." in v) or "")
    key_file.rename(home / "kept.key")
    missing = cli("privacy", "export", "--email", email, "--json")
    assert (missing.exit_code, missing.stdout) == (2, "")
    assert missing.stderr == (
        f"error: the vault key file {key_file} is missing, so it cannot decrypt the vault; restore it from a backup\n"
    )
    assert not key_file.exists(), "no new key is made for a vault encrypted with another"
    key_file.write_text(base64.b64encode(bytes(32)).decode() + "\n")
    before = _stored_vault(home)
    for args in (("privacy", "export", "--email", email), ("import", str(SHOPIFY), "--profile", "shopify")):
        wrong = cli(*args, "--json")
        assert (wrong.exit_code, wrong.stdout) == (2, "")
        *progress, reason = wrong.stderr.splitlines()  # an import reports its steps on stderr first
        assert reason == (
            f"error: the vault key file {key_file} cannot decrypt the vault (it was encrypted with key {sealed_with}); "
            "restore the key from a backup"
        )
        assert all(line.startswith("import: ") for line in progress)
        assert email not in wrong.stderr
    assert _stored_vault(home) == before
    key_file.write_text("not a key\n")
    malformed = cli("privacy", "rotate-key", "--json")
    assert malformed.stderr == (
        f"error: the vault key file {key_file} is not 32 bytes of base64; restore it from a backup\n"
    )
    (home / "kept.key").rename(key_file)
    assert cli("privacy", "export", "--email", email, "--json").json()["found"] is True


def test_a_plain_vault_from_before_is_encrypted_in_place_on_first_open(
    cli: Callable[..., CliResult], tmp_path: Path
) -> None:
    home = tmp_path / "home"
    _import(cli)
    clear = vault_in_clear(home)
    hashes = {row[0]: row[7:] for row in _stored_vault(home)}
    # The store as the version before wrote it: the values in clear, no hash columns, no key file.
    with duckdb.connect(str(home / "warehouse.duckdb")) as con:
        con.execute("DROP TABLE customer_pii")
        con.execute(
            "CREATE TABLE customer_pii (customer_key VARCHAR NOT NULL, source_customer_id VARCHAR, email VARCHAR, "
            "name VARCHAR, phone VARCHAR, address VARCHAR, updated_at TIMESTAMP)"
        )
        con.register("clear_rows", clear)
        con.execute("INSERT INTO customer_pii SELECT * FROM clear_rows")
        con.execute("CHECKPOINT")
    (home / "vault.key").unlink()
    emails = _fixture_emails()[:2]
    assert all(email.encode() in (home / "warehouse.duckdb").read_bytes().lower() for email in emails)

    exported = cli("privacy", "export", "--email", emails[0], "--json")  # a read-only command
    assert exported.exit_code == 0, exported.stderr
    assert [row["email"].lower() for row in exported.json()["tables"]["customer_pii"]] == [emails[0]]
    raw = (home / "warehouse.duckdb").read_bytes().lower()
    assert [email for email in emails if email.encode() in raw] == []
    stored = _stored_vault(home)
    assert {row[0]: row[7:] for row in stored} == hashes, "the hashes a fresh import computes"
    assert vault_in_clear(home).to_pylist() == clear.to_pylist()
    assert (_import(cli)["rows_loaded"], _stored_vault(home)) == (0, stored)


def test_feedback_finds_customers_by_the_hash_of_their_e_mail(cli: Callable[..., CliResult], tmp_path: Path) -> None:
    _import(cli)
    known = _fixture_emails()
    reviews = tmp_path / "reviews.csv"
    with reviews.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "email", "text", "rating"])
        writer.writerow(["r1", f"  {known[0].upper()} ", "Lovely shirt", 5])
        writer.writerow(["r2", known[1], "Late delivery", 2])
        writer.writerow(["r3", "stranger@example.net", "Nice", 4])
        writer.writerow(["r4", known[0], "Again", 5])
    assert cli("import", str(reviews), "--profile", "feedback", "--json").exit_code == 0
    home = tmp_path / "home"
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        joined = con.sql(
            "SELECT f.feedback_id, count(o.order_id) > 0 FROM feedback f "
            "LEFT JOIN orders o USING (customer_key) GROUP BY 1 ORDER BY 1"
        ).fetchall()
    # r1, r2 and r4 are customers with orders (case and spaces ignored); r3 is new to the store.
    assert joined == [("r1", True), ("r2", True), ("r3", False), ("r4", True)]
    assert len(_stored_vault(home)) == 3


def test_the_importer_s_sql_hashes_as_the_privacy_layer_does() -> None:
    secret = b"hash-test-secret-0123456789abcdef0123"
    inner, outer = hmac_pads(secret)
    values = {"email": " Amy.Chan@Example.com ", "address": "Flat D, 12/F", "source_customer_id": "c1001"}
    con = duckdb.connect()
    [row] = con.execute(
        f"SELECT {keyed_hash_sql('email', normal_email_sql('$email'))}, "
        f"{keyed_hash_sql('address', normal_address_sql('$address'))}, "
        f"{keyed_hash_sql('source_customer_id', '$source_customer_id')}",
        {"inner_pad": inner, "outer_pad": outer, **values},
    ).fetchall()
    assert row == (
        keyed_hash(secret, "email", "amy.chan@example.com"),
        keyed_hash(secret, "address", "flatd12f"),
        keyed_hash(secret, "source_customer_id", "c1001"),
    )


def test_a_key_from_the_environment_is_used_and_rotated_without_a_key_file(
    cli: Callable[..., CliResult], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    old, new = base64.b64encode(b"o" * 32).decode(), base64.b64encode(b"n" * 32).decode()
    monkeypatch.setenv("SHOPLENS_VAULT_KEY_ENV", "SHOP_VAULT_KEY")
    monkeypatch.setenv("SHOP_VAULT_KEY", old)
    _import(cli)
    assert not (home / "vault.key").exists()
    refused = cli("privacy", "rotate-key", "--json")
    assert (refused.exit_code, refused.stderr) == (
        2,
        "error: the vault key is in the environment variable SHOP_VAULT_KEY: give the new key with "
        "--new-key-env NAME (a variable holding it)\n",
    )
    monkeypatch.setenv("SHOP_VAULT_KEY_NEW", new)
    rotated = cli("privacy", "rotate-key", "--new-key-env", "SHOP_VAULT_KEY_NEW", "--json")
    assert rotated.exit_code == 0, rotated.stderr
    assert rotated.json()["rows_reencrypted"] == len(_stored_vault(home)) == 2
    monkeypatch.setenv("SHOP_VAULT_KEY", new)
    email = _fixture_emails()[0]
    exported = cli("privacy", "export", "--email", email, "--json").json()
    assert [row["email"].lower() for row in exported["tables"]["customer_pii"]] == [email]


def test_a_value_in_clear_written_since_this_version_last_wrote_is_still_sealed_on_a_read_only_open(
    cli: Callable[..., CliResult], tmp_path: Path
) -> None:
    home = tmp_path / "home"
    _import(cli)
    path = home / "warehouse.duckdb"
    with duckdb.connect(str(path), read_only=True) as con:
        marks = dict(con.sql("SELECT key, value FROM _shoplens_meta").fetchall())
    # The import marks the vault sealed at the version it wrote, so read-only opens skip the scan of every row.
    assert marks["vault_sealed_at_version"] == marks["data_version"] == "1"
    # A writer from before the vault was encrypted: a value in clear, the data version bumped, no mark.
    with duckdb.connect(str(path)) as con:
        con.execute(
            "UPDATE customer_pii SET name = 'Plain Name' "
            "WHERE customer_key = (SELECT min(customer_key) FROM customer_pii)"
        )
        con.execute("UPDATE _shoplens_meta SET value = '2' WHERE key = 'data_version'")
    with connect(Settings(home=home), read_only=True) as warehouse:
        names = warehouse.backend.table("customer_pii").name.to_pyarrow().to_pylist()
        assert warehouse.store.vault_known_sealed()
    assert len(names) == 2
    assert all(name.startswith(SEALED_PREFIX) for name in names)
    assert b"plain name" not in path.read_bytes().lower()
