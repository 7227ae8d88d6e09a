"""Web events and sessions: GA4's BigQuery export (JSON lines and Parquet), events of any tracker by a mapping,
and the UCI Online Shoppers sessions; counts against the files, re-imports, quarantine and the funnel."""

from __future__ import annotations

import csv
import gzip
import itertools
import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from tests.conftest import fetch

GA4_EVENTS = Path(__file__).parent / "data" / "ga4" / "events_20210131.jsonl"
SHOPPERS = Path(__file__).resolve().parents[2] / "datasets" / "sessions" / "online_shoppers_intention.csv.gz"
# The mapping the brief of issue 19 gives, written out again here so the test does not read the profile's.
GA4_TYPES = {
    "page_view": "view",
    "view_item": "view",
    "add_to_cart": "cart",
    "begin_checkout": "checkout",
    "add_shipping_info": "shipping_view",
    "purchase": "order",
    "sign_up": "registration",
}


def _ga4_records() -> list[dict[str, Any]]:
    return [json.loads(line) for line in GA4_EVENTS.read_text().splitlines()]


def _param(record: dict[str, Any], key: str) -> Any:
    for entry in record["event_params"]:
        if entry["key"] == key:
            return next(v for v in entry["value"].values() if v is not None)
    return None


def _expected_types() -> Counter[str]:
    return Counter(GA4_TYPES.get(r["event_name"], r["event_name"]) for r in _ga4_records())


def _ga4_parquet(path: Path) -> Path:
    """The fixture as BigQuery types it (INT64 timestamps and int_value), written as Parquet with pyarrow."""
    records = _ga4_records()
    for record in records:
        record["event_timestamp"] = int(record["event_timestamp"])
        for entry in record["event_params"]:
            if entry["value"]["int_value"] is not None:
                entry["value"]["int_value"] = int(entry["value"]["int_value"])
    pq.write_table(pa.Table.from_pylist(records), path)
    return path


def test_ga4_json_lines_load_every_event_once(cli: Callable[..., Any], tmp_path: Path) -> None:
    records = _ga4_records()
    summary = cli("import", str(GA4_EVENTS), "--profile", "ga4", "--json").json()
    counts = (summary["rows_read"], summary["rows_loaded"], summary["rows_quarantined"])
    assert counts == (len(records), len(records), 0)
    home = tmp_path / "home"
    assert Counter(dict(fetch(home, "SELECT type, count(*) FROM events GROUP BY type"))) == _expected_types()
    sessions = {f"{r['user_pseudo_id']}.{_param(r, 'ga_session_id')}" for r in records}
    assert {s for (s,) in fetch(home, "SELECT DISTINCT session_id FROM events")} == sessions
    assert fetch(home, "SELECT count(*) FROM events WHERE customer_key IS NOT NULL") == [
        (sum(1 for r in records if r["user_id"]),)
    ]
    # The purchase: its product, page and first-user source; the newsletter visit keeps its own source.
    purchase = next(r for r in records if r["event_name"] == "purchase")
    order = "SELECT product_id, page, source, medium, campaign, device FROM events WHERE type = 'order'"
    assert fetch(home, order) == [
        (
            purchase["items"][0]["item_id"],
            _param(purchase, "page_location"),
            purchase["traffic_source"]["source"],
            purchase["traffic_source"]["medium"],
            purchase["traffic_source"]["name"],
            purchase["device"]["category"],
        )
    ]
    assert fetch(home, "SELECT count(*) FROM events WHERE source = 'newsletter' AND campaign = 'jan_news'") == [
        (sum(1 for r in records if _param(r, "source") == "newsletter"),)
    ]
    again = cli("import", str(GA4_EVENTS), "--profile", "ga4", "--json").json()
    assert (again["rows_loaded"], again["rows_duplicate"]) == (0, len(records))


