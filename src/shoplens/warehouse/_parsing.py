"""The SQL every import target shares to type raw text and to name a row's fault (DuckDB's dialect: the pipeline
validates in DuckDB whatever engine holds the warehouse)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from shoplens.ingest import EMAIL_PATTERN, KEY_HEX_CHARS, KEY_PREFIX, FieldKind, text_literal
from shoplens.warehouse._quarantine import FAULT_SEPARATOR

EARLIEST_DATE = "1990-01-01"
LATEST_DATE_SQL = "now()::TIMESTAMP + INTERVAL 2 DAY"
UNPARSEABLE: dict[FieldKind, str] = {
    "int": "not a whole number",
    "price": "not a number",
    "money": "not a number",
    "timestamp": "unparseable date",
    "date": "unparseable date",
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


# A space groups digits too ("1 234,50"): a plain one, a no-break space and a narrow no-break space.
_SPACES = " \u00a0\u202f"
_CURRENCY_SYMBOLS = "£$€¥"


def ungrouped_sql(raw: str, decimal_separator: str) -> str:
    """The text of a number without its thousands separators, with "." as its decimal point; NULL when its digits
    are grouped any other way than the file's convention allows: a first group of one to three digits, then groups
    of exactly three, all split by the same separator (the one that is not the decimal separator, or a space). So
    "1,2,3" and "12,50" are not numbers in a file with a decimal point, nor is "1.5" in one with a decimal comma."""
    group = "," if decimal_separator == "." else "."
    point = re.escape(decimal_separator)
    groups = "|".join(f"[0-9]{{1,3}}({re.escape(s) if s == group else s}[0-9]{{3}})+" for s in group + _SPACES)
    grouped = f"[^0-9]*({groups})({point}[0-9]*)?[^0-9]*"
    # Grouping is looked at only where there is some: the group separator, or a space between digits.
    has_grouping = f"{re.escape(group)}|[0-9][{_SPACES}]+[0-9]"
    plain = f"regexp_replace({raw}, {text_literal(f'[{re.escape(group)}{_SPACES}]')}, '', 'g')"
    unchanged = raw
    if decimal_separator == ",":
        plain, unchanged = f"replace({plain}, ',', '.')", f"replace({raw}, ',', '.')"
    return (
        f"CASE WHEN NOT regexp_matches({raw}, {text_literal(has_grouping)}) THEN {unchanged} "
        f"WHEN regexp_full_match({raw}, {text_literal(grouped)}) THEN {plain} END"
    )


def general_number_sql(raw: str, decimal_separator: str) -> str:
    """A decimal from text as shops write amounts: digits grouped as :func:`ungrouped_sql` allows, an optional
    decimal part, sign, currency symbol and spaces; NULL for anything else. Exponent notation is not an amount
    ("1e-308" would be read as 0), nor is "1_000" (which a plain cast reads as 1000)."""
    cleaned = ungrouped_sql(raw, decimal_separator)
    plain = f"regexp_replace({cleaned}, {text_literal(f'[[:space:]{_SPACES}{_CURRENCY_SYMBOLS}]')}, '', 'g')"
    amount = text_literal("[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)")
    return f"CASE WHEN regexp_full_match({plain}, {amount}) THEN TRY_CAST({plain} AS DECIMAL(38,6)) END"


def number_sql(raw: str, decimal_separator: str) -> str:
    """:func:`general_number_sql`, with a short way for the plain amounts most rows have ("12.50", "-3"): for them
    its rules come to the cast of the text (a decimal comma made a point), which one match tells without the four
    regular expressions of the general case (the import parses several amounts a row)."""
    simple = text_literal(f"-?[0-9]+({re.escape(decimal_separator)}[0-9]+)?")
    as_written = raw if decimal_separator == "." else f"replace({raw}, ',', '.')"
    return (
        f"CASE WHEN regexp_full_match({raw}, {simple}) THEN TRY_CAST({as_written} AS DECIMAL(38,6)) "
        f"ELSE {general_number_sql(raw, decimal_separator)} END"
    )


def decimal_sql(raw: str, decimal_separator: str, precision: int, scale: int) -> str:
    """``DECIMAL(precision, scale)`` from text by :func:`number_sql`; :func:`rounding_check` rejects the text
    that would not fit the scale exactly."""
    return f"CAST(round({number_sql(raw, decimal_separator)}, {scale}) AS DECIMAL({precision},{scale}))"


def rounding_check(raw: str, typed: str, decimal_separator: str, scale: int, source_column: str) -> Check:
    """Reject an amount written with more decimal places than its column keeps: rounding it would store another
    number than the file's (0.000000001 as 0.00). Trailing zeros are not more places."""
    beyond_scale = text_literal(f"{re.escape(decimal_separator)}[0-9]{{{scale}}}[0-9]*[1-9]")
    return Check(
        f"{raw} IS NOT NULL AND {typed} IS NOT NULL AND regexp_matches({raw}, {beyond_scale})",
        source_column,
        f"more than {scale} decimal places",
    )


