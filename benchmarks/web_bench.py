"""The API's overhead against calling the runner directly, in the same run.

    python benchmarks/web_bench.py [--customers 2000] [--repeat 20]

A demo store of ``--customers`` customers is built once into ``benchmarks/data/web-<customers>/``. For each
analysis the best of ``--repeat`` timings is reported for: the runner called directly (baseline, results from
its cache after the first call), ``GET /api/v1/<kind>`` through the ASGI app (auth, query parsing, warehouse
open, JSON), and the same request revalidated with ``If-None-Match`` (304, nothing computed). Ratios are
against the baseline; no number here is asserted anywhere.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import time
from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient

from shoplens.cli import main
from shoplens.config import Settings
from shoplens.metrics import CohortQuery, KpiQuery, MetricQuery, MetricsRunner, RfmQuery
from shoplens.warehouse import Warehouse
from shoplens.web import create_app

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "benchmarks" / "data"
TOKEN = "benchmark-token-of-enough-length-0123456789"
QUERIES: dict[str, MetricQuery] = {"kpis": KpiQuery(), "rfm": RfmQuery(), "cohorts": CohortQuery()}


def _best(action: Callable[[], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - started)
    return best


def _store(customers: int) -> Path:
    home = DATA / f"web-{customers}"
    if not (home / "warehouse.duckdb").exists():
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                main(["--home", str(home), "demo", "--customers", str(customers), "--no-serve", "--json"])
        except SystemExit as done:
            if done.code:
                raise
    return home


def main_bench() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    settings = Settings(home=_store(args.customers))
    client = TestClient(create_app(settings, api_token=TOKEN), headers={"Authorization": f"Bearer {TOKEN}"})
    print(f"{'analysis':10} {'runner ms':>10} {'API ms':>8} {'ratio':>6} {'304 ms':>8} {'ratio':>6}")
    for kind, query in QUERIES.items():
        with Warehouse(settings.warehouse_path, read_only=True) as warehouse:
            runner = MetricsRunner.for_warehouse(warehouse, store_timezone="UTC", cache_dir=settings.home / "cache")
            baseline = _best(lambda: runner.run(query), args.repeat)  # noqa: B023  (used within the loop)
        first = client.get(f"/api/v1/{kind}")
        tag = first.headers["etag"]
        api = _best(lambda: client.get(f"/api/v1/{kind}"), args.repeat)  # noqa: B023
        revalidated = _best(lambda: client.get(f"/api/v1/{kind}", headers={"If-None-Match": tag}), args.repeat)  # noqa: B023
        print(
            f"{kind:10} {baseline * 1000:10.1f} {api * 1000:8.1f} {api / baseline:6.2f} "
            f"{revalidated * 1000:8.1f} {revalidated / baseline:6.2f}"
        )


if __name__ == "__main__":
    main_bench()
