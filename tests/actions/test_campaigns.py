"""Retention campaigns: the seeded split, the balance and power checks, the CUPED estimator on simulated
campaigns with a planted effect, and the command line on a demo store (audience export, measurement, shapes)."""

from __future__ import annotations

import csv
import math
import shutil
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.power import NormalIndPower
from tests.conftest import DEMO_END, build_demo_store, fetch, run_cli

from shoplens.actions import (
    Member,
    PrePeriod,
    Window,
    assign_holdout,
    balance_check,
    cuped_difference,
    measure,
    minimum_detectable_effect,
    standardised_mean_difference,
)
from shoplens.appdb import AppDatabase
from shoplens.config import SECRET_FILE, Settings
from shoplens.metrics import NOT_PURCHASED_STATUSES, SEGMENT_NAMES
from shoplens.web import add_user

# --- the split ---------------------------------------------------------------------------------------------------


def test_the_holdout_is_reproducible_from_the_seed_whatever_order_the_keys_come_in() -> None:
    keys = [f"c_{i:03d}" for i in range(200)]
    treatment, holdout = assign_holdout(keys, 0.2, seed=42)
    again = assign_holdout(list(reversed(keys)) + keys[:10], 0.2, seed=42)  # other order, duplicates
    assert (treatment, holdout) == again
    assert len(holdout) == 40
    assert len(treatment) == 160
    assert set(treatment).isdisjoint(holdout)
    assert set(treatment) | set(holdout) == set(keys)
    # The documented algorithm, written out: sorted keys, one permutation from the seed, the first 40 held out.
    permutation = np.random.default_rng(42).permutation(200)
    assert holdout == sorted(sorted(keys)[i] for i in permutation[:40])
    assert assign_holdout(keys, 0.2, seed=43)[1] != holdout


# --- balance and power -------------------------------------------------------------------------------------------


def test_the_standardised_mean_difference_of_a_hand_made_example() -> None:
    # means 2 and 3, sample variances 1 and 1: SMD = (2 - 3) / sqrt((1 + 1) / 2) = -1
    assert standardised_mean_difference([1, 2, 3], [2, 3, 4]) == pytest.approx(-1.0)
    # means 5 and 4, sample variances 49 and 1: SMD = (5 - 4) / sqrt((49 + 1) / 2) = 1 / 5 = 0.2
    assert standardised_mean_difference([-2, 5, 12], [3, 4, 5]) == pytest.approx(0.2)


def test_the_balance_check_warns_only_when_a_group_differs_by_more_than_a_tenth_of_a_standard_deviation() -> None:
    even = [PrePeriod(orders=o, revenue=r) for o, r in [(1, 10.0), (2, 20.0), (3, 30.0)] * 10]
    balanced = balance_check(even, list(even))
    assert balanced["balanced"]
    assert balanced["warnings"] == []
    assert balanced["smd_revenue"] == 0.0
    richer = [PrePeriod(orders=o, revenue=r + 10.0) for o, r in [(1, 10.0), (2, 20.0), (3, 30.0)] * 10]
    # revenue: means 30 vs 20, sd 8.30 in both -> SMD 1.2; orders are equal -> SMD 0
    found = balance_check(richer, even)
    assert not found["balanced"]
    assert found["smd_revenue"] == pytest.approx(10 / np.std([10.0, 20.0, 30.0] * 10, ddof=1), abs=1e-4)
    assert found["smd_orders"] == 0.0
    assert len(found["warnings"]) == 1
    assert "pre-period revenue" in found["warnings"][0]


