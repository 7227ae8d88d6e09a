"""Import store exports into the warehouse: stage, parse, validate, quarantine, de-duplicate, load.

Every record read ends in exactly one of three places, so ``rows_read = rows_loaded +
rows_quarantined + rows_duplicate`` always holds:

* **quarantine** (``<home>/quarantine/<import-id>.csv``): records that cannot be parsed or break a
  rule, each with its record number, column and reason; personal columns are redacted there;
* **duplicate**: records whose fingerprint is already in the warehouse (a re-import, or the
  overlap of a newer export with an older one);
* **loaded**: everything else, into the canonical tables, with personal data only in the vault.

A record's fingerprint is a hash of its canonical fields' normalised text plus its occurrence number among
identical records of the same file, so two identical lines in one export are both kept, and a second
import of the same export adds nothing. All the work is DuckDB SQL over the staged file.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from shoplens.errors import InputError, MissingColumnsError, UnknownProfileError
from shoplens.ingest import (
    ORDER_LEVEL_FIELDS,
    PERSONAL_FIELDS,
    SALES_FIELDS,
    SalesMapping,
    SourceProfile,
    StagedFile,
    customer_key_sql,
    hmac_pads,
    read_header,
    registered_profiles,
    stage_file,
    text_literal,
)
from shoplens.warehouse._connection import Warehouse, bump_data_version
from shoplens.warehouse._quarantine import FAULT_SEPARATOR, QuarantineWriter, quarantine_faults, source_column

Progress = Callable[[str, int, int], None]
MAX_QUANTITY = 10_000_000
MAX_UNIT_PRICE = 1_000_000_000
EARLIEST_DATE = "1990-01-01"
_FIELD_KIND = {f.name: f.kind for f in SALES_FIELDS}
_REQUIRED = tuple(f.name for f in SALES_FIELDS if f.required)


@dataclass
class ImportSummary:
    """What one ``shoplens import`` did. Counts of ``orders``/``customers`` describe the files read."""

    import_id: str
    profile: str
    files: list[str]
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    rows_duplicate: int = 0
    orders: int = 0
    customers: int = 0
    refunds: int = 0
    guest_rows: int = 0
    orders_new: int = 0
    customers_new: int = 0
    quarantine_path: str | None = None
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def new_import_id() -> str:
    return datetime.now(UTC).strftime("imp-%Y%m%dT%H%M%S-") + secrets.token_hex(3)


def get_profile(name: str) -> SourceProfile:
    profiles = registered_profiles()
    if name not in profiles:
        raise UnknownProfileError(name, list(profiles))
    return profiles[name]


def import_files(
    warehouse: Warehouse,
    paths: Sequence[Path],
    *,
    profile_name: str,
    secret: bytes,
    quarantine_dir: Path,
    mapping: Mapping[str, object] | None = None,
    import_id: str | None = None,
    progress: Progress | None = None,
) -> ImportSummary:
    """Import ``paths`` with one profile; each file is loaded in one transaction, all headers are checked first."""
    profile = get_profile(profile_name)
    if profile.target == "feedback":  # not order lines: the feedback loader has its own checks and table
        from shoplens.warehouse._feedback_loader import import_feedback

        return import_feedback(
            warehouse,
            paths,
            secret=secret,
            quarantine_dir=quarantine_dir,
            mapping=mapping,
            import_id=import_id,
            progress=progress,
        )
    if profile.needs_mapping and mapping is None:
        raise InputError(f"the {profile.name} profile needs --mapping FILE (see shoplens import --help)")
    summary = ImportSummary(import_id or new_import_id(), profile.name, [str(p) for p in paths])
    return run_file_by_file(
        summary,
        paths,
        quarantine_dir,
        check_header=lambda path: _check_header(path, profile, mapping),
        import_one=lambda path, quarantine: _import_one(
            warehouse.con, path, profile, mapping, secret, summary, quarantine, progress
        ),
    )


def run_file_by_file(
    summary: ImportSummary,
    paths: Sequence[Path],
    quarantine_dir: Path,
    *,
    check_header: Callable[[Path], None],
    import_one: Callable[[Path, QuarantineWriter], None],
) -> ImportSummary:
    """Check every file's header first, then load the files one by one, each in its own transaction."""
    started = time.perf_counter()
    quarantine = QuarantineWriter(quarantine_dir / f"{summary.import_id}.csv")
    committed = 0
    try:
        for path in paths:
            check_header(path)
        for path in paths:
            import_one(path, quarantine)
            committed += 1
    except BaseException:
        # Files loaded before the failure stay loaded, and so do their quarantined rows.
        if committed:
            quarantine.close()
        else:
            quarantine.discard()
        raise
    summary.quarantine_path = quarantine.close()
    summary.seconds = round(time.perf_counter() - started, 3)
    return summary


