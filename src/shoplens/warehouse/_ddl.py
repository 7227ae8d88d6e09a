"""The canonical tables (schema/_tables.py) in each engine's types, and the table the data version lives in.

DuckDB keeps the schema's own types. PostgreSQL and Spark have no unsigned 128-bit integer, so a row's
fingerprint (``row_key``, only ever compared for equality) is kept there as its hexadecimal text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Literal

import pyarrow as pa

from shoplens.schema import Column, Table

EngineName = Literal["duckdb", "postgres", "spark"]
META_TABLE = "_shoplens_meta"
FINGERPRINT_TYPE = "UHUGEINT"

_POSTGRES = {"VARCHAR": "TEXT", "UHUGEINT": "TEXT", "DOUBLE": "DOUBLE PRECISION"}
_SPARK = {"VARCHAR": "STRING", "UHUGEINT": "STRING", "INTEGER": "INT"}
_DECIMAL = re.compile(r"DECIMAL\((\d+),\s*(\d+)\)")


def column_type(column: Column, engine: EngineName) -> str:
    if engine == "duckdb":
        return column.sql_type
    if engine == "postgres":
        return _DECIMAL.sub(r"NUMERIC(\1,\2)", _POSTGRES.get(column.sql_type, column.sql_type))
    return _SPARK.get(column.sql_type, column.sql_type)


def quoted(name: str, engine: EngineName) -> str:
    return f"`{name}`" if engine == "spark" else f'"{name}"'


def create_table_sql(table: Table, engine: EngineName, *, location: str | None = None) -> str:
    """``CREATE TABLE IF NOT EXISTS`` for one canonical table in one engine's dialect."""
    if engine == "duckdb":
        return table.ddl()
    nullable = engine == "spark"  # Spark's parquet tables do not enforce NOT NULL on insert from other sources
    parts = [
        f"{quoted(c.name, engine)} {column_type(c, engine)}"
        f"{'' if c.default is None or engine == 'spark' else ' DEFAULT ' + c.default}"
        f"{'' if c.nullable or nullable else ' NOT NULL'}"
        for c in table.columns
    ]
    if engine == "postgres" and table.primary_key:
        parts.append("PRIMARY KEY (" + ", ".join(quoted(k, engine) for k in table.primary_key) + ")")
    sql = f"CREATE TABLE IF NOT EXISTS {quoted(table.name, engine)} ({', '.join(parts)})"
    if engine == "spark":
        sql += " USING parquet" + (f" LOCATION '{location}'" if location else "")
    return sql


def upgrade_sql(table: Table, engine: EngineName, present: Sequence[str]) -> list[str]:
    """Statements that bring an existing table, with columns ``present``, to this version's schema.

    Columns added since are added (with their default, else NULL for the rows already there). When a new
    column belongs to the primary key, DuckDB and PostgreSQL cannot widen the key in place: the table is
    rebuilt under its new definition and its rows copied. Spark's tables hold no keys: columns are only added.
    """
    known = set(present)
    missing = [c for c in table.columns if c.name not in known]
    if not missing:
        return []
    name = quoted(table.name, engine)
    if engine != "spark" and any(c.name in table.primary_key for c in missing):
        old = quoted(f"{table.name}__before_upgrade", engine)
        kept = ", ".join(quoted(c.name, engine) for c in table.columns if c.name in known)
        return [
            f"ALTER TABLE {name} RENAME TO {old}",
            create_table_sql(table, engine),
            f"INSERT INTO {name} ({kept}) SELECT {kept} FROM {old}",
            f"DROP TABLE {old}",
        ]
    if engine == "spark":
        added = ", ".join(f"{quoted(c.name, engine)} {column_type(c, engine)}" for c in missing)
        return [f"ALTER TABLE {name} ADD COLUMNS ({added})"]
    return [
        f"ALTER TABLE {name} ADD COLUMN {quoted(c.name, engine)} {column_type(c, engine)}"
        + ("" if c.default is None else f" DEFAULT {c.default}")
        for c in missing
    ]


def fingerprint_columns(table: Table) -> list[str]:
    return [c.name for c in table.columns if c.sql_type == FINGERPRINT_TYPE]


def arrow_type(column: Column) -> pa.DataType:
    """The Arrow type rows of this column travel in between engines (fingerprints as text)."""
    sql_type = column.sql_type
    decimal = _DECIMAL.fullmatch(sql_type)
    if decimal:
        return pa.decimal128(int(decimal.group(1)), int(decimal.group(2)))
    return _ARROW[sql_type]


def arrow_schema(table: Table) -> pa.Schema:
    return pa.schema([pa.field(c.name, arrow_type(c)) for c in table.columns])


_ARROW: dict[str, pa.DataType] = {
    "VARCHAR": pa.string(),
    "UHUGEINT": pa.string(),
    "TIMESTAMP": pa.timestamp("us"),
    "INTEGER": pa.int32(),
    "BIGINT": pa.int64(),
    "DOUBLE": pa.float64(),
    "BOOLEAN": pa.bool_(),
    "DATE": pa.date32(),
}
