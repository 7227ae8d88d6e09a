"""Which customer a row belongs to, the same way for every import target.

A customer's key is the keyed hash of their identity (:func:`~shoplens.warehouse._parsing.identity_sql`): the
normalised e-mail where the row has one, else the shop's customer id. A row that gives only the shop's id of a
customer who is already known by e-mail — a review, a web event or a later order without the e-mail — takes
the key the vault holds for that id (found by its keyed hash, ``customer_pii.source_customer_id_hash``: the id
itself is encrypted), so it joins that customer instead of starting a second one.
"""

from __future__ import annotations

from shoplens.warehouse._parsing import email_identity_sql, keyed_hash_sql
from shoplens.warehouse._pipeline import FileLoad


def adopt_vault_keys(load: FileLoad, table: str, *, email_column: str | None, where: str = "true") -> None:
    """Give the rows of the staging ``table`` that name a shop ``customer_id`` but no usable e-mail the key the
    vault holds for that id, where it holds one (the smallest, should the id have had two e-mails)."""
    without_email = "true" if email_column is None else f"{email_identity_sql(f'{table}.{email_column}')} IS NULL"
    id_hash = keyed_hash_sql("source_customer_id", "customer_id")
    # Each distinct id hashed once (not once a row: two SHA-256 a row), then joined to the vault by hash.
    candidates = (
        f"SELECT customer_id, {id_hash} AS k FROM (SELECT DISTINCT customer_id FROM {table} "
        f"WHERE customer_id IS NOT NULL AND {without_email} AND {where})"
    )
    load.existing("customer_pii", "source_customer_id_hash", f"SELECT k FROM ({candidates})")
    load.con.execute(
        f"""
        UPDATE {table} SET customer_key = v.customer_key FROM (
            SELECT c.customer_id, min(p.customer_key) AS customer_key
            FROM ({candidates}) AS c JOIN customer_pii AS p ON p.source_customer_id_hash = c.k
            GROUP BY c.customer_id
        ) AS v
        WHERE {table}.customer_id = v.customer_id AND {table}.customer_key IS DISTINCT FROM v.customer_key
          AND {without_email} AND {where}
        """,
        load.pads,
    )
