"""Numbers for people in the terminal tables: money, counts, shares and changes, a dash for what is unknown."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from rich.table import Table

DASH = "–"


def money(value: Any) -> str:
    return DASH if value is None else f"{Decimal(value):,.2f}"


def count(value: Any) -> str:
    return DASH if value is None else f"{int(value):,}"


def share(value: Any, digits: int = 1) -> str:
    return DASH if value is None else f"{float(value):.{digits}%}"


def change(value: Any) -> str:
    return DASH if value is None else f"{float(value):+.1%}"


def number(value: Any, digits: int = 1) -> str:
    return DASH if value is None else f"{float(value):,.{digits}f}"


def text(value: Any) -> str:
    return DASH if value is None else str(value)


def table_of(title: str, columns: Sequence[str], body: Sequence[Sequence[str]]) -> Table:
    table = Table(*columns, title=title)
    for row in body:
        table.add_row(*row)
    return table
