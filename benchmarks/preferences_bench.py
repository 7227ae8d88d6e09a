"""Preference statistics: a full computation against an update from one more month's orders.

    python benchmarks/preferences_bench.py [--repeat 3] [--lines 1000000]

Without ``--lines``, on UCI Online Retail: the file is cut at 1 November 2011, everything before is imported into
``benchmarks/data/preferences/`` and the state computed in full; then November 2011 is imported and the state
updated from the new orders only. With ``--lines N``, on a generated demo store of N order lines (no web events,
two years ending 31 December 2025, Hong Kong time) in ``benchmarks/data/preferences-<N>/``: its ``orders.csv`` is
cut at 1 December 2025 the same way, and December is the month added. The full computation over every order is
timed in the same run, and the kept state is checked equal to it. Reported: the best of ``--repeat`` runs of each,
the ratio update / full, and the time to read every customer's profile from the state.
"""

from __future__ import annotations

import argparse
import shutil
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import ibis
import pandas as pd
import yaml

from shoplens.ingest.demo import generate_demo_store
from shoplens.metrics import StoreZone, purchase_lines, purchases
from shoplens.metrics._preferences import STATISTICS, canonical, customer_traits, store_levels
from shoplens.queries._preference_state import PreferenceState, full_statistics
from shoplens.warehouse import Warehouse, import_files

ROOT = Path(__file__).resolve().parent
ONLINE_RETAIL = ROOT.parent / "datasets" / "online_retail" / "online_retail.parquet"
SECRET = b"preferences-bench-secret-0123456789"
UCI_ZONE = StoreZone("Europe/London", 2009, 2012)
DEMO_ZONE = StoreZone("Asia/Hong_Kong", 2023, 2026)
DEMO_END = date(2025, 12, 31)
DEMO_CUT = "2025-12-01"


@dataclass(frozen=True)
class Split:
    """A store's files cut in two: what is imported first, the month added, how to import them, its zone."""

    folder: Path
    before: Path
    month: Path
    month_name: str
    profile: str
    mapping: dict[str, object] | None
    zone: StoreZone
    home: str | None


def split_online_retail(folder: Path) -> Split:
    raw = pd.read_parquet(ONLINE_RETAIL)
    before = raw["InvoiceDate"] < pd.Timestamp("2011-11-01")
    november = ~before & (raw["InvoiceDate"] < pd.Timestamp("2011-12-01"))
    raw[before].to_parquet(folder / "until-october.parquet")
    raw[november].to_parquet(folder / "november.parquet")
    return Split(
        folder,
        folder / "until-october.parquet",
        folder / "november.parquet",
        "November 2011",
        "online-retail",
        None,
        UCI_ZONE,
        "United Kingdom",
    )


def split_generated(folder: Path, lines: int) -> Split:
    started = time.perf_counter()
    files = generate_demo_store(folder / "export", max_order_lines=lines, with_events=False, seed=1, end=DEMO_END)
    print(f"generated {files.order_lines:,} lines in {time.perf_counter() - started:.1f} s", flush=True)
    before, month = folder / "until-november.csv", folder / "december.csv"
    with duckdb.connect() as con:
        # ordered_at is written in UTC; a cut at UTC midnight keeps every order of a Hong Kong day but the
        # first eight hours of 1 December in November, which does not matter for timing.
        con.sql(f"CREATE TABLE o AS SELECT * FROM read_csv('{files.orders_path}', all_varchar = true)")
        con.sql(f"COPY (SELECT * FROM o WHERE ordered_at < '{DEMO_CUT}') TO '{before}' (HEADER)")
        con.sql(f"COPY (SELECT * FROM o WHERE ordered_at >= '{DEMO_CUT}') TO '{month}' (HEADER)")
    mapping = yaml.safe_load(files.mapping_path.read_text())
    return Split(folder, before, month, "December 2025", "generic", mapping, DEMO_ZONE, None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--lines", type=int, default=None, help="a generated store of this many order lines")
    args = parser.parse_args()
    folder = ROOT / "data" / ("preferences" if args.lines is None else f"preferences-{args.lines}")
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    split = split_online_retail(folder) if args.lines is None else split_generated(folder, args.lines)
    with Warehouse(folder / "warehouse.duckdb") as warehouse:
        backend = warehouse.backend

        def imported(path: Path) -> tuple[ibis.Table, ibis.Table]:
            started = time.perf_counter()
            import_files(
                warehouse,
                [path],
                profile_name=split.profile,
                secret=SECRET,
                quarantine_dir=folder / "quarantine",
                mapping=split.mapping,
            )
            print(f"imported {path.name} in {time.perf_counter() - started:.1f} s", flush=True)
            return purchases(backend.table("orders")), purchase_lines(
                backend.table("order_lines"), backend.table("orders")
            )

        orders, lines = imported(split.before)
        first = PreferenceState(folder / "state")
        first.update(orders, lines, split.zone, data_version=1)
        orders, lines = imported(split.month)
        updates, fulls = [], []
        for attempt in range(args.repeat):
            state = PreferenceState(folder / f"state-{attempt}")
            shutil.copytree(folder / "state", state.directory)
            started = time.perf_counter()
            kept, update = state.update(orders, lines, split.zone, data_version=2)
            updates.append(time.perf_counter() - started)
            started = time.perf_counter()
            full, ledger = full_statistics(orders, lines, split.zone)
            fulls.append(time.perf_counter() - started)
        assert update.mode == "incremental"
        assert all(canonical(n, kept[n]).equals(canonical(n, full[n])) for n in STATISTICS), "update != full"
        customers = ibis.memtable(backend.table("customers").select("customer_key", "country").to_pyarrow())
        started = time.perf_counter()
        tables = {name: ibis.memtable(table) for name, table in kept.items()}
        levels = store_levels(tables["prices"], tables["quantities"], tables["sizes"])
        traits = customer_traits(tables, customers, levels, home_country=split.home).to_pyarrow()
        profiles = time.perf_counter() - started
    print(f"orders: {ledger.num_rows} in all, {update.orders_read} new in {split.month_name}")
    print(
        f"full computation: {min(fulls):.2f} s; update from {split.month_name}: {min(updates):.2f} s "
        f"(ratio {min(updates) / min(fulls):.2f}); equal: yes"
    )
    print(f"every customer's profile ({traits.num_rows}) from the state: {profiles:.2f} s")


if __name__ == "__main__":
    main()
