"""Erasing a person's rows from the app database: every table with a ``customer_key`` column, and the rows that
belong to those (survey answers of their responses), in one transaction."""

from __future__ import annotations

from sqlalchemy import CursorResult, delete, select

from shoplens.appdb._models import Base
from shoplens.appdb._session import AppDatabase


def erase_customer_rows(database: AppDatabase, key: str) -> dict[str, int]:
    """Rows deleted per table (tables with none left out)."""
    counts: dict[str, int] = {}
    tables = Base.metadata.sorted_tables
    with database.session(writer=True) as session:
        for table in tables:
            if "customer_key" not in table.c:
                continue
            for child in tables:
                for foreign in child.foreign_keys:
                    if foreign.column.table is table:
                        owned = select(foreign.column).where(table.c.customer_key == key)
                        gone = session.execute(delete(child).where(foreign.parent.in_(owned)))
                        counts[child.name] = counts.get(child.name, 0) + _count(gone)
            gone = session.execute(delete(table).where(table.c.customer_key == key))
            counts[table.name] = counts.get(table.name, 0) + _count(gone)
    return {name: count for name, count in counts.items() if count}


def _count(result: object) -> int:
    return int(result.rowcount) if isinstance(result, CursorResult) else 0
