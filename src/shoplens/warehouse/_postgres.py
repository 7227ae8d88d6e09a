"""A warehouse in a PostgreSQL database: the canonical tables, the data version, and bulk reads and writes by COPY.

Analytics read it through Ibis. The import pipeline validates in a scratch DuckDB, then reads the rows a file
touches (:meth:`PostgresWarehouse.read_rows`) and writes its changes (:meth:`PostgresWarehouse.apply`) with
COPY, one transaction per file.
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Sequence
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

import ibis
import psycopg
import pyarrow as pa
import pyarrow.csv as pa_csv

from shoplens.errors import WarehouseError
from shoplens.schema import TABLES
from shoplens.warehouse._changes import TableChange, key_match
from shoplens.warehouse._ddl import META_TABLE, EngineName, arrow_schema, create_table_sql, upgrade_sql

_COPY_OPTIONS = "(FORMAT csv)"


SCHEMA_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")


def _libpq_url(url: str) -> str:
    """The URL as libpq reads it: SQLAlchemy's ``postgresql+psycopg://`` spelling is accepted too, and shoplens'
    own ``schema`` parameter is taken out (libpq does not know it)."""
    parts = urlsplit("postgresql://" + url.split("://", 1)[1])
    kept = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "schema"]
    return parts._replace(query=urlencode(kept)).geturl()


def store_schema(url: str, secret: bytes) -> str:
    """The PostgreSQL schema that holds this store's tables: the URL's ``?schema=NAME``, or one named after the
    store secret, so that stores sharing a database never see each other's rows (the secret is what makes a
    store's customer keys; homes that share it are one store)."""
    named = dict(parse_qsl(urlsplit(url).query)).get("schema")
    if named is not None:
        if not SCHEMA_NAME.fullmatch(named):
            raise WarehouseError(f"schema {named[:40]!r} in the warehouse URL: use letters, digits and _ only")
        return named
    return f"shoplens_{hashlib.sha256(secret).hexdigest()[:12]}"


def redacted_url(url: str) -> str:
    """The URL with any password replaced, fit to print."""
    parts = urlsplit(_libpq_url(url))
    if parts.password is None:
        return _libpq_url(url)
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()


def _csv_bytes(rows: pa.Table) -> bytes:
    """Rows as CSV that PostgreSQL's COPY reads back exactly: nulls unquoted and empty, every value quoted."""
    buffer = io.BytesIO()
    options = pa_csv.WriteOptions(include_header=False, quoting_style="all_valid")
    pa_csv.write_csv(rows, buffer, write_options=options)
    return buffer.getvalue()


