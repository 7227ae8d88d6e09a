"""Acquisition by the first web session's source, medium, campaign, landing page and referring site: new customers
and sessions per landing page on a demo store against DuckDB SQL over the warehouse, and what the shipped UCI
Online Shoppers sessions can show (sessions per traffic type; they name no customer, so no new customers)."""

from __future__ import annotations

import gzip
import shutil
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
from tests.conftest import DATASETS, build_demo_store, fetch, run_cli

from shoplens.config import Settings
from shoplens.metrics import NOT_PURCHASED_STATUSES
from shoplens.queries import ClvPredictQuery, ClvPredictResult, QueryRunner

SHOPPERS = DATASETS / "sessions" / "online_shoppers_intention.csv.gz"
FIRST_SESSIONS = """
WITH opening AS (
    SELECT session_id, "at", source, medium, page,
           row_number() OVER (PARTITION BY session_id ORDER BY "at", event_id) AS n
    FROM events
), sessions_of AS (
    SELECT o.session_id, o."at" AS started_at, coalesce(nullif(o.page, ''), '(unknown)') AS landing_page,
           CASE WHEN lower(o.medium) = 'referral' THEN o.source ELSE '(not a referral)' END AS referrer,
           k.customer_key
    FROM opening o
    JOIN (SELECT session_id, max(customer_key) AS customer_key FROM events GROUP BY 1) k USING (session_id)
    WHERE o.n = 1
), first_session AS (
    SELECT customer_key, landing_page, referrer,
           row_number() OVER (PARTITION BY customer_key ORDER BY started_at, session_id) AS n
    FROM sessions_of WHERE customer_key IS NOT NULL
), buyers AS (
    SELECT DISTINCT customer_key FROM orders
    WHERE customer_key IS NOT NULL AND lower(trim(coalesce(status, ''))) NOT IN ({not_purchased})
)
"""


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_demo_store(tmp_path_factory.mktemp("touchpoints") / "home", customers=600, seed=7)


def _sql(tail: str) -> str:
    listed = ", ".join(f"'{status}'" for status in sorted(NOT_PURCHASED_STATUSES))
    return FIRST_SESSIONS.format(not_purchased=listed) + tail


@pytest.mark.parametrize("by", ["landing_page", "referrer"])
def test_new_customers_per_first_session_match_sql(demo_home: Path, by: str) -> None:
    result = run_cli(demo_home, "acquisition", "--by", by.replace("_", "-"), "--json")
    assert result.exit_code == 0, result.stderr
    document = result.json()
    found = {row[by]: row for row in document["groups"]}
    expected = dict(
        fetch(
            demo_home,
            _sql(
                f"""
                SELECT coalesce(f.{by}, '(no web session)'), count(*)
                FROM buyers b LEFT JOIN first_session f ON f.customer_key = b.customer_key AND f.n = 1
                GROUP BY 1
                """
            ),
        )
    )
    assert {value: row["new_customers"] for value, row in found.items() if row["new_customers"]} == expected
    sessions = dict(fetch(demo_home, _sql(f"SELECT {by}, count(*) FROM sessions_of GROUP BY 1")))
    assert {value: row["sessions"] for value, row in found.items() if row["sessions"]} == sessions
    assert sum(row["new_customers"] for row in document["groups"]) == sum(
        row["new_customers"] for row in document["channels"]
    )
    for row in document["groups"]:
        if row["new_customers"]:
            assert sum(row["segments"].values()) == pytest.approx(1.0, abs=1e-3)
        assert row["cac"] is None, "spend is not kept per landing page or referring site"
    print(f"\n{len(found)} {by} values; top: {document['groups'][0][by]} with {document['groups'][0]['new_customers']}")


def test_channel_output_keys_are_unchanged(demo_home: Path) -> None:
    document = run_cli(demo_home, "acquisition", "--json").json()
    assert "groups" not in document
    assert "by" not in document
    assert set(document["channels"][0]) >= {"channel", "new_customers", "repeat_rate_90d", "predicted_clv", "cac"}


def test_a_bad_grouping_exits_2(demo_home: Path) -> None:
    result = run_cli(demo_home, "acquisition", "--by", "weather", "--json")
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "error: --by must be one of channel, source, medium, campaign, landing-page, referrer"
    )


@pytest.mark.slow
def test_shipped_shopper_sessions_count_per_traffic_type(demo_home: Path, tmp_path: Path) -> None:
    """The UCI Online Shoppers sessions give a traffic-type code and no customer, date or page: they add sessions
    per source (the code) and to (unknown) landing pages, and no new customer anywhere."""
    home = tmp_path / "home"
    shutil.copytree(demo_home, home, ignore=shutil.ignore_patterns("cache", "demo-export"))
    before = {
        row["landing_page"]: row
        for row in run_cli(home, "acquisition", "--by", "landing-page", "--json").json()["groups"]
    }
    imported = run_cli(home, "import", str(SHOPPERS), "--profile", "shoppers-sessions", "--json")
    assert imported.exit_code == 0, imported.stderr
    with gzip.open(SHOPPERS, "rt") as handle:
        traffic = Counter(pd.read_csv(handle, dtype=str)["TrafficType"])
    by_source = {
        row["source"]: row for row in run_cli(home, "acquisition", "--by", "source", "--json").json()["groups"]
    }
    for code, sessions in traffic.items():
        assert by_source[f"traffic type {code}"]["sessions"] == sessions, code
        assert by_source[f"traffic type {code}"]["new_customers"] == 0
    after = {
        row["landing_page"]: row
        for row in run_cli(home, "acquisition", "--by", "landing-page", "--json").json()["groups"]
    }
    assert after["(unknown)"]["sessions"] == before.get("(unknown)", {"sessions": 0})["sessions"] + sum(
        traffic.values()
    )
    # sessions without customers move no customer: the same new customers per landing page, none under (unknown)
    assert {k: r["new_customers"] for k, r in after.items() if r["new_customers"]} == {
        k: r["new_customers"] for k, r in before.items() if r["new_customers"]
    }


@pytest.mark.slow
def test_predicted_clv_per_landing_page_is_the_mean_of_its_customers(demo_home: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    shutil.copytree(demo_home, home, ignore=shutil.ignore_patterns("cache", "demo-export"))
    for model in ("bgnbd", "gamma-gamma"):
        fitted = run_cli(home, "clv", "fit", "--model", model, "--json")
        assert fitted.exit_code == 0, fitted.stderr
    groups = run_cli(home, "acquisition", "--by", "landing-page", "--json").json()["groups"]
    prediction = QueryRunner.for_store(Settings(home=home)).run(ClvPredictQuery(horizon=365), ClvPredictResult)
    clv = {row["customer_key"]: float(row["clv"]) for row in prediction.rows if row.get("clv") is not None}
    landing = dict(
        fetch(
            home,
            _sql(
                """
                SELECT b.customer_key, coalesce(f.landing_page, '(no web session)')
                FROM buyers b LEFT JOIN first_session f ON f.customer_key = b.customer_key AND f.n = 1
                """
            ),
        )
    )
    per_page: dict[str, list[float]] = {}
    for key, value in clv.items():
        per_page.setdefault(landing[key], []).append(value)
    expected = {page: sum(values) / len(values) for page, values in per_page.items()}
    found = {row["landing_page"]: row["predicted_clv"] for row in groups if row["predicted_clv"] is not None}
    assert found == pytest.approx(expected)
