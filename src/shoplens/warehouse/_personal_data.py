"""The one place an import writes personal data: the vault table ``customer_pii``.

Every import target hands its people here as SQL selecting one row per ``customer_key`` with
``source_customer_id, email, name, phone, address``; nothing else in the pipeline writes personal data.
"""

from __future__ import annotations

import duckdb

PERSONAL_COLUMNS = ("email", "name", "phone", "address")


def write_personal_data(con: duckdb.DuckDBPyConnection, people_sql: str, *, newer_wins: bool) -> int:
    """Add these people to the vault, or update the ones already there; return how many were new.

    ``newer_wins``: a value given here replaces the one kept (order exports: the latest order is right);
    otherwise only a value the vault lacks is filled in (feedback: a review does not overrule an order).
    """
    con.execute(f"CREATE OR REPLACE TEMP TABLE stg_people AS {people_sql}")
    if newer_wins:
        updates = ", ".join(f"{c} = coalesce(n.{c}, customer_pii.{c})" for c in PERSONAL_COLUMNS)
        only_when = ""
    else:
        updates = ", ".join(f"{c} = coalesce(customer_pii.{c}, n.{c})" for c in PERSONAL_COLUMNS)
        only_when = (
            " AND (" + " OR ".join(f"(customer_pii.{c} IS NULL AND n.{c} IS NOT NULL)" for c in PERSONAL_COLUMNS) + ")"
        )
    con.execute(
        f"UPDATE customer_pii SET {updates}, updated_at = now()::TIMESTAMP FROM stg_people n "
        f"WHERE customer_pii.customer_key = n.customer_key{only_when}"
    )
    inserted = con.execute(
        """
        INSERT INTO customer_pii (customer_key, source_customer_id, email, name, phone, address, updated_at)
        SELECT customer_key, source_customer_id, email, name, phone, address, now()::TIMESTAMP FROM stg_people
        WHERE customer_key NOT IN (SELECT customer_key FROM customer_pii)
        """
    ).fetchall()
    con.execute("DROP TABLE stg_people")
    return int(inserted[0][0]) if inserted else 0
