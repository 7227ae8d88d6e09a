"""kpis, rfm, products, clv fit and forecast agree on one store's orders, revenue and purchase days.

The store is a Shopify export written here: two hundred customers in London between 1 September and 30 November
2024 (the data end in winter time, GMT), plus the orders that used to split the commands:

* a voided order that was also cancelled (Shopify writes "Cancelled at"), the customer's only order;
* a voided order without "Cancelled at" (Financial Status "voided" only), from a customer who also really bought;
* an order cancelled after payment and refunded in full;
* an order refunded in part (20.00 of 60.00);
* an order at 23:30 UTC on 20 October, which is 00:30 on 21 October in London (summer time, BST): a day that an
  offset taken at the end of the data (GMT) would put on the 20th, the day the same customer bought before.

Every expected number is computed below from these rows with the standard library (``zoneinfo`` for London
days, ``Decimal`` for money), restating the rule in README "One rule for purchases, refunds and days": cancelled
and voided orders are not purchases and their refunds go with them; revenue is net sales less refunds; a
Shopify refund names no date, so it counts on its order's day; days are London days.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

pytestmark = pytest.mark.slow

LONDON = ZoneInfo("Europe/London")
FIRST_ORDER = datetime(2024, 9, 1, 9, 0, tzinfo=UTC)
LAST_ORDER = datetime(2024, 11, 30, 12, 0, tzinfo=UTC)
CALIBRATION_END = date(2024, 10, 20)
BACKTEST_WEEKS = 8
# Enough customers that clv fit reports no bootstrap intervals (it does below 200), which keeps the test quick.
REGULAR_CUSTOMERS = 200
PRODUCTS = (("Linen Shirt", "LS-01"), ("Canvas Tote", "CT-01"), ("Silk Scarf", "SS-01"))
HEADER = (
    "Name",
    "Email",
    "Financial Status",
    "Currency",
    "Created at",
    "Lineitem quantity",
    "Lineitem name",
    "Lineitem price",
    "Lineitem sku",
    "Shipping",
    "Taxes",
    "Cancelled at",
    "Refunded Amount",
)


@dataclass(frozen=True)
class Order:
    name: str
    email: str
    at: datetime  # UTC
    product: int
    quantity: int
    price: Decimal
    financial_status: str = "paid"
    cancelled: bool = False
    refunded: Decimal = Decimal("0.00")

    @property
    def is_purchase(self) -> bool:
        return not self.cancelled and self.financial_status != "voided"

    @property
    def net(self) -> Decimal:
        return self.price * self.quantity

    @property
    def local_day(self) -> date:
        return self.at.astimezone(LONDON).date()

    def row(self) -> dict[str, str]:
        name, sku = PRODUCTS[self.product]

        def shopify_time(moment: datetime) -> str:  # Shopify writes the store's local time with its offset
            return moment.astimezone(LONDON).strftime("%Y-%m-%d %H:%M:%S %z")

        return {
            "Name": self.name,
            "Email": self.email,
            "Financial Status": self.financial_status,
            "Currency": "GBP",
            "Created at": shopify_time(self.at),
            "Lineitem quantity": str(self.quantity),
            "Lineitem name": name,
            "Lineitem price": str(self.price),
            "Lineitem sku": sku,
            "Shipping": "0.00",
            "Taxes": "0.00",
            "Cancelled at": shopify_time(self.at + timedelta(hours=1)) if self.cancelled else "",
            "Refunded Amount": str(self.refunded),
        }


def regular_orders() -> list[Order]:
    """Customers buying 1 to 4 times, every few days, at daytime hours (the same day in London and in UTC)."""
    orders = []
    for customer in range(REGULAR_CUSTOMERS):
        first = FIRST_ORDER + timedelta(days=(customer * 5) % 40, hours=customer % 8)
        gap = timedelta(days=9 + (customer % 6) * 4)
        for k in range(1 + customer % 4):
            at = first + k * gap
            if at <= LAST_ORDER:
                orders.append(
                    Order(
                        name=f"#{1000 + len(orders)}",
                        email=f"customer{customer:02d}@example.com",
                        at=at,
                        product=customer % 3,
                        quantity=1 + customer % 2,
                        price=Decimal(15 + 5 * (customer % 4)),
                    )
                )
    return orders


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


SPECIAL_ORDERS = [
    Order("#2001", "voided.only@example.com", utc(2024, 10, 2, 11), 0, 1, Decimal(40), "voided", cancelled=True),
    Order("#2002", "two.tries@example.com", utc(2024, 9, 15, 10), 1, 1, Decimal(25)),
    Order("#2003", "two.tries@example.com", utc(2024, 10, 8, 14), 1, 2, Decimal(25), "voided"),
    Order("#2004", "changed.mind@example.com", utc(2024, 9, 20, 12), 2, 1, Decimal(30)),
    Order("#2005", "changed.mind@example.com", utc(2024, 10, 10, 12), 2, 1, Decimal(30), "refunded", True, Decimal(30)),
    Order("#2006", "partial.refund@example.com", utc(2024, 9, 10, 10), 0, 1, Decimal(60)),
    Order(
        "#2007",
        "partial.refund@example.com",
        utc(2024, 11, 20, 15),
        0,
        1,
        Decimal(60),
        "partially_refunded",
        refunded=Decimal(20),
    ),
    Order("#2008", "night.owl@example.com", utc(2024, 10, 20, 9), 1, 1, Decimal(35)),
    Order("#2009", "night.owl@example.com", utc(2024, 10, 20, 23, 30), 1, 1, Decimal(35)),  # 21 Oct, 00:30 BST
    Order("#2010", "night.owl@example.com", utc(2024, 11, 10, 10), 1, 1, Decimal(35)),
    Order("#2011", "last.day@example.com", LAST_ORDER, 2, 1, Decimal(50)),
]
ORDERS = regular_orders() + SPECIAL_ORDERS
PURCHASES = [order for order in ORDERS if order.is_purchase]


def money(value: Any) -> Decimal:
    return Decimal(str(value))


def purchase_days(orders: Iterable[Order]) -> dict[str, set[date]]:
    days: dict[str, set[date]] = defaultdict(set)
    for order in orders:
        days[order.email].add(order.local_day)
    return days


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The export, written once; every test imports it into its own home."""
    path = tmp_path_factory.mktemp("shopify") / "orders_export.csv"
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, fieldnames=HEADER)
        writer.writeheader()
        writer.writerows(order.row() for order in ORDERS)
    return path