def report_step(progress: Progress | None, name: str, done: int, total: int) -> None:
    if progress is not None:
        progress(name, done, total)


def _import_one(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    profile: SourceProfile,
    mapping: Mapping[str, object] | None,
    secret: bytes,
    summary: ImportSummary,
    quarantine: QuarantineWriter,
    progress: Progress | None,
) -> None:
    steps = 6
    report_step(progress, f"reading {path.name}", 0, steps)
    # Staged outside the load transaction: committed temp tables number their rows 0..n-1 in file order.
    staged = stage_file(con, path, "stg_raw", profile.dialect_for(mapping))
    sales = _sales_mapping(path, profile, mapping, staged.columns)
    con.execute("BEGIN TRANSACTION")
    try:
        _load_file(con, staged, sales, profile, secret, summary, quarantine, progress)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        quarantine.drop_pending()
        raise
    finally:
        con.execute("DROP TABLE IF EXISTS stg_raw; DROP TABLE IF EXISTS stg_parsed; DROP TABLE IF EXISTS stg_rows")
    quarantine.flush()


def _check_header(path: Path, profile: SourceProfile, mapping: Mapping[str, object] | None) -> None:
    """Fail before loading anything when a file is plainly not this profile's export."""
    header = read_header(path, profile.dialect_for(mapping))
    if header is not None:
        _sales_mapping(path, profile, mapping, header)


def _sales_mapping(
    path: Path, profile: SourceProfile, mapping: Mapping[str, object] | None, header: Sequence[str]
) -> SalesMapping:
    missing = profile.missing_columns(header)
    if missing:
        raise MissingColumnsError(str(path), profile.name, missing)
    try:
        return profile.build(header, mapping)
    except MissingColumnsError as exc:
        raise MissingColumnsError(str(path), profile.name, exc.missing) from None


def _load_file(
    con: duckdb.DuckDBPyConnection,
    staged: StagedFile,
    sales: SalesMapping,
    profile: SourceProfile,
    secret: bytes,
    summary: ImportSummary,
    quarantine: QuarantineWriter,
    progress: Progress | None,
) -> None:
    steps, path = 6, staged.path
    report_step(progress, f"validating {path.name}", 1, steps)
    _parse(con, staged, sales, profile.name)
    report_step(progress, f"quarantining bad rows of {path.name}", 2, steps)
    quarantined = _quarantine(con, staged, sales, quarantine)
    report_step(progress, f"de-duplicating {path.name}", 3, steps)
    good, duplicate = _split_new(con, secret)
    report_step(progress, f"loading {path.name}", 4, steps)
    _count_file(con, summary)
    new_orders, new_customers = _load(con, profile.name, summary.import_id)
    if good - duplicate:
        bump_data_version(con)
    report_step(progress, f"loaded {path.name}", steps, steps)
    summary.rows_read += staged.rows_read
    summary.rows_quarantined += quarantined
    summary.rows_duplicate += duplicate
    summary.rows_loaded += good - duplicate
    summary.orders_new += new_orders
    summary.customers_new += new_customers


# --- parsing and validation -------------------------------------------------------------------


def _text(expression: str) -> str:
    return f"nullif(trim(CAST(({expression}) AS VARCHAR)), '')"


def _number(raw: str, decimal_separator: str) -> str:
    """A decimal from text, forgiving of thousands separators, spaces and a currency symbol."""
    cleaned = f"replace({raw}, ',', '')" if decimal_separator == "." else f"replace(replace({raw}, '.', ''), ',', '.')"
    symbols = f"regexp_replace({cleaned}, '[\\s£$€¥]', '', 'g')"
    # coalesce evaluates the regular-expression fallback only for the rows the plain cast could not read
    return f"coalesce(TRY_CAST({cleaned} AS DECIMAL(38,6)), TRY_CAST({symbols} AS DECIMAL(38,6)))"


