"""How numbers, money, dates and headers are written for people, in three locales."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from shoplens.reports import NumberStyle, header, kind_of


@pytest.mark.parametrize(
    ("locale", "currency", "money", "share", "day"),
    [
        ("en_US", "USD", "$821,147.18", "51.9%", "Dec 1, 2025"),
        ("de_DE", "EUR", "821.147,18\xa0€", "51,9\xa0%", "01.12.2025"),
        ("zh_HK", "HKD", "HK$821,147.18", "51.9%", "2025年12月1日"),
    ],
)
def test_money_rates_and_dates_follow_the_locale(locale: str, currency: str, money: str, share: str, day: str) -> None:
    style = NumberStyle(locale=locale, currency=currency)
    assert style.money(Decimal("821147.18")) == money
    assert style.share(0.519274) == share
    assert style.day(date(2025, 12, 1)) == day


def test_the_overviews_measured_defects_read_as_people_write_them() -> None:
    style = NumberStyle()
    # the examples: revenue 821147.18, AOV 789.939161, repeat rate 0.519274, a CLV of 3533.1212028968757
    assert style.cell("revenue", 821147.18) == "$821,147.18"
    assert style.cell("aov", 789.939161) == "$789.94"
    assert style.cell("repeat_rate", 0.519274) == "51.9%"
    assert style.cell("clv", 3533.1212028968757) == "$3,533.12"
    assert style.cell("orders", 12345) == "12,345"
    assert style.cell("customers", None) == "–"


def test_changes_are_signed_and_rates_change_in_points() -> None:
    style = NumberStyle()
    assert style.change(0.089206) == "+8.9%"
    assert style.change(-0.125) == "-12.5%"
    assert style.points(0.10035) == "+10.0 pp"
    assert style.points(-0.038336) == "-3.8 pp"


def test_measures_without_a_name_keep_at_most_four_decimals() -> None:
    style = NumberStyle()
    assert style.cell("lift", 1.23456789) == "1.23"
    assert style.cell("some_measure", 0.000123456) == "0.0001"
    assert style.cell("some_measure", 0.0123456) == "0.012"


def test_periods_are_named_as_people_name_them() -> None:
    style = NumberStyle()
    assert style.period(date(2025, 1, 1), "month") == "Jan 2025"
    assert style.period(date(2025, 4, 1), "quarter") == "Q2 2025"
    assert style.period(date(2025, 1, 6), "week") == "week of Jan 6, 2025"


@pytest.mark.parametrize(
    ("column", "words"),
    [
        ("expected_purchases", "Expected purchases"),
        ("mean_p_alive", "Chance still active"),
        ("aov", "Average order value"),
        ("product_id", "Product ID"),
        ("cac_payback_months", "CAC payback months"),
        ("Month of first order", "Month of first order"),
    ],
)
def test_headers_are_words(column: str, words: str) -> None:
    assert header(column) == words


@pytest.mark.parametrize(
    ("column", "value", "kind"),
    [
        ("margin_rate", 0.52, "share"),
        ("refund_count", 3, "count"),
        ("net_revenue", 10.5, "money"),
        ("revenue_change", 0.1, "change"),
        ("share_change", 0.01, "points"),
        ("median_gap_days", 33.5, "days"),
        ("first_day", "2025-01-01", "date"),
        ("channel", "email", "text"),
    ],
)
def test_what_a_column_holds_is_read_from_its_name_and_value(column: str, value: object, kind: str) -> None:
    assert kind_of(column, value) == kind
