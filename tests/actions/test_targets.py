"""Targets and budgets: pacing on a hand-made month, suggestions from history, budget status, and the CLI's shapes
and error messages."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from shoplens.actions import budget_pace, project_additive, suggest, weekday_factors
from shoplens.warehouse import Warehouse

# The hand-made store: every day one order of a new customer; Monday to Friday 100.00, Saturday and Sunday
# 200.00. History: the 56 days (8 of each weekday) from 2025-04-06 to 2025-05-31, then June 2025 up to the data end,
# Sunday 8 June 2025 (June 1st is a Sunday).
HISTORY_START = date(2025, 4, 6)
DATA_END = date(2025, 6, 8)


def _value(day: date) -> int:
    return 200 if day.weekday() >= 5 else 100


def _hand_made_store(home: Path) -> Path:
    with Warehouse(home / "warehouse.duckdb") as warehouse:
        day, n = HISTORY_START, 0
        while day <= DATA_END:
            at = datetime(day.year, day.month, day.day, 12)
            amount = _value(day)
            warehouse.con.execute(
                "INSERT INTO orders (order_id, customer_key, ordered_at, channel, gross, discount, net, status) "
                "VALUES (?, ?, ?, 'web', ?, 0, ?, 'paid')",
                [f"o{n}", f"c{n}", at, amount, amount],
            )
            warehouse.con.execute(
                "INSERT INTO order_lines (order_id, line_no, product_id, quantity, unit_price, amount, row_key) "
                "VALUES (?, 1, 'p1', 1, ?, ?, ?)",
                [f"o{n}", amount, amount, n],
            )
            warehouse.con.execute("INSERT INTO customers (customer_key, first_seen) VALUES (?, ?)", [f"c{n}", at])
            day, n = day + timedelta(days=1), n + 1
        warehouse.bump_data_version()
    return home


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return _hand_made_store(tmp_path / "home")


def test_a_weekday_run_rate_by_hand() -> None:
    history = {HISTORY_START + timedelta(days=i): float(_value(HISTORY_START + timedelta(days=i))) for i in range(56)}
    factors, scatter = weekday_factors(history)
    # mean day = (5 x 100 + 2 x 200) / 7 = 900/7; a weekday's factor 100 / (900/7) = 7/9, a weekend day's 14/9
    assert factors[0] == pytest.approx(7 / 9)
    assert factors[6] == pytest.approx(14 / 9)
    assert scatter == pytest.approx(0.0)  # every day is exactly its weekday's value
    # June 1-8: Sun 200 + Mon-Fri 5 x 100 + Sat 200 + Sun 200 = 1,100; those 3 weekend days and 5 weekdays weigh
    # 3 x 14/9 + 5 x 7/9 = 77/9, so the run-rate is 1,100 / (77/9) = 900/7.
    # The 22 days left (9-30 June) are 16 weekdays and 6 weekend days: factors 16 x 7/9 + 6 x 14/9 = 196/9, so
    # 900/7 x 196/9 = 2,800 more: projected 1,100 + 2,800 = 3,900 (a flat run-rate would say 1,100 / 8 x 30 = 4,125).
    projection = project_additive(1100.0, month=date(2025, 6, 1), data_end=DATA_END, factors=factors, scatter=scatter)
    assert projection.projected == pytest.approx(3900.0)
    assert (projection.low, projection.high) == (pytest.approx(3900.0), pytest.approx(3900.0))
    assert (projection.days_elapsed, projection.days_in_period) == (8, 30)


def test_the_range_widens_with_scatter_and_never_drops_below_the_actual() -> None:
    flat = dict.fromkeys(range(7), 1.0)
    # 10 of 30 days at 100 a day, flat pattern, scatter 20 %: run-rate 100, 20 days left = 2,000 more (3,000).
    # variance = (100 x 0.2)^2 x 20 + (2,000 x 0.2)^2 / 10 = 8,000 + 16,000 = 24,000; 1.645 x sqrt(24,000) = 254.8
    projection = project_additive(1000.0, month=date(2025, 9, 1), data_end=date(2025, 9, 10), factors=flat, scatter=0.2)
    assert projection.projected == pytest.approx(3000.0)
    assert projection.low == pytest.approx(3000.0 - 1.645 * 24_000**0.5)
    assert projection.high == pytest.approx(3000.0 + 1.645 * 24_000**0.5)


def test_suggestions_by_hand() -> None:
    months = {date(2024, m, 1): 100.0 * m for m in range(1, 13)} | {date(2025, m, 1): 200.0 * m for m in range(1, 6)}
    # June 2025 from 13+ months: June 2024 = 600; last three complete months (March-May 2025) average
    # (600 + 800 + 1,000) / 3 = 800 against (300 + 400 + 500) / 3 = 400 a year earlier: growth x2, so 1,200
    found = suggest("revenue", date(2025, 6, 1), months)
    assert found.value == pytest.approx(1200.0)
    assert found.method == "same_month_last_year_x_trailing_growth"
    assert "600.00 in 2024-06" in found.why
    assert "x 2.000 = 1,200.00" in found.why
    # with less than 13 months: the mean of the last three complete months, (1,000 + 1,100 + 1,200) / 3 = 1,100
    short = suggest("orders", date(2025, 1, 1), {date(2024, m, 1): 100.0 * m for m in range(1, 13)})
    assert short.value == pytest.approx(1100.0)
    assert short.method == "trailing_3_months"
    # a share moves in points: June 2024 at 30 %; March-May 2025 at 40 % against 35 % in March-May 2024 (+5 points),
    # so 30 % + 5 points = 35 %
    rates = {day: 0.35 for day in months if day.year == 2024} | {day: 0.40 for day in months if day.year == 2025}
    rates[date(2024, 6, 1)] = 0.30
    rate = suggest("repeat_rate", date(2025, 6, 1), rates)
    assert rate.value == pytest.approx(0.35)
    assert rate.method == "same_month_last_year_plus_trailing_change"


def test_budget_pace_by_hand() -> None:
    # 1,200 spent in the first 12 of 30 days: 100 a day, projected 3,000 against 2,500: a projected overrun
    pace = budget_pace("social", date(2025, 6, 1), 2500.0, 1200.0, date(2025, 6, 12))
    assert pace.projected == pytest.approx(3000.0)
    assert pace.alert == "projected overrun: 3,000.00 at the pace of 12 day(s) against 2,500.00"
    assert budget_pace("social", date(2025, 6, 1), 1000.0, 1200.0, date(2025, 6, 12)).alert == (
        "over budget: 1,200.00 spent of 1,000.00"
    )
    assert budget_pace("social", date(2025, 6, 1), 5000.0, 1200.0, date(2025, 6, 12)).alert is None


def test_pacing_of_the_hand_made_month(cli: Callable[..., Any], store: Path) -> None:
    for kpi, value in (("revenue", "4000"), ("orders", "25"), ("aov", "150")):
        done = cli("targets", "set", "--kpi", kpi, "--period", "2025-06", "--value", value, "--json", home_dir=store)
        assert done.exit_code == 0, done.stderr
    result = cli("targets", "pacing", "--period", "2025-06", "--json", home_dir=store)
    assert result.exit_code == 0, result.stderr
    document = result.json()
    assert document["method"] == "weekday_run_rate"
    rows = {row["kpi"]: row for row in document["targets"]}
    assert set(rows["revenue"]) >= {"kpi", "period", "target", "actual", "projected", "on_track", "low", "high"}
    # revenue: see test_a_weekday_run_rate_by_hand: 1,100 to date, 3,900 projected, short of 4,000
    assert rows["revenue"]["actual"] == pytest.approx(1100.0)
    assert rows["revenue"]["projected"] == pytest.approx(3900.0)
    assert rows["revenue"]["on_track"] is False
    assert (rows["revenue"]["days_elapsed"], rows["revenue"]["days_in_period"]) == (8, 30)
    # orders: one a day, every weekday alike: 8 to date + 22 days left = 30, over 25
    assert rows["orders"]["projected"] == pytest.approx(30.0)
    assert rows["orders"]["on_track"] is True
    # AOV to date: 1,100 / 8 = 137.50, projected at its value to date, short of 150
    assert rows["aov"]["projected"] == pytest.approx(137.5)
    assert rows["aov"]["on_track"] is False
    # a channel target: every order of the hand-made store is on "web", so the same 3,900
    web = cli(
        "targets",
        "set",
        "--kpi",
        "revenue",
        "--period",
        "2025-06",
        "--value",
        "3000",
        "--channel",
        "web",
        home_dir=store,
    )
    assert web.exit_code == 0, web.stderr
    channel_rows = cli("targets", "pacing", "--json", home_dir=store).json()["targets"]
    by_channel = next(row for row in channel_rows if row["channel"] == "web")
    assert (by_channel["projected"], by_channel["on_track"]) == (pytest.approx(3900.0), True)
    unknown = cli(
        "targets", "set", "--kpi", "orders", "--period", "2025-06", "--value", "1", "--channel", "tv", home_dir=store
    )
    assert (unknown.exit_code, unknown.stderr.strip()) == (
        2,
        "error: unknown channel 'tv'; the orders' channels are: web",
    )


def test_setting_again_replaces_and_delete_removes(cli: Callable[..., Any], tmp_path: Path) -> None:
    first = cli("targets", "set", "--kpi", "orders", "--period", "2026-01", "--value", "10", "--json").json()
    again = cli("targets", "set", "--kpi", "orders", "--period", "2026-01", "--value", "12", "--json").json()
    assert (first["replaced"], again["replaced"]) == (False, True)
    listed = cli("targets", "list", "--json").json()["targets"]
    assert [(t["kpi"], t["period"], t["value"]) for t in listed] == [("orders", "2026-01", 12.0)]
    deleted = cli("targets", "delete", "--kpi", "orders", "--period", "2026-01", "--json")
    assert deleted.json() == {"deleted": {"kpi": "orders", "period": "2026-01", "channel": None}}
    assert cli("targets", "list", "--json").json() == {"targets": []}
    budget = cli("budget", "set", "--channel", "social", "--period", "2026-01", "--amount", "500", "--json").json()
    assert {k: budget["budget"][k] for k in ("channel", "period", "amount")} == {
        "channel": "social",
        "period": "2026-01",
        "amount": 500.0,
    }


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["targets", "set", "--kpi", "profit", "--period", "2026-01", "--value", "1"],
            "error: unknown KPI 'profit'; choose one of: revenue, orders, new_customers, aov, repeat_rate, conversion",
        ),
        (
            ["targets", "set", "--kpi", "revenue", "--period", "2026-13", "--value", "1"],
            "error: period must be a month as YYYY-MM (such as 2025-06), got '2026-13'",
        ),
        (
            ["targets", "set", "--kpi", "repeat_rate", "--period", "2026-01", "--value", "30"],
            "error: --value of repeat_rate is a share between 0 and 1 (0.3 for 30 %), got 30.0",
        ),
        (
            ["targets", "set", "--kpi", "conversion", "--period", "2026-01", "--value", "0.02"],
            "error: a conversion target needs web sessions: the warehouse has no events (import them first)",
        ),
        (
            ["targets", "delete", "--kpi", "orders", "--period", "2026-01"],
            "error: no orders target for 2026-01 to delete (see shoplens targets list)",
        ),
        (
            ["targets", "pacing", "--json"],
            "error: no targets set: set one with shoplens targets set --kpi K --period YYYY-MM --value V",
        ),
        (
            ["budget", "status", "--json"],
            "error: no budgets set: set one with shoplens budget set --channel C --period YYYY-MM --amount A",
        ),
        (
            ["budget", "set", "--channel", "social", "--period", "2026-01", "--amount", "-5"],
            "error: --amount must be a number of at least 0, got -5.0",
        ),
    ],
)
def test_bad_input_exits_2_with_one_line(cli: Callable[..., Any], args: list[str], message: str) -> None:
    result = cli(*args)
    assert result.exit_code == 2
    assert result.stderr.strip() == message


@pytest.mark.parametrize(
    "command",
    [
        ["targets", "set"],
        ["targets", "list"],
        ["targets", "delete"],
        ["targets", "pacing"],
        ["targets", "suggest"],
        ["budget", "set"],
        ["budget", "status"],
        ["acquisition"],
    ],
)
def test_every_command_has_help_and_json(cli: Callable[..., Any], command: list[str]) -> None:
    result = cli(*command, "--help")
    assert result.exit_code == 0
    assert "--json" in result.stdout
    assert len(result.stdout.split("\n\n")[1].strip()) > 20


def test_suggestions_of_the_hand_made_store(cli: Callable[..., Any], store: Path) -> None:
    result = cli("targets", "suggest", "--json", home_dir=store)
    assert result.exit_code == 0, result.stderr
    document = result.json()
    assert document["period"] == "2025-07"  # the month after the data end (8 June 2025)
    found = {row["kpi"]: row for row in document["suggestions"]}
    assert set(found) == {"revenue", "orders", "new_customers", "aov", "repeat_rate"}  # no sessions: no conversion
    # the data begin on 6 April, so April and June are partial and May 2025 is the one complete month: its 22
    # weekdays at 100 and 9 weekend days (3-4, 10-11, 17-18, 24-25, 31) at 200 make 4,000.00 of revenue, 31 orders
    assert found["revenue"]["value"] == pytest.approx(4000.0)
    assert found["orders"]["value"] == pytest.approx(31.0)
    assert found["revenue"]["method"] == "trailing_1_months"
    assert found["revenue"]["why"].endswith("mean of the last 1 complete month(s) (2025-05): 4,000.00")


def test_the_monthly_report_shows_the_month_against_its_targets(
    cli: Callable[..., Any], store: Path, tmp_path: Path
) -> None:
    # The same hand-made June as above: revenue 1,100 to date, 3,900 projected against 4,000, not on track.
    assert (
        cli("targets", "set", "--kpi", "revenue", "--period", "2025-06", "--value", "4000", home_dir=store).exit_code
        == 0
    )
    assert (
        cli("targets", "set", "--kpi", "orders", "--period", "2025-05", "--value", "9", home_dir=store).exit_code == 0
    )
    out = tmp_path / "report.html"
    done = cli("report", "--month", "2025-06", "--out", str(out), home_dir=store)
    assert done.exit_code == 0, done.stderr
    table = out.read_text().split('<table id="against-target">', 1)[1].split("</table>", 1)[0]
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", table)
    assert cells == ["revenue", "all", "$4,000.00", "$1,100.00", "$3,900.00", "no"]  # May's target is not June's
