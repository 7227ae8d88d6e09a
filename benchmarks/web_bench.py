"""Latency of the dashboard's pages and the API on a large store, with a warm cache, against a baseline.

    python benchmarks/web_bench.py [--customers 1000000] [--repeat 40]

A demo store of ``--customers`` customers is built once into ``benchmarks/data/web-<customers>/`` (1M customers:
about 4 minutes, 3.6M order lines and 60M web events). An analyst logs in through the login form (a real
session cookie) and calls the API with a real API token, through the ASGI app in this process.

For every page and API route the first request (cold: computed, or read from the on-disk result cache the CLI
shares) is timed once, then ``--repeat`` warm requests give p50 and p95. The baseline, measured in the same run,
is what a warm request would cost without the app's memory cache: open the warehouse read-only, read its data
version and take the KPI result from the runner's on-disk cache. Targets (issue 7): page p95 < 300 ms, API
p95 < 100 ms. No number here is asserted anywhere.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import re
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient

from shoplens.appdb import AppDatabase
from shoplens.cli import main
from shoplens.config import Settings
from shoplens.errors import InputError
from shoplens.metrics import KpiQuery, MetricsRunner
from shoplens.warehouse import Warehouse
from shoplens.web import add_user, create_app, create_token

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "benchmarks" / "data"
EMAIL = "analyst@bench.example"
PASSWORD = "benchmark password of enough length"
PAGES = [
    "/",
    "/?by=channel",
    "/customers",
    "/customers?segment=Champions",
    "/cohorts",
    "/funnel",
    "/behaviour",
    "/products",
    "/voice",
    "/clv",
    "/surveys",
    "/sharing",
    "/jobs",
]
API = [
    "/api/v1/kpis",
    "/api/v1/kpis?grain=day",
    "/api/v1/rfm",
    "/api/v1/cohorts",
    "/api/v1/lifecycle",
    "/api/v1/stage",
    "/api/v1/funnel",
    "/api/v1/products",
    "/api/v1/basket",
    "/api/v1/behaviour",
    "/api/v1/customers?limit=50",
    "/api/v1/customers?segment=Champions&offset=50",
    "/api/v1/clv",
    "/api/v1/voice/themes?method=keywords",
    "/api/v1/voice/needs?method=keywords",
    "/api/v1/forecast",
    "/api/v1/share/package",  # each download is also an audit-log entry (one SQLite write)
]


def _store(customers: int) -> Path:
    home = DATA / f"web-{customers}"
    if not (home / "warehouse.duckdb").exists():
        print(f"building a demo store of {customers} customers in {home} …", flush=True)
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                main(["--home", str(home), "demo", "--customers", str(customers), "--no-serve", "--json"])
        except SystemExit as done:
            if done.code:
                raise
    return home


def _timings(action: Callable[[], object], repeat: int) -> list[float]:
    found = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        found.append(time.perf_counter() - started)
    return found


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[-1]


def _logged_in(client: TestClient) -> None:
    form = client.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert token is not None, "the login form carries a CSRF token"
    answer = client.post(
        "/login", data={"email": EMAIL, "password": PASSWORD, "csrf_token": token.group(1)}, follow_redirects=False
    )
    assert answer.status_code == 303, f"login failed: {answer.status_code}"


def main_bench() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=40)
    args = parser.parse_args()
    settings = Settings(home=_store(args.customers))
    database = AppDatabase(settings.app_database_url)
    with contextlib.suppress(InputError):  # the analyst exists from an earlier run
        add_user(database, EMAIL, PASSWORD, "analyst")
    api_token, _ = create_token(database, "analyst")
    database.close()

    def baseline() -> object:
        with Warehouse(settings.warehouse_path, read_only=True) as warehouse:
            runner = MetricsRunner.for_warehouse(
                warehouse, store_timezone=settings.timezone, cache_dir=settings.home / "cache" / "metrics"
            )
            return runner.run(KpiQuery())

    baseline()
    base = _timings(baseline, args.repeat)
    base_p50 = statistics.median(base)
    print(f"baseline (open read-only, data version, KPIs from the disk cache): p50 {base_p50 * 1000:.1f} ms")

    app = create_app(settings)
    pages = TestClient(app)
    _logged_in(pages)
    api = TestClient(app, headers={"Authorization": f"Bearer {api_token}"})
    print(f"{'route':48} {'cold ms':>9} {'p50 ms':>8} {'p95 ms':>8} {'p50/base':>9}")
    worst: dict[str, float] = {"page": 0.0, "api": 0.0}
    for kind, client, routes in (("page", pages, PAGES), ("api", api, API)):
        for route in routes:
            started = time.perf_counter()
            first = client.get(route)
            cold = time.perf_counter() - started
            assert first.status_code == 200, f"{route}: {first.status_code} {first.text[:200]}"
            warm = _timings(lambda: client.get(route), args.repeat)  # noqa: B023  (used within the loop)
            p50, p95 = statistics.median(warm), _p95(warm)
            worst[kind] = max(worst[kind], p95)
            print(f"{route:48} {cold * 1000:9.0f} {p50 * 1000:8.1f} {p95 * 1000:8.1f} {p50 / base_p50:9.3f}")
    page_p95, api_p95 = worst["page"] * 1000, worst["api"] * 1000
    print(f"worst page p95 {page_p95:.1f} ms (target 300), worst API p95 {api_p95:.1f} ms (target 100)")


if __name__ == "__main__":
    main_bench()