@pytest.fixture
def store(shop: Path, cli: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> Callable[..., dict[str, Any]]:
    """The export imported into a London store; calling it runs a command with --json and returns its answer."""
    monkeypatch.setenv("SHOPLENS_STORE_TIMEZONE", "Europe/London")

    def run(*args: str) -> dict[str, Any]:
        result = cli(*args, "--json")
        assert result.exit_code == 0, result.stderr
        document: dict[str, Any] = result.json()
        return document

    imported = run("import", str(shop), "--profile", "shopify")
    assert (imported["rows_loaded"], imported["orders"]) == (len(ORDERS), len(ORDERS))
    return run


def test_the_store_has_what_the_test_is_about() -> None:
    assert len(ORDERS) - len(PURCHASES) == 3  # two voided orders and one cancelled after payment
    night_owl = [o for o in ORDERS if o.email == "night.owl@example.com"]
    assert [o.local_day for o in night_owl] == [date(2024, 10, 20), date(2024, 10, 21), date(2024, 11, 10)]
    # With the GMT offset of the end of the data, the 23:30 order would fall on the 20th, like the one before it.
    assert night_owl[1].at.date() == date(2024, 10, 20)
    assert LAST_ORDER.astimezone(LONDON).utcoffset() == timedelta(0)
    assert night_owl[1].at.astimezone(LONDON).utcoffset() == timedelta(hours=1)


def test_kpis_per_day_count_purchases_and_net_refunds(store: Callable[..., dict[str, Any]]) -> None:
    expected: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"orders": 0, "net_sales": Decimal(0), "refunds": Decimal(0), "customers": set()}
    )
    for order in PURCHASES:
        day = expected[order.local_day.isoformat()]
        day["orders"] += 1
        day["net_sales"] += order.net
        day["refunds"] += order.refunded  # Shopify names no refund date: the refund counts on its order's day
        day["customers"].add(order.email)
    rows = store("kpis", "--grain", "day")["rows"]
    got = {
        row["period"]: (row["orders"], money(row["net_sales"]), money(row["refunds"]), money(row["revenue"]))
        for row in rows
    }
    assert got == {
        day: (v["orders"], v["net_sales"], v["refunds"], v["net_sales"] - v["refunds"]) for day, v in expected.items()
    }
    assert {row["period"]: row["customers"] for row in rows} == {d: len(v["customers"]) for d, v in expected.items()}


def test_rfm_customers_orders_and_revenue(store: Callable[..., dict[str, Any]]) -> None:
    document = store("rfm")
    revenue = sum((o.net - o.refunded for o in PURCHASES), Decimal(0))
    customers = {o.email for o in PURCHASES}
    assert document["customers"] == len(customers) == REGULAR_CUSTOMERS + 5  # voided.only@ never bought
    assert money(document["revenue"]) == revenue
    assert sum(s["customers"] for s in document["segments"]) == len(customers)
    orders = sum(s["customers"] * s["mean_frequency"] for s in document["segments"] if s["customers"])
    assert orders == pytest.approx(len(PURCHASES))
    assert document["as_of"] == max(o.local_day for o in PURCHASES).isoformat()


