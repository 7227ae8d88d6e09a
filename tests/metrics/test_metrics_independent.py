"""Basket rules, lifecycle, purchase gaps and the funnel, each against a separate pandas computation.

The pandas side reads the canonical tables as plain frames and restates the documented definitions.
"""

from __future__ import annotations

import itertools

import duckdb
import pandas as pd
import pytest
from metrics_backends import RunnerFor, Store

from shoplens.queries import BasketQuery, BehaviourQuery, FunnelQuery, LifecycleQuery, QueryRunner

pytestmark = pytest.mark.slow


def frame(store: Store, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(store.warehouse), read_only=True) as con:
        return con.sql(sql).df()


def local_day(values: pd.Series, zone: str) -> pd.Series:
    return values.dt.tz_localize("UTC").dt.tz_convert(zone).dt.tz_localize(None).dt.normalize()


def test_basket_rules_equal_pandas(duckdb_runner: RunnerFor, uci: Store) -> None:
    min_support = 0.02
    result = duckdb_runner(uci).run(BasketQuery(min_support=min_support, limit=20)).model_dump()
    baskets = frame(uci, "SELECT DISTINCT order_id, product_id FROM order_lines WHERE product_id IS NOT NULL")
    total = baskets["order_id"].nunique()
    item_orders = baskets.groupby("product_id")["order_id"].count()
    frequent = item_orders[item_orders >= min_support * total]
    kept = baskets[baskets["product_id"].isin(frequent.index)]
    pairs = kept.merge(kept, on="order_id")
    pairs = pairs[pairs["product_id_x"] != pairs["product_id_y"]]
    counts = pairs.groupby(["product_id_x", "product_id_y"]).size().rename("orders").reset_index()
    counts = counts[counts["orders"] >= min_support * total]
    counts["support"] = counts["orders"] / total
    counts["confidence"] = counts["orders"] / counts["product_id_x"].map(frequent)
    counts["lift"] = (
        counts["orders"] * total / (counts["product_id_x"].map(frequent) * counts["product_id_y"].map(frequent))
    )
    counts = counts.sort_values(
        ["lift", "orders", "product_id_x", "product_id_y"], ascending=[False, False, True, True]
    )
    top = counts.head(20)
    assert result["orders"] == total
    got = [(r["antecedent"], r["consequent"], r["orders"]) for r in result["rules"]]
    assert got == list(zip(top["product_id_x"], top["product_id_y"], top["orders"], strict=True))
    for rule, (_, row) in zip(result["rules"], top.iterrows(), strict=True):
        assert rule["support"] == pytest.approx(row["support"], abs=1e-6)
        assert rule["confidence"] == pytest.approx(row["confidence"], abs=1e-6)
        assert rule["lift"] == pytest.approx(row["lift"], abs=1e-5)


def test_lifecycle_states_equal_pandas(duckdb_runner: RunnerFor, uci: Store) -> None:
    result = duckdb_runner(uci).run(LifecycleQuery(active_days=60, lapsed_days=150)).model_dump()
    orders = frame(uci, "SELECT order_id, customer_key, ordered_at FROM orders")
    orders["day"] = local_day(orders["ordered_at"], uci.timezone)
    reference = orders["day"].max()
    known = orders[orders["customer_key"].notna()].sort_values(["customer_key", "ordered_at", "order_id"])
    states = {}
    for key, days in known.groupby("customer_key")["day"]:
        first, last = days.iloc[0], days.iloc[-1]
        previous = days.iloc[-2] if len(days) > 1 else None
        since_last = (reference - last).days
        if (reference - first).days <= 60:
            states[key] = "new"
        elif since_last <= 60 and previous is not None and (last - previous).days > 150:
            states[key] = "reactivated"
        elif since_last <= 60:
            states[key] = "active"
        elif since_last <= 150:
            states[key] = "at risk"
        else:
            states[key] = "lapsed"
    expected = pd.Series(states).value_counts()
    assert {s["state"]: s["customers"] for s in result["states"]} == {
        state: int(expected.get(state, 0)) for state in ("new", "active", "reactivated", "at risk", "lapsed")
    }


def test_purchase_gaps_equal_pandas(duckdb_runner: RunnerFor, uci: Store) -> None:
    result = duckdb_runner(uci).run(BehaviourQuery()).model_dump()
    orders = frame(uci, "SELECT order_id, customer_key, ordered_at FROM orders WHERE customer_key IS NOT NULL")
    orders["day"] = local_day(orders["ordered_at"], uci.timezone)
    orders = orders.sort_values(["customer_key", "ordered_at", "order_id"])
    gaps = orders.groupby("customer_key")["day"].diff().dropna().dt.days
    summary = result["inter_purchase"]
    assert summary["repeat_orders"] == len(gaps)
    assert summary["median_days"] == pytest.approx(gaps.median())
    assert summary["p90_days"] == pytest.approx(gaps.quantile(0.9))
    assert summary["mean_days"] == pytest.approx(gaps.mean(), abs=1e-6)
    same_day = next(b for b in result["inter_purchase_distribution"] if b["bucket"] == "same day")
    assert same_day["repeat_orders"] == int((gaps == 0).sum())


def test_funnel_equals_pandas(duckdb_runner: RunnerFor, demo: Store) -> None:
    runner: QueryRunner = duckdb_runner(demo)
    steps = runner.run(FunnelQuery()).model_dump()["steps"]
    events = frame(demo, 'SELECT session_id, type, "at" FROM events')
    firsts = events.pivot_table(index="session_id", columns="type", values="at", aggfunc="min")
    reached = firsts["view"].notna()
    counts, medians = [int(reached.sum())], [None]
    for before, step in (("view", "cart"), ("cart", "checkout"), ("checkout", "order")):
        reached = reached & firsts[step].notna() & (firsts[step] >= firsts[before])
        counts.append(int(reached.sum()))
        medians.append(((firsts[step] - firsts[before])[reached].dt.total_seconds() / 60).median())
    assert [s["sessions"] for s in steps] == counts
    assert steps[0]["median_minutes"] is None
    assert [s["median_minutes"] for s in steps[1:]] == [pytest.approx(m, abs=1e-6) for m in medians[1:]]
    assert [s["conversion"] for s in steps] == [None] + [
        pytest.approx(b / a, abs=1e-6) for a, b in itertools.pairwise(counts)
    ]


def test_funnel_over_days_equals_pandas(duckdb_runner: RunnerFor, demo: Store) -> None:
    """With a window, only the sessions whose first event (of any type) falls on those store-local days count."""
    events = frame(demo, 'SELECT session_id, type, "at" FROM events')
    started = local_day(events.groupby("session_id")["at"].min(), demo.timezone)
    days = sorted(started.unique())
    start, end = days[len(days) // 3].date(), days[2 * len(days) // 3].date()
    steps = duckdb_runner(demo).run(FunnelQuery(start=start, end=end)).model_dump()["steps"]
    inside = started[(started >= pd.Timestamp(start)) & (started <= pd.Timestamp(end))].index
    firsts = events[events["session_id"].isin(inside)].pivot_table(
        index="session_id", columns="type", values="at", aggfunc="min"
    )
    reached = firsts["view"].notna()
    counts = [int(reached.sum())]
    for before, step in (("view", "cart"), ("cart", "checkout"), ("checkout", "order")):
        reached = reached & firsts[step].notna() & (firsts[step] >= firsts[before])
        counts.append(int(reached.sum()))
    assert 0 < counts[0] < len(started)  # the window keeps some sessions, not all
    assert [s["sessions"] for s in steps] == counts
