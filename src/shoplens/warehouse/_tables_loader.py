"""Load a file already in a canonical table's shape (products, events, feedback, spend, calendar).

Such files may carry the shop's ``customer_id`` instead of ``customer_key``; it is turned into the
pseudonymous key here and never stored. Rows whose key is already in the table are skipped, so loading
the same file twice adds nothing.
"""

from __future__ import annotations

from pathlib import Path

from shoplens.errors import InputError, MissingColumnsError
from shoplens.ingest import customer_key_sql, hmac_pads, read_header, stage_file
from shoplens.ingest._profile import CsvDialect
from shoplens.schema import TABLES
from shoplens.warehouse._connection import Warehouse, bump_data_version

SIDE_TABLES = ("products", "events", "feedback", "marketing_spend", "events_calendar")


def load_table_file(warehouse: Warehouse, table: str, path: Path, secret: bytes) -> int:
    """Append the rows of ``path`` that are new to ``table``; return how many were added."""
    if table not in SIDE_TABLES:
        raise InputError(f"cannot load {table!r} directly; choose one of: {', '.join(SIDE_TABLES)}")
    spec = TABLES[table]
    header = read_header(path, CsvDialect()) or []
    required = [c.name for c in spec.columns if not c.nullable and c.name != "customer_key"]
    missing = [name for name in required if name not in header]
    if missing:
        raise MissingColumnsError(str(path), table, missing)
    con = warehouse.con
    staged = stage_file(con, path, "stg_table", CsvDialect())
    if staged.rejects:
        raise InputError(
            f"{path}: {len(staged.rejects)} record(s) cannot be parsed, first at {staged.rejects[0].record}"
        )
    with_keys = "customer_id" in staged.columns and "customer_key" in spec.column_names
    select = []
    for column in spec.columns:
        if column.name == "customer_key" and with_keys:
            select.append(f'{customer_key_sql("s.customer_id")} AS "customer_key"')
        elif column.name in staged.columns:
            select.append(f's."{column.name}"::{column.sql_type} AS "{column.name}"')
        else:
            select.append(f'NULL::{column.sql_type} AS "{column.name}"')
    key = spec.primary_key
    new_rows = " AND ".join(f'n."{k}" = t."{k}"' for k in key)
    con.execute("BEGIN TRANSACTION")
    try:
        inserted = con.execute(
            f'INSERT INTO "{table}" SELECT * FROM (SELECT {", ".join(select)} FROM stg_table s) AS n '
            f'WHERE NOT EXISTS (SELECT 1 FROM "{table}" t WHERE {new_rows})',
            dict(zip(("inner_pad", "outer_pad"), hmac_pads(secret), strict=True)) if with_keys else None,
        ).fetchone()
        added = int(inserted[0]) if inserted else 0
        if added:
            bump_data_version(con)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        con.execute("DROP TABLE IF EXISTS stg_table")
    return added