def test_products_units_orders_and_revenue(store: Callable[..., dict[str, Any]]) -> None:
    document = store("products", "--top", "10", "--min-buyers", "1")
    got = {
        p["product_id"]: (p["units"], p["orders"], money(p["sales"]), money(p["refunds"]), money(p["revenue"]))
        for p in document["top_products"]
    }
    expected = {}
    for index, (_, sku) in enumerate(PRODUCTS):
        bought = [o for o in PURCHASES if o.product == index]
        sales = sum((o.net for o in bought), Decimal(0))
        refunds = sum((o.refunded for o in bought), Decimal(0))
        expected[sku] = (sum(o.quantity for o in bought), len(bought), sales, refunds, sales - refunds)
    assert got == expected
    assert document["products"] == len(PRODUCTS)


def test_clv_fit_counts_the_same_customers_and_repeat_buyers(store: Callable[..., dict[str, Any]]) -> None:
    days = purchase_days(PURCHASES)
    fit = store("clv", "fit", "--model", "bgnbd")
    assert fit["n_customers"] == len(days) == REGULAR_CUSTOMERS + 5
    assert fit["n_repeat_buyers"] == sum(1 for d in days.values() if len(d) > 1)
    assert fit["calibration_start"] == min(o.local_day for o in PURCHASES).isoformat()
    assert fit["calibration_end"] == max(o.local_day for o in PURCHASES).isoformat()


def test_clv_holdout_counts_purchases_on_london_days(store: Callable[..., dict[str, Any]]) -> None:
    days = purchase_days(PURCHASES)
    scored = store("clv", "fit", "--model", "bgnbd", "--calibration-end", str(CALIBRATION_END))
    calibrated = {email: d for email, d in days.items() if min(d) <= CALIBRATION_END}
    holdout_days = sum(sum(1 for day in d if day > CALIBRATION_END) for d in calibrated.values())
    assert scored["n_customers"] == len(calibrated)
    assert scored["holdout"]["customers"] == len(calibrated)
    assert scored["holdout"]["actual_purchases"] == pytest.approx(holdout_days)  # the night owl's 21 Oct among them


def _expected_per_day(value: Callable[[Order], Decimal]) -> dict[str, Decimal]:
    """Per London day of the backtest window: the sum of ``value`` over the purchases of that day (0 if none)."""
    # The data cover whole UTC days from 1 Sep 00:00 UTC, which is 01:00 in London: 1 Sep is only partly covered.
    first_complete = FIRST_ORDER.astimezone(LONDON).date() + timedelta(days=1)
    last = LAST_ORDER.astimezone(LONDON).date()
    history = [first_complete + timedelta(days=n) for n in range((last - first_complete).days + 1)]
    window = history[-7 * BACKTEST_WEEKS :]
    totals: dict[date, Decimal] = defaultdict(Decimal)
    for order in PURCHASES:
        totals[order.local_day] += value(order)
    return {day.isoformat(): totals[day] for day in window}


def test_forecast_history_has_the_same_orders_and_net_sales_per_day(store: Callable[..., dict[str, Any]]) -> None:
    by_orders = store("forecast", "--metric", "orders", "--backtest-weeks", str(BACKTEST_WEEKS), "--horizon", "7")
    assert by_orders["history"]["first_period"] == "2024-09-02"
    assert by_orders["history"]["last_period"] == "2024-11-30"
    orders = {row["period"]: money(row["actual"]) for row in by_orders["backtest"]["rows"]}
    assert orders == _expected_per_day(lambda order: Decimal(1))
    assert (orders["2024-10-20"], orders["2024-10-21"]) == (1, 1)  # the night owl's 00:30 order is on the 21st
    assert orders["2024-10-08"] == 0  # two.tries@'s voided order

    # Demand is net sales as ordered, before refunds: the KPIs' net_sales of the same day.
    by_revenue = store("forecast", "--metric", "revenue", "--backtest-weeks", str(BACKTEST_WEEKS), "--horizon", "7")
    revenue = {row["period"]: money(row["actual"]) for row in by_revenue["backtest"]["rows"]}
    assert revenue == _expected_per_day(lambda order: order.net)
    kpis = {row["period"]: money(row["net_sales"]) for row in store("kpis", "--grain", "day")["rows"]}
    assert {day: kpis.get(day, Decimal(0)) for day in revenue} == revenue
