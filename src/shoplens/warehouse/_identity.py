"""Which customer a row belongs to, the same way for every import target.

A customer's key is the keyed hash of their identity (:func:`~shoplens.warehouse._parsing.identity_sql`): the
normalised e-mail where the row has one, else the shop's customer id. A row that gives only the shop's id of a
customer who is already known by e-mail — a review, a web event or a later order without the e-mail — takes
the key the vault holds for that id (``customer_pii.source_customer_id``), so it joins that customer instead
of starting a second one.
"""

from __future__ import annotations

from shoplens.warehouse._parsing import email_identity_sql
from shoplens.warehouse._pipeline import FileLoad


def adopt_vault_keys(load: FileLoad, table: str, *, email_column: str | None, where: str = "true") -> None:
    """Give the rows of the staging ``table`` that name a shop ``customer_id`` but no usable e-mail the key the
    vault holds for that id, where it holds one (the smallest, should the id have had two e-mails)."""
    without_email = "true" if email_column is None else f"{email_identity_sql(f'{table}.{email_column}')} IS NULL"
    candidates = f"SELECT customer_id AS k FROM {table} WHERE customer_id IS NOT NULL AND {without_email} AND {where}"
    load.existing("customer_pii", "source_customer_id", candidates)
    load.con.execute(
        f"""
        UPDATE {table} SET customer_key = v.customer_key FROM (
            SELECT source_customer_id, min(customer_key) AS customer_key FROM customer_pii
            WHERE source_customer_id IN (SELECT k FROM ({candidates})) GROUP BY source_customer_id
        ) AS v
        WHERE {table}.customer_id = v.source_customer_id AND {table}.customer_key IS DISTINCT FROM v.customer_key
          AND {without_email} AND {where}
        """
    )
