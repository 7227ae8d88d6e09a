"""Numbers and headers for people: money in the store's currency with the locale's separators, rates as
percentages, counts with separators, dates in the locale's format, and column headers in words with a one-line
explanation of each measure.

The dashboard's tables, its cards and the monthly report all draw their cells through :class:`NumberStyle`, so a
number reads the same everywhere. What a column holds comes from :data:`MEASURES` where it is named there, and
otherwise from its name and its value (a ``_rate`` or ``_share`` is a percentage, an amount of revenue is money,
a whole number is a count). Nothing is computed here but the text of a value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cached_property
from typing import Any, Literal

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime
from babel.numbers import format_currency, format_decimal, format_percent

Kind = Literal["money", "count", "share", "change", "points", "number", "score", "days", "date", "text"]
DASH = "–"


@dataclass(frozen=True)
class Measure:
    label: str
    kind: Kind
    explanation: str = ""


# What each column the dashboard and the report show means. Columns not named here are read from their names.
MEASURES: dict[str, Measure] = {
    "revenue": Measure("Revenue", "money", "Net sales of the period's orders less the refunds paid in it"),
    "gross_sales": Measure("Gross sales", "money", "Order value before discounts and refunds"),
    "net_sales": Measure("Net sales", "money", "Order value after discounts, before refunds"),
    "discounts": Measure("Discounts", "money", "Discounts given on the period's orders"),
    "refunds": Measure("Refunds", "money", "Money paid back to customers"),
    "orders": Measure("Orders", "count", "Orders placed"),
    "customers": Measure("Customers", "count", "Customers with at least one order"),
    "new_customers": Measure("New customers", "count", "Customers whose first order fell in the period"),
    "returning_customers": Measure("Returning customers", "count", "Customers who had ordered before the period"),
    "aov": Measure("Average order value", "money", "Revenue divided by orders"),
    "monetary": Measure("Monetary", "money", "RFM's money: net sales less refunds up to the reference day"),
    "repeat_rate": Measure("Repeat rate", "share", "Share of the period's customers who had ordered before"),
    "refund_rate": Measure("Refund rate", "share", "Refunds as a share of net sales"),
    "conversion_rate": Measure("Conversion rate", "share", "Share of web sessions that ended in an order"),
    "repeat_revenue_share": Measure("Revenue from returning customers", "share", "Share of revenue they brought"),
    "units": Measure("Units", "count", "Items sold"),
    "units_per_order": Measure("Units per order", "number", "Items sold divided by orders"),
    "sessions": Measure("Sessions", "count", "Web sessions"),
    "conversion": Measure("Conversion", "share", "Share of the funnel's sessions that reached this step"),
    "drop_off": Measure("Drop-off", "share", "Share of the previous step's sessions that did not reach this one"),
    "expected_purchases": Measure("Expected purchases", "number", "Purchases the model expects over the horizon"),
    "mean_p_alive": Measure("Chance still active", "share", "Mean probability that the customers still buy"),
    "p_alive": Measure("Chance still active", "share", "Probability that the customer still buys (BG/NBD)"),
    "clv": Measure("Expected value", "money", "Expected margin from the customer over the horizon"),
    "mean_clv": Measure("Mean expected value", "money", "Expected margin per customer over the horizon"),
    "expected_value": Measure("Expected value", "money", "Expected margin over the horizon"),
    "value_at_risk": Measure("Value at risk", "money", "Recent spend of the customers who complain of it"),
    "negative_share": Measure("Negative", "share", "Share of the theme's texts that are negative"),
    "revenue_share": Measure("Share of revenue", "share", "Share of the store's revenue"),
    "margin_share": Measure("Share of margin", "share", "Share of the store's margin"),
    "margin_rate": Measure("Margin rate", "share", "Contribution margin as a share of net sales"),
    "return_rate": Measure("Return rate", "share", "Share of units sold that came back"),
    "retention": Measure("Retention", "share", "Share of the cohort's customers who ordered in the period"),
    "support": Measure("Support", "share", "Share of orders that hold both products"),
    "confidence": Measure("Confidence", "share", "Share of orders with the first product that hold the second"),
    "lift": Measure("Lift", "number", "How much more often the products are bought together than by chance"),
    "score": Measure("Score", "score", "The guard's or the suggestion's strength; higher is stronger"),
    "auc": Measure("AUC", "score", "Area under the ROC curve: 0.5 is chance, 1 is perfect"),
    "brier": Measure("Brier score", "score", "Mean squared error of the predicted chance; lower is better"),
    "abc_class": Measure(
        "ABC class", "text", "A: the products that bring 80 % of revenue, B: the next 15 %, C: the rest"
    ),
    "on_track": Measure("On track", "text", "Whether the projection reaches the target"),
    "median_days": Measure("Median days", "days", "Half of the gaps are shorter"),
    "cumulative_revenue_per_customer": Measure(
        "Cumulative revenue per customer", "money", "The cohort's revenue so far divided by its customers"
    ),
    "contribution_margin": Measure(
        "Contribution margin", "money", "Net sales less goods, payment fees, shipping and refunds"
    ),
    "contribution_margin_per_customer": Measure("Margin per customer", "money", "Contribution margin per customer"),
    "cumulative_margin_per_customer": Measure(
        "Cumulative margin per customer", "money", "Contribution margin so far per customer of the group"
    ),
    "holdout_purchase_rate": Measure("Bought in the holdout", "share", "Share who bought in the holdout window"),
    "last_year_period": Measure("A year earlier", "date", "The same month a year earlier"),
    "last_year_revenue": Measure("Revenue a year earlier", "money", "Revenue of the same month a year earlier"),
    "first_order_sales": Measure("From first orders", "money", "Net sales of customers' first orders and guests'"),
    "repeat_order_sales": Measure("From repeat orders", "money", "Net sales of known customers' later orders"),
    "period": Measure("Period", "date", "The first day of the period"),
    "predicted_purchase_rate": Measure("Predicted to buy", "share", "Mean predicted chance of a purchase"),
}

_ABBREVIATIONS = {
    "aov": "average order value",
    "clv": "CLV",
    "ltv": "LTV",
    "cac": "CAC",
    "roas": "ROAS",
    "rfm": "RFM",
    "abc": "ABC",
    "id": "ID",
    "kpi": "KPI",
    "nps": "NPS",
    "csat": "CSAT",
    "sku": "SKU",
    "p25": "25th percentile",
    "p75": "75th percentile",
    "p90": "90th percentile",
    "pct": "%",
}
_SHARE_WORDS = ("rate", "share", "retention", "probability", "p_alive", "conversion", "drop_off", "uplift", "growth")
_MONEY_WORDS = (
    "revenue",
    "sales",
    "spend",
    "value",
    "margin",
    "cost",
    "amount",
    "clv",
    "ltv",
    "cac",
    "fees",
    "price",
    "budget",
    "aov",
    "discount",
    "profit",
)
_COUNT_WORDS = ("customers", "orders", "products", "sessions", "texts", "tickets", "units", "count", "people")
_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def header(column: str) -> str:
    """A column's header in words: ``expected_purchases`` → ``Expected purchases``, ``aov`` → ``Average order
    value``; a header already in words is kept."""
    if column in MEASURES:
        return MEASURES[column].label
    if "_" not in column and not column.islower():
        return column
    words = [_ABBREVIATIONS.get(word, word) for word in column.split("_") if word]
    text = " ".join(words) or column
    return text[:1].upper() + text[1:]


def explanation(column: str) -> str:
    """The one-line meaning of a column ("" for one that needs none)."""
    found = MEASURES.get(column)
    return found.explanation if found else ""


def kind_of(column: str, value: Any) -> Kind:
    """What a column holds: from :data:`MEASURES`, else from its value's type and its name."""
    if column in MEASURES:
        return MEASURES[column].kind
    if isinstance(value, (date, datetime)) or (isinstance(value, str) and _ISO_DAY.match(value)):
        return "date"
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        return "text"
    return _numeric_kind(column.lower(), value)