def _timestamp(raw: str, formats: Sequence[str], zone: str) -> str:
    """UTC timestamp from text: formats with %z carry their offset, the others are in the source zone."""
    with_offset = [f for f in formats if "%z" in f or "%Z" in f]
    local = [f for f in formats if f not in with_offset]
    parts = []
    if with_offset:
        parts.append(f"timezone('UTC', try_strptime({raw}, [{', '.join(map(text_literal, with_offset))}]))")
    if local:
        parsed = f"try_strptime({raw}, [{', '.join(map(text_literal, local))}])"
        parts.append(parsed if zone == "UTC" else f"timezone('UTC', timezone({text_literal(zone)}, {parsed}))")
    return parts[0] if len(parts) == 1 else f"coalesce({', '.join(parts)})"


def _typed(name: str, sales: SalesMapping) -> str:
    raw = f'"raw_{name}"'
    kind = _FIELD_KIND[name]
    if kind == "text":
        return raw
    if kind == "int":
        number = f"TRY_CAST({raw} AS DECIMAL(38,6))"
        return f"CASE WHEN {number} = trunc({number}) AND abs({number}) < 1e12 THEN CAST({number} AS BIGINT) END"
    if name == "unit_price":
        # Sources that give only line totals (CDNOW) get the unit price from total / quantity.
        derived = f"round({_typed('line_amount', sales)} / nullif({_typed('quantity', sales)}, 0), 4)"
        parsed = f"round({_number(raw, sales.decimal_separator)}, 4)"
        return f"CAST(CASE WHEN {raw} IS NULL THEN {derived} ELSE {parsed} END AS DECIMAL(18,4))"
    if kind == "price":
        return f"CAST(round({_number(raw, sales.decimal_separator)}, 4) AS DECIMAL(18,4))"
    if kind == "money":
        return f"CAST(round({_number(raw, sales.decimal_separator)}, 2) AS DECIMAL(18,2))"
    if kind == "bool":
        return (
            f"CASE WHEN lower({raw}) IN ('true', 't', '1', 'yes', 'y') THEN true "
            f"WHEN lower({raw}) IN ('false', 'f', '0', 'no', 'n') THEN false END"
        )
    return _timestamp(raw, sales.date_formats, sales.source_timezone)


_UNPARSEABLE = {
    "int": "not a whole number",
    "price": "not a number",
    "money": "not a number",
    "timestamp": "unparseable date",
    "bool": "not true/false",
}


def _parse(con: duckdb.DuckDBPyConnection, staged: StagedFile, sales: SalesMapping, profile: str) -> None:
    """Build ``stg_parsed``: raw text, typed canonical fields, the first reason to reject, and the fingerprint."""
    names = [f.name for f in SALES_FIELDS]
    expressions = dict(sales.expressions)
    if sales.currency and "currency" not in expressions:
        expressions["currency"] = text_literal(sales.currency)
    raw_columns = [f'{_text(expressions.get(n, "NULL"))} AS "raw_{n}"' for n in names]
    helpers = [f'({sql}) AS "{name}"' for name, sql in sales.helpers.items()]
    text = f"SELECT rowid AS pos, {', '.join(raw_columns + helpers)} FROM {staged.table}"
    if sales.fill_order_fields:
        filled = [
            f'coalesce("raw_{n}", max("raw_{n}") OVER (PARTITION BY "raw_order_id")) AS "raw_{n}"'
            if n in ORDER_LEVEL_FIELDS
            else f'"raw_{n}"'
            for n in names
        ]
        text = f"SELECT pos, {', '.join(filled + [f'{chr(34)}{h}{chr(34)}' for h in sales.helpers])} FROM ({text})"
    typed = f"SELECT *, {', '.join(f'{_typed(n, sales)} AS {chr(34)}{n}{chr(34)}' for n in names)} FROM ({text})"
    checks = _checks(sales, expressions)
    # One CASE gives "column<US>reason" for the first check that fails; split only for quarantined rows.
    fault = "CASE " + " ".join(f"WHEN {cond} THEN {text_literal(c + FAULT_SEPARATOR + why)}" for cond, c, why in checks)
    # The fingerprint hashes the normalised text of the canonical fields (stable across DuckDB versions).
    content = "concat_ws(chr(31), " + text_literal(profile) + ", " + ", ".join(f'"raw_{n}"' for n in names) + ")"
    kept = ", ".join(["pos", *(f'"{n}"' for n in names), *(f'"{h}"' for h in sales.helpers)])
    # The raw text columns are dropped here: quarantine files show the source row from the staged file.
    con.execute(
        "CREATE OR REPLACE TEMP TABLE stg_parsed AS "
        f"SELECT {kept}, {fault} END AS _fault, md5_number({content}) AS row_key FROM ({typed})"
    )
    # Identical records of one file are all kept: the second and later get their occurrence number in the key,
    # so a re-import of the same file produces the same keys.
    con.execute(
        """
        UPDATE stg_parsed SET row_key = md5_number(CAST(stg_parsed.row_key AS VARCHAR) || ':' || repeat.occurrence)
        FROM (
            SELECT pos, row_number() OVER (PARTITION BY row_key ORDER BY pos) AS occurrence FROM stg_parsed
            WHERE row_key IN (SELECT row_key FROM stg_parsed GROUP BY row_key HAVING count(*) > 1)
        ) AS repeat
        WHERE stg_parsed.pos = repeat.pos AND repeat.occurrence > 1
        """
    )