class PostgresWarehouse:
    """An open PostgreSQL warehouse."""

    engine: EngineName = "postgres"

    def __init__(self, url: str, *, schema: str, read_only: bool = False) -> None:
        self.url = _libpq_url(url)
        self.schema = schema
        try:
            self.con = psycopg.connect(self.url, autocommit=True)
            if not read_only:
                self.con.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'.encode())
            self.con.execute(f'SET search_path TO "{schema}"'.encode())
        except psycopg.Error as exc:
            message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise WarehouseError(f"cannot open warehouse {redacted_url(url)}: {message}") from None
        if read_only:
            if not self._has_meta():
                self.con.close()
                raise WarehouseError(
                    f"no warehouse at {redacted_url(url)}; import data first (shoplens import ... or shoplens demo)"
                )
        else:
            self.ensure_schema()
        self._backend: ibis.BaseBackend | None = None

    def _has_meta(self) -> bool:
        row = self.con.execute("SELECT to_regclass(%s)", (f'"{self.schema}".{META_TABLE}',)).fetchone()
        return row is not None and row[0] is not None

    def ensure_schema(self) -> None:
        with self.con.transaction():
            present: dict[str, list[str]] = {}
            for name, column in self.con.execute(
                "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = %s "
                "ORDER BY ordinal_position",
                (self.schema,),
            ).fetchall():
                present.setdefault(str(name), []).append(str(column))
            for table in TABLES.values():
                if table.name in present:
                    for statement in upgrade_sql(table, "postgres", present[table.name]):
                        self.con.execute(statement.encode())
                self.con.execute(create_table_sql(table, "postgres").encode())
            self.con.execute(f"CREATE TABLE IF NOT EXISTS {META_TABLE} (key TEXT PRIMARY KEY, value TEXT)".encode())
            self.con.execute(f"INSERT INTO {META_TABLE} VALUES ('data_version', '0') ON CONFLICT DO NOTHING".encode())

    @property
    def backend(self) -> ibis.BaseBackend:
        if self._backend is None:
            parts = urlsplit(self.url)
            self._backend = ibis.postgres.connect(
                host=parts.hostname or "localhost",
                port=parts.port or 5432,
                user=unquote(parts.username) if parts.username else None,
                password=unquote(parts.password) if parts.password else None,
                database=parts.path.lstrip("/") or None,
                schema=self.schema,
            )
        return self._backend

    def describe(self) -> str:
        return f"{redacted_url(self.url)} (schema {self.schema})"

    def data_version(self) -> int:
        row = self.con.execute(f"SELECT value FROM {META_TABLE} WHERE key = 'data_version'".encode()).fetchone()
        return int(row[0]) if row else 0

    def change_token(self) -> str:
        return f"postgres:{self.data_version()}"

    def row_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for name in TABLES:
            row = self.con.execute(f'SELECT count(*) FROM "{name}"'.encode()).fetchone()
            counts[name] = int(row[0]) if row else 0
        return counts

    def read_rows(self, table_name: str, column: str, keys: pa.Array, *, lower: bool = False) -> pa.Table:
        """The rows of a table whose ``column`` (lower-cased with ``lower``) is one of ``keys``, all columns."""
        table = TABLES[table_name]
        schema = arrow_schema(table)
        names = ", ".join(f't."{c}"' for c in table.column_names)
        key_type = "DATE" if schema.field(column).type == pa.date32() else "TEXT"
        out = io.BytesIO()
        with self.con.transaction():
            self.con.execute(f"CREATE TEMP TABLE _wanted_keys (k {key_type}) ON COMMIT DROP".encode())
            with self.con.cursor().copy(f"COPY _wanted_keys (k) FROM STDIN {_COPY_OPTIONS}".encode()) as copy:
                copy.write(_csv_bytes(pa.table({"k": keys})))
            compared = f'lower(t."{column}")' if lower else f't."{column}"'
            query = f'SELECT {names} FROM "{table.name}" t WHERE {compared} IN (SELECT k FROM _wanted_keys)'
            with self.con.cursor().copy(f"COPY ({query}) TO STDOUT {_COPY_OPTIONS}".encode()) as copy:
                for chunk in copy:
                    out.write(chunk)
        if not out.getbuffer().nbytes:
            return schema.empty_table()
        out.seek(0)
        return pa_csv.read_csv(
            out,
            read_options=pa_csv.ReadOptions(column_names=table.column_names),
            convert_options=pa_csv.ConvertOptions(
                column_types=schema,
                true_values=["t", "true"],
                false_values=["f", "false"],
                strings_can_be_null=True,
                quoted_strings_can_be_null=False,
            ),
        ).select(table.column_names)

    def apply(self, changes: Sequence[TableChange]) -> None:
        """Replace and append rows, and bump the data version, in one transaction (COPY both ways)."""
        with self.con.transaction():
            for change in changes:
                table = TABLES[change.table]
                if change.replaced is not None and change.replaced.num_rows:
                    keys = ", ".join(f'"{k}"' for k in table.primary_key)
                    self.con.execute(
                        f'CREATE TEMP TABLE _replaced_keys ON COMMIT DROP AS SELECT {keys} FROM "{table.name}" '
                        "WITH NO DATA".encode()
                    )
                    with self.con.cursor().copy(f"COPY _replaced_keys FROM STDIN {_COPY_OPTIONS}".encode()) as copy:
                        copy.write(_csv_bytes(change.replaced.select(list(table.primary_key))))
                    match = key_match(table, "t", "k")
                    self.con.execute(f'DELETE FROM "{table.name}" t USING _replaced_keys k WHERE {match}'.encode())
                    self.con.execute(b"DROP TABLE _replaced_keys")
                if change.rows.num_rows:
                    columns = ", ".join(f'"{c}"' for c in table.column_names)
                    copy_sql = f'COPY "{table.name}" ({columns}) FROM STDIN {_COPY_OPTIONS}'
                    with self.con.cursor().copy(copy_sql.encode()) as copy:
                        copy.write(_csv_bytes(change.rows.select(table.column_names)))
            self.con.execute(
                f"UPDATE {META_TABLE} SET value = (CAST(value AS BIGINT) + 1)::TEXT WHERE key = 'data_version'".encode()
            )

    def close(self) -> None:
        if self._backend is not None:
            self._backend.disconnect()
        self.con.close()