def test_the_minimum_detectable_repeat_rate_matches_statsmodels_power_analysis() -> None:
    # Everyone ordered once in the pre-period; over a 365-day window each orders again with p = 1 - e^-1.
    members = [PrePeriod(orders=1, revenue=50.0, squared_order_values=2500.0)] * 400
    treatment, holdout = members[:320], members[320:]
    found = minimum_detectable_effect(treatment, holdout, window_days=365, expected_uplift=0.1)
    p = 1 - math.exp(-1)
    standardised = NormalIndPower().solve_power(nobs1=320, ratio=80 / 320, alpha=0.05, power=0.8)
    assert found["repeat_rate"]["baseline"] == pytest.approx(p, abs=1e-6)
    assert found["repeat_rate"]["absolute"] == pytest.approx(standardised * math.sqrt(p * (1 - p)), rel=1e-3)
    # Revenue: no spread between members, the compound-Poisson variance is 2500 per member.
    assert found["revenue"]["absolute"] == pytest.approx(standardised * 50.0, rel=1e-3)
    # Detecting 10 % of p needs (MDE / 0.1 p)^2 times the 400 customers, split the same way.
    needed = 400 * (standardised * math.sqrt(p * (1 - p)) / (0.1 * p)) ** 2
    assert found["repeat_rate"]["customers_needed"] == pytest.approx(needed, abs=1.0)
    bigger = math.ceil(needed)
    again = minimum_detectable_effect(members[:1] * (bigger * 4 // 5), members[:1] * (bigger // 5 + 1), window_days=365)
    assert again["repeat_rate"]["relative"] <= 0.1 + 1e-3  # that many customers do detect a 10 % uplift
    # A 10 % uplift (6.3 points) is below the ~17-point MDE of 80 held out: both outcomes warn.
    assert len(found["warnings"]) == 2
    assert "too small for a 10% uplift in repeat rate" in found["warnings"][0]


# --- the estimator on simulated campaigns with a planted effect ---------------------------------------------------

PLANTED_REPEAT_RATE = 0.05
PLANTED_REVENUE = 5.0
RUNS = 100


def _simulated_campaign(seed: int) -> tuple[list[Member], dict[str, dict[str, float]]]:
    """1,000 members split 80/20 by :func:`assign_holdout`; each has a pre-period order rate, and in the window
    orders with probability p + 0.05 (treated) or p (held out), and spends 0.1 x pre-period revenue plus noise,
    plus 5.00 when treated. So the true uplifts are exactly 0.05 and 5.00."""
    rng = np.random.default_rng([seed, 2025])  # a stream apart from the split's, which uses the seed alone
    keys = [f"c_{i:04d}" for i in range(1000)]
    treatment, _ = assign_holdout(keys, 0.2, seed=seed)
    treated = set(treatment)
    rates = rng.gamma(2.0, 1.0, size=1000)
    pre_orders = rng.poisson(rates)
    pre_revenue = pre_orders * rng.gamma(4.0, 12.5, size=1000)
    chance = 0.9 * (1 - np.exp(-rates * 30 / 365 * 4))  # at most 0.9, so p + 0.05 stays a probability
    members, outcomes = [], {}
    for i, key in enumerate(keys):
        arm = "treatment" if key in treated else "holdout"
        lift = 1.0 if arm == "treatment" else 0.0
        ordered = rng.random() < chance[i] + PLANTED_REPEAT_RATE * lift
        revenue = 0.1 * pre_revenue[i] + rng.normal(0.0, 10.0) + PLANTED_REVENUE * lift
        members.append(Member(key, arm, int(pre_orders[i]), float(pre_revenue[i])))
        outcomes[key] = {"orders": 1.0 if ordered else 0.0, "revenue": float(revenue)}
    return members, outcomes


@pytest.fixture(scope="module")
def simulations() -> list[dict[str, Any]]:
    window = Window(date(2025, 1, 1), date(2025, 1, 30), date(2025, 2, 28))
    return [measure(*_simulated_campaign(seed), window) for seed in range(RUNS)]


@pytest.mark.parametrize(("outcome", "planted"), [("repeat_rate", PLANTED_REPEAT_RATE), ("revenue", PLANTED_REVENUE)])
def test_the_95_percent_interval_covers_the_planted_effect_in_at_least_90_of_100_campaigns(
    simulations: list[dict[str, Any]], outcome: str, planted: float
) -> None:
    found = [run["uplift"][outcome] for run in simulations]
    covered = sum(1 for u in found if u["low"] <= planted <= u["high"])
    unadjusted = sum(1 for u in found if u["unadjusted"]["low"] <= planted <= u["unadjusted"]["high"])
    cuped_width = float(np.mean([u["width"] for u in found]))
    plain_width = float(np.mean([u["unadjusted_width"] for u in found]))
    print(f"{outcome}: CUPED covers {covered}/100, unadjusted {unadjusted}/100; widths {cuped_width} {plain_width}")
    assert covered >= 90
    assert unadjusted >= 90
    assert cuped_width < plain_width  # the pre-period explains part of the outcome, so the interval narrows


def test_cuped_narrows_a_hand_made_interval_and_keeps_the_difference() -> None:
    # y = x + 1 (treated) or y = x (held out): theta = cov/var is close to 1 and the adjusted spread vanishes.
    x_t, x_h = [1.0, 2.0, 3.0, 4.0], [1.0, 2.0, 3.0, 4.0]
    found = cuped_difference([v + 1 for v in x_t], x_h, x_t, x_h)
    assert found.adjusted.estimate == pytest.approx(1.0)
    assert found.unadjusted.estimate == pytest.approx(1.0)
    assert found.adjusted.width < found.unadjusted.width


def test_a_measure_says_plainly_when_the_difference_is_not_significant() -> None:
    members = [Member(f"c_{i}", "treatment" if i % 2 else "holdout", 1, 10.0) for i in range(40)]
    outcomes = {f"c_{i}": {"orders": float(i % 4 == 0 or i % 4 == 1), "revenue": 10.0} for i in range(40)}
    # both arms: half of the members ordered (i % 4 in {0, 1} hits one even and one odd i in every four)
    found = measure(members, outcomes, Window(date(2025, 1, 1), date(2025, 1, 30), date(2025, 1, 10)))
    assert found["uplift"]["repeat_rate"]["estimate"] == pytest.approx(0.0)
    assert found["significant"] is False
    assert found["message"].startswith("not significant")
    assert found["complete"] is False
    assert "10 of 30 days measured" in found["message"]


# --- the command line on a demo store ----------------------------------------------------------------------------

PAST_START = (date.fromisoformat(DEMO_END) - timedelta(days=90)).isoformat()


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_demo_store(tmp_path_factory.mktemp("campaigns") / "home", customers=400, seed=11)


def _largest_segment(home: Path) -> tuple[str, int]:
    segments = run_cli(home, "rfm", "--json").json()["segments"]
    biggest = max(segments, key=lambda s: s["customers"])
    return biggest["segment"], int(biggest["customers"])


def _audit_rows(home: Path) -> list[Any]:
    db = AppDatabase(Settings(home=home).app_database_url)
    try:
        return list(db.audit_rows())
    finally:
        db.close()


def test_create_splits_the_whole_segment_reproducibly_and_prints_the_contract_shape(store: Path) -> None:
    segment, size = _largest_segment(store)
    first = run_cli(store, "campaign", "create", "--segment", segment, "--seed", "7", "--json")
    assert first.exit_code == 0, first.stderr
    created = first.json()
    assert {"campaign_id", "treatment", "holdout", "seed", "mde"} <= set(created)
    assert created["seed"] == 7
    assert len(created["treatment"]) + len(created["holdout"]) == size  # every member of the segment, as rfm counts
    assert len(created["holdout"]) == round(0.2 * size)
    assert set(created["treatment"]).isdisjoint(created["holdout"])
    assert {"smd_revenue", "smd_orders", "balanced"} <= set(created["balance"])
    assert {"absolute", "relative", "baseline"} <= set(created["mde"]["repeat_rate"])
    again = run_cli(store, "campaign", "create", "--segment", segment.upper(), "--seed", "7", "--json").json()
    assert (again["treatment"], again["holdout"]) == (created["treatment"], created["holdout"])
    assert again["campaign_id"] != created["campaign_id"]
    listed = run_cli(store, "campaign", "list", "--json").json()["campaigns"]
    assert {created["campaign_id"], again["campaign_id"]} <= {c["campaign_id"] for c in listed}


def test_an_unknown_segment_exits_2_naming_the_valid_ones(store: Path) -> None:
    result = run_cli(store, "campaign", "create", "--segment", "Big spenders", "--json")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("error: unknown segment 'Big spenders'; choose one of: ")
    assert all(name in result.stderr for name in SEGMENT_NAMES)
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_lifecycle_state_is_a_group_too(store: Path) -> None:
    states = {s["state"]: s["customers"] for s in run_cli(store, "lifecycle", "--json").json()["states"]}
    created = run_cli(store, "campaign", "create", "--lifecycle", "At Risk", "--seed", "3", "--json")
    assert created.exit_code == 0, created.stderr
    group = created.json()
    assert group["segment"] == "lifecycle: at risk"
    assert len(group["treatment"]) + len(group["holdout"]) == states["at risk"]  # as `shoplens lifecycle` counts
    both = run_cli(store, "campaign", "create", "--lifecycle", "lapsed", "--segment", "Lost")
    assert (both.exit_code, both.stderr.strip()) == (
        2,
        "error: give the group to target: --segment NAME, --lifecycle STATE, --churn-risk BAND or --keys FILE "
        "(one of them)",
    )
    unknown = run_cli(store, "campaign", "create", "--lifecycle", "sleeping")
    assert unknown.stderr.strip() == (
        "error: unknown lifecycle state 'sleeping'; choose one of: new, active, reactivated, at risk, lapsed"
    )


def test_a_churn_risk_band_is_a_group_too(store: Path) -> None:
    predicted = run_cli(store, "clv", "predict", "--horizon", "90", "--json")
    assert predicted.exit_code == 0, predicted.stderr
    high = {row["customer_key"] for row in predicted.json()["rows"] if row["churn_risk"] == "high"}
    created = run_cli(store, "campaign", "create", "--churn-risk", "high", "--seed", "5", "--json")
    assert created.exit_code == 0, created.stderr
    group = created.json()
    assert group["segment"] == "churn risk: high"
    assert set(group["treatment"]) | set(group["holdout"]) == high  # as `clv predict --horizon 90` bands them
    past = run_cli(store, "campaign", "create", "--churn-risk", "high", "--as-of", PAST_START)
    assert past.stderr.strip() == "error: --churn-risk bands are predicted as of the data end: leave out --as-of"


def test_a_saved_list_of_keys_is_a_group_too(store: Path, tmp_path: Path) -> None:
    listing = run_cli(store, "rfm", "--json")  # any real customers: the first 30 keys of the customer list
    assert listing.exit_code == 0
    keys = sorted(row[0] for row in fetch(store, "SELECT customer_key FROM customers ORDER BY customer_key LIMIT 30"))
    saved = tmp_path / "vip.csv"
    saved.write_text("customer_key,note\n" + "".join(f"{key},x\n" for key in keys) + f"{keys[0]},again\n")
    created = run_cli(store, "campaign", "create", "--keys", str(saved), "--seed", "2", "--json")
    assert created.exit_code == 0, created.stderr
    group = created.json()
    assert group["segment"] == "list: vip.csv"
    assert sorted(group["treatment"] + group["holdout"]) == keys  # every listed key once
    stranger = tmp_path / "stranger.txt"
    stranger.write_text(f"{keys[0]}\nc_{'0' * 20}\n")
    refused = run_cli(store, "campaign", "create", "--keys", str(stranger))
    assert refused.stderr.strip() == "error: --keys stranger.txt: 1 of 2 keys are not customers of this store"
    junk = tmp_path / "junk.txt"
    junk.write_text("someone@example.org\n")
    bad = run_cli(store, "campaign", "create", "--keys", str(junk))
    assert bad.stderr.strip() == "error: --keys junk.txt: 1 line(s) are not customer keys (c_ and 20 hex digits)"


def _window_orders(home: Path, first_day: date, last_day: date) -> set[str]:
    """Customers with a purchase (not a cancelled or voided order) on UTC days [first_day, last_day]."""
    rows = fetch(home, "SELECT customer_key, ordered_at, status FROM orders WHERE customer_key IS NOT NULL")
    frame = pd.DataFrame(rows, columns=["customer_key", "ordered_at", "status"])
    frame = frame[~frame.status.fillna("").str.strip().str.lower().isin(NOT_PURCHASED_STATUSES)]
    days = pd.to_datetime(frame.ordered_at).dt.date
    return set(frame[(days >= first_day) & (days <= last_day)].customer_key)


def test_measure_a_past_campaign_against_an_independent_count(store: Path) -> None:
    segment, _ = _largest_segment(store)
    created = run_cli(store, "campaign", "create", "--segment", segment, "--as-of", PAST_START, "--json").json()
    result = run_cli(store, "campaign", "measure", created["campaign_id"], "--json")
    assert result.exit_code == 0, result.stderr
    found = result.json()
    assert found["complete"] is True
    assert found["window"]["days_measured"] == 30
    assert isinstance(found["significant"], bool)
    for outcome in ("repeat_rate", "revenue"):
        assert {"estimate", "low", "high", "unadjusted_width", "width"} <= set(found["uplift"][outcome])
    start = date.fromisoformat(PAST_START)
    bought = _window_orders(store, start + timedelta(days=1), start + timedelta(days=30))
    treatment, holdout = created["treatment"], created["holdout"]
    repeat = found["uplift"]["repeat_rate"]
    assert repeat["treatment_mean"] == pytest.approx(len(bought & set(treatment)) / len(treatment), abs=1e-6)
    assert repeat["holdout_mean"] == pytest.approx(len(bought & set(holdout)) / len(holdout), abs=1e-6)
    assert repeat["unadjusted"]["estimate"] == pytest.approx(repeat["treatment_mean"] - repeat["holdout_mean"])


def test_measure_before_the_window_has_data_says_so(store: Path) -> None:
    segment, _ = _largest_segment(store)
    created = run_cli(store, "campaign", "create", "--segment", segment, "--json").json()
    found = run_cli(store, "campaign", "measure", created["campaign_id"], "--json").json()
    assert found["complete"] is False
    assert found["window"]["days_measured"] == 0
    assert found["message"].startswith("the campaign window has no data yet")
    assert run_cli(store, "campaign", "measure", "cmp-nothing", "--json").exit_code == 2


def test_the_audience_holds_only_consented_treatment_customers_and_writes_one_audit_entry(
    store: Path, tmp_path: Path
) -> None:
    segment, _ = _largest_segment(store)
    created = run_cli(store, "campaign", "create", "--segment", segment, "--seed", "3", "--json").json()
    before = len(_audit_rows(store))
    out = tmp_path / "audience.csv"
    result = run_cli(store, "campaign", "audience", created["campaign_id"], "--out", str(out), "--json")
    assert result.exit_code == 0, result.stderr
    with out.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert rows
    assert {"customer_key", "email", "first_name", "segment", "tags"} <= set(rows[0])
    exported = {row["customer_key"] for row in rows}
    consented = {key for (key,) in fetch(store, "SELECT customer_key FROM customers WHERE consent_marketing")}
    with_email = {key for (key,) in fetch(store, "SELECT customer_key FROM customer_pii WHERE email IS NOT NULL")}
    assert exported <= consented
    assert exported.isdisjoint(created["holdout"])
    assert exported == set(created["treatment"]) & consented & with_email
    assert len(created["treatment"]) > len(exported)  # the demo has treatment customers without consent
    assert all(row["segment"] == segment for row in rows)
    entries = _audit_rows(store)[before:]
    assert len(entries) == 1
    assert entries[0].action == "campaign.audience_export"
    assert entries[0].actor == "cli"
    assert '"os_user"' in entries[0].details
    assert f'"released":{len(rows)}' in entries[0].details
    assert result.json()["audit_entry"] == entries[0].id
    assert oct(out.stat().st_mode & 0o777) == "0o600"


def test_only_owners_and_marketers_may_export_an_audience(store: Path, tmp_path: Path) -> None:
    segment, _ = _largest_segment(store)
    created = run_cli(store, "campaign", "create", "--segment", segment, "--json").json()
    db = AppDatabase(Settings(home=store).app_database_url)
    try:
        add_user(db, "analyst@shop.example", "a long password", "analyst")
        marketer = add_user(db, "marketer@shop.example", "a long password", "marketer")
    finally:
        db.close()
    before = len(_audit_rows(store))
    out = tmp_path / "a.csv"
    refused = run_cli(
        store, "campaign", "audience", created["campaign_id"], "--out", str(out), "--as", "analyst@shop.example"
    )
    assert refused.exit_code == 2
    assert refused.stderr.strip() == "error: the role 'analyst' may not export audiences; only owner and marketer may"
    assert not out.exists()
    assert len(_audit_rows(store)) == before
    allowed = run_cli(
        store, "campaign", "audience", created["campaign_id"], "--out", str(out), "--as", "marketer@shop.example",
        "--format", "mailchimp", "--json",
    )  # fmt: skip
    assert allowed.exit_code == 0, allowed.stderr
    assert allowed.json()["exported_by"] == f"user:{marketer.user_id}"
    assert _audit_rows(store)[-1].actor == f"user:{marketer.user_id}"


def test_margin_is_measured_only_when_every_cost_is_known() -> None:
    members = [Member("a", "treatment", 1, 10.0), Member("b", "treatment", 1, 10.0), Member("c", "holdout", 1, 10.0)]
    known = {
        "a": {"orders": 1.0, "revenue": 30.0, "cost": 10.0},  # margin 20
        "b": {"orders": 1.0, "revenue": 50.0, "cost": 30.0},  # margin 20
        "c": {"orders": 1.0, "revenue": 40.0, "cost": 35.0},  # margin 5
    }
    window = Window(date(2025, 1, 1), date(2025, 1, 30), date(2025, 1, 30))
    found = measure(members, known, window)
    assert found["uplift"]["margin"]["unadjusted"]["estimate"] == pytest.approx(20.0 - 5.0)
    unknown = {**known, "c": {**known["c"], "lines_without_cost": 2.0}}
    without = measure(members, unknown, window)
    assert "margin" not in without["uplift"]
    assert without["notes"][0] == "no margin: 2 order line(s) in the window have no known product cost"
    # All pre-periods are equal, so theta is 0 and CUPED cannot narrow anything: the notes say so.
    assert without["notes"][1].startswith("repeat rate: the pre-period predicts little of the window here")


@pytest.mark.parametrize("command", ["create", "measure", "audience", "list"])
def test_every_campaign_command_has_help_and_json(cli: Any, command: str) -> None:
    result = cli("campaign", command, "--help")
    assert result.exit_code == 0
    assert "--json" in result.stdout


def test_bad_arguments_exit_2_with_one_line(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    no_data = run_cli(empty, "campaign", "create", "--segment", "At risk", "--json")
    assert no_data.exit_code == 2
    assert no_data.stderr.startswith("error: the store has no data yet")
    bad_share = run_cli(empty, "campaign", "create", "--segment", "At risk", "--holdout", "1.5")
    assert bad_share.exit_code == 2
    assert bad_share.stderr.strip() == "error: --holdout must be between 0 and 1 (e.g. 0.2 for a fifth)"
    bad_format = run_cli(empty, "campaign", "audience", "cmp-x", "--out", str(tmp_path / "a.csv"), "--format", "xls")
    assert bad_format.exit_code == 2
    assert bad_format.stderr.strip() == "error: --format must be one of klaviyo, mailchimp"
    assert run_cli(empty, "campaign", "list", "--json").json() == {"campaigns": []}


@pytest.mark.postgres
def test_postgres_splits_and_measures_as_duckdb_does(
    store: Path, tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    segment, _ = _largest_segment(store)
    args = ("campaign", "create", "--segment", segment, "--seed", "5", "--as-of", PAST_START, "--json")
    on_duckdb = run_cli(store, *args).json()
    measured_duckdb = run_cli(store, "campaign", "measure", on_duckdb["campaign_id"], "--json").json()
    home = tmp_path / "pg-home"
    home.mkdir()
    shutil.copy(store / SECRET_FILE, home / SECRET_FILE)  # the same store secret gives the same customer keys
    monkeypatch.setenv("SHOPLENS_WAREHOUSE_URL", postgres_url)
    build_demo_store(home, customers=400, seed=11)
    on_postgres = run_cli(home, *args).json()
    assert (on_postgres["treatment"], on_postgres["holdout"]) == (on_duckdb["treatment"], on_duckdb["holdout"])
    assert on_postgres["balance"] == on_duckdb["balance"]
    measured = run_cli(home, "campaign", "measure", on_postgres["campaign_id"], "--json").json()
    for outcome, found in measured_duckdb["uplift"].items():
        assert measured["uplift"][outcome]["estimate"] == pytest.approx(found["estimate"], abs=1e-6)
        assert measured["uplift"][outcome]["width"] == pytest.approx(found["width"], abs=1e-6)
