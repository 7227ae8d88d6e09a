"""A change to one canonical table, as every engine applies it: rows whose keys are replaced, then rows appended."""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from shoplens.schema import Table


@dataclass(frozen=True)
class TableChange:
    """Delete the rows whose primary key is in ``replaced`` (key columns only), then append ``rows`` (all columns)."""

    table: str
    rows: pa.Table
    replaced: pa.Table | None = None

    @property
    def empty(self) -> bool:
        return not self.rows.num_rows and (self.replaced is None or not self.replaced.num_rows)


def key_match(table: Table, left: str, right: str) -> str:
    """SQL that holds when two aliases name rows with the same primary key (standard SQL, every engine)."""
    return " AND ".join(f'{left}."{k}" = {right}."{k}"' for k in table.primary_key)
