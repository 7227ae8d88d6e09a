"""CSV cells that a spreadsheet will not run: the one escaping rule for every CSV shoplens writes for others.

A cell whose text starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is a formula to Excel, LibreOffice
and Google Sheets (``=HYPERLINK(...)``, ``@SUM(...)``, DDE payloads). Following the OWASP rule on CSV injection, such a
text cell is written with a single quote in front, which the spreadsheet shows as text and never evaluates. Numbers
(ints, decimals, floats) are written as they are: a negative amount stays a number.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """``value``, with a single quote in front when it is text a spreadsheet would read as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_row(values: Iterable[Any]) -> list[Any]:
    """A row for ``csv.writer`` with every text cell escaped."""
    return [csv_cell(value) for value in values]


def csv_record(record: Mapping[str, Any]) -> dict[str, Any]:
    """A record for ``csv.DictWriter`` with every text cell escaped."""
    return {key: csv_cell(value) for key, value in record.items()}


def csv_safe_table(table: pa.Table) -> pa.Table:
    """``table`` with every text cell escaped, ready for ``pyarrow.csv.write_csv``; other columns unchanged."""
    columns = []
    for column in table.columns:
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            pattern = "^[=+\\-@\\t\\r]"
            risky = pc.fill_null(pc.match_substring_regex(column, pattern), False)
            column = pc.if_else(risky, pc.binary_join_element_wise("'", column, ""), column)
        columns.append(column)
    return pa.Table.from_arrays(columns, schema=table.schema)
