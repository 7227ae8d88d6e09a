"""One person's rows in the app database: every table with a ``customer_key`` column, and the rows that belong to
those (survey answers of their responses). :func:`customer_rows` reads them (``privacy export``);
:func:`erase_customer_rows` deletes them in one transaction (``privacy erase``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import ColumnElement, CursorResult, Table, delete, select

from shoplens.appdb._models import Base
from shoplens.appdb._session import AppDatabase


def _owned(key: str) -> Iterator[tuple[Table, ColumnElement[bool]]]:
    """(table, condition) for every row of the person: children first, so that deleting in this order is safe."""
    tables = Base.metadata.sorted_tables
    for table in tables:
        if "customer_key" not in table.c:
            continue
        for child in tables:
            for foreign in child.foreign_keys:
                if foreign.column.table is table:
                    yield child, foreign.parent.in_(select(foreign.column).where(table.c.customer_key == key))
        yield table, table.c.customer_key == key


def customer_rows(database: AppDatabase, key: str) -> dict[str, list[dict[str, Any]]]:
    """The person's rows per table (tables with none left out), as column → value."""
    held: dict[str, list[dict[str, Any]]] = {}
    with database.session() as session:
        for table, condition in _owned(key):
            rows = [dict(row._mapping) for row in session.execute(select(table).where(condition))]
            if rows:
                held.setdefault(table.name, []).extend(rows)
    return held


def erase_customer_rows(database: AppDatabase, key: str) -> dict[str, int]:
    """Rows deleted per table (tables with none left out)."""
    counts: dict[str, int] = {}
    with database.session(writer=True) as session:
        for table, condition in _owned(key):
            gone = session.execute(delete(table).where(condition))
            counts[table.name] = counts.get(table.name, 0) + _count(gone)
    return {name: count for name, count in counts.items() if count}


def _count(result: object) -> int:
    return int(result.rowcount) if isinstance(result, CursorResult) else 0