def test_ga4_parquet_loads_the_same_events(cli: Callable[..., Any], tmp_path: Path) -> None:
    parquet = _ga4_parquet(tmp_path / "events_20210131.parquet")
    summary = cli("import", str(parquet), "--profile", "ga4", "--json").json()
    assert (summary["rows_loaded"], summary["rows_quarantined"]) == (len(_ga4_records()), 0)
    home = tmp_path / "home"
    assert Counter(dict(fetch(home, "SELECT type, count(*) FROM events GROUP BY type"))) == _expected_types()
    # The same events as JSON lines have the same ids: nothing is added.
    again = cli("import", str(GA4_EVENTS), "--profile", "ga4", "--json").json()
    assert (again["rows_loaded"], again["rows_duplicate"]) == (0, len(_ga4_records()))


def test_ga4_bad_lines_are_quarantined_with_row_and_reason(cli: Callable[..., Any], tmp_path: Path) -> None:
    lines = GA4_EVENTS.read_text().splitlines()[:4]
    bad_time = json.loads(lines[1])
    bad_time["event_timestamp"] = "yesterday"
    no_session = json.loads(lines[2])
    no_session["event_params"] = [p for p in no_session["event_params"] if p["key"] != "ga_session_id"]
    data = tmp_path / "events.jsonl"
    malformed = '{"event_name": "scr'
    data.write_text("\n".join([lines[0], json.dumps(bad_time), json.dumps(no_session), malformed, lines[3]]))
    summary = cli("import", str(data), "--profile", "ga4", "--json").json()
    assert (summary["rows_read"], summary["rows_loaded"], summary["rows_quarantined"]) == (5, 2, 3)
    quarantine = pd.read_csv(summary["quarantine_path"])
    assert sorted(zip(quarantine["row"], quarantine["reason"], strict=True)) == [
        (2, "unparseable date"),
        (3, "missing session id"),
        (4, "not valid JSON"),
    ]


def test_ga4_event_utm_values_come_before_the_first_user_source(cli: Callable[..., Any], tmp_path: Path) -> None:
    record = next(r for r in _ga4_records() if r["event_name"] == "view_item")
    record["collected_traffic_source"] = {
        "manual_campaign_id": None,
        "manual_campaign_name": "winter_ads",
        "manual_source": "facebook",
        "manual_medium": "paid_social",
        "manual_term": None,
        "manual_content": None,
        "gclid": None,
        "dclid": None,
        "srsltid": None,
    }
    data = tmp_path / "events.jsonl"
    data.write_text(json.dumps(record) + "\n")
    assert cli("import", str(data), "--profile", "ga4", "--json").json()["rows_loaded"] == 1
    assert fetch(tmp_path / "home", "SELECT source, medium, campaign FROM events") == [
        ("facebook", "paid_social", "winter_ads")
    ]


def test_funnel_from_ga4_events_alone(cli: Callable[..., Any]) -> None:
    assert cli("import", str(GA4_EVENTS), "--profile", "ga4", "--json").exit_code == 0
    first: dict[str, dict[str, int]] = {}
    for record in _ga4_records():
        session = f"{record['user_pseudo_id']}.{_param(record, 'ga_session_id')}"
        step = GA4_TYPES.get(record["event_name"])
        if step in ("view", "cart", "checkout", "order"):
            at = int(record["event_timestamp"])
            steps = first.setdefault(session, {})
            steps[step] = min(steps.get(step, at), at)
    expected = []
    for index, step in enumerate(("view", "cart", "checkout", "order")):
        chain = ("view", "cart", "checkout", "order")[: index + 1]
        reached = [
            s
            for s in first.values()
            if all(c in s for c in chain) and all(s[a] <= s[b] for a, b in itertools.pairwise(chain))
        ]
        expected.append((step, len(reached)))
    result = cli("funnel", "--json")
    assert result.exit_code == 0, result.stderr
    assert [(s["step"], s["sessions"]) for s in result.json()["steps"]] == expected
    assert expected == [("view", 5), ("cart", 3), ("checkout", 2), ("order", 1)]  # read off the fixture by hand
    # Events are not sessions: the sessions question needs a sessions export.
    no_sessions = cli("sessions", "--json")
    assert no_sessions.exit_code == 2
    assert no_sessions.stderr.strip() == (
        "error: no sessions in the warehouse: import a sessions export (e.g. --profile shoppers-sessions)"
    )


