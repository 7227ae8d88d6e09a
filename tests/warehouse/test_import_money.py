"""Property: money written the way shops write it is read back exactly, as DECIMAL, never through a float."""

from __future__ import annotations

import csv
import tempfile
from decimal import Decimal
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from shoplens.warehouse import Warehouse, import_files

prices = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("9999999.99"), places=2)


def _written(value: Decimal, style: str) -> str:
    plain = f"{value:,.2f}"  # 1,234,567.89
    if style == "comma-decimal":
        return plain.replace(",", " ").replace(".", ",").replace(" ", ".")  # 1.234.567,89
    if style == "symbol":
        return "£" + plain
    return plain if style == "thousands" else f"{value:.2f}"


@settings(max_examples=25, deadline=None)
@given(
    values=st.lists(st.tuples(prices, st.integers(1, 50)), min_size=1, max_size=30),
    style=st.sampled_from(["plain", "thousands", "comma-decimal", "symbol"]),
)
def test_prices_and_line_totals_are_exact(values: list[tuple[Decimal, int]], style: str) -> None:
    separator = "," if style == "comma-decimal" else "."
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder)
        data = home / "orders.csv"
        rows = [f'o{i};2024-01-01 10:00:00;{qty};"{_written(price, style)}"' for i, (price, qty) in enumerate(values)]
        data.write_text("id;at;qty;price\n" + "\n".join(rows) + "\n", encoding="utf-8")
        mapping = {
            "columns": {"order_id": "id", "ordered_at": "at", "quantity": "qty", "unit_price": "price"},
            "decimal_separator": separator,
        }
        with Warehouse(home / "warehouse.duckdb") as warehouse:
            summary = import_files(
                warehouse, [data], profile_name="generic", secret=b"m" * 40, quarantine_dir=home / "q", mapping=mapping
            )
            got = warehouse.con.execute(
                "SELECT order_id, unit_price, amount FROM order_lines ORDER BY line_no"
            ).fetchall()
            gross = warehouse.scalar("SELECT sum(gross) FROM orders")
    assert summary.rows_loaded == len(values)
    by_order = {order_id: (price, amount) for order_id, price, amount in got}
    for i, (price, qty) in enumerate(values):
        assert by_order[f"o{i}"] == (price, price * qty)
    assert gross == sum(price * qty for price, qty in values)


def _import_prices(home: Path, prices: list[str], separator: str = ".") -> tuple[dict[str, Decimal], list[list[str]]]:
    """Import one order line per price (order ``o<i>``, price also as its shipping) and return the loaded unit
    prices by order and the quarantine's [row, column, reason] rows."""
    data = home / "orders.csv"
    rows = [f'o{i};2024-01-01 10:00:00;1;"{price}";"{price}"' for i, price in enumerate(prices)]
    data.write_text("id;at;qty;price;ship\n" + "\n".join(rows) + "\n", encoding="utf-8")
    mapping = {
        "columns": {"order_id": "id", "ordered_at": "at", "quantity": "qty", "unit_price": "price", "shipping": "ship"},
        "decimal_separator": separator,
    }
    with Warehouse(home / "warehouse.duckdb") as warehouse:
        summary = import_files(
            warehouse, [data], profile_name="generic", secret=b"m" * 40, quarantine_dir=home / "q", mapping=mapping
        )
        loaded = dict(warehouse.con.execute("SELECT order_id, unit_price FROM order_lines").fetchall())
    assert summary.rows_read == len(prices) == summary.rows_loaded + summary.rows_quarantined
    if not summary.quarantine_path:
        return loaded, []
    with open(summary.quarantine_path, newline="", encoding="utf-8") as handle:
        return loaded, [[row["row"], row["column"], row["reason"]] for row in csv.DictReader(handle)]


def test_malformed_amounts_are_quarantined_not_guessed(tmp_path: Path) -> None:
    prices = {
        "1,2,3": "not a number",  # digit groups of one: not 123
        "12,34,567": "not a number",  # a group of two after the first
        "12,50": "not a number",  # a decimal comma in a file that writes a decimal point
        "1e-308": "not a number",  # exponent notation: a plain cast reads 0
        "1_000": "not a number",
        "0.000000001": "more than 4 decimal places",  # would be stored as 0.0000
        "1.00005": "more than 4 decimal places",
        "9.99": None,
        "1,234": None,
        "1,234,567.5": None,
        "£1,234.50": None,
        "1 234.50": None,
        "2.50000": None,  # trailing zeros are not more places
    }
    loaded, quarantined = _import_prices(tmp_path, list(prices))
    expected_bad = [[str(i + 1), "price", reason] for i, reason in enumerate(prices.values()) if reason]
    assert quarantined == expected_bad
    good = {f"o{i}": text for i, (text, reason) in enumerate(prices.items()) if reason is None}
    assert loaded == {
        order: Decimal(text.replace(",", "").replace("£", "").replace(" ", "")) for order, text in good.items()
    }


def test_a_money_field_keeps_cents_exactly(tmp_path: Path) -> None:
    # "0.001" is a valid unit price (four places) but not a valid shipping amount (two places).
    _, quarantined = _import_prices(tmp_path, ["0.001", "0.10"])
    assert quarantined == [["1", "ship", "more than 2 decimal places"]]


def test_a_decimal_comma_file_groups_with_dots(tmp_path: Path) -> None:
    loaded, quarantined = _import_prices(tmp_path, ["1.234,50", "1.5", "1.2.3", "12,5"], separator=",")
    assert quarantined == [["2", "price", "not a number"], ["3", "price", "not a number"]]
    assert loaded == {"o0": Decimal("1234.50"), "o3": Decimal("12.5")}


def _correctly_grouped(groups: list[str]) -> bool:
    """The rule, independently: a first group of one to three digits, every other of exactly three."""
    return 1 <= len(groups[0]) <= 3 and all(len(g) == 3 for g in groups[1:])


@settings(max_examples=20, deadline=None)
@given(groups=st.lists(st.text("123456789", min_size=1, max_size=5), min_size=2, max_size=3))
def test_digit_groups_of_the_wrong_size_are_not_numbers(groups: list[str]) -> None:
    text = ",".join(groups)
    with tempfile.TemporaryDirectory() as folder:
        loaded, quarantined = _import_prices(Path(folder), [text])
    if _correctly_grouped(groups):
        assert loaded == {"o0": Decimal("".join(groups))}
        assert quarantined == []
    else:
        assert loaded == {}
        assert quarantined == [["1", "price", "not a number"]]
