"""The DuckDB file warehouse: one connection, the canonical DDL, and an Ibis view of it for analytics."""

from __future__ import annotations

from pathlib import Path
from types import TracebackType
from typing import Any

import duckdb

from shoplens.errors import WarehouseError
from shoplens.schema import TABLES

META_TABLE = "_shoplens_meta"


def bump_data_version(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        f"UPDATE {META_TABLE} SET value = CAST(CAST(value AS BIGINT) + 1 AS VARCHAR) WHERE key = 'data_version'"
    )


class Warehouse:
    """An open warehouse file. Use as a context manager; analytics get :meth:`ibis` tables, never the raw connection."""

    def __init__(self, path: Path, *, read_only: bool = False) -> None:
        self.path = path
        if read_only and not path.exists():
            raise WarehouseError(f"no warehouse at {path}; import data first (shoplens import ... or shoplens demo)")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.con = duckdb.connect(str(path), read_only=read_only)
        except (duckdb.Error, OSError) as exc:
            raise WarehouseError(f"cannot open warehouse {path}: {str(exc).splitlines()[0]}") from None
        self.con.execute("SET enable_progress_bar = false")  # stdout belongs to --json; we report progress ourselves
        if not read_only:
            self.ensure_schema()

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self.con.close()

    def ensure_schema(self) -> None:
        for table in TABLES.values():
            self.con.execute(table.ddl())
        self.con.execute(f"CREATE TABLE IF NOT EXISTS {META_TABLE} (key VARCHAR PRIMARY KEY, value VARCHAR)")
        self.con.execute(f"INSERT INTO {META_TABLE} VALUES ('data_version', '0') ON CONFLICT DO NOTHING")

    @property
    def data_version(self) -> int:
        """Bumped by every change of data, so cached results know when they are stale."""
        # fetchall, not fetchone: a half-read result keeps the connection busy for the Ibis backend sharing it
        rows = self.con.execute(f"SELECT value FROM {META_TABLE} WHERE key = 'data_version'").fetchall()
        return int(rows[0][0]) if rows else 0

    def bump_data_version(self) -> int:
        bump_data_version(self.con)
        return self.data_version

    def row_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for name in TABLES:
            counts[name] = int(self.scalar(f'SELECT count(*) FROM "{name}"'))
        return counts

    def scalar(self, sql: str, params: list[Any] | None = None) -> Any:
        rows = self.con.execute(sql, params or []).fetchall()
        return rows[0][0] if rows else None

    def ibis(self) -> Any:
        """An Ibis backend over this warehouse (the same connection)."""
        import ibis

        return ibis.duckdb.from_connection(self.con)
