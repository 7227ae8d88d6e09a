"""The default warehouse: one DuckDB file in the store's home, with the canonical tables and the data version."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path

import duckdb
import ibis

from shoplens.errors import WarehouseError
from shoplens.schema import TABLES
from shoplens.warehouse._changes import TableChange, key_match
from shoplens.warehouse._ddl import META_TABLE, EngineName, upgrade_sql

VAULT_SEALED_KEY = "vault_sealed_at_version"


def bump_data_version(con: duckdb.DuckDBPyConnection) -> None:
    """Count a change of data; and, since this version seals every vault value it writes, record that the vault
    held only sealed values at the new version (a writer from before the vault was encrypted bumps the version
    without this mark, so the next open looks for values in clear again)."""
    con.execute(
        f"UPDATE {META_TABLE} SET value = CAST(CAST(value AS BIGINT) + 1 AS VARCHAR) WHERE key = 'data_version'"
    )
    mark_vault_sealed(con)


def mark_vault_sealed(con: duckdb.DuckDBPyConnection) -> None:
    """Record that the vault holds no value in clear at the current data version."""
    con.execute(
        f"INSERT OR REPLACE INTO {META_TABLE} SELECT '{VAULT_SEALED_KEY}', value FROM {META_TABLE} "
        "WHERE key = 'data_version'"
    )


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    present: dict[str, list[str]] = {}
    for name, column in con.execute(
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema() "
        "AND table_catalog = current_database() ORDER BY ordinal_position"
    ).fetchall():
        present.setdefault(str(name), []).append(str(column))
    for table in TABLES.values():
        if table.name in present:
            for statement in upgrade_sql(table, "duckdb", present[table.name]):
                con.execute(statement)
        con.execute(table.ddl())
    con.execute(f"CREATE TABLE IF NOT EXISTS {META_TABLE} (key VARCHAR PRIMARY KEY, value VARCHAR)")
    con.execute(f"INSERT INTO {META_TABLE} VALUES ('data_version', '0') ON CONFLICT DO NOTHING")


def file_fingerprint(path: Path) -> str:
    """Size, modification time and inode of the DuckDB file and its write-ahead log: any write changes one.

    Reading it needs no connection, so a server can tell whether anything changed without opening the file.
    """
    found: list[int] = []
    for part in (path, Path(f"{path}.wal")):
        try:
            stat = part.stat()
        except FileNotFoundError:
            found.extend((0, 0, 0))
            continue
        found.extend((stat.st_size, stat.st_mtime_ns, stat.st_ino))
    return "duckdb:" + hashlib.sha256(repr(tuple(found)).encode()).hexdigest()[:24]


HELD_BY_ANOTHER = "another shoplens process is writing to it; try again when it has finished"


def _open_failure(exc: BaseException) -> str:
    """Why the file did not open, without the other process's program path and PID that DuckDB names."""
    text = str(exc).splitlines()[0]
    if "Conflicting lock" in text or "Could not set lock" in text:
        return HELD_BY_ANOTHER
    return text


class DuckDBFile:
    """An open DuckDB warehouse file."""

    engine: EngineName = "duckdb"

    def __init__(self, path: Path, *, read_only: bool = False) -> None:
        self.path = path
        if read_only and not path.exists():
            raise WarehouseError(f"no warehouse at {path}; import data first (shoplens import ... or shoplens demo)")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.con = duckdb.connect(str(path), read_only=read_only)
        except (duckdb.Error, OSError) as exc:
            raise WarehouseError(f"cannot open warehouse {path}: {_open_failure(exc)}") from None
        self.con.execute("SET enable_progress_bar = false")  # stdout belongs to --json; we report progress ourselves
        if not read_only:
            ensure_schema(self.con)
        self._backend: ibis.BaseBackend | None = None

    def rewrite(self) -> None:
        """Copy every table into a fresh file and put it in this one's place.

        DuckDB keeps the bytes of deleted rows in freed blocks until they are reused; after an erasure they must
        not stay on disk, so the warehouse is written anew (the old file is replaced atomically).
        """
        fresh = self.path.with_name(self.path.name + ".rewrite")
        fresh.unlink(missing_ok=True)
        self.con.execute("CHECKPOINT")
        self.con.execute(f"ATTACH '{fresh}' AS fresh_copy")
        try:
            database = self.con.execute("SELECT current_database()").fetchall()[0][0]
            self.con.execute(f'COPY FROM DATABASE "{database}" TO fresh_copy')
        finally:
            self.con.execute("DETACH fresh_copy")
        self.con.close()
        os.replace(fresh, self.path)
        self.con = duckdb.connect(str(self.path))
        self.con.execute("SET enable_progress_bar = false")
        self._backend = None

    @property
    def backend(self) -> ibis.BaseBackend:
        if self._backend is None:
            self._backend = ibis.duckdb.from_connection(self.con)
        return self._backend

    def describe(self) -> str:
        return str(self.path)

    def data_version(self) -> int:
        # fetchall, not fetchone: a half-read result keeps the connection busy for the Ibis backend sharing it
        rows = self.con.execute(f"SELECT value FROM {META_TABLE} WHERE key = 'data_version'").fetchall()
        return int(rows[0][0]) if rows else 0

    def bump_data_version(self) -> None:
        bump_data_version(self.con)

    def vault_known_sealed(self) -> bool:
        """Whether this version's writers were the last to change the data, so the vault has no value in clear."""
        rows = self.con.execute(
            f"SELECT count(DISTINCT value) = 1 AND count(*) = 2 FROM {META_TABLE} "
            f"WHERE key IN ('data_version', '{VAULT_SEALED_KEY}')"
        ).fetchall()
        return bool(rows[0][0])

    def mark_vault_sealed(self) -> None:
        mark_vault_sealed(self.con)

    def change_token(self) -> str:
        return file_fingerprint(self.path)

    def row_counts(self) -> dict[str, int]:
        return {name: int(self.con.execute(f'SELECT count(*) FROM "{name}"').fetchall()[0][0]) for name in TABLES}

    def apply(self, changes: Sequence[TableChange]) -> None:
        """Replace and append rows, and bump the data version, in one transaction."""
        con = self.con
        con.execute("BEGIN TRANSACTION")
        try:
            for change in changes:
                table = TABLES[change.table]
                if change.replaced is not None and change.replaced.num_rows:
                    con.register("_replaced_keys", change.replaced)
                    con.execute(
                        f'DELETE FROM "{table.name}" t WHERE EXISTS (SELECT 1 FROM _replaced_keys k '
                        f"WHERE {key_match(table, 't', 'k')})"
                    )
                    con.unregister("_replaced_keys")
                if change.rows.num_rows:
                    con.register("_new_rows", change.rows)
                    con.execute(f'INSERT INTO "{table.name}" BY NAME SELECT * FROM _new_rows')
                    con.unregister("_new_rows")
            bump_data_version(con)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise

    def close(self) -> None:
        self.con.close()