def _checks(sales: SalesMapping, expressions: Mapping[str, str]) -> list[tuple[str, str, str]]:
    """(condition, column, reason) in the order they are tried; the first that holds names the row's fault."""
    checks: list[tuple[str, str, str]] = []

    def where(name: str) -> str:
        return source_column(expressions.get(name), name)

    for name in _REQUIRED:
        missing = f'"raw_{name}" IS NULL'
        if name == "unit_price":
            missing += ' AND "raw_line_amount" IS NULL'
        checks.append((missing, where(name), f"missing {name.replace('_', ' ')}"))
    for spec in SALES_FIELDS:
        if spec.kind != "text":
            checks.append(
                (f'"raw_{spec.name}" IS NOT NULL AND "{spec.name}" IS NULL', where(spec.name), _UNPARSEABLE[spec.kind])
            )
    refund = "coalesce(is_refund, false)"
    checks += [
        ("quantity = 0", where("quantity"), "zero quantity"),
        (f"quantity < 0 AND NOT {refund}", where("quantity"), "negative quantity on a sale"),
        (f"abs(quantity) > {MAX_QUANTITY}", where("quantity"), "implausible quantity"),
        ("unit_price < 0", where("unit_price"), "negative price"),
        (f"unit_price > {MAX_UNIT_PRICE}", where("unit_price"), "implausible price"),
        (
            f"ordered_at < TIMESTAMP '{EARLIEST_DATE}' OR ordered_at > now()::TIMESTAMP + INTERVAL 2 DAY",
            where("ordered_at"),
            "date out of range",
        ),
    ]
    if not sales.allow_zero_price:
        checks.append((f"unit_price = 0 AND NOT {refund}", where("unit_price"), "zero price on a sale"))
    for money in ("line_discount", "order_discount", "shipping", "tax", "refund_amount"):
        checks.append((f'"{money}" < 0', where(money), f"negative {money.replace('_', ' ')}"))
    checks += [(f"coalesce({rule.condition}, false)", rule.column, rule.reason) for rule in sales.rules]
    return checks


# --- quarantine -------------------------------------------------------------------------------


def _quarantine(
    con: duckdb.DuckDBPyConnection, staged: StagedFile, sales: SalesMapping, writer: QuarantineWriter
) -> int:
    personal = set(sales.personal_columns) | {
        source_column(sales.expressions.get(f), "") for f in PERSONAL_FIELDS if f in sales.expressions
    }
    return quarantine_faults(con, staged, "stg_parsed", personal, writer)


# --- de-duplication and loading ---------------------------------------------------------------


