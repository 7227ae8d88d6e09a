"""The feedback target: reviews, tickets, survey free text and return reasons into the ``feedback`` table.

* ``feedback_id`` is the file's id (with the mapping's ``id_prefix``) or, without an id column, a fingerprint of
  the row's content plus its occurrence number among identical rows of the file (two identical tickets are both
  kept; a re-import finds both again). A record whose id is already in the table is a duplicate.
* The customer is the keyed hash of ``customer_id``; without one, the customer whose vault e-mail matches
  (case and surrounding spaces ignored; compared by keyed hash, as the vault keeps e-mails encrypted), else the
  keyed hash of the lower-cased e-mail (as the Shopify profile keys customers).
  E-mails go to the vault only, never to the feedback table.
* The free text may hold anything a customer wrote (names, phone numbers), so quarantine files redact it like
  personal columns.
"""

from __future__ import annotations

from shoplens.ingest import FeedbackPlan, text_literal
from shoplens.warehouse._identity import adopt_vault_keys
from shoplens.warehouse._parsing import (
    Check,
    customer_key_sql,
    date_range_check,
    fault_sql,
    identity_sql,
    keyed_hash_sql,
    normal_email_sql,
    text_sql,
    timestamp_sql,
)
from shoplens.warehouse._personal_data import write_personal_data
from shoplens.warehouse._pipeline import FileCounts, FileLoad, ImportSummary, Plan
from shoplens.warehouse._quarantine import source_column
from shoplens.warehouse._readers import StagedFile

MAX_RATING = 10  # star ratings are 1-5; NPS-style answers 0-10
FINGERPRINT_CHARS = 20
_VALID = "_fault IS NULL"


class FeedbackTarget:
    """Customer feedback: one row of the ``feedback`` table per record, e-mails to the vault."""

    name = "feedback"
    tables: tuple[str, ...] = ("feedback", "customer_pii")
    parsed_table = "stg_fb"
    work_tables: tuple[str, ...] = ("stg_fb",)

    def parse(self, load: FileLoad, staged: StagedFile, plan: Plan) -> None:
        _parse(load, staged, _feedback(plan))

    def redacted_columns(self, plan: Plan) -> set[str]:
        feedback = _feedback(plan)
        return set(feedback.personal_columns) | {
            source_column(feedback.expressions.get(name), "")
            for name in ("email", "text")
            if name in feedback.expressions
        }

    def split_new(self, load: FileLoad) -> FileCounts:
        _identify(load)
        load.existing("feedback", "feedback_id", f"SELECT feedback_id AS k FROM stg_fb WHERE {_VALID}")
        valid = load.count(f"SELECT count(*) FROM stg_fb WHERE {_VALID}")
        new = load.count(
            f"SELECT count(*) FROM stg_fb WHERE {_VALID} AND feedback_id NOT IN (SELECT feedback_id FROM feedback)"
        )
        return FileCounts(valid=valid, new=new)

    def load(self, load: FileLoad, summary: ImportSummary) -> None:
        summary.customers += load.count(f"SELECT count(DISTINCT customer_key) FROM stg_fb WHERE {_VALID}")
        summary.customers_new += _load(load)


def _feedback(plan: Plan) -> FeedbackPlan:
    if not isinstance(plan, FeedbackPlan):
        raise TypeError(f"the feedback target reads a FeedbackPlan, not {type(plan).__name__}")
    return plan


