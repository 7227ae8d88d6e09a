"""Import feedback files (reviews, tickets, survey free text, return reasons) into the ``feedback`` table.

The same conventions as sales imports: every record read ends in exactly one place, so ``rows_read =
rows_loaded + rows_quarantined + rows_duplicate``; bad records go to ``<home>/quarantine/<import-id>.csv`` with
their record number, column and reason (personal columns and the free text redacted); importing the same file
again adds nothing. All the work is DuckDB SQL over the staged file.

* ``feedback_id`` is the file's id (with the mapping's ``id_prefix``) or, without an id column, a fingerprint of
  the row's content plus its occurrence number among identical rows of the file (two identical tickets are both
  kept; a re-import finds both again). A record whose id is already in the table is a duplicate.
* The customer is the keyed hash of ``customer_id``; without one, the customer whose vault e-mail matches
  (case-insensitive), else the keyed hash of the lower-cased e-mail (as the Shopify profile keys customers).
  E-mails go to the vault only, never to the feedback table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import duckdb

from shoplens.errors import MissingColumnsError
from shoplens.ingest import StagedFile, customer_key_sql, hmac_pads, read_header, stage_file, text_literal
from shoplens.ingest.profiles.feedback import PROFILE_NAME, FeedbackPlan, feedback_dialect, feedback_plan
from shoplens.warehouse._connection import Warehouse, bump_data_version
from shoplens.warehouse._importer import (
    EARLIEST_DATE,
    ImportSummary,
    Progress,
    _text,
    _timestamp,
    new_import_id,
    report_step,
    run_file_by_file,
)
from shoplens.warehouse._quarantine import FAULT_SEPARATOR, QuarantineWriter, quarantine_faults, source_column

MAX_RATING = 10  # star ratings are 1-5; NPS-style answers 0-10
FINGERPRINT_CHARS = 20


def import_feedback(
    warehouse: Warehouse,
    paths: Sequence[Path],
    *,
    secret: bytes,
    quarantine_dir: Path,
    mapping: Mapping[str, object] | None = None,
    import_id: str | None = None,
    progress: Progress | None = None,
) -> ImportSummary:
    """Import feedback files; all headers are checked first, then each file is loaded in one transaction."""
    summary = ImportSummary(import_id or new_import_id(), PROFILE_NAME, [str(p) for p in paths])
    return run_file_by_file(
        summary,
        paths,
        quarantine_dir,
        check_header=lambda path: _check_header(path, mapping),
        import_one=lambda path, quarantine: _import_one(
            warehouse.con, path, mapping, secret, summary, quarantine, progress
        ),
    )


def _check_header(path: Path, mapping: Mapping[str, object] | None) -> None:
    header = read_header(path, feedback_dialect(mapping))
    if header is not None:
        _plan(path, header, mapping)


def _plan(path: Path, header: Sequence[str], mapping: Mapping[str, object] | None) -> FeedbackPlan:
    try:
        return feedback_plan(header, mapping)
    except MissingColumnsError as exc:
        raise MissingColumnsError(str(path), PROFILE_NAME, exc.missing) from None


def _import_one(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    mapping: Mapping[str, object] | None,
    secret: bytes,
    summary: ImportSummary,
    quarantine: QuarantineWriter,
    progress: Progress | None,
) -> None:
    steps = 4
    report_step(progress, f"reading {path.name}", 0, steps)
    staged = stage_file(con, path, "stg_fb_raw", feedback_dialect(mapping))
    plan = _plan(path, staged.columns, mapping)
    con.execute("BEGIN TRANSACTION")
    try:
        report_step(progress, f"validating {path.name}", 1, steps)
        _parse(con, staged, plan, secret)
        quarantined = _quarantine(con, staged, plan, quarantine)
        report_step(progress, f"loading {path.name}", 2, steps)
        valid, loaded, customers, new_customers = _load(con)
        if loaded:
            bump_data_version(con)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        quarantine.drop_pending()
        raise
    finally:
        con.execute("DROP TABLE IF EXISTS stg_fb_raw; DROP TABLE IF EXISTS stg_fb")
    quarantine.flush()
    report_step(progress, f"loaded {path.name}", steps, steps)
    summary.rows_read += staged.rows_read
    summary.rows_quarantined += quarantined
    summary.rows_loaded += loaded
    summary.rows_duplicate += valid - loaded
    summary.customers += customers
    summary.customers_new += new_customers


def _parse(con: duckdb.DuckDBPyConnection, staged: StagedFile, plan: FeedbackPlan, secret: bytes) -> None:
    """Build ``stg_fb``: typed fields, the customer key, the first reason to reject, and the feedback id."""

    def raw(name: str) -> str:
        return _text(plan.expressions.get(name, "NULL"))

    rating_number = "TRY_CAST(raw_rating AS DECIMAL(38,6))"
    rating = f"CASE WHEN {rating_number} = trunc({rating_number}) THEN CAST({rating_number} AS INTEGER) END"
    at = _timestamp("raw_created_at", plan.date_formats, plan.source_timezone)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE stg_fb AS
        SELECT rowid AS pos, {raw("id")} AS raw_id, {raw("text")} AS text, {raw("customer_id")} AS customer_id,
               lower({raw("email")}) AS email, {raw("product_id")} AS product_id, {raw("rating")} AS raw_rating,
               {raw("created_at")} AS raw_created_at, lower({raw("source")}) AS source
        FROM {staged.table}
        """
    )
    con.execute(f"ALTER TABLE stg_fb ADD COLUMN rating INTEGER; UPDATE stg_fb SET rating = {rating}")
    con.execute(f"ALTER TABLE stg_fb ADD COLUMN created_at TIMESTAMP; UPDATE stg_fb SET created_at = {at}")
    checks = [
        ("text IS NULL", plan.expressions.get("text"), "text", "missing text"),
        ("raw_rating IS NOT NULL AND rating IS NULL", plan.expressions.get("rating"), "rating", "not a whole number"),
        (f"rating < 0 OR rating > {MAX_RATING}", plan.expressions.get("rating"), "rating", "rating out of range 0-10"),
        (
            "raw_created_at IS NOT NULL AND created_at IS NULL",
            plan.expressions.get("created_at"),
            "created_at",
            "unparseable date",
        ),
        (
            f"created_at < TIMESTAMP '{EARLIEST_DATE}' OR created_at > now()::TIMESTAMP + INTERVAL 2 DAY",
            plan.expressions.get("created_at"),
            "created_at",
            "date out of range",
        ),
        ("id_occurrence > 1", plan.expressions.get("id"), "id", "feedback id repeated in the file"),
    ]
    fault = "CASE " + " ".join(
        f"WHEN {condition} THEN {text_literal(source_column(expression, name) + FAULT_SEPARATOR + reason)}"
        for condition, expression, name, reason in checks
    )
    con.execute(
        f"""
        ALTER TABLE stg_fb ADD COLUMN _fault VARCHAR;
        UPDATE stg_fb SET _fault = f.fault FROM (
            SELECT pos, {fault} END AS fault
            FROM (SELECT *, CASE WHEN raw_id IS NOT NULL
                                 THEN row_number() OVER (PARTITION BY raw_id ORDER BY pos) END AS id_occurrence
                  FROM stg_fb)
        ) AS f WHERE stg_fb.pos = f.pos
        """
    )
    inner_pad, outer_pad = hmac_pads(secret)
    # The customer: the keyed hash of the shop's id; else the vault's customer with this e-mail; else the keyed
    # hash of the e-mail itself (as the Shopify and WooCommerce profiles key customers by e-mail).
    con.execute(
        f"""
        ALTER TABLE stg_fb ADD COLUMN customer_key VARCHAR;
        ALTER TABLE stg_fb ADD COLUMN source_customer_id VARCHAR;
        UPDATE stg_fb SET source_customer_id = coalesce(customer_id, email) WHERE _fault IS NULL;
        UPDATE stg_fb SET customer_key = k.customer_key FROM (
            SELECT lower(email) AS email, min(customer_key) AS customer_key FROM customer_pii
            WHERE email IS NOT NULL AND lower(email) IN (SELECT email FROM stg_fb WHERE customer_id IS NULL)
            GROUP BY lower(email)
        ) AS k WHERE stg_fb.customer_id IS NULL AND stg_fb.email = k.email AND stg_fb._fault IS NULL;
        UPDATE stg_fb SET customer_key = k.customer_key FROM (
            SELECT source_customer_id, {customer_key_sql("source_customer_id")} AS customer_key
            FROM (SELECT DISTINCT source_customer_id FROM stg_fb
                  WHERE customer_key IS NULL AND source_customer_id IS NOT NULL AND _fault IS NULL)
        ) AS k WHERE stg_fb.source_customer_id = k.source_customer_id AND stg_fb.customer_key IS NULL
        """,
        {"inner_pad": inner_pad, "outer_pad": outer_pad},
    )
    # Without an id, the fingerprint of the row's content (the e-mail only through the customer key) and its
    # occurrence number among identical rows of this file, so re-imports produce the same ids.
    content = "concat_ws(chr(31), text, customer_key, product_id, raw_rating, CAST(created_at AS VARCHAR), source)"
    con.execute(
        f"""
        ALTER TABLE stg_fb ADD COLUMN feedback_id VARCHAR;
        UPDATE stg_fb SET feedback_id = f.feedback_id FROM (
            SELECT pos, CASE WHEN raw_id IS NOT NULL THEN {text_literal(plan.id_prefix)} || raw_id
                        ELSE 'f_' || left(md5({content} || chr(31)
                             || row_number() OVER (PARTITION BY {content} ORDER BY pos)), {FINGERPRINT_CHARS}) END
                   AS feedback_id
            FROM stg_fb WHERE _fault IS NULL
        ) AS f WHERE stg_fb.pos = f.pos
        """
    )


