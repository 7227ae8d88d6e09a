"""Market position on the shared web demo store with two competitors and three market-size estimates entered
through the command line: the store's own figures and its share against pandas and SQL over the warehouse, the
trend against numpy, the audit entries, and the same share in the CLI, the API and the Market page."""

from __future__ import annotations

import html
import json
import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from tests.conftest import fetch, run_cli
from tests.web.conftest import Store, table_values

from shoplens.actions import NO_ESTIMATES
from shoplens.config import Settings
from shoplens.web import create_app

SIZES = {"2025-09": 2_000_000.0, "2025-10": 2_100_000.0, "2025-11": 2_300_000.0}
# Shop A beats any plausible small store on every measure, Shop B trails it on every one
SHOP_A = {"price_index": 95.0, "delivery_days": 1.0, "returns_days": 60, "range_size": 5000, "rating": 4.9}
SHOP_B = {"price_index": 120.0, "delivery_days": 9.0, "returns_days": 7, "range_size": 10, "rating": 2.0}
OWN_RETURNS_DAYS = 14


def _options(figures: dict[str, Any]) -> list[str]:
    return [part for key, value in figures.items() for part in (f"--{key.replace('_', '-')}", str(value))]


@pytest.fixture(scope="module")
def market_home(demo_store: Store, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the web demo store with the competitors, the estimates and the return window entered."""
    home = tmp_path_factory.mktemp("market") / "home"
    shutil.copytree(demo_store.home, home, ignore=shutil.ignore_patterns("cache", "demo-export"))
    entered = [
        ["market", "competitor", "add", "--name", "Shop A", *_options(SHOP_A), "--note", "their site"],
        ["market", "competitor", "add", "--name", "Shop B", *_options(SHOP_B), "--as-of", "2025-11-30"],
        *(["market", "size", "set", "--period", p, "--size", str(s), "--source", "survey"] for p, s in SIZES.items()),
        ["market", "own", "set", "--returns-days", str(OWN_RETURNS_DAYS)],
    ]
    for args in entered:
        done = run_cli(home, *args, "--json")
        assert done.exit_code == 0, done.stderr
    return home


@pytest.fixture(scope="module")
def position(market_home: Path) -> dict[str, Any]:
    done = run_cli(market_home, "market", "position", "--json")
    assert done.exit_code == 0, done.stderr
    document: dict[str, Any] = done.json()
    return document


def _purchases(home: Path) -> pd.DataFrame:
    statuses = {row[0] for row in fetch(home, "SELECT DISTINCT status FROM orders")}
    assert statuses <= {"paid", "refunded", "partially_refunded", "cancelled"}, "only cancelled orders are no sale"
    orders = pd.DataFrame(
        fetch(home, "SELECT order_id, ordered_at, delivered_at, net FROM orders WHERE status <> 'cancelled'"),
        columns=["order_id", "ordered_at", "delivered_at", "net"],
    )
    return orders


def _data_end(home: Path, orders: pd.DataFrame) -> pd.Timestamp:
    refunded = fetch(
        home,
        "SELECT max(r.refunded_at) FROM refunds r JOIN orders o USING (order_id) WHERE o.status <> 'cancelled'",
    )[0][0]
    return max(orders["ordered_at"].max(), pd.Timestamp(refunded)).normalize()


def test_the_demo_store_keeps_utc_days(market_home: Path) -> None:
    """The hand computations below take UTC days as the store's days."""
    assert Settings(home=market_home).timezone == "UTC"


def test_the_share_per_period_is_the_revenue_over_the_size(market_home: Path, position: dict[str, Any]) -> None:
    orders = _purchases(market_home)
    refunds = pd.DataFrame(
        fetch(
            market_home,
            "SELECT r.refunded_at, r.amount FROM refunds r JOIN orders o USING (order_id) "
            "WHERE o.status <> 'cancelled' AND r.refunded_at IS NOT NULL",
        ),
        columns=["refunded_at", "amount"],
    )
    sold = orders.groupby(orders["ordered_at"].dt.strftime("%Y-%m"))["net"].sum()
    given = refunds.groupby(refunds["refunded_at"].dt.strftime("%Y-%m"))["amount"].sum()
    shares = {row["period"]: row for row in position["share"]}
    assert list(shares) == list(SIZES)
    for period, size in SIZES.items():
        revenue = float(sold.get(period, 0)) - float(given.get(period, 0))
        assert revenue > 0
        assert shares[period]["revenue"] == pytest.approx(revenue, abs=0.005)
        assert shares[period]["share"] == pytest.approx(revenue / size, rel=1e-9)
        assert shares[period]["market_size"] == size
        assert not shares[period]["partial"]
    first, second, third = (shares[p]["share"] for p in SIZES)
    assert shares["2025-10"]["change"] == pytest.approx(second - first)
    assert shares["2025-11"]["relative_change"] == pytest.approx((third - second) / second)
    slope = np.polyfit([0, 1, 2], [first, second, third], 1)[0]  # three consecutive months
    assert position["slope_per_month"] == pytest.approx(slope, rel=1e-9)
    assert position["slope_per_year"] == pytest.approx(12 * slope, rel=1e-9)
    assert position["trend"] == ("rising" if slope > 0 else "falling")
    # every month of sales outside September-November is named as left out
    months = pd.period_range(orders["ordered_at"].min(), _data_end(market_home, orders), freq="M").strftime("%Y-%m")
    assert position["left_out"] == [m for m in months if m not in SIZES]


def test_the_stores_own_figures_are_measured_in_the_warehouse(market_home: Path, position: dict[str, Any]) -> None:
    orders = _purchases(market_home)
    end = _data_end(market_home, orders)
    since = end - pd.Timedelta(days=364)
    ordered_day = orders["ordered_at"].dt.normalize()
    recent = orders[(ordered_day >= since) & (ordered_day <= end)]
    delivered = recent.dropna(subset=["delivered_at"])
    days = (delivered["delivered_at"].dt.normalize() - delivered["ordered_at"].dt.normalize()).dt.days
    store = position["store"]
    assert position["window"] == {"from": str(since.date()), "through": str(end.date())}
    assert store["delivered_orders"] == len(delivered)
    assert store["delivery_days"] == pytest.approx(float(days.median()))
    products = fetch(
        market_home,
        "SELECT count(DISTINCT l.product_id) FROM order_lines l JOIN orders o USING (order_id) "
        "WHERE o.status <> 'cancelled' AND CAST(o.ordered_at AS DATE) BETWEEN ? AND ?",
        [since.date(), end.date()],
    )[0][0]
    assert store["range_size"] == products
    ratings, mean = fetch(market_home, "SELECT count(rating), avg(rating) FROM feedback")[0]
    assert (store["ratings"], store["rating"]) == (ratings, pytest.approx(mean))
    assert (store["price_index"], store["returns_days"]) == (100.0, OWN_RETURNS_DAYS)


def test_the_positioning_table_ranks_the_store_between_the_two(position: dict[str, Any]) -> None:
    store = position["store"]
    rows = {row["measure"]: row for row in position["position"]}
    for measure, row in rows.items():
        # the store lies strictly between the two shops on every measure (checked, not assumed)
        low, high = sorted([SHOP_A[measure], SHOP_B[measure]])
        assert low < store[measure] < high, measure
        assert row["competitors"] == {"Shop A": SHOP_A[measure], "Shop B": SHOP_B[measure]}
        assert (row["store_rank"], row["ranked"]) == (2, 3), measure
        assert (row["worse_than"], row["better_than"], row["level_with"]) == (["Shop A"], ["Shop B"], [])
    assert [rows[m]["better_is"] for m in ("price_index", "delivery_days", "rating")] == ["lower", "lower", "higher"]


def test_every_change_is_in_the_audit_log(market_home: Path) -> None:
    entries = run_cli(market_home, "audit", "list", "--limit", "50", "--json").json()["entries"]
    mine = [(e["action"], e["details"]) for e in entries if e["action"].startswith("market.")][::-1]
    assert [action for action, _ in mine] == [
        "market.competitor_set",
        "market.competitor_set",
        *["market.size_set"] * 3,
        "market.own_set",
    ]
    assert mine[0][1] == {"name": "Shop A", **SHOP_A, "replaced": False}
    assert [d["period"] for _, d in mine[2:5]] == list(SIZES)
    assert all(e["actor"] == "cli" for e in entries if e["action"].startswith("market."))
    assert run_cli(market_home, "audit", "verify", "--json").json()["ok"] is True


def test_bad_input_exits_2_with_one_line(market_home: Path) -> None:
    cases = {
        ("size", "set", "--period", "2025-13", "--size", "5"): (
            "period must be a month as YYYY-MM or a year as YYYY (such as 2025-06 or 2025), got '2025-13'"
        ),
        ("size", "set", "--period", "2025", "--size", "-5"): (
            "market size must be an amount above 0 in the store's currency, got -5"
        ),
        ("competitor", "add", "--name", "Shop C", "--rating", "5.5"): "rating must be between 0 and 5, got 5.5",
        ("competitor", "delete", "--name", "Nobody"): (
            "no competitor named 'Nobody' to delete (see shoplens market competitor list)"
        ),
    }
    for args, message in cases.items():
        done = run_cli(market_home, "market", *args, "--json")
        assert (done.exit_code, done.stdout, done.stderr) == (2, "", f"error: {message}\n"), args


def test_without_estimates_the_command_says_what_to_enter(own_store: Path) -> None:
    done = run_cli(own_store, "market", "position", "--json")
    assert done.exit_code == 0
    assert done.json()["share"] == []
    assert NO_ESTIMATES in done.json()["notes"]
    told = run_cli(own_store, "market", "position")
    assert told.exit_code == 0
    assert NO_ESTIMATES in " ".join(told.stdout.split())
    assert NO_ESTIMATES == (
        "no market-size estimates yet: enter the online market's size for a month or a year with "
        "shoplens market size set --period YYYY-MM --size AMOUNT --source TEXT"
    )


def _cells(page: str, table_id: str) -> list[list[str]]:
    return table_values(page, table_id)


def test_the_api_and_the_market_page_show_the_same_share(
    market_home: Path, demo_store: Store, position: dict[str, Any]
) -> None:
    app = create_app(Settings(home=market_home))

    def client(role: str) -> TestClient:
        return TestClient(app, headers={"Authorization": f"Bearer {demo_store.tokens[role]}"})

    answer = client("analyst").get("/api/v1/market/position")
    assert answer.status_code == 200
    api = answer.json()
    assert [(r["period"], r["share"]) for r in api["share"]] == [(r["period"], r["share"]) for r in position["share"]]
    assert api["position"] == position["position"]
    page = client("marketer").get("/market").text
    shown = _cells(page, "market-share")
    assert [(row[0], row[3]) for row in shown] == [(r["period"], str(round(r["share"], 6))) for r in api["share"]]
    ranks = {row[0]: row[5] for row in _cells(page, "market-position")}
    assert ranks == {r["measure"]: "2 of 3" for r in api["position"]}
    caption = re.search(r"<figcaption>(.*?)</figcaption>", page, re.S)
    assert caption
    assert "<svg" in page
    told = html.unescape(caption.group(1))
    assert all(f"{r['period']} {r['share']:.2%}" in told for r in api["share"])
    assert '<a href="/market" aria-current="page">Market</a>' in page
    assert client("vendor").get("/api/v1/market/position").status_code == 403
    assert client("vendor").get("/market").status_code == 403


def test_owners_change_the_market_over_the_api_and_it_is_audited(own_store: Path, demo_store: Store) -> None:
    app = create_app(Settings(home=own_store))

    def client(role: str) -> TestClient:
        return TestClient(app, headers={"Authorization": f"Bearer {demo_store.tokens[role]}"})

    body = {"name": "Shop C", "price_index": 98, "rating": 4.1}
    assert client("analyst").post("/api/v1/market/competitors", json=body).status_code == 403
    assert client("marketer").post("/api/v1/market/sizes", json={"period": "2025", "size": 1e7}).status_code == 403
    added = client("owner").post("/api/v1/market/competitors", json=body)
    assert added.status_code == 200
    assert added.json()["replaced"] is False
    refused = client("owner").post("/api/v1/market/sizes", json={"period": "2025-13", "size": 5})
    assert refused.status_code == 400, refused.text
    assert "2025-13" in json.dumps(refused.json())
    too_high = client("owner").post("/api/v1/market/competitors", json={"name": "Shop D", "rating": 6})
    assert "rating must be between 0 and 5, got 6" in json.dumps(too_high.json())
    assert client("owner").post("/api/v1/market/sizes", json={"period": "2025", "size": 1e7}).status_code == 200
    listed = client("analyst").get("/api/v1/market/competitors").json()["competitors"]
    assert [(c["name"], c["price_index"], c["rating"], c["delivery_days"]) for c in listed] == [
        ("Shop C", 98.0, 4.1, None)
    ]
    year = client("analyst").get("/api/v1/market/position").json()["share"]
    revenue = run_cli(own_store, "kpis", "--grain", "month", "--from", "2025-01-01", "--to", "2025-12-31", "--json")
    months = revenue.json()["rows"]
    assert [r["period"] for r in year] == ["2025"]
    assert year[0]["revenue"] == pytest.approx(sum(float(m["revenue"]) for m in months), abs=0.01)
    assert year[0]["partial"] is (months[-1]["partial"] is True)
    assert client("owner").delete("/api/v1/market/competitors/Shop%20C").status_code == 200
    assert client("owner").delete("/api/v1/market/competitors/Shop%20C").status_code == 404
    assert client("owner").delete("/api/v1/market/sizes/2025").json()["deleted"] == {"period": "2025"}
    entries = run_cli(own_store, "audit", "list", "--json").json()["entries"]
    market = [(e["action"], e["details"].get("via")) for e in entries if e["action"].startswith("market.")][::-1]
    assert market == [
        ("market.competitor_set", "web"),
        ("market.size_set", "web"),
        ("market.competitor_delete", "web"),
        ("market.size_delete", "web"),
    ]
