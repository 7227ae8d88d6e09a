"""The SQL every import target shares to type raw text and to name a row's fault (DuckDB's dialect: the pipeline
validates in DuckDB whatever engine holds the warehouse)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from shoplens.ingest import KEY_HEX_CHARS, KEY_PREFIX, FieldKind, text_literal
from shoplens.warehouse._quarantine import FAULT_SEPARATOR

EARLIEST_DATE = "1990-01-01"
LATEST_DATE_SQL = "now()::TIMESTAMP + INTERVAL 2 DAY"
UNPARSEABLE: dict[FieldKind, str] = {
    "int": "not a whole number",
    "price": "not a number",
    "money": "not a number",
    "timestamp": "unparseable date",
    "bool": "not true/false",
}


@dataclass(frozen=True)
class Check:
    """One reason to reject a row: ``condition`` (SQL, TRUE for a bad row), the source column, the reason."""

    condition: str
    column: str
    reason: str


def fault_sql(checks: Sequence[Check]) -> str:
    """A CASE giving "column<US>reason" for the first check that holds, NULL for a good row."""
    if not checks:
        return "CAST(NULL AS VARCHAR)"
    cases = " ".join(f"WHEN {c.condition} THEN {text_literal(c.column + FAULT_SEPARATOR + c.reason)}" for c in checks)
    return f"CASE {cases} END"


def date_range_check(column_sql: str, source_column: str) -> Check:
    return Check(
        f"{column_sql} < TIMESTAMP '{EARLIEST_DATE}' OR {column_sql} > {LATEST_DATE_SQL}",
        source_column,
        "date out of range",
    )


def text_sql(expression: str) -> str:
    return f"nullif(trim(CAST(({expression}) AS VARCHAR)), '')"


def ungrouped_sql(raw: str, decimal_separator: str) -> str:
    """The text of a number without its thousands separators, with "." as its decimal point."""
    return f"replace({raw}, ',', '')" if decimal_separator == "." else f"replace(replace({raw}, '.', ''), ',', '.')"


def number_sql(raw: str, decimal_separator: str) -> str:
    """A decimal from text, forgiving of thousands separators, spaces and a currency symbol."""
    cleaned = ungrouped_sql(raw, decimal_separator)
    symbols = f"regexp_replace({cleaned}, '[\\s£$€¥]', '', 'g')"
    # coalesce evaluates the regular-expression fallback only for the rows the plain cast could not read
    return f"coalesce(TRY_CAST({cleaned} AS DECIMAL(38,6)), TRY_CAST({symbols} AS DECIMAL(38,6)))"


def whole_number_sql(raw: str, sql_type: str = "BIGINT", bound: int = 10**12) -> str:
    """A whole number of ``sql_type`` from text; NULL for fractions and for values of ``bound`` or more."""
    number = f"TRY_CAST({raw} AS DECIMAL(38,6))"
    return f"CASE WHEN {number} = trunc({number}) AND abs({number}) < {bound} THEN CAST({number} AS {sql_type}) END"


def boolean_sql(raw: str) -> str:
    return (
        f"CASE WHEN lower({raw}) IN ('true', 't', '1', 'yes', 'y') THEN true "
        f"WHEN lower({raw}) IN ('false', 'f', '0', 'no', 'n') THEN false END"
    )


def timestamp_sql(raw: str, formats: Sequence[str], zone: str) -> str:
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


def customer_key_sql(value_sql: str, inner_param: str = "$inner_pad", outer_param: str = "$outer_pad") -> str:
    """SQL for :func:`shoplens.ingest.customer_key` of a text expression, given the pads as named parameters."""
    inner = f"unhex(sha256({inner_param} || encode({value_sql})))"
    return f"'{KEY_PREFIX}' || left(sha256({outer_param} || {inner}), {KEY_HEX_CHARS})"


EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


def email_identity_sql(email_sql: str) -> str:
    """The normalised e-mail that identifies a customer: trimmed and case-folded; NULL when it is not an e-mail
    address (an "n/a" or an empty field must not join every customer who left it so). Gmail's dots and
    +suffixes are kept: they are distinct mailboxes at other providers, and joining them would merge people."""
    normalised = f"lower(trim({email_sql}))"
    return f"CASE WHEN regexp_matches({normalised}, {text_literal(EMAIL_PATTERN)}) THEN {normalised} END"


def identity_sql(email_sql: str, customer_id_sql: str) -> str:
    """What a customer's pseudonymous key is the keyed hash of: the normalised e-mail where there is one (so a
    guest checkout and a later account with that e-mail are one customer, across profiles and imports), else
    the shop's customer id."""
    return f"coalesce({email_identity_sql(email_sql)}, {customer_id_sql})"
