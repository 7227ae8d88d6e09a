"""Import throughput against DuckDB's own read_csv of the same file into a table, measured in the same run.

    python benchmarks/import_bench.py [--lines 10000000] [--skip-generated] [--repeat 2]

For each file: the baseline is ``CREATE TABLE t AS SELECT * FROM read_csv(file)`` (DuckDB's own
CSV reader with type detection) into a fresh DuckDB file; shoplens is ``import_files`` into a fresh
warehouse (parse, validate, quarantine, fingerprint, de-duplicate, pseudonymise, load five tables).
The best of ``--repeat`` runs is reported for both, as rows/s and the ratio shoplens / baseline.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import duckdb

from shoplens.ingest.demo import generate_demo_store
from shoplens.warehouse import Warehouse, import_files

REPO = Path(__file__).resolve().parents[1]
ONLINE_RETAIL = REPO / "datasets" / "online_retail" / "online_retail.parquet"
DATA = REPO / "benchmarks" / "data"


def best_of(repeat: int, run: Callable[[Path], None]) -> float:
    times = []
    for _ in range(repeat):
        folder = Path(tempfile.mkdtemp(prefix="bench-"))
        started = time.perf_counter()
        run(folder)
        times.append(time.perf_counter() - started)
        shutil.rmtree(folder)
    return min(times)


def baseline(path: Path) -> Callable[[Path], None]:
    def run(folder: Path) -> None:
        with duckdb.connect(str(folder / "baseline.duckdb")) as con:
            con.execute(f"CREATE TABLE t AS SELECT * FROM read_csv('{path}')")

    return run


def shoplens_import(path: Path, profile: str, mapping: dict[str, object] | None) -> Callable[[Path], None]:
    def run(folder: Path) -> None:
        with Warehouse(folder / "warehouse.duckdb") as warehouse:
            import_files(
                warehouse, [path], profile_name=profile, secret=b"b" * 40, quarantine_dir=folder / "q", mapping=mapping
            )

    return run


def measure(label: str, path: Path, rows: int, profile: str, mapping: dict[str, object] | None, repeat: int) -> str:
    base = best_of(repeat, baseline(path))
    ours = best_of(repeat, shoplens_import(path, profile, mapping))
    return (
        f"| {label} | {rows:,} | {base:.2f} s ({rows / base:,.0f} rows/s) | {ours:.2f} s ({rows / ours:,.0f} rows/s) "
        f"| {ours / base:.2f}x |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=10_000_000, help="order lines in the generated file")
    parser.add_argument("--skip-generated", action="store_true")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    DATA.mkdir(parents=True, exist_ok=True)
    rows = ["| file | rows | DuckDB read_csv into a table | shoplens import | ratio |", "|---|---:|---:|---:|---:|"]

    retail_csv = DATA / "online_retail.csv"
    if not retail_csv.exists():
        with duckdb.connect() as con:
            con.execute(f"COPY (SELECT * FROM read_parquet('{ONLINE_RETAIL}')) TO '{retail_csv}' (HEADER)")
    rows.append(measure("UCI Online Retail (CSV)", retail_csv, 541_909, "online-retail", None, args.repeat))
    print(rows[-1], flush=True)

    if not args.skip_generated:
        out = DATA / f"generated-{args.lines}"
        if not (out / "orders.csv").exists():
            started = time.perf_counter()
            generate_demo_store(out, max_order_lines=args.lines, with_events=False, seed=1)
            print(f"generated {args.lines:,} lines in {time.perf_counter() - started:.1f} s", flush=True)
        import yaml

        mapping = yaml.safe_load((out / "mapping.yaml").read_text())
        rows.append(
            measure(
                f"generated ({args.lines:,} lines)", out / "orders.csv", args.lines, "generic", mapping, args.repeat
            )
        )
        print(rows[-1], flush=True)
    print("\n".join(rows))


if __name__ == "__main__":
    main()
