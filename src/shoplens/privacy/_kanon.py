"""k-anonymity for released aggregates: a row is released only when at least ``k`` people stand behind it.

The rule is applied to a table with a ``people`` column (distinct individuals behind each row). Rows below k are
dropped (suppressed), and the caller learns how many rows and how many people went, so a manifest can say so.
Suppressing a cell is not enough on its own: any total or share released next to the table must be computed from
released rows only, or subtraction gives the suppressed cell back. :func:`share_of_released` does that.

Counting people: a known customer counts once (distinct ``customer_key``); a guest session or guest order cannot
be linked to any other, so each counts as one person (:func:`people`).
"""

from __future__ import annotations

from dataclasses import dataclass

import ibis
import ibis.expr.types as ir

from shoplens.errors import InputError

DEFAULT_K = 10
PEOPLE = "people"


def check_k(k: int) -> int:
    """``k`` when it is a usable anonymity threshold; an InputError (exit 2) otherwise."""
    if isinstance(k, bool) or not isinstance(k, int) or k < 2:
        raise InputError(f"k must be at least 2 (with k={k} a released row may describe a single person)")
    return k


def people(customer_key: ir.StringColumn) -> ir.IntegerScalar:
    """People behind a group of sessions or orders: distinct known customers, plus one per guest row."""
    return (customer_key.nunique() + customer_key.isnull().sum()).cast("int64")


@dataclass(frozen=True)
class Suppressed:
    """The rows that may be released, and what was held back (one row: ``cells``, ``people``)."""

    released: ir.Table
    held_back: ir.Table
    k: int

    def counts(self) -> tuple[int, int]:
        """(suppressed cells, people in suppressed cells); a person in two suppressed cells counts twice."""
        found = self.held_back.to_pyarrow().to_pylist()
        row = found[0] if found else {}
        return int(row.get("cells") or 0), int(row.get(PEOPLE) or 0)


def suppress_small_cells(table: ir.Table, *, k: int = DEFAULT_K) -> Suppressed:
    """Split ``table`` by its ``people`` column: rows with ``people >= k`` are released, the rest held back."""
    check_k(k)
    if PEOPLE not in table.columns:
        raise InputError(f"a released table needs a {PEOPLE!r} column (distinct people behind each row)")
    small = table[PEOPLE].isnull() | (table[PEOPLE] < k)
    held = table.filter(small)
    return Suppressed(
        released=table.filter(~small),
        held_back=held.aggregate(cells=held.count(), people=held[PEOPLE].sum().fill_null(0).cast("int64")),
        k=k,
    )


def share_of_released(value: ir.NumericColumn, *, within: list[str] | None = None) -> ir.FloatingColumn:
    """``value`` over its total across the rows given (per ``within`` group): apply to released rows only."""
    window = ibis.window(group_by=within) if within else ibis.window()
    total = value.sum().over(window)
    return value.cast("float64") / total.cast("float64").nullif(0.0)
