"""Terminal tables keep every value whole: at 80 columns no number ends in an ellipsis and no column is dropped."""

from __future__ import annotations

import io

from rich.table import Table

from shoplens.cli._output import TerminalConsole

HEADERS = ["period", "orders", "revenue", "customers", "new", "AOV", "refunds", "repeat", "Δ revenue"]
ROWS = [
    ["2025-11-01", "1,204", "1,139,245.12", "1,010", "610", "1,122.55", "0.4%", "16.7%", "+115.4%"],
    ["2025-12-01*", "987", "24,555.10", "931", "77", "24.88", "12.0%", "43.5%", "-97.8%"],
]


def _printed(width: int, headers: list[str], rows: list[list[str]]) -> str:
    out = io.StringIO()
    console = TerminalConsole(file=out, width=width, color_system=None, highlight=False)
    table = Table(*headers, title="KPIs by month")
    for row in rows:
        table.add_row(*row)
    console.print(table)
    return out.getvalue()


def test_a_kpi_table_at_80_columns_shows_every_value_whole_within_the_width() -> None:
    text = _printed(80, HEADERS, ROWS)
    assert "…" not in text
    assert max(len(line) for line in text.splitlines()) <= 80
    for row in ROWS:
        line = next(line for line in text.splitlines() if row[0] in line)
        # Every value of the row on the row's own line, whole and in order.
        positions = [line.index(value) for value in row]
        assert positions == sorted(positions)


def test_a_table_too_wide_for_its_values_is_printed_whole_rather_than_cropped() -> None:
    text = _printed(40, HEADERS, ROWS)
    assert "…" not in text
    for row in ROWS:
        line = next(line for line in text.splitlines() if row[0] in line)
        assert all(value in line for value in row)


def test_a_table_that_fits_is_drawn_as_rich_draws_it() -> None:
    out = io.StringIO()
    plain = TerminalConsole(file=out, width=200, color_system=None)
    table = Table(*HEADERS)
    for row in ROWS:
        table.add_row(*row)
    plain.print(table)
    reference = io.StringIO()
    from rich.console import Console

    untouched = Table(*HEADERS)
    for row in ROWS:
        untouched.add_row(*row)
    Console(file=reference, width=200, color_system=None).print(untouched)
    assert out.getvalue() == reference.getvalue()


def test_a_long_header_folds_at_its_space_before_a_customer_key_is_cut() -> None:
    headers = ["customer", "P(alive)", "risk", "expected purchases", "CLV", "next order"]
    rows = [["c_5f3fbb755769653dc5a8", "0.77", "low", "1.24", "353.76", "2027-09-23"]]
    text = _printed(80, headers, rows)
    assert all(value in text for value in rows[0])
    assert "expected" in text
    assert "purchases" in text
    assert "…" not in text
    assert max(len(line) for line in text.splitlines()) <= 80
