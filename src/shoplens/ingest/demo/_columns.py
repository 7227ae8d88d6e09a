"""Arrow columns built with pyarrow compute, so strings are made in C, not in Python loops: texts picked by
index, joins, numbered ids, money as text, CSV quoting and decimals.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from shoplens.ingest.demo._sampling import BoolArray, IntArray


def _texts(values: Sequence[str | None], indices: IntArray, missing: BoolArray | None = None) -> Any:
    """values[indices] as an Arrow string array; null where ``missing``."""
    return pa.array(values, pa.string()).take(pa.array(indices, pa.int64(), mask=missing))


def _join(*parts: Any, separator: str = "") -> Any:
    return pc.binary_join_element_wise(*parts, separator)


def _numbered(prefix: str, numbers: IntArray, width: int) -> Any:
    return _join(prefix, pc.utf8_lpad(pc.cast(pa.array(numbers, pa.int64()), pa.string()), width, "0"))


def _money_texts(cents: IntArray) -> Any:
    """Non-negative amounts in cents as text with two decimals: 12345 -> "123.45"."""
    whole = pc.cast(pa.array(cents // 100, pa.int64()), pa.string())
    fraction = pc.utf8_lpad(pc.cast(pa.array(cents % 100, pa.int64()), pa.string()), 2, "0")
    return _join(whole, fraction, separator=".")


def _csv_field(texts: Any) -> Any:
    """Quote values that contain a comma, a quote or a line break (RFC 4180)."""
    needs_quotes = pc.fill_null(pc.match_substring_regex(texts, '[,"\r\n]'), False)
    quoted = _join('"', pc.replace_substring(texts, '"', '""'), '"')
    return pc.if_else(needs_quotes, quoted, texts)


def _decimals(units: IntArray, scale: int) -> Any:
    """Integer amounts in units of 10**-scale as an Arrow decimal128(18, scale) array."""
    return pa.array([Decimal(int(u)).scaleb(-scale) for u in units], pa.decimal128(18, scale))
