"""Preference statistics on UCI Online Retail: a full computation against an update from one more month's orders.

    python benchmarks/preferences_bench.py [--repeat 3]

The UCI file is cut at 1 November 2011: everything before is imported into ``benchmarks/data/preferences/`` and
the state computed in full; then November 2011 is imported and the state updated from the new orders only. The
full computation over every order is timed in the same run, and the kept state is checked equal to it. Reported:
the best of ``--repeat`` runs of each, the ratio update / full, and the time to read every customer's profile
from the state.
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

import ibis
import pandas as pd

from shoplens.metrics import StoreZone, purchase_lines, purchases
from shoplens.metrics._preferences import STATISTICS, canonical, customer_traits, store_levels
from shoplens.queries._preference_state import PreferenceState, full_statistics
from shoplens.warehouse import Warehouse, import_files

ROOT = Path(__file__).resolve().parent
ONLINE_RETAIL = ROOT.parent / "datasets" / "online_retail" / "online_retail.parquet"
SECRET = b"preferences-bench-secret-0123456789"
ZONE = StoreZone("Europe/London", 2009, 2012)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    folder = ROOT / "data" / "preferences"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    raw = pd.read_parquet(ONLINE_RETAIL)
    before = raw["InvoiceDate"] < pd.Timestamp("2011-11-01")
    november = ~before & (raw["InvoiceDate"] < pd.Timestamp("2011-12-01"))
    raw[before].to_parquet(folder / "until-october.parquet")
    raw[november].to_parquet(folder / "november.parquet")
    with Warehouse(folder / "warehouse.duckdb") as warehouse:
        backend = warehouse.backend

        def imported(name: str) -> tuple[ibis.Table, ibis.Table]:
            import_files(
                warehouse,
                [folder / name],
                profile_name="online-retail",
                secret=SECRET,
                quarantine_dir=folder / "quarantine",
            )
            return purchases(backend.table("orders")), purchase_lines(
                backend.table("order_lines"), backend.table("orders")
            )

        orders, lines = imported("until-october.parquet")
        first = PreferenceState(folder / "state")
        first.update(orders, lines, ZONE, data_version=1)
        orders, lines = imported("november.parquet")
        updates, fulls = [], []
        for attempt in range(args.repeat):
            state = PreferenceState(folder / f"state-{attempt}")
            shutil.copytree(folder / "state", state.directory)
            started = time.perf_counter()
            kept, update = state.update(orders, lines, ZONE, data_version=2)
            updates.append(time.perf_counter() - started)
            started = time.perf_counter()
            full, ledger = full_statistics(orders, lines, ZONE)
            fulls.append(time.perf_counter() - started)
        assert update.mode == "incremental"
        assert all(canonical(n, kept[n]).equals(canonical(n, full[n])) for n in STATISTICS), "update != full"
        customers = ibis.memtable(backend.table("customers").select("customer_key", "country").to_pyarrow())
        started = time.perf_counter()
        tables = {name: ibis.memtable(table) for name, table in kept.items()}
        levels = store_levels(tables["prices"], tables["quantities"], tables["sizes"])
        traits = customer_traits(tables, customers, levels, home_country="United Kingdom").to_pyarrow()
        profiles = time.perf_counter() - started
    print(f"orders: {ledger.num_rows} in all, {update.orders_read} new in November 2011")
    print(
        f"full computation: {min(fulls):.2f} s; update from November: {min(updates):.2f} s "
        f"(ratio {min(updates) / min(fulls):.2f}); equal: yes"
    )
    print(f"every customer's profile ({traits.num_rows}) from the state: {profiles:.2f} s")


if __name__ == "__main__":
    main()