EVENTS_MAPPING = """
columns:
  session_id: Session
  at: Time
  type: Event
  page: URL
  source: utm_source
  medium: utm_medium
  campaign: utm_campaign
  device: Device
  email: Visitor e-mail
date_format: "%d/%m/%Y %H:%M:%S"
timezone: Europe/London
"""


def test_events_of_any_tracker_by_a_mapping(cli: Callable[..., Any], tmp_path: Path) -> None:
    rows = [
        ["Session", "Time", "Event", "URL", "utm_source", "utm_medium", "utm_campaign", "Device", "Visitor e-mail"],
        ["s-1", "01/07/2024 10:00:00", "view", "/p/1", "google", "cpc", "summer", "mobile", "ann@example.com"],
        ["s-1", "01/07/2024 10:02:00", "cart", "/p/1", "google", "cpc", "summer", "mobile", "ann@example.com"],
        ["s-1", "01/07/2024 10:02:00", "cart", "/p/1", "google", "cpc", "summer", "mobile", "ann@example.com"],
        ["s-2", "01/07/2024 11:00:00", "view", "/", "", "", "", "desktop", ""],
        ["s-2", "31/13/2024 11:00:00", "view", "/", "", "", "", "desktop", ""],
    ]
    data, mapping = tmp_path / "tracker.csv", tmp_path / "tracker.yaml"
    with data.open("w", newline="") as handle:
        csv.writer(handle).writerows(rows)
    mapping.write_text(EVENTS_MAPPING)
    summary = cli("import", str(data), "--profile", "events", "--mapping", str(mapping), "--json").json()
    # The two identical cart rows are two events; the impossible date is quarantined.
    assert (summary["rows_read"], summary["rows_loaded"], summary["rows_quarantined"]) == (5, 4, 1)
    home = tmp_path / "home"
    assert fetch(home, "SELECT type, count(*), count(DISTINCT event_id) FROM events GROUP BY type ORDER BY type") == [
        ("cart", 2, 2),
        ("view", 2, 2),
    ]
    # London summer time: 10:00 local is 09:00 UTC.
    assert fetch(home, 'SELECT min("at") FROM events')[0][0].isoformat() == "2024-07-01T09:00:00"
    assert fetch(home, "SELECT count(*) FROM events WHERE customer_key IS NOT NULL") == [(3,)]
    stored = json.dumps(fetch(home, "SELECT * FROM events"), default=str)
    assert "ann@example.com" not in stored
    again = cli("import", str(data), "--profile", "events", "--mapping", str(mapping), "--json").json()
    assert (again["rows_loaded"], again["rows_duplicate"]) == (0, 4)


def test_an_events_mapping_without_a_session_is_refused(cli: Callable[..., Any], tmp_path: Path) -> None:
    data, mapping = tmp_path / "tracker.csv", tmp_path / "tracker.yaml"
    data.write_text("Time,Event\n2024-07-01 10:00:00,view\n")
    mapping.write_text("columns:\n  at: Time\n  type: Event\n")
    result = cli("import", str(data), "--profile", "events", "--mapping", str(mapping), "--json")
    assert result.exit_code == 2
    assert "mapping: columns must map the required events column(s) session_id" in result.stderr


@pytest.fixture(scope="module")
def shoppers() -> pd.DataFrame:
    with gzip.open(SHOPPERS, "rt") as handle:
        return pd.read_csv(handle, dtype=str)


