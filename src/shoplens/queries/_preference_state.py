"""The preference statistics of a store, kept current: folded forward from the orders each import adds.

The state lives in the store's cache directory (``<home>/cache/preferences``), not in the warehouse: it is derived
data that can always be rebuilt from the warehouse, it is read and written by the query layer (which never writes
to the warehouse, and whose warehouse connection may be read-only), and Parquet files in the home work the same
whatever engine the warehouse is on. One directory per data version holds the statistics tables and the ledger of
the orders they count; a small ``current.json`` written last (atomically) names it, so a reader never sees half a
state.

An update reads only the purchases whose ``order_id`` the ledger lacks. When an order the state counts has gone
(cancelled, erased) or changed (another customer or net), or the time zone changed, the state is rebuilt from
every order instead: the statistics are only ever equal to a full computation.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import ibis
import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.parquet as pq

from shoplens.metrics import StoreZone
from shoplens.metrics._preferences import (
    LEDGER_SCHEMA,
    STATISTICS,
    conform,
    merge_statistics,
    order_ledger,
    preference_statistics,
)

STATE_FORMAT = 1  # bump when a statistic's definition changes: older states are rebuilt
POINTER = "current.json"
ORDER_COLUMNS = ("order_id", "customer_key", "ordered_at", "channel", "device", "discount", "discount_code", "net")
LINE_COLUMNS = ("order_id", "product_id", "quantity", "unit_price", "amount")
Statistics = dict[str, pa.Table]


@dataclass(frozen=True)
class StateUpdate:
    """What an update did: ``mode`` full, incremental or unchanged; the orders read; seconds taken."""

    mode: str
    orders_read: int
    orders_held: int
    seconds: float


def full_statistics(orders: ir.Table, lines: ir.Table, zone: StoreZone) -> tuple[Statistics, pa.Table]:
    """Statistics and ledger of every purchase in ``orders``."""
    computed = preference_statistics(orders, lines, zone=zone)
    statistics = {name: conform(name, table.to_pyarrow()) for name, table in computed.items()}
    ledger = order_ledger(orders).to_pyarrow().cast(LEDGER_SCHEMA)
    return statistics, ledger


def fold(
    statistics: Statistics, ledger: pa.Table, orders: ir.Table, lines: ir.Table, zone: StoreZone
) -> tuple[Statistics, pa.Table, int]:
    """``statistics`` and ``ledger`` with the purchases of ``orders`` the ledger does not hold added.

    The new orders and their lines are fetched once and their statistics computed in process: a month's orders
    are small, and each statistics table would otherwise scan the warehouse's tables again.
    """
    held = ibis.memtable(ledger.select(["order_id"]))
    new_orders = orders.select(*ORDER_COLUMNS).anti_join(held, "order_id").to_pyarrow()
    wanted = ibis.memtable(new_orders.select(["order_id"]))
    new_lines = lines.select(*LINE_COLUMNS).semi_join(wanted, "order_id").to_pyarrow()
    fresh = ibis.memtable(new_orders)
    computed = preference_statistics(fresh, ibis.memtable(new_lines), zone=zone)
    added = {name: table.to_pyarrow() for name, table in computed.items()}
    new_ledger = order_ledger(fresh).to_pyarrow().cast(LEDGER_SCHEMA)
    merged = {name: merge_statistics(name, statistics[name], added[name]) for name in STATISTICS}
    return merged, pa.concat_tables([ledger, new_ledger]), new_ledger.num_rows


def ledger_still_holds(ledger: pa.Table, orders: ir.Table) -> bool:
    """Whether every order the ledger counts is still a purchase with the same customer and net."""
    if ledger.num_rows == 0:
        return True
    held = ibis.memtable(ledger)
    now = order_ledger(orders)
    same = now.inner_join(
        held,
        [
            now.order_id == held.order_id,
            now.customer_key.identical_to(held.customer_key),
            now.net == held.net,
        ],
    )
    return bool(int(same.count().execute()) == ledger.num_rows)


class PreferenceState:
    """The statistics kept in ``directory`` for one store."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _pointer(self) -> dict[str, object] | None:
        try:
            found = json.loads((self.directory / POINTER).read_text())
        except (OSError, ValueError):
            return None
        return found if isinstance(found, dict) and found.get("format") == STATE_FORMAT else None

    def load(self, zone: str) -> tuple[Statistics, pa.Table, int | None] | None:
        """The kept statistics, ledger and data version; None when there are none (or for another zone)."""
        pointer = self._pointer()
        if pointer is None or pointer.get("zone") != zone:
            return None
        folder = self.directory / str(pointer.get("folder"))
        try:
            statistics = {name: conform(name, pq.read_table(folder / f"{name}.parquet")) for name in STATISTICS}
            ledger = pq.read_table(folder / "ledger.parquet").cast(LEDGER_SCHEMA)
        except (OSError, pa.ArrowException, KeyError):
            return None
        version = pointer.get("data_version")
        return statistics, ledger, version if isinstance(version, int) else None

    def save(self, statistics: Statistics, ledger: pa.Table, *, zone: str, data_version: int | None) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        folder = Path(tempfile.mkdtemp(prefix="state-", dir=self.directory))
        for name, table in statistics.items():
            pq.write_table(table, folder / f"{name}.parquet")
        pq.write_table(ledger, folder / "ledger.parquet")
        pointer = {"format": STATE_FORMAT, "zone": zone, "data_version": data_version, "folder": folder.name}
        handle, temporary = tempfile.mkstemp(dir=self.directory, suffix=".json")
        with os.fdopen(handle, "w") as out:
            json.dump(pointer, out)
        os.replace(temporary, self.directory / POINTER)
        for old in self.directory.glob("state-*"):
            if old != folder:
                shutil.rmtree(old, ignore_errors=True)

    def update(
        self, orders: ir.Table, lines: ir.Table, zone: StoreZone, *, data_version: int | None
    ) -> tuple[Statistics, StateUpdate]:
        """The statistics of every purchase now in ``orders``, from the kept ones plus the new orders."""
        started = time.perf_counter()
        kept = self.load(zone.name)
        if kept is not None and data_version is not None and kept[2] == data_version:
            statistics, ledger, _ = kept
            return statistics, StateUpdate("unchanged", 0, ledger.num_rows, time.perf_counter() - started)
        if kept is not None and ledger_still_holds(kept[1], orders):
            statistics, ledger, read = fold(kept[0], kept[1], orders, lines, zone)
            mode = "incremental"
        else:
            statistics, ledger = full_statistics(orders, lines, zone)
            read, mode = ledger.num_rows, "full"
        self.save(statistics, ledger, zone=zone.name, data_version=data_version)
        return statistics, StateUpdate(mode, read, ledger.num_rows, time.perf_counter() - started)