def whole_number_sql(raw: str, sql_type: str = "BIGINT", bound: int = 10**12) -> str:
    """A whole number of ``sql_type`` from text ("12", "12.0"); NULL for fractions however small ("2.0000001"), for
    values of ``bound`` or more, and for text a plain cast would read too generously ("1e3", "1_000")."""
    number = f"TRY_CAST({raw} AS DECIMAL(38,6))"
    whole = text_literal("[[:space:]]*[+-]?[0-9]+([.]0*)?[[:space:]]*")
    return (
        f"CASE WHEN regexp_full_match({raw}, {whole}) AND abs({number}) < {bound} THEN CAST({number} AS {sql_type}) END"
    )


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


_HALF = 2**127  # a fingerprint (UHUGEINT) below it fits a HUGEINT
_TEN19 = 10**19


def fingerprint_text_sql(value_sql: str) -> str:
    """The decimal text of a fingerprint (a ``UHUGEINT``), exactly as ``CAST(value AS VARCHAR)`` writes it, but
    through ``HUGEINT`` arithmetic: DuckDB writes a UHUGEINT in decimal about a hundred times slower (around 0.1 ms
    a value), which for a million rows is minutes. A value of 2**127 or more is written as its low 127 bits plus
    2**127, carried by hand in two parts of 19 digits."""
    low = f"CAST(({value_sql}) & {_HALF - 1}::UHUGEINT AS HUGEINT)"
    head, tail = divmod(_HALF, _TEN19)
    ten = f"{_TEN19}::HUGEINT"
    rest = f"({low} % {ten} + {tail}::HUGEINT)"
    return (
        f"CASE WHEN ({value_sql}) < {_HALF}::UHUGEINT THEN CAST({low} AS VARCHAR) "
        f"ELSE CAST({low} // {ten} + {head}::HUGEINT + {rest} // {ten} AS VARCHAR) "
        f"|| lpad(CAST({rest} % {ten} AS VARCHAR), 19, '0') END"
    )


def hmac_sql(value_sql: str, inner_param: str = "$inner_pad", outer_param: str = "$outer_pad") -> str:
    """HMAC-SHA256 (hexadecimal) of a text expression with the store secret, given its pads as named parameters."""
    inner = f"unhex(sha256({inner_param} || encode({value_sql})))"
    return f"sha256({outer_param} || {inner})"


def customer_key_sql(value_sql: str, inner_param: str = "$inner_pad", outer_param: str = "$outer_pad") -> str:
    """SQL for :func:`shoplens.ingest.customer_key` of a text expression, given the pads as named parameters."""
    return f"'{KEY_PREFIX}' || left({hmac_sql(value_sql, inner_param, outer_param)}, {KEY_HEX_CHARS})"


def keyed_hash_sql(field: str, normalised_sql: str) -> str:
    """SQL for :func:`shoplens.privacy.keyed_hash` of a vault field's normalised value (NULL stays NULL)."""
    return hmac_sql(f"{text_literal(field + ':')} || {normalised_sql}")


def normal_email_sql(email_sql: str) -> str:
    """What an e-mail is looked up by: trimmed and lower-cased (for an e-mail address, its identity:
    :func:`email_identity_sql`; a value that is not one is still found again by itself)."""
    return f"lower(trim({email_sql}))"


def normal_address_sql(address_sql: str) -> str:
    """An address without case, spaces or punctuation ("Flat D, 12/F" = "flat d 12f"); NULL when nothing is left."""
    return f"nullif(regexp_replace(lower({address_sql}), '[^a-z0-9]', '', 'g'), '')"


def vault_hashes_sql(prefix: str = "") -> str:
    """The vault's hash columns (``email_hash`` ...) of rows with the personal columns in clear, as a select
    list; needs the store secret's pads as parameters."""
    normalised = {
        "source_customer_id": f"{prefix}source_customer_id",
        "email": normal_email_sql(f"{prefix}email"),
        "name": f"{prefix}name",
        "phone": f"{prefix}phone",
        "address": normal_address_sql(f"{prefix}address"),
    }
    return ", ".join(f"{keyed_hash_sql(name, value)} AS {name}_hash" for name, value in normalised.items())


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