def _parse(load: FileLoad, staged: StagedFile, plan: FeedbackPlan) -> None:
    """Build ``stg_fb``: typed fields, the first reason to reject, and what the feedback id is made of."""

    def raw(name: str) -> str:
        return text_sql(plan.expressions.get(name, "NULL"))

    def where(name: str) -> str:
        return source_column(plan.expressions.get(name), name)

    rating_number = "TRY_CAST(raw_rating AS DECIMAL(38,6))"
    rating = (
        f"CASE WHEN {rating_number} = trunc({rating_number}) AND abs({rating_number}) < 2147483648 "
        f"THEN CAST({rating_number} AS INTEGER) END"
    )
    at = timestamp_sql("raw_created_at", plan.date_formats, plan.source_timezone)
    checks = [
        Check("text IS NULL", where("text"), "missing text"),
        Check("raw_rating IS NOT NULL AND rating IS NULL", where("rating"), "not a whole number"),
        Check(f"rating < 0 OR rating > {MAX_RATING}", where("rating"), "rating out of range 0-10"),
        Check("raw_created_at IS NOT NULL AND created_at IS NULL", where("created_at"), "unparseable date"),
        date_range_check("created_at", where("created_at")),
        Check("id_occurrence > 1", where("id"), "feedback id repeated in the file"),
    ]
    load.con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE stg_fb AS
        SELECT * EXCLUDE (id_occurrence), {fault_sql(checks)} AS _fault,
               CAST(NULL AS VARCHAR) AS customer_key, CAST(NULL AS VARCHAR) AS source_customer_id,
               CAST(NULL AS VARCHAR) AS email_hash,
               CASE WHEN raw_id IS NOT NULL THEN {text_literal(plan.id_prefix)} || raw_id END AS feedback_id
        FROM (
            SELECT *, {rating} AS rating, {at} AS created_at,
                   CASE WHEN raw_id IS NOT NULL
                        THEN row_number() OVER (PARTITION BY raw_id ORDER BY pos) END AS id_occurrence
            FROM (
                SELECT rowid AS pos, {raw("id")} AS raw_id, {raw("text")} AS text, {raw("customer_id")} AS customer_id,
                       lower({raw("email")}) AS email, {raw("product_id")} AS product_id, {raw("rating")} AS raw_rating,
                       {raw("created_at")} AS raw_created_at, lower({raw("source")}) AS source
                FROM {staged.table}
            )
        )
        """
    )


def _identify(load: FileLoad) -> None:
    """The customer of each valid row, and the feedback id of rows whose file gives none."""
    con = load.con
    # The customer: without a shop id, the vault's customer with this e-mail; else the keyed hash of the
    # customer's identity (the normalised e-mail where there is one, else the shop's id), as orders key them.
    con.execute(f"UPDATE stg_fb SET source_customer_id = {identity_sql('email', 'customer_id')} WHERE {_VALID}")
    # The vault keeps e-mails encrypted: they are matched by the keyed hash of the normalised e-mail.
    con.execute(
        f"UPDATE stg_fb SET email_hash = {keyed_hash_sql('email', normal_email_sql('email'))} "
        f"WHERE customer_id IS NULL AND email IS NOT NULL AND {_VALID}",
        load.pads,
    )
    load.existing("customer_pii", "email_hash", "SELECT email_hash AS k FROM stg_fb WHERE email_hash IS NOT NULL")
    con.execute(
        """
        UPDATE stg_fb SET customer_key = k.customer_key FROM (
            SELECT email_hash, min(customer_key) AS customer_key FROM customer_pii
            WHERE email_hash IN (SELECT email_hash FROM stg_fb WHERE email_hash IS NOT NULL)
            GROUP BY email_hash
        ) AS k WHERE stg_fb.email_hash = k.email_hash
        """
    )
    con.execute(
        f"""
        UPDATE stg_fb SET customer_key = k.customer_key FROM (
            SELECT source_customer_id, {customer_key_sql("source_customer_id")} AS customer_key
            FROM (SELECT DISTINCT source_customer_id FROM stg_fb
                  WHERE customer_key IS NULL AND source_customer_id IS NOT NULL AND {_VALID})
        ) AS k WHERE stg_fb.source_customer_id = k.source_customer_id AND stg_fb.customer_key IS NULL
        """,
        load.pads,
    )
    adopt_vault_keys(load, "stg_fb", email_column="email", where=_VALID)
    # Without an id, the fingerprint of the row's content (the e-mail only through the customer key) and its
    # occurrence number among identical rows of this file, so re-imports produce the same ids.
    content = "concat_ws(chr(31), text, customer_key, product_id, raw_rating, CAST(created_at AS VARCHAR), source)"
    con.execute(
        f"""
        UPDATE stg_fb SET feedback_id = f.feedback_id FROM (
            SELECT pos, raw_id, 'f_' || left(md5({content} || chr(31)
                        || row_number() OVER (PARTITION BY {content} ORDER BY pos)), {FINGERPRINT_CHARS}) AS feedback_id
            FROM stg_fb WHERE {_VALID}
        ) AS f WHERE stg_fb.pos = f.pos AND f.raw_id IS NULL
        """
    )


def _load(load: FileLoad) -> int:
    """Insert the new valid rows, and their customers' e-mails into the vault; return customers new to it."""
    load.existing("customer_pii", "customer_key", f"SELECT customer_key AS k FROM stg_fb WHERE {_VALID}")
    load.con.execute(
        f"""
        INSERT INTO feedback (feedback_id, customer_key, product_id, source, rating, text, "at")
        SELECT feedback_id, customer_key, product_id, source, rating, text, created_at FROM stg_fb
        WHERE {_VALID} AND feedback_id NOT IN (SELECT feedback_id FROM feedback)
        """
    )
    return write_personal_data(
        load,
        f"""
        SELECT customer_key, any_value(customer_id) AS source_customer_id,
               arg_max(email, pos) FILTER (WHERE email IS NOT NULL) AS email,
               CAST(NULL AS VARCHAR) AS name, CAST(NULL AS VARCHAR) AS phone, CAST(NULL AS VARCHAR) AS address
        FROM stg_fb WHERE {_VALID} AND customer_key IS NOT NULL GROUP BY customer_key
        """,
        newer_wins=False,
    )
