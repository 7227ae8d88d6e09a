"""Import throughput against DuckDB's own read_csv of the same file into a table, measured in the same run.

    python benchmarks/import_bench.py [--lines 10000000] [--skip-generated] [--repeat 2] [--memory-limit 1GB]

For each file: the baseline is ``CREATE TABLE t AS SELECT * FROM read_csv(file)`` (DuckDB's own
CSV reader with type detection) into a fresh DuckDB file; shoplens is ``import_files`` into a fresh
warehouse (parse, validate, quarantine, fingerprint, de-duplicate, pseudonymise, load five tables).
The best of ``--repeat`` runs is reported for both, as rows/s and the ratio shoplens / baseline, with the peak
resident memory of each (every run is a fresh child process, so one run's memory never counts for another).
``--memory-limit`` gives the import that DuckDB memory limit (the ``import_memory_limit_bytes`` setting, 768 MB by
default; 0 for DuckDB's own default, 80% of the machine's memory); the baseline always runs with DuckDB's default.
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import duckdb

from shoplens.config import DEFAULT_IMPORT_MEMORY_BYTES
from shoplens.ingest.demo import generate_demo_store
from shoplens.warehouse import ReadLimits, Warehouse, import_files

REPO = Path(__file__).resolve().parents[1]
ONLINE_RETAIL = REPO / "datasets" / "online_retail" / "online_retail.parquet"
DATA = REPO / "benchmarks" / "data"


def _timed(run: Callable[[Path], None], folder: Path, results: multiprocessing.SimpleQueue[tuple[float, int]]) -> None:
    started = time.perf_counter()
    run(folder)
    seconds = time.perf_counter() - started
    results.put((seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024))


def best_of(repeat: int, run: Callable[[Path], None]) -> tuple[float, int]:
    """The best time of ``repeat`` runs, each in a fresh process, and the highest peak resident memory (bytes)."""
    context = multiprocessing.get_context("fork")
    times, peaks = [], []
    for _ in range(repeat):
        folder = Path(tempfile.mkdtemp(prefix="bench-"))
        results: multiprocessing.SimpleQueue[tuple[float, int]] = context.SimpleQueue()
        child = context.Process(target=_timed, args=(run, folder, results))
        child.start()
        child.join()
        shutil.rmtree(folder)
        if child.exitcode != 0:
            raise SystemExit(f"a benchmark run failed (exit code {child.exitcode})")
        seconds, peak = results.get()
        times.append(seconds)
        peaks.append(peak)
    return min(times), max(peaks)


def baseline(path: Path) -> Callable[[Path], None]:
    def run(folder: Path) -> None:
        with duckdb.connect(str(folder / "baseline.duckdb")) as con:
            con.execute(f"CREATE TABLE t AS SELECT * FROM read_csv('{path}')")

    return run


def shoplens_import(
    path: Path, profile: str, mapping: dict[str, object] | None, memory_limit: int | None
) -> Callable[[Path], None]:
    def run(folder: Path) -> None:
        with Warehouse(folder / "warehouse.duckdb") as warehouse:
            import_files(
                warehouse,
                [path],
                profile_name=profile,
                secret=b"b" * 40,
                quarantine_dir=folder / "q",
                mapping=mapping,
                limits=ReadLimits(memory_limit_bytes=memory_limit or None),
            )

    return run


def _gb(size: int) -> str:
    return f"{size / 1024**3:.2f} GB"


def measure(
    label: str,
    path: Path,
    rows: int,
    profile: str,
    mapping: dict[str, object] | None,
    repeat: int,
    memory_limit: int | None,
) -> str:
    base, base_peak = best_of(repeat, baseline(path))
    ours, our_peak = best_of(repeat, shoplens_import(path, profile, mapping, memory_limit))
    return (
        f"| {label} | {rows:,} | {base:.2f} s ({rows / base:,.0f} rows/s) | {ours:.2f} s ({rows / ours:,.0f} rows/s) "
        f"| {ours / base:.2f}x | {_gb(base_peak)} | {_gb(our_peak)} |"
    )


def memory_size(text: str) -> int:
    """Bytes of a size such as ``1GB``, ``512MB`` or ``1073741824``."""
    units = {"KB": 1024, "MB": 1024**2, "GB": 1024**3}
    for unit, factor in units.items():
        if text.upper().endswith(unit):
            return int(float(text[: -len(unit)]) * factor)
    return int(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=10_000_000, help="order lines in the generated file")
    parser.add_argument("--skip-generated", action="store_true")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument(
        "--memory-limit",
        type=memory_size,
        default=DEFAULT_IMPORT_MEMORY_BYTES,
        help="the import's DuckDB memory limit (default: the setting's default, 768MB; 0: DuckDB's own default)",
    )
    parser.add_argument("--skip-retail", action="store_true")
    args = parser.parse_args()
    DATA.mkdir(parents=True, exist_ok=True)
    rows = [
        "| file | rows | DuckDB read_csv into a table | shoplens import | ratio | peak memory read_csv | peak import |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]

    retail_csv = DATA / "online_retail.csv"
    if not retail_csv.exists():
        with duckdb.connect() as con:
            con.execute(f"COPY (SELECT * FROM read_parquet('{ONLINE_RETAIL}')) TO '{retail_csv}' (HEADER)")
    if not args.skip_retail:
        retail = measure(
            "UCI Online Retail (CSV)", retail_csv, 541_909, "online-retail", None, args.repeat, args.memory_limit
        )
        rows.append(retail)
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
                f"generated ({args.lines:,} lines)",
                out / "orders.csv",
                args.lines,
                "generic",
                mapping,
                args.repeat,
                args.memory_limit,
            )
        )
        print(rows[-1], flush=True)
    print("\n".join(rows))


if __name__ == "__main__":
    main()
