"""The one place an import writes personal data: the vault table, by the vault's own merge rule.

Every import target hands its people here as SQL selecting one row per ``customer_key`` with
``source_customer_id, email, name, phone, address``. Which of them are written, and with which values, is
:func:`shoplens.privacy.vault_upserts` (stated once, in the privacy layer); this module only runs it on the
import's DuckDB connection and replaces the vault rows of the keys it returns. Nothing else in the pipeline
writes personal data.
"""

from __future__ import annotations

import duckdb
import ibis

from shoplens.privacy import VAULT_COLUMNS, VAULT_KEY, VAULT_TABLE, vault_upserts


def write_personal_data(con: duckdb.DuckDBPyConnection, people_sql: str, *, newer_wins: bool) -> int:
    """Add these people to the vault, or update the ones already there; return how many were new.

    ``newer_wins``: a value given here replaces the one kept (order exports: the latest order is right);
    otherwise only a value the vault lacks is filled in (feedback: a review does not overrule an order).
    """
    con.execute(f"CREATE OR REPLACE TEMP TABLE stg_people AS {people_sql}")
    backend = ibis.duckdb.from_connection(con)
    stored = backend.table(VAULT_TABLE)
    changed = vault_upserts(stored, backend.table("stg_people"), prefer="incoming" if newer_wins else "stored")
    con.execute(f"CREATE OR REPLACE TEMP TABLE stg_vault AS {backend.compile(changed)}")
    new = con.execute(
        f"SELECT count(*) FROM stg_vault WHERE {VAULT_KEY} NOT IN (SELECT {VAULT_KEY} FROM {VAULT_TABLE})"
    ).fetchall()
    columns = ", ".join(VAULT_COLUMNS)
    con.execute(f"DELETE FROM {VAULT_TABLE} WHERE {VAULT_KEY} IN (SELECT {VAULT_KEY} FROM stg_vault)")
    con.execute(f"INSERT INTO {VAULT_TABLE} ({columns}) SELECT {columns} FROM stg_vault")
    con.execute("DROP TABLE stg_people")
    con.execute("DROP TABLE stg_vault")
    return int(new[0][0]) if new else 0