def _numeric_kind(name: str, value: float | Decimal) -> Kind:
    parts = name.split("_")
    rules: list[tuple[bool, Kind]] = [
        (name == "change" or (name.endswith("_change") and any(w in name for w in _SHARE_WORDS)), "points"),
        (name.endswith("_change"), "change"),
        ("days" in parts, "days"),
        (any(word in name for word in _SHARE_WORDS) and abs(float(value)) <= 100, "share"),
        (isinstance(value, int) or any(word in parts for word in _COUNT_WORDS), "count"),
        (any(word in name for word in _MONEY_WORDS), "money"),
    ]
    return next((kind for applies, kind in rules if applies), "number")


@dataclass(frozen=True)
class NumberStyle:
    """The store's way of writing numbers: its locale (``en_US``, ``de_DE``, ``zh_HK``) and currency (ISO 4217)."""

    locale: str = "en_US"
    currency: str = "USD"

    @cached_property
    def _locale(self) -> Locale:
        try:
            return Locale.parse(self.locale)
        except (UnknownLocaleError, ValueError):
            return Locale.parse("en_US")

    def money(self, value: Any) -> str:
        if value is None:
            return DASH
        return format_currency(Decimal(str(value)), self.currency, locale=self._locale)

    def count(self, value: Any) -> str:
        return DASH if value is None else format_decimal(round(float(value)), locale=self._locale)

    def _percent_pattern(self, digits: int) -> str:
        """The locale's own percent pattern (``#,##0%``, ``#,##0\xa0%``) with ``digits`` decimals."""
        base = str(self._locale.percent_formats[None].pattern).split(";")[0]
        last = base.rindex("0")
        return base[: last + 1] + ("." + "0" * digits if digits else "") + base[last + 1 :]

    def share(self, value: Any, digits: int = 1) -> str:
        if value is None:
            return DASH
        return format_percent(float(value), self._percent_pattern(digits), locale=self._locale)

    def change(self, value: Any) -> str:
        """A relative change, signed: ``+12.3%``."""
        if value is None:
            return DASH
        pattern = self._percent_pattern(1)
        return format_percent(float(value), f"+{pattern};-{pattern}", locale=self._locale)

    def points(self, value: Any) -> str:
        """A change of a rate, in percentage points: ``+1.2 pp``."""
        if value is None:
            return DASH
        return format_decimal(float(value) * 100, "+#,##0.0;-#,##0.0", locale=self._locale) + " pp"

    def number(self, value: Any, digits: int = 2) -> str:
        """A measure with at most ``digits`` decimals (three below 1, four below 0.01, never more)."""
        if value is None:
            return DASH
        number = float(value)
        places = digits if abs(number) >= 1 or number == 0 else (max(digits, 3) if abs(number) >= 0.01 else 4)
        return format_decimal(number, "#,##0." + "#" * places, locale=self._locale)

    def day(self, value: Any) -> str:
        if value is None:
            return DASH
        if isinstance(value, str):
            value = date.fromisoformat(value[:10])
        if isinstance(value, datetime):
            return format_datetime(value, "medium", locale=self._locale)
        return format_date(value, "medium", locale=self._locale)

    def period(self, value: Any, grain: str = "month") -> str:
        """A period by its first day as people name it: ``Jan 2025``, ``Q1 2025``, ``week of Jan 6, 2025``."""
        if value is None:
            return DASH
        day = date.fromisoformat(value[:10]) if isinstance(value, str) else value
        if grain == "month":
            return format_date(day, "MMM y", locale=self._locale)
        if grain == "quarter":
            return format_date(day, "QQQ y", locale=self._locale)
        if grain == "week":
            return "week of " + format_date(day, "medium", locale=self._locale)
        return self.day(day)

    def cell(self, column: str, value: Any) -> str:
        """The text of one table cell."""
        if value is None or value == "":
            return DASH if value is None else ""
        if isinstance(value, bool):
            return "yes" if value else "no"
        kind = kind_of(column, value)
        if kind == "text" or not isinstance(value, (int, float, Decimal, date, str)):
            return str(value)
        if isinstance(value, str) and kind != "date":
            return value
        return self._write(kind, value)

    def _write(self, kind: Kind, value: Any) -> str:
        writers = {
            "money": self.money,
            "count": self.count,
            "share": self.share,
            "change": self.change,
            "points": self.points,
            "score": lambda v: self.number(v, 3),
            "days": lambda v: self.number(v, 1),
            "date": self.day,
        }
        try:
            return writers.get(kind, self.number)(value)
        except (TypeError, ValueError, ArithmeticError):
            return str(value)

    def sort_key(self, value: Any) -> str:
        """The cell's value as the table's sort reads it (numbers as numbers, dates as ISO days)."""
        if value is None:
            return ""
        if isinstance(value, (date, datetime)):
            return value.isoformat()
        return str(value)
