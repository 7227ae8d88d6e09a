"""The encrypted vault on every engine: its keys checked before use, a plain vault encrypted in place, the key
rotated, and a person found by the keyed hash of their e-mail.

The encryption itself is the privacy layer's (:mod:`shoplens.privacy`); this module hands it the vault's rows and
writes back what it returns, through :meth:`Warehouse.apply_changes`, so the same code serves DuckDB, PostgreSQL
and Spark. A DuckDB file is then written anew (:meth:`DuckDBFile.rewrite`), so that no freed block keeps the
plain values or the old ciphertexts.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

import duckdb
import ibis
import pyarrow as pa

from shoplens.config import VAULT_KEY_BYTES, VaultKeySource
from shoplens.errors import InputError, VaultKeyError
from shoplens.ingest import customer_key, hmac_pads
from shoplens.privacy import (
    HASH_COLUMNS,
    PERSONAL_COLUMNS,
    VAULT_COLUMNS,
    VAULT_KEY,
    VAULT_TABLE,
    VaultKeys,
    check_keys,
    is_sealed,
    keyed_hash,
    open_sealed,
    plain_vault_rows,
    reencrypted_vault_rows,
    sealed_sample,
    sealed_vault_rows,
)
from shoplens.schema import TABLES
from shoplens.warehouse._changes import TableChange
from shoplens.warehouse._ddl import arrow_schema
from shoplens.warehouse._duckdb_file import DuckDBFile
from shoplens.warehouse._parsing import vault_hashes_sql

if TYPE_CHECKING:
    from shoplens.warehouse._connection import Warehouse

KEPT = "kept_"


def load_vault_keys(backend: ibis.BaseBackend, source: VaultKeySource) -> VaultKeys:
    """The vault's keys, checked against one of its ciphertexts. A vault that holds nothing encrypted yet gets a new
    key file; a key that is missing or wrong for an encrypted vault is a :class:`VaultKeyError`, never a new key
    (that would leave the vault readable by nobody)."""
    found = source.keys()
    sample = sealed_sample(backend.table(VAULT_TABLE))
    if found is None:
        if sample is not None:
            raise VaultKeyError(
                f"the vault key {source.where} is missing, so it cannot decrypt the vault; restore it from a backup"
            )
        found = [source.create()]
    keys = VaultKeys(found[0], tuple(found[1:]), source.where)
    check_keys(keys, sample)
    return keys


def needs_sealing(backend: ibis.BaseBackend, *, known_sealed: bool = False) -> bool:
    """Whether the vault is from before it was encrypted: no hash columns yet, or values in clear (looked for in
    every row unless the store is ``known_sealed``)."""
    vault = backend.table(VAULT_TABLE)
    if any(name not in vault.columns for name in HASH_COLUMNS.values()):
        return True
    return not known_sealed and bool(plain_vault_rows(vault).count().to_pyarrow().as_py())


def seal_plain_vault(warehouse: Warehouse, secret: bytes) -> int:
    """Encrypt, in place, every vault row that holds a value in clear, with its keyed hashes; return how many.

    A store from before the vault was encrypted is sealed so on its first writable open; on DuckDB the file is then
    rewritten, so that no freed block keeps the values in clear."""
    plain = plain_vault_rows(warehouse.backend.table(VAULT_TABLE)).to_pyarrow()
    if not plain.num_rows:
        if isinstance(warehouse.store, DuckDBFile) and not warehouse.store.vault_known_sealed():
            warehouse.store.mark_vault_sealed()  # so that read-only opens need not look again
        return 0
    keys = warehouse.vault_keys()
    clear = {name: plain.column(name).to_pylist() for name in PERSONAL_COLUMNS}
    row_keys = [str(key) for key in plain.column(VAULT_KEY).to_pylist()]
    for name, values in clear.items():  # a row may mix values in clear and sealed ones: open those first
        clear[name] = [
            open_sealed(keys, value, customer_key=key, column=name) if is_sealed(value) else value
            for value, key in zip(values, row_keys, strict=True)
        ]
    people = pa.table({VAULT_KEY: row_keys, **{name: pa.array(v, pa.string()) for name, v in clear.items()}})
    hashed = _with_hashes(people, secret)
    upserts = hashed.append_column("updated_at", plain.column("updated_at"))
    for name in PERSONAL_COLUMNS:
        upserts = upserts.append_column(f"{KEPT}{name}", pa.nulls(upserts.num_rows, pa.string()))
    rows = sealed_vault_rows(upserts, keys).cast(arrow_schema(TABLES[VAULT_TABLE]))
    _replace_vault_rows(warehouse, rows)
    return int(rows.num_rows)


def _with_hashes(people: pa.Table, secret: bytes) -> pa.Table:
    """``people`` (key and personal columns in clear) with the hash columns the importer computes, by its SQL."""
    inner_pad, outer_pad = hmac_pads(secret)
    con = duckdb.connect()  # in memory: the values in clear never reach a file
    try:
        con.register("people", people)
        hashed: pa.Table = con.sql(
            f"SELECT *, {vault_hashes_sql()} FROM people", params={"inner_pad": inner_pad, "outer_pad": outer_pad}
        ).to_arrow_table()
        return hashed
    finally:
        con.close()


@dataclass(frozen=True)
class KeyRotation:
    """What a key rotation did: rows encrypted again, and the id of the key they are encrypted with now."""

    rows_reencrypted: int
    key_id: str


def rotate_vault_key(warehouse: Warehouse, source: VaultKeySource, new_key: bytes | None = None) -> KeyRotation:
    """Encrypt every vault row again under a new key and retire the old one.

    With the key file, a new random key is kept beside the old one first, every row is re-encrypted in one change,
    and then the new key replaces the old file. With a key from the environment the caller passes the new key (the
    key service keeps it) and points the setting at it afterwards."""
    old = warehouse.vault_keys()
    if new_key is None:
        if source.from_environment:
            raise InputError(
                f"the vault key is {source.where}: give the new key with --new-key-env NAME (a variable holding it)"
            )
        new_key = secrets.token_bytes(VAULT_KEY_BYTES)
    if new_key == old.current:
        raise InputError("the new vault key is the key in use; a rotation needs another key")
    new = VaultKeys(new_key, (), source.where)
    source.begin_rotation(new_key)
    rows = warehouse.backend.table(VAULT_TABLE).select(*VAULT_COLUMNS).to_pyarrow()
    if rows.num_rows:
        rows = reencrypted_vault_rows(rows, old, new).cast(arrow_schema(TABLES[VAULT_TABLE]))
        _replace_vault_rows(warehouse, rows)
    source.finish_rotation()
    warehouse.forget_vault_keys()  # with a key from the environment, the setting still names the old one
    return KeyRotation(int(rows.num_rows), new.current_id)


def _replace_vault_rows(warehouse: Warehouse, rows: pa.Table) -> None:
    warehouse.apply_changes([TableChange(VAULT_TABLE, rows, rows.select([VAULT_KEY]))])
    if isinstance(warehouse.store, DuckDBFile):
        warehouse.store.rewrite()  # freed blocks would still hold the values in clear, or the old ciphertexts


def key_of_email(backend: ibis.BaseBackend, secret: bytes, identity: str) -> str:
    """The customer key of the person with this (normalised) e-mail: the keyed hash of the e-mail, as the importer
    keys customers, unless the vault holds the e-mail (by its keyed hash) only under another key (a customer known
    first by the shop's id)."""
    key = customer_key(secret, identity)
    vault = backend.table(VAULT_TABLE)
    if vault.filter(vault[VAULT_KEY] == key).count().to_pyarrow().as_py():
        return key
    held = vault.filter(vault.email_hash == keyed_hash(secret, "email", identity))
    other = held.select(VAULT_KEY).order_by(VAULT_KEY).limit(1).to_pyarrow().column(VAULT_KEY).to_pylist()
    return str(other[0]) if other else key
