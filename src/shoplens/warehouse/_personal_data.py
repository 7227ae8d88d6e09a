"""The one place an import writes personal data: the vault table, by the vault's own merge rule, encrypted.

Every import target hands its people here as SQL selecting one row per ``customer_key`` with
``source_customer_id, email, name, phone, address``. Their keyed hashes are computed here, in SQL, with the
store secret; which rows are written, and with which values, is :func:`shoplens.privacy.vault_upserts` (stated
once, in the privacy layer), which compares hashes only. The values that change are encrypted by the privacy
layer in memory, a batch at a time, and only their ciphertexts reach the vault: the people's values in clear
exist only in TEMP tables of this import, dropped before it returns. Nothing else in the pipeline writes personal data.
"""

from __future__ import annotations

import ibis
import pyarrow as pa

from shoplens.privacy import VAULT_KEY, VAULT_TABLE, sealed_vault_rows, vault_upserts
from shoplens.schema import TABLES
from shoplens.warehouse._ddl import arrow_schema
from shoplens.warehouse._parsing import vault_hashes_sql
from shoplens.warehouse._pipeline import FileLoad

PEOPLE_TABLE = "stg_people"
UPSERTS_TABLE = "stg_vault_upserts"
SEAL_BATCH_ROWS = 50_000


def write_personal_data(load: FileLoad, people_sql: str, *, newer_wins: bool) -> int:
    """Add these people to the vault, or update the ones already there; return how many were new.

    ``newer_wins``: a value given here replaces the one kept (order exports: the latest order is right);
    otherwise only a value the vault lacks is filled in (feedback: a review does not overrule an order).
    The rows to write are encrypted and written :data:`SEAL_BATCH_ROWS` at a time, so the memory they take in
    Python does not grow with the file (each customer is one row, in one batch).
    """
    con = load.con
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {PEOPLE_TABLE} AS SELECT *, {vault_hashes_sql()} FROM ({people_sql})", load.pads
    )
    try:
        backend = ibis.duckdb.from_connection(con)
        stored = backend.table(VAULT_TABLE)
        changed = vault_upserts(stored, backend.table(PEOPLE_TABLE), prefer="incoming" if newer_wins else "stored")
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {UPSERTS_TABLE} AS "
            f"SELECT row_number() OVER () AS _batch_row, * FROM ({backend.compile(changed)})"
        )
    finally:
        con.execute(f"DROP TABLE {PEOPLE_TABLE}")
    try:
        total = int(con.execute(f"SELECT count(*) FROM {UPSERTS_TABLE}").fetchall()[0][0])
        # The rows replaced go in one statement, not one per batch: each would read the whole vault.
        new = load.count(
            f"SELECT count(*) FROM {UPSERTS_TABLE} WHERE {VAULT_KEY} NOT IN (SELECT {VAULT_KEY} FROM {VAULT_TABLE})"
        )
        con.execute(f"DELETE FROM {VAULT_TABLE} WHERE {VAULT_KEY} IN (SELECT {VAULT_KEY} FROM {UPSERTS_TABLE})")
        schema, stored_order = arrow_schema(TABLES[VAULT_TABLE]), con.table(VAULT_TABLE).columns
        for start in range(0, total, SEAL_BATCH_ROWS):
            upserts: pa.Table = con.sql(
                f"SELECT * EXCLUDE (_batch_row) FROM {UPSERTS_TABLE} "
                f"WHERE _batch_row > {start} AND _batch_row <= {start + SEAL_BATCH_ROWS}"
            ).to_arrow_table()
            sealed = sealed_vault_rows(upserts, load.vault_keys()).cast(schema).select(stored_order)
            # Appended as a relation, not through a registered view: a view registered inside the file's
            # transaction keeps its Arrow rows in memory until the commit, so the batches would add up to the
            # whole vault (3.5 GB for 10 million order lines) whatever the memory limit.
            con.from_arrow(sealed).insert_into(VAULT_TABLE)
    finally:
        con.execute(f"DROP TABLE {UPSERTS_TABLE}")
    return new
