"""Hostile import files: time, peak memory and outcome of shoplens's reading of each (the record pass and
DuckDB's read of its copy, as an import stages a file), against DuckDB's own read_csv of the same file.

    python benchmarks/hostile_files.py [--scale 1.0] [--cases NAME,...] [--baseline-timeout 120]

Each measurement runs in a child process (peak memory from resource.getrusage of that child); DuckDB's
baseline is given --baseline-timeout seconds. Files are generated in a temporary directory.
"""

from __future__ import annotations

import argparse
import gzip
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HEADER = b"customer_id,date,quantity,amount\n"
ROW = b"1,1997-03-01,1,1.50\n"

CHILD = r"""
import json, resource, sys, time
from pathlib import Path
mode, path = sys.argv[1], Path(sys.argv[2])
started = time.perf_counter()
try:
    if mode == "shoplens":
        import duckdb
        from shoplens.ingest import CsvDialect
        from shoplens.warehouse import stage_file
        staged = stage_file(duckdb.connect(), path, "t", CsvDialect())
        kept = sorted({r.reason for r in staged.rejects})
        outcome = (f"{staged.rows_staged:,} staged, {len(staged.rejects):,} quarantined"
                   + (f" ({'; '.join(kept)})" if kept else "") + f", {staged.empty_records:,} empty skipped")
    else:
        import duckdb
        con = duckdb.connect()
        con.execute("SET memory_limit = '8GB'")
        rows = con.execute(f"SELECT count(*) FROM read_csv('{path}', all_varchar=true, ignore_errors=true)").fetchall()
        outcome = f"{rows[0][0]:,} rows"
except Exception as exc:
    outcome = "error: " + str(exc).splitlines()[0][:120]
seconds = time.perf_counter() - started
peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": seconds, "peak_mb": peak_kb / 1024, "outcome": outcome}))
"""


def _write_field_file(path: Path, field_bytes: int, records: int = 21) -> None:
    with path.open("wb") as out:
        out.write(HEADER)
        for number in range(1, records + 1):
            if number == records // 2:
                out.write(b"2,1997-03-02,1,")
                chunk = b"9" * (16 * 1024 * 1024)
                left = field_bytes
                while left > 0:
                    out.write(chunk[: min(left, len(chunk))])
                    left -= len(chunk)
                out.write(b"\n")
            else:
                out.write(ROW)


def _write_empty_gzip(path: Path, empty: int) -> None:
    with gzip.open(path, "wb", compresslevel=9) as out:
        out.write(HEADER + ROW)
        block = b"\n" * (8 * 1024 * 1024)
        left = empty
        while left > 0:
            out.write(block[: min(left, len(block))])
            left -= len(block)
        out.write(ROW)


def _write_rows(path: Path, rows: int, *, distinct: bool) -> None:
    with path.open("wb") as out:
        out.write(HEADER)
        for start in range(0, rows, 100_000):
            out.write(
                b"".join(
                    f"{n},1997-03-{1 + n % 28:02d},1,{n % 100}.50\n".encode() if distinct else ROW
                    for n in range(start, min(rows, start + 100_000))
                )
            )


def _measure(mode: str, path: Path, timeout: float) -> dict[str, object]:
    try:
        done = subprocess.run(
            [sys.executable, "-c", CHILD, mode, str(path)], capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        return {"seconds": timeout, "peak_mb": float("nan"), "outcome": f"did not finish in {timeout:g} s"}
    if done.returncode != 0 or not done.stdout.strip():
        return {"seconds": float("nan"), "peak_mb": float("nan"), "outcome": f"crashed ({done.returncode})"}
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _import_seconds(path: Path, home: Path) -> str:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "shoplens", "--home", str(home), "import", str(path), "--profile", "cdnow", "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        return f"error after {seconds:.1f} s: {done.stderr.strip()[:100]}"
    summary = json.loads(done.stdout)
    return f"{seconds:.1f} s import, {summary['rows_loaded']:,} loaded"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every size (0.01 for a quick look)")
    parser.add_argument("--cases", default="", help="comma-separated case names (default: all)")
    parser.add_argument("--baseline-timeout", type=float, default=120.0)
    parser.add_argument("--imports", action="store_true", help="also time full imports of the row files")
    args = parser.parse_args()
    scale = args.scale
    cases = {
        "field 100 MB": lambda p: _write_field_file(p, int(100_000_000 * scale)),
        "field 1 GB": lambda p: _write_field_file(p, int(1_000_000_000 * scale)),
        "gzip 134M empty": lambda p: _write_empty_gzip(p, int(134_000_000 * scale)),
        "gzip 13M empty": lambda p: _write_empty_gzip(p, int(13_000_000 * scale)),
        "1M identical rows": lambda p: _write_rows(p, int(1_000_000 * scale), distinct=False),
        "2M distinct rows": lambda p: _write_rows(p, int(2_000_000 * scale), distinct=True),
    }
    chosen = [c for c in cases if not args.cases or c in args.cases.split(",")]
    print("| file | size | shoplens: time, peak, outcome | DuckDB read_csv: time, peak, outcome |")
    print("|---|---:|---|---|")
    with tempfile.TemporaryDirectory(prefix="hostile-") as scratch:
        for name in chosen:
            suffix = ".csv.gz" if "gzip" in name else ".csv"
            path = Path(scratch) / (name.replace(" ", "_") + suffix)
            cases[name](path)
            ours = _measure("shoplens", path, 3600)
            base = _measure("duckdb", path, args.baseline_timeout)
            extra = f"; {_import_seconds(path, Path(scratch) / name.replace(' ', '_'))}" if args.imports else ""
            print(
                f"| {name} | {path.stat().st_size / 1e6:,.1f} MB | {ours['seconds']:.1f} s, {ours['peak_mb']:,.0f} MB, "
                f"{ours['outcome']}{extra} | {base['seconds']:.1f} s, {base['peak_mb']:,.0f} MB, {base['outcome']} |",
                flush=True,
            )
            path.unlink()


if __name__ == "__main__":
    main()