def _split_new(con: duckdb.DuckDBPyConnection, secret: bytes) -> tuple[int, int]:
    """Keep the valid rows whose fingerprint is not yet in the warehouse, with their pseudonymous customer key.

    Returns the counts of (valid, duplicate) rows.
    """
    inner_pad, outer_pad = hmac_pads(secret)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE stg_rows AS
        WITH new_rows AS (
            SELECT p.* EXCLUDE (_fault) FROM stg_parsed p
            WHERE p._fault IS NULL
              AND p.row_key NOT IN (SELECT row_key FROM order_lines UNION ALL SELECT row_key FROM refunds)
        ),
        keys AS (
            SELECT customer_id, {customer_key_sql("customer_id")} AS customer_key
            FROM (SELECT DISTINCT customer_id FROM new_rows WHERE customer_id IS NOT NULL)
        )
        SELECT n.*, k.customer_key,
               coalesce(n.line_amount, CAST(abs(n.quantity) * n.unit_price AS DECIMAL(18,2))) AS amount
        FROM new_rows n LEFT JOIN keys k USING (customer_id)
        """,
        {"inner_pad": inner_pad, "outer_pad": outer_pad},
    )
    valid = con.execute("SELECT count(*) FROM stg_parsed WHERE _fault IS NULL").fetchone()
    new = con.execute("SELECT count(*) FROM stg_rows").fetchone()
    valid_n, new_n = (int(valid[0]) if valid else 0), (int(new[0]) if new else 0)
    return valid_n, valid_n - new_n


def _count_file(con: duckdb.DuckDBPyConnection, summary: ImportSummary) -> None:
    row = con.execute(
        """
        SELECT count(DISTINCT order_id) FILTER (WHERE NOT coalesce(is_refund, false)),
               count(DISTINCT customer_id),
               count(*) FILTER (WHERE coalesce(is_refund, false))
                 + count(DISTINCT order_id) FILTER (WHERE NOT coalesce(is_refund, false) AND refund_amount > 0),
               count(*) FILTER (WHERE customer_id IS NULL AND NOT coalesce(is_refund, false))
        FROM stg_parsed WHERE _fault IS NULL
        """
    ).fetchone()
    if row:
        summary.orders += int(row[0])
        summary.customers += int(row[1])
        summary.refunds += int(row[2])
        summary.guest_rows += int(row[3])


def _load(con: duckdb.DuckDBPyConnection, profile: str, import_id: str) -> tuple[int, int]:
    """Append the new rows to the canonical tables; return (new orders, new customers)."""
    imp, prof = text_literal(import_id), text_literal(profile)
    new_customers = _load_customers(con, prof)
    _load_products(con)
    con.execute(
        f"""
        INSERT INTO order_lines
            (order_id, line_no, product_id, quantity, unit_price, discount, amount, row_key, import_id)
        SELECT s.order_id,
               CAST(coalesce(e.last_line, 0) + row_number() OVER (PARTITION BY s.order_id ORDER BY s.pos) AS INTEGER),
               s.product_id, CAST(s.quantity AS INTEGER), s.unit_price, s.line_discount, s.amount, s.row_key, {imp}
        FROM stg_rows s
        LEFT JOIN (SELECT order_id, max(line_no) AS last_line FROM order_lines
                   WHERE order_id IN (SELECT order_id FROM stg_rows) GROUP BY order_id) e USING (order_id)
        WHERE NOT coalesce(s.is_refund, false)
        """
    )
    con.execute(
        f"""
        INSERT INTO refunds (refund_id, order_id, customer_key, product_id, quantity, amount, reason, refunded_at,
                             row_key, import_id)
        SELECT order_id || '#' || CAST(row_key AS VARCHAR), order_id, customer_key, product_id,
               CAST(abs(quantity) AS INTEGER), abs(amount), coalesce(refund_reason, 'returned'), ordered_at,
               row_key, {imp}
        FROM stg_rows WHERE coalesce(is_refund, false)
        """
    )
    con.execute(
        f"""
        INSERT INTO refunds (refund_id, order_id, customer_key, product_id, quantity, amount, reason, refunded_at,
                             row_key, import_id)
        SELECT order_id || '#refund', order_id, any_value(customer_key), NULL, NULL, max(refund_amount),
               coalesce(any_value(refund_reason), 'refunded'), min(ordered_at),
               md5_number('order-refund' || chr(31) || order_id), {imp}
        FROM stg_rows WHERE NOT coalesce(is_refund, false) AND refund_amount > 0
        GROUP BY order_id
        HAVING md5_number('order-refund' || chr(31) || order_id) NOT IN (SELECT row_key FROM refunds)
        """
    )
    new_orders = _load_orders(con, prof)
    con.execute("DROP TABLE IF EXISTS stg_rows")
    return new_orders, new_customers


def _load_orders(con: duckdb.DuckDBPyConnection, profile: str) -> int:
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE stg_orders AS
        SELECT order_id, any_value(customer_key) AS customer_key, min(ordered_at) AS ordered_at,
               any_value(channel) AS channel, any_value(device) AS device, any_value(currency) AS currency,
               CAST(sum(amount) AS DECIMAL(18,2)) AS gross,
               CAST(coalesce(max(order_discount), sum(line_discount), 0) AS DECIMAL(18,2)) AS discount,
               CAST(coalesce(max(shipping), 0) AS DECIMAL(18,2)) AS shipping,
               CAST(coalesce(max(tax), 0) AS DECIMAL(18,2)) AS tax,
               any_value(discount_code) AS discount_code, any_value(status) AS status
        FROM stg_rows WHERE NOT coalesce(is_refund, false)
        GROUP BY order_id
        """
    )
    con.execute(
        """
        UPDATE orders SET gross = orders.gross + n.gross,
                          discount = greatest(orders.discount, n.discount),
                          net = orders.gross + n.gross - greatest(orders.discount, n.discount)
        FROM stg_orders n WHERE orders.order_id = n.order_id
        """
    )
    inserted = con.execute(
        f"""
        INSERT INTO orders (order_id, customer_key, ordered_at, channel, device, currency, gross, discount, shipping,
                            tax, net, discount_code, status, source_profile)
        SELECT order_id, customer_key, ordered_at, channel, device, currency, gross, discount, shipping, tax,
               gross - discount, discount_code, coalesce(status, 'paid'), {profile}
        FROM stg_orders WHERE order_id NOT IN (SELECT order_id FROM orders)
        """
    ).fetchone()
    con.execute("DROP TABLE stg_orders")
    return int(inserted[0]) if inserted else 0