def _quarantine(
    con: duckdb.DuckDBPyConnection, staged: StagedFile, plan: FeedbackPlan, writer: QuarantineWriter
) -> int:
    # Free text may hold anything a customer wrote (names, phone numbers), so it is redacted like personal columns.
    personal = set(plan.personal_columns) | {
        source_column(plan.expressions.get(name), "") for name in ("email", "text") if name in plan.expressions
    }
    return quarantine_faults(con, staged, "stg_fb", personal, writer)


def _count(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    row = con.execute(sql).fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def _load(con: duckdb.DuckDBPyConnection) -> tuple[int, int, int, int]:
    """Insert the new valid rows and their customers' e-mails into the vault.

    Returns (valid rows, rows loaded, distinct customers in the valid rows, customers new to the vault).
    """
    valid = _count(con, "SELECT count(*) FROM stg_fb WHERE _fault IS NULL")
    customers = _count(con, "SELECT count(DISTINCT customer_key) FROM stg_fb WHERE _fault IS NULL")
    loaded = _count(
        con,
        """
        INSERT INTO feedback (feedback_id, customer_key, product_id, source, rating, text, "at")
        SELECT feedback_id, customer_key, product_id, source, rating, text, created_at FROM stg_fb
        WHERE _fault IS NULL AND feedback_id NOT IN (SELECT feedback_id FROM feedback)
        """,
    )
    con.execute(
        """
        UPDATE customer_pii SET email = n.email, updated_at = now()::TIMESTAMP
        FROM (SELECT customer_key, arg_max(email, pos) AS email FROM stg_fb
              WHERE _fault IS NULL AND email IS NOT NULL AND customer_key IS NOT NULL GROUP BY customer_key) AS n
        WHERE customer_pii.customer_key = n.customer_key AND customer_pii.email IS NULL
        """
    )
    new_customers = _count(
        con,
        """
        INSERT INTO customer_pii (customer_key, source_customer_id, email, updated_at)
        SELECT customer_key, any_value(source_customer_id), arg_max(email, pos), now()::TIMESTAMP FROM stg_fb
        WHERE _fault IS NULL AND customer_key IS NOT NULL
          AND customer_key NOT IN (SELECT customer_key FROM customer_pii)
        GROUP BY customer_key
        """,
    )
    return valid, loaded, customers, new_customers
