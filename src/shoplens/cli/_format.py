"""Numbers for people in the terminal tables: money, counts, shares and changes, a dash for what is unknown."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from rich import box
from rich.cells import cell_len
from rich.console import Console
from rich.segment import Segment
from rich.table import Table

from shoplens.reports import NumberStyle

DASH = "–"
# the store's locale and currency; set from the store's settings when a command starts (cli._app)
_style = [NumberStyle()]


def use_store_style(style: NumberStyle) -> None:
    """Write the terminal's numbers in ``style`` (the store's locale and currency) from now on."""
    _style[0] = style


def money(value: Any) -> str:
    return DASH if value is None else _style[0].money(Decimal(str(value)))


def count(value: Any) -> str:
    return DASH if value is None else _style[0].count(value)


def share(value: Any, digits: int = 1) -> str:
    return DASH if value is None else _style[0].share(value, digits)


def change(value: Any) -> str:
    return DASH if value is None else _style[0].change(value)


def number(value: Any, digits: int = 1) -> str:
    return DASH if value is None else f"{float(value):,.{digits}f}"


def text(value: Any) -> str:
    return DASH if value is None else str(value)


def unbroken(table: Table, console: Console) -> bool:
    """Size the table's columns so that no value is cut; False when even that is wider than the console.

    Each column gets at least the width of the longest word in its cells and at most that of its longest cell or
    header; the room between is shared in proportion to what each column lacks, and headers fold onto a second
    line rather than end in an ellipsis (whole header words first, if they fit). A table whose headers do not fit
    loses its rules and padding; one too wide even for its cells' words must be printed uncropped (the terminal
    wraps it) rather than lose its last columns."""
    columns = table.columns
    texts = [[str(cell) for cell in column.cells] for column in columns]
    least = [max((cell_len(word) for cell in cells for word in cell.split()), default=1) for cells in texts]
    headed = [
        max([low, *(cell_len(word) for word in str(column.header).split())])
        for column, low in zip(columns, least, strict=True)
    ]
    most = [
        max([high, cell_len(str(column.header)), *(cell_len(line) for cell in cells for line in cell.splitlines())])
        for column, high, cells in zip(columns, headed, texts, strict=True)
    ]
    for column in columns:
        column.overflow = "fold"
    room = console.width - _rules_width(table, console)
    if sum(most) <= room:
        return True
    if sum(headed) > room:
        # Tighter: no rules, one space between columns.
        table.box, table.padding, table.show_edge = box.SIMPLE_HEAD, (0, 0, 0, 0), False
        room = console.width - _rules_width(table, console)
    # Whole header words before whole cells; below that, only the cells' words are kept whole.
    low, high = (headed, most) if sum(headed) <= room else (least, headed)
    spare, lacking = max(room - sum(low), 0), sum(high) - sum(low)
    for column, start, end in zip(columns, low, high, strict=True):
        column.width = start + (spare * (end - start)) // lacking if lacking else start
    if sum(least) <= room:
        return True
    table.width = sum(least) + console.width - room  # drawn at its full width, not squeezed into the console's
    return False


def _rules_width(table: Table, console: Console) -> int:
    """How much of a line the table's rules and padding take: its drawn width with every column one cell wide."""
    widths = [column.width for column in table.columns]
    for column in table.columns:
        column.width = 1
    lines = Segment.split_lines(console.render(table, console.options.update_width(10**4)))
    drawn = max((Segment.get_line_length(line) for line in lines), default=0)
    for column, width in zip(table.columns, widths, strict=True):
        column.width = width
    return drawn - len(table.columns)


def table_of(title: str, columns: Sequence[str], body: Sequence[Sequence[str]]) -> Table:
    table = Table(*columns, title=title)
    for row in body:
        table.add_row(*row)
    return table