def _load_customers(con: duckdb.DuckDBPyConnection, profile: str) -> int:
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE stg_customers AS
        SELECT customer_key, any_value(customer_id) AS customer_id, min(ordered_at) AS first_seen,
               arg_min(country, ordered_at) AS country, arg_min(region, ordered_at) AS region,
               arg_min(channel, ordered_at) AS channel_acquired, arg_max(consent_marketing, ordered_at) AS consent,
               arg_max(email, ordered_at) AS email, arg_max(name, ordered_at) AS name,
               arg_max(phone, ordered_at) AS phone, arg_max(address, ordered_at) AS address
        FROM stg_rows WHERE customer_key IS NOT NULL GROUP BY customer_key
        """
    )
    con.execute(
        """
        UPDATE customers SET first_seen = n.first_seen,
               channel_acquired = coalesce(n.channel_acquired, customers.channel_acquired),
               country = coalesce(n.country, customers.country)
        FROM stg_customers n WHERE customers.customer_key = n.customer_key AND n.first_seen < customers.first_seen
        """
    )
    con.execute(
        """
        UPDATE customers SET consent_marketing = coalesce(n.consent, customers.consent_marketing)
        FROM stg_customers n WHERE customers.customer_key = n.customer_key
        """
    )
    inserted = con.execute(
        f"""
        INSERT INTO customers
            (customer_key, first_seen, country, region, channel_acquired, consent_marketing, source_profile)
        SELECT customer_key, first_seen, country, region, channel_acquired, consent, {profile} FROM stg_customers
        WHERE customer_key NOT IN (SELECT customer_key FROM customers)
        """
    ).fetchone()
    con.execute(
        """
        UPDATE customer_pii SET email = coalesce(n.email, customer_pii.email),
               name = coalesce(n.name, customer_pii.name),
               phone = coalesce(n.phone, customer_pii.phone), address = coalesce(n.address, customer_pii.address),
               updated_at = now()::TIMESTAMP
        FROM stg_customers n WHERE customer_pii.customer_key = n.customer_key
        """
    )
    con.execute(
        """
        INSERT INTO customer_pii (customer_key, source_customer_id, email, name, phone, address, updated_at)
        SELECT customer_key, customer_id, email, name, phone, address, now()::TIMESTAMP FROM stg_customers
        WHERE customer_key NOT IN (SELECT customer_key FROM customer_pii)
        """
    )
    con.execute("DROP TABLE stg_customers")
    return int(inserted[0]) if inserted else 0


def _load_products(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        """
        INSERT INTO products (product_id, name, category, supplier, cost, price)
        SELECT product_id, arg_max(product_name, ordered_at), arg_max(category, ordered_at),
               arg_max(supplier, ordered_at), arg_max(unit_cost, ordered_at),
               arg_max(unit_price, ordered_at) FILTER (WHERE NOT coalesce(is_refund, false))
        FROM stg_rows WHERE product_id IS NOT NULL GROUP BY product_id
        ON CONFLICT (product_id) DO UPDATE SET
            name = coalesce(products.name, excluded.name), category = coalesce(products.category, excluded.category),
            supplier = coalesce(products.supplier, excluded.supplier), cost = coalesce(products.cost, excluded.cost),
            price = coalesce(excluded.price, products.price)
        """
    )
