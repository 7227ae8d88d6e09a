"""Property: money written the way shops write it is read back exactly, as DECIMAL, never through a float."""

from __future__ import annotations

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
