"""Partial periods on the real UCI Online Retail file: the data end on Friday 9 December 2011, so December 2011
(and that week, and the fourth quarter) is partial, and its changes compare with the same days of the period
before. Every figure is recomputed here with pandas from the parquet file.

The pandas side restates only the importer's documented rules (README; ``online_retail_lines``):
A-invoices, negative prices and zero prices on sales are quarantined; C-invoices are refunds, counted on their
day; a line is worth |quantity| x price rounded to the cent; rows without CustomerID are guests. November and
December 2011 are winter time, so a UK day in the file is a day in the store's zone (Europe/London).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pandas as pd
import pytest
from metrics_backends import RunnerFor, Store, online_retail_lines

from shoplens.queries import KpiQuery, KpiResult, LifecycleQuery, LifecycleResult, RfmQuery, RfmResult
from shoplens.reports import build_monthly_report, render_html

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def lines() -> pd.DataFrame:
    good = online_retail_lines()
    good["day"] = good["InvoiceDate"].dt.date
    return good


def figures(lines: pd.DataFrame, first: date, last: date) -> dict[str, Any]:
    """Orders, known customers and revenue (net sales less refunds, in cents) on the days first..last."""
    days = lines[(lines["day"] >= first) & (lines["day"] <= last)]
    sales, refunds = days[~days["refund"]], days[days["refund"]]
    return {
        "orders": sales["InvoiceNo"].nunique(),
        "customers": sales["CustomerID"].dropna().nunique(),
        "revenue": int(sales["cents"].sum()) - int(refunds["cents"].sum()),
    }


def cents(value: Any) -> int:
    return int(Decimal(str(value)) * 100)


def by_period(result: KpiResult) -> dict[date, dict[str, Any]]:
    return {row["period"]: row for row in result.rows}


def test_the_data_end_on_9_december_2011(lines: pd.DataFrame) -> None:
    assert max(lines["day"]) == date(2011, 12, 9)  # the fact the tests below rest on, read off the file
    assert max(lines.loc[lines["refund"], "day"]) == date(2011, 12, 9)


def test_december_2011_is_partial_with_9_days(engine: tuple[str, RunnerFor], uci: Store) -> None:
    _, runner_for = engine
    rows = by_period(runner_for(uci).run(KpiQuery(grain="month"), KpiResult))
    december = rows[date(2011, 12, 1)]
    assert december["partial"] is True
    assert (december["covers_from"], december["through"]) == (date(2011, 12, 1), date(2011, 12, 9))
    assert (december["days_with_data"], december["days_in_period"], december["period_end"]) == (
        9,
        31,
        date(2011, 12, 31),
    )
    assert [period for period, row in rows.items() if row["partial"]] == [date(2011, 12, 1)]
    november = rows[date(2011, 11, 1)]
    assert (november["days_with_data"], november["days_in_period"], november["through"]) == (
        30,
        30,
        date(2011, 11, 30),
    )
    # a complete month still compares with the whole month before
    assert november["comparison"] == "whole_period"
    assert (november["compared_from"], november["compared_through"]) == (date(2011, 10, 1), date(2011, 10, 31))
    assert november["previous_revenue"] == rows[date(2011, 10, 1)]["revenue"]
    assert november["previous_orders"] == rows[date(2011, 10, 1)]["orders"]
    # the first month: nothing before it to compare with
    assert rows[date(2010, 12, 1)]["comparison"] is None
    assert rows[date(2010, 12, 1)]["revenue_change"] is None


def test_december_1_to_9_compares_with_november_1_to_9(
    sql_engine: tuple[str, RunnerFor], uci: Store, lines: pd.DataFrame
) -> None:
    _, runner_for = sql_engine
    december = by_period(runner_for(uci).run(KpiQuery(grain="month"), KpiResult))[date(2011, 12, 1)]
    current = figures(lines, date(2011, 12, 1), date(2011, 12, 9))
    before = figures(lines, date(2011, 11, 1), date(2011, 11, 9))
    assert december["comparison"] == "same_days"
    assert (december["compared_from"], december["compared_through"]) == (date(2011, 11, 1), date(2011, 11, 9))
    assert cents(december["revenue"]) == current["revenue"]
    assert (december["orders"], december["customers"]) == (current["orders"], current["customers"])
    assert cents(december["previous_revenue"]) == before["revenue"]
    assert (december["previous_orders"], december["previous_customers"]) == (before["orders"], before["customers"])
    for measure in ("revenue", "orders", "customers"):
        expected = (current[measure] - before[measure]) / abs(before[measure])
        assert december[f"{measure}_change"] == pytest.approx(expected, abs=1e-6), measure
    # not against all of November, which the old comparison used
    whole_november = figures(lines, date(2011, 11, 1), date(2011, 11, 30))
    assert cents(december["previous_revenue"]) < whole_november["revenue"] / 3


def test_the_last_week_and_quarter_compare_like_with_like(
    sql_engine: tuple[str, RunnerFor], uci: Store, lines: pd.DataFrame
) -> None:
    _, runner_for = sql_engine
    runner = runner_for(uci)
    # Monday 5 to Friday 9 December 2011 against Monday 28 November to Friday 2 December
    week = runner.run(KpiQuery(grain="week", start=date(2011, 11, 1)), KpiResult).rows[-1]
    assert (week["period"], week["through"], week["days_with_data"], week["days_in_period"]) == (
        date(2011, 12, 5),
        date(2011, 12, 9),
        5,
        7,
    )
    assert (week["compared_from"], week["compared_through"]) == (date(2011, 11, 28), date(2011, 12, 2))
    assert cents(week["previous_revenue"]) == figures(lines, date(2011, 11, 28), date(2011, 12, 2))["revenue"]
    # 1 October to 9 December (70 of 92 days) against the first 70 days of the third quarter: 1 July to 8 September
    quarter = runner.run(KpiQuery(grain="quarter"), KpiResult).rows[-1]
    assert (quarter["period"], quarter["days_with_data"], quarter["days_in_period"]) == (date(2011, 10, 1), 70, 92)
    assert (quarter["compared_from"], quarter["compared_through"]) == (date(2011, 7, 1), date(2011, 9, 8))
    before = figures(lines, date(2011, 7, 1), date(2011, 9, 8))
    assert cents(quarter["previous_revenue"]) == before["revenue"]
    assert quarter["previous_orders"] == before["orders"]


def test_a_window_that_cuts_a_month_makes_it_partial(
    sql_engine: tuple[str, RunnerFor], uci: Store, lines: pd.DataFrame
) -> None:
    _, runner_for = sql_engine
    rows = by_period(runner_for(uci).run(KpiQuery(grain="month", start=date(2011, 11, 15)), KpiResult))
    november = rows[date(2011, 11, 1)]
    assert (november["covers_from"], november["through"], november["days_with_data"]) == (
        date(2011, 11, 15),
        date(2011, 11, 30),
        16,
    )
    assert november["partial"] is True
    assert cents(november["revenue"]) == figures(lines, date(2011, 11, 15), date(2011, 11, 30))["revenue"]
    # compared with 15-30 October, outside the window asked for
    assert (november["compared_from"], november["compared_through"]) == (date(2011, 10, 15), date(2011, 10, 30))
    assert cents(november["previous_revenue"]) == figures(lines, date(2011, 10, 15), date(2011, 10, 30))["revenue"]


def test_rfm_and_lifecycle_are_as_of_the_data_end(sql_engine: tuple[str, RunnerFor], uci: Store) -> None:
    _, runner_for = sql_engine
    runner = runner_for(uci)
    rfm = runner.run(RfmQuery(), RfmResult)
    assert (rfm.as_of, rfm.data_end) == (date(2011, 12, 9), date(2011, 12, 9))
    states = runner.run(LifecycleQuery(), LifecycleResult)
    assert (states.as_of, states.data_end) == (date(2011, 12, 9), date(2011, 12, 9))
    chosen = runner.run(RfmQuery(as_of=date(2011, 6, 30)), RfmResult)
    assert (chosen.as_of, chosen.data_end) == (date(2011, 6, 30), date(2011, 12, 9))


def test_the_report_defaults_to_november_2011(duckdb_runner: RunnerFor, uci: Store) -> None:
    report = build_monthly_report(duckdb_runner(uci))
    assert report.month == date(2011, 11, 1)
    assert report.partial is False
    assert report.data_end == date(2011, 12, 9)
    assert report.rfm_as_of == date(2011, 11, 30)
    assert report.chosen == (
        "November 2011 is the last complete month: December 2011 has data only through 9 December 2011 "
        "(9 of 31 days), so it is left out by default (ask for it with --month)."
    )
    assert report.previous["period"] == date(2011, 10, 1)
    assert report.previous["days_with_data"] == 31
    html = render_html(report)
    assert "Online customer report — November 2011" in html
    assert report.chosen in html


def test_a_report_of_december_2011_compares_the_same_days(
    duckdb_runner: RunnerFor, uci: Store, lines: pd.DataFrame
) -> None:
    report = build_monthly_report(duckdb_runner(uci), date(2011, 12, 1))
    assert report.partial is True
    assert report.rfm_as_of == date(2011, 12, 9)  # not 31 December: there are no data after the 9th
    before = figures(lines, date(2011, 11, 1), date(2011, 11, 9))
    assert cents(report.previous["revenue"]) == before["revenue"]
    assert (report.previous["orders"], report.previous["customers"]) == (before["orders"], before["customers"])
    assert cents(report.current["revenue"]) == figures(lines, date(2011, 12, 1), date(2011, 12, 9))["revenue"]
    html = render_html(report)
    assert (
        "December 2011 is partial: the data cover 1–9 December 2011 (9 of 31 days). It is compared with the same "
        "days of the previous month, 1–9 November 2011, not with all of November 2011."
    ) in html
    assert '<th class="num">1–9 December 2011 (partial)</th><th class="num">1–9 November 2011</th>' in html
    assert "Customer segments (RFM, as of 2011-12-09)" in html