def test_shoppers_sessions_every_row_once(cli: Callable[..., Any], tmp_path: Path, shoppers: pd.DataFrame) -> None:
    summary = cli("import", str(SHOPPERS), "--profile", "shoppers-sessions", "--json").json()
    assert summary["rows_read"] == len(shoppers) == 12_330
    assert (summary["rows_loaded"], summary["rows_duplicate"], summary["rows_quarantined"]) == (12_330, 0, 0)
    assert shoppers.duplicated().sum() == 125  # identical rows, each a different visitor's session
    home = tmp_path / "home"
    assert fetch(home, "SELECT count(DISTINCT session_id), count(*) FILTER (WHERE converted) FROM sessions") == [
        (12_330, 1_908)
    ]
    by_type = fetch(home, "SELECT visitor_type, count(*), count(*) FILTER (WHERE converted) FROM sessions GROUP BY 1")
    names = {"Returning_Visitor": "returning", "New_Visitor": "new", "Other": "other"}
    expected = {
        (names[kind], len(group), int((group["Revenue"] == "TRUE").sum()))
        for kind, group in shoppers.groupby("VisitorType")
    }
    assert set(by_type) == expected
    # The published conversion: 1,908 of 12,330 sessions, 15.47%.
    assert fetch(home, "SELECT round(avg(CAST(converted AS INTEGER)) * 100, 2) FROM sessions") == [(15.47,)]
    months = Counter(m[:3] for m in shoppers["Month"])
    assert dict(fetch(home, "SELECT month, count(*) FROM sessions GROUP BY 1")) == dict(months)
    assert fetch(home, "SELECT count(*) FROM sessions WHERE started_at IS NOT NULL OR customer_key IS NOT NULL") == [
        (0,)
    ]
    assert fetch(home, "SELECT sum(product_pages), round(sum(bounce_rate), 6) FROM sessions") == [
        (shoppers["ProductRelated"].astype(int).sum(), round(shoppers["BounceRates"].astype(float).sum(), 6))
    ]
    again = cli("import", str(SHOPPERS), "--profile", "shoppers-sessions", "--json").json()
    assert (again["rows_loaded"], again["rows_duplicate"]) == (0, 12_330)
    answer = cli("sessions", "--by", "visitor_type", "--json").json()
    assert (answer["total"]["sessions"], answer["total"]["converted"]) == (12_330, 1_908)
    assert answer["total"]["conversion"] == pytest.approx(1_908 / 12_330, abs=1e-6)
    assert {(g["group"], g["sessions"], g["converted"]) for g in answer["groups"]} == expected


@pytest.mark.parametrize("kind", ["ga4-jsonl", "ga4-parquet", "shoppers", "canonical-events"])
def test_web_exports_are_recognised_without_a_profile(cli: Callable[..., Any], tmp_path: Path, kind: str) -> None:
    canonical = tmp_path / "events.csv"
    canonical.write_text("session_id,type,at,page\ns-1,view,2024-07-01 10:00:00,/\n")
    path, profile = {
        "ga4-jsonl": (GA4_EVENTS, "ga4"),
        "ga4-parquet": (_ga4_parquet(tmp_path / "events.parquet"), "ga4"),
        "shoppers": (SHOPPERS, "shoppers-sessions"),
        "canonical-events": (canonical, "events"),
    }[kind]
    result = cli("import", str(path), "--json")
    assert result.exit_code == 0, result.stderr
    assert result.json()["profile"] == profile


def test_web_tables_on_each_warehouse_engine(cli: Callable[..., Any], warehouse_engine: str) -> None:
    events = cli("import", str(GA4_EVENTS), "--profile", "ga4", "--json")
    assert events.exit_code == 0, events.stderr
    assert events.json()["rows_loaded"] == len(_ga4_records())
    sessions = cli("import", str(SHOPPERS), "--profile", "shoppers-sessions", "--json")
    assert sessions.exit_code == 0, sessions.stderr
    assert sessions.json()["rows_loaded"] == 12_330
    steps = cli("funnel", "--json").json()["steps"]
    assert [(s["step"], s["sessions"]) for s in steps] == [("view", 5), ("cart", 3), ("checkout", 2), ("order", 1)]
    total = cli("sessions", "--json").json()["total"]
    assert (total["sessions"], total["converted"]) == (12_330, 1_908)
    again = cli("import", str(SHOPPERS), "--profile", "shoppers-sessions", "--json").json()
    assert (again["rows_loaded"], again["rows_duplicate"]) == (0, 12_330)
