"""Joint plans with partners: a plan's shared KPIs paced on the hand-made June of the targets' tests, the exact
messages of bad input, and one audit entry per change."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tests.actions.test_targets import _hand_made_store

from shoplens.appdb import AppDatabase, PartnerPlanKpi
from shoplens.web._auth import add_user


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return _hand_made_store(tmp_path / "home")


def _create(cli: Callable[..., Any], home: Path, *extra: str) -> Any:
    return cli(
        "plans",
        "create",
        "--partner",
        "Acme Teas",
        "--kind",
        "supplier",
        "--starts",
        "2025-06-01",
        "--ends",
        "2025-06-30",
        *extra,
        "--json",
        home_dir=home,
    )


SHARED = (
    "--goal",
    "Sell more tea online",
    "--goal",
    "Answer product questions within a day",
    "--dataset",
    "segment_preferences",
    "--dataset",
    "product_affinity",
    "--kpi",
    "revenue:2025-06:4000",
    "--kpi",
    "orders:2025-06:25",
    "--kpi",
    "aov:2025-06:150",
    "--kpi",
    "revenue:2025-06:3000:web",
)


def test_a_plans_kpis_pace_as_the_hand_made_june(cli: Callable[..., Any], store: Path) -> None:
    created = _create(cli, store, *SHARED)
    assert created.exit_code == 0, created.stderr
    plan = created.json()["plan"]
    assert (plan["plan_id"], plan["partner"], plan["kind"]) == (1, "Acme Teas", "supplier")
    assert plan["goals"] == ["Sell more tea online", "Answer product questions within a day"]
    assert plan["datasets"] == ["segment_preferences", "product_affinity"]
    progress = cli("plans", "progress", "1", "--json", home_dir=store)
    assert progress.exit_code == 0, progress.stderr
    document = progress.json()
    assert (document["plan_id"], document["method"], document["as_of"]) == (1, "weekday_run_rate", "2025-06-08")
    rows = {(row["kpi"], row["channel"]): row for row in document["kpis"]}
    # The hand-made June (tests/actions/test_targets.py): 1 to 8 June are Sun 200 + Mon-Fri 5 x 100 + Sat 200 +
    # Sun 200 = 1,100; weekday factors 7/9, weekend 14/9 from the 56 days before; the 22 days left weigh 196/9, so
    # 1,100 + 1,100 / (77/9) x 196/9 = 1,100 + 2,800 = 3,900, short of 4,000 and over 3,000 on the web channel.
    revenue = rows[("revenue", None)]
    assert (revenue["actual"], revenue["projected"], revenue["on_track"]) == (1100.0, pytest.approx(3900.0), False)
    assert (revenue["days_elapsed"], revenue["days_in_period"]) == (8, 30)
    web = rows[("revenue", "web")]
    assert (web["projected"], web["on_track"]) == (pytest.approx(3900.0), True)
    # one order a day, weekdays alike: 8 to date + 22 to come = 30 against 25
    assert (rows[("orders", None)]["projected"], rows[("orders", None)]["on_track"]) == (pytest.approx(30.0), True)
    # AOV to date: 1,100 / 8 orders = 137.50, short of 150
    assert (rows[("aov", None)]["projected"], rows[("aov", None)]["on_track"]) == (pytest.approx(137.5), False)
    # each order is a new customer: 8 customers behind June so far
    assert {row["customers"] for row in document["kpis"]} == {8}
    # the same numbers as a target would have: set the same targets and pace them
    for kpi, value in (("revenue", "4000"), ("orders", "25"), ("aov", "150")):
        assert (
            cli("targets", "set", "--kpi", kpi, "--period", "2025-06", "--value", value, home_dir=store).exit_code == 0
        )
    pacing = {row["kpi"]: row for row in cli("targets", "pacing", "--json", home_dir=store).json()["targets"]}
    for kpi in ("revenue", "orders", "aov"):
        plan_row = {key: value for key, value in rows[(kpi, None)].items() if key != "customers"}
        assert plan_row == pacing[kpi]


def test_changes_are_audited_without_names(cli: Callable[..., Any], store: Path) -> None:
    assert _create(cli, store, *SHARED).json()["audit_entry"] == 1
    deleted = cli("plans", "delete", "1", "--json", home_dir=store)
    assert deleted.exit_code == 0, deleted.stderr
    assert deleted.json() == {"deleted": {"plan_id": 1}, "audit_entry": 2}
    entries = cli("audit", "list", "--json", home_dir=store).json()["entries"]
    assert [(e["action"], e["actor"]) for e in entries] == [("plan.delete", "cli"), ("plan.create", "cli")]
    expected = {
        "plan_id": 1,
        "partner_kind": "supplier",
        "datasets": ["segment_preferences", "product_affinity"],
        "kpis": 4,
        "partner_account": False,
    }
    assert [e["details"] for e in entries] == [expected, expected]
    assert "Acme" not in str(entries)
    assert cli("audit", "verify", "--json", home_dir=store).json()["ok"] is True
    assert cli("plans", "list", "--json", home_dir=store).json() == {"plans": []}
    database = AppDatabase(f"sqlite:///{store / 'app.db'}")
    try:
        with database.session() as session:
            assert session.query(PartnerPlanKpi).count() == 0  # the KPIs went with the plan
    finally:
        database.close()


def test_a_partner_account_must_be_a_vendor(cli: Callable[..., Any], store: Path) -> None:
    database = AppDatabase(f"sqlite:///{store / 'app.db'}")
    try:
        add_user(database, "designer@studio.example", "a-long-password", "vendor")
        add_user(database, "analyst@shop.example", "a-long-password", "analyst")
    finally:
        database.close()
    refused = _create(cli, store, "--partner-account", "analyst@shop.example")
    assert (refused.exit_code, refused.stderr.strip()) == (
        2,
        "error: --partner-account must be the e-mail of an active vendor account (shoplens user add E --role vendor)",
    )
    linked = _create(cli, store, "--partner-account", "Designer@Studio.example")
    assert linked.exit_code == 0, linked.stderr
    assert linked.json()["plan"]["partner_account"] == "designer@studio.example"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--kind", "bank"],
            "error: unknown partner kind 'bank'; choose one of: supplier, marketplace, web_designer, other",
        ),
        (["--ends", "2025-05-31"], "error: the plan ends (2025-05-31) before it starts (2025-06-01)"),
        (["--starts", "June"], "error: --starts must be a date as YYYY-MM-DD (such as 2026-01-31), got 'June'"),
        (
            ["--dataset", "customer_emails"],
            "error: unknown dataset 'customer_emails'; the share package's datasets are: funnel_dropoffs, "
            "segment_preferences, product_affinity, response_times",
        ),
        (
            ["--kpi", "profit:2025-06:10"],
            "error: unknown KPI 'profit'; choose one of: revenue, orders, new_customers, aov, repeat_rate, conversion",
        ),
        (
            ["--kpi", "revenue:2025-06"],
            "error: --kpi takes KPI:PERIOD:VALUE[:CHANNEL] (such as revenue:2026-01:90000), got 'revenue:2025-06'",
        ),
        (["--kpi", "revenue:June:10"], "error: period must be a month as YYYY-MM (such as 2025-06), got 'June'"),
        (["--kpi", "revenue:2025-06:-5"], "error: --kpi revenue:2025-06 must be a number of at least 0, got -5.0"),
        (
            ["--kpi", "repeat_rate:2025-06:30"],
            "error: --kpi repeat_rate:2025-06 of repeat_rate is a share between 0 and 1 (0.3 for 30 %), got 30.0",
        ),
        (
            ["--kpi", "orders:2025-08:10"],
            "error: the orders KPI's month 2025-08 is outside the plan (2025-06-01 to 2025-06-30)",
        ),
        (
            ["--kpi", "orders:2025-06:10", "--kpi", "orders:2025-06:12"],
            "error: the plan names the orders KPI for 2025-06 twice",
        ),
        (["--kpi", "orders:2025-06:10:tv"], "error: unknown channel 'tv'; the orders' channels are: web"),
    ],
)
def test_bad_input_exits_2_with_one_line(cli: Callable[..., Any], store: Path, args: list[str], message: str) -> None:
    base = {"--partner": "Acme Teas", "--kind": "supplier", "--starts": "2025-06-01", "--ends": "2025-06-30"}
    given = dict(zip(args[::2], args[1::2], strict=True)) if "--kpi" not in args else {}
    options = [item for name, value in {**base, **given}.items() for item in (name, value)]
    extra = args if "--kpi" in args else []
    result = cli("plans", "create", *options, *extra, "--json", home_dir=store)
    assert (result.exit_code, result.stderr.strip(), result.stdout) == (2, message, "")
    assert cli("plans", "list", "--json", home_dir=store).json() == {"plans": []}
    assert cli("audit", "list", "--json", home_dir=store).json()["entries"] == []


@pytest.mark.parametrize("command", [["show", "3"], ["progress", "3"], ["delete", "3"]])
def test_an_unknown_plan_exits_2(cli: Callable[..., Any], store: Path, command: list[str]) -> None:
    result = cli("plans", *command, "--json", home_dir=store)
    assert (result.exit_code, result.stderr.strip()) == (2, "error: no plan 3 (see shoplens plans list)")


@pytest.mark.parametrize("command", [["create"], ["list"], ["show"], ["progress"], ["delete"]])
def test_every_command_has_help_and_json(cli: Callable[..., Any], command: list[str]) -> None:
    result = cli("plans", *command, "--help")
    assert result.exit_code == 0
    assert "--json" in result.stdout
    assert len(result.stdout.split("\n\n")[1].strip()) > 20
