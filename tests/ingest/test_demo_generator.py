"""The demo store generator: deterministic, consistent with itself, and realistic where it claims to be."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from tests.conftest import DEMO_END

from shoplens.errors import InputError
from shoplens.ingest import ORDER_LEVEL_FIELDS, SALES_FIELD_NAMES, registered_profiles
from shoplens.ingest.demo import DemoFiles, default_end, generate_demo_store
from shoplens.ingest.demo._catalogue import _catalogue_size

CUSTOMERS = 400
SEED = 11
END = date.fromisoformat(DEMO_END)  # 730 days (the default) to 2025-12-30 start on 2024-01-01 (2024 is a leap year)
WINDOW_START = date(2024, 1, 1)
WINDOW_END = WINDOW_START + timedelta(days=730)
MONEY_FIELDS = ("unit_cost", "unit_price", "line_discount", "order_discount", "shipping", "tax", "refund_amount")


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> DemoFiles:
    return generate_demo_store(tmp_path_factory.mktemp("demo"), customers=CUSTOMERS, seed=SEED, end=END)


@pytest.fixture(scope="module")
def con(store: DemoFiles) -> Iterator[duckdb.DuckDBPyConnection]:
    """``lines``: orders.csv as text; ``orders``: one row per order with its amounts as decimals."""
    connection = duckdb.connect()
    connection.execute("SET TimeZone = 'UTC'")  # the Parquet times are UTC; compare them with orders.csv as UTC
    connection.execute(
        f"CREATE TABLE lines AS SELECT * FROM read_csv('{store.orders_path}', all_varchar = true, header = true)"
    )
    connection.execute(
        """
        CREATE TABLE orders AS
        SELECT order_id,
               any_value(customer_id) AS customer_id,
               any_value(ordered_at)::TIMESTAMP AS ordered_at,
               any_value(status) AS status,
               any_value(discount_code) AS discount_code,
               sum(quantity::INTEGER * unit_price::DECIMAL(18, 2) - line_discount::DECIMAL(18, 2))
                 - any_value(order_discount)::DECIMAL(18, 2) AS net,
               any_value(shipping)::DECIMAL(18, 2) + any_value(tax)::DECIMAL(18, 2) AS shipping_and_tax,
               any_value(refund_amount)::DECIMAL(18, 2) AS refund_amount
        FROM lines GROUP BY order_id
        """
    )
    yield connection
    connection.close()


def _scalar(con: duckdb.DuckDBPyConnection, sql: str) -> object:
    row = con.execute(sql).fetchone()
    assert row is not None
    return row[0]


def _number(con: duckdb.DuckDBPyConnection, sql: str) -> float:
    value = _scalar(con, sql)
    assert isinstance(value, int | float | Decimal), value
    return float(value)


# --- determinism ------------------------------------------------------------------------------------------------------


def test_same_seed_writes_identical_files(tmp_path: Path) -> None:
    first = generate_demo_store(tmp_path / "a", customers=300, seed=5, end=END)
    second = generate_demo_store(tmp_path / "b", customers=300, seed=5, end=END)
    names = sorted(p.name for p in first.out_dir.iterdir())
    assert names == sorted(p.name for p in second.out_dir.iterdir())
    for name in names:
        assert (first.out_dir / name).read_bytes() == (second.out_dir / name).read_bytes(), name


def test_another_seed_writes_other_orders(tmp_path: Path) -> None:
    first = generate_demo_store(tmp_path / "a", customers=300, seed=5, with_events=False, end=END)
    second = generate_demo_store(tmp_path / "b", customers=300, seed=6, with_events=False, end=END)
    assert first.orders_path.read_bytes() != second.orders_path.read_bytes()


def test_events_do_not_change_the_orders(tmp_path: Path) -> None:
    with_events = generate_demo_store(tmp_path / "a", customers=300, seed=5, end=END)
    without_events = generate_demo_store(tmp_path / "b", customers=300, seed=5, with_events=False, end=END)
    assert with_events.orders_path.read_bytes() == without_events.orders_path.read_bytes()
    assert without_events.events_path is None
    assert not (tmp_path / "b" / "events.parquet").exists()


# --- what was written -------------------------------------------------------------------------------------------------


def test_counts_match_the_files(store: DemoFiles, con: duckdb.DuckDBPyConnection) -> None:
    assert store.events_path is not None
    assert store.order_lines == _scalar(con, "SELECT count(*) FROM lines")
    assert store.orders == _scalar(con, "SELECT count(*) FROM orders")
    assert store.customers == _scalar(con, "SELECT count(DISTINCT customer_id) FROM lines")
    assert store.refunds == _scalar(con, "SELECT count(*) FROM orders WHERE refund_amount IS NOT NULL")
    assert store.events == pq.read_metadata(store.events_path).num_rows
    assert store.feedback == pq.read_metadata(store.feedback_path).num_rows
    assert store.products == pq.read_metadata(store.products_path).num_rows
    # the order lines in the file, counted without a CSV parser: header plus one line each
    assert store.orders_path.read_bytes().count(b"\n") == store.order_lines + 1


def test_header_is_the_canonical_sales_fields(store: DemoFiles) -> None:
    header = store.orders_path.read_text(encoding="utf-8").splitlines()[0].split(",")
    assert header == [name for name in SALES_FIELD_NAMES if name != "line_amount"]


def test_mapping_is_the_identity_and_the_generic_profile_accepts_it(store: DemoFiles) -> None:
    packaged = Path(__file__).parents[2] / "src/shoplens/ingest/mappings/demo.yaml"
    assert store.mapping_path.read_bytes() == packaged.read_bytes()
    mapping = yaml.safe_load(store.mapping_path.read_text(encoding="utf-8"))
    header = store.orders_path.read_text(encoding="utf-8").splitlines()[0].split(",")
    assert mapping["columns"] == {name: name for name in header}
    assert mapping["date_format"] == "%Y-%m-%d %H:%M:%S"
    assert mapping["timezone"] == "UTC"
    assert mapping["refund_values"] == ["true"]
    profile = registered_profiles()["generic"]
    assert profile.missing_columns(header) == []
    sales_mapping = profile.build(header, mapping)
    assert set(sales_mapping.expressions) == set(header)


def _orders_with_disagreeing_lines(con: duckdb.DuckDBPyConnection, lines: str) -> dict[str, int]:
    """Per order-level field, how many orders have lines that disagree on it."""
    disagree = ", ".join(f"count(*) FILTER (WHERE {name}_values > 1) AS {name}" for name in ORDER_LEVEL_FIELDS)
    distinct = ", ".join(f"count(DISTINCT coalesce({name}, '<empty>')) AS {name}_values" for name in ORDER_LEVEL_FIELDS)
    row = con.execute(f"SELECT {disagree} FROM (SELECT {distinct} FROM {lines} GROUP BY order_id)").fetchone()
    assert row is not None
    return dict(zip(ORDER_LEVEL_FIELDS, row, strict=True))


def test_order_level_fields_agree_on_every_line(con: duckdb.DuckDBPyConnection) -> None:
    assert _orders_with_disagreeing_lines(con, "lines") == dict.fromkeys(ORDER_LEVEL_FIELDS, 0)


def test_amounts_are_positive_with_two_decimals(con: duckdb.DuckDBPyConnection) -> None:
    assert _scalar(con, "SELECT min(quantity::INTEGER) FROM lines") == 1
    assert _number(con, "SELECT min(unit_price::DECIMAL(18, 2)) FROM lines") > 0
    assert _scalar(con, "SELECT count(*) FROM lines WHERE unit_cost::DECIMAL(18, 2) >= unit_price::DECIMAL(18, 2)") == 0
    for name in MONEY_FIELDS:
        values = [
            row[0] for row in con.execute(f"SELECT DISTINCT {name} FROM lines WHERE {name} IS NOT NULL").fetchall()
        ]
        assert values, name
        assert all(re.fullmatch(r"\d+\.\d{2}", value) for value in values), name


def test_flags_and_codes_use_the_documented_values(con: duckdb.DuckDBPyConnection) -> None:
    def values(name: str) -> set[str | None]:
        return {row[0] for row in con.execute(f"SELECT DISTINCT {name} FROM lines").fetchall()}

    assert values("is_refund") == {"false"}
    assert values("consent_marketing") == {"true", "false"}
    assert values("currency") == {"HKD"}
    assert values("channel") == {"organic", "paid_search", "social", "email", "referral", "marketplace"}
    assert values("device") == {"desktop", "mobile", "tablet", "app"}
    assert values("status") == {"paid", "refunded", "partially_refunded", "cancelled"}
    assert all(re.fullmatch(r"D\d{6}", v) for v in values("customer_id") if v is not None)


def test_orders_fall_inside_the_window(con: duckdb.DuckDBPyConnection) -> None:
    first, last = con.execute("SELECT min(ordered_at), max(ordered_at) FROM orders").fetchone() or (None, None)
    assert datetime(2024, 1, 1) <= first <= last < datetime(2025, 12, 31)  # [start, start + 730 days)
    texts = [row[0] for row in con.execute("SELECT DISTINCT ordered_at FROM lines LIMIT 50").fetchall()]
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", text) for text in texts)


def test_refunds_never_exceed_the_order_total_and_match_the_status(con: duckdb.DuckDBPyConnection) -> None:
    rows = con.execute("SELECT status, refund_amount, net + shipping_and_tax FROM orders").fetchall()
    for status, refund, total in rows:
        if status == "paid":
            assert refund is None
        elif status in ("refunded", "cancelled"):
            assert refund == total
        else:
            assert Decimal(0) < refund < total


def test_guest_orders_are_about_five_percent_and_anonymous(con: duckdb.DuckDBPyConnection) -> None:
    guest_share = _number(con, "SELECT avg((customer_id IS NULL)::INTEGER) FROM orders")
    assert 0.02 <= guest_share <= 0.10
    named_guests = _scalar(
        con, "SELECT count(*) FROM lines WHERE customer_id IS NULL AND (email IS NOT NULL OR name IS NOT NULL)"
    )
    assert named_guests == 0
    assert _scalar(con, "SELECT count(*) FROM lines WHERE customer_id IS NULL AND consent_marketing = 'true'") == 0


def test_discount_codes_and_refunds_have_realistic_shares(con: duckdb.DuckDBPyConnection) -> None:
    coded = _number(con, "SELECT avg((discount_code IS NOT NULL)::INTEGER) FROM orders")
    refunded = _number(con, "SELECT avg((refund_amount IS NOT NULL)::INTEGER) FROM orders")
    assert 0.12 <= coded <= 0.30
    assert 0.02 <= refunded <= 0.10


# --- realism ----------------------------------------------------------------------------------------------------------


def test_top_tenth_of_customers_bring_over_30_percent_of_revenue(con: duckdb.DuckDBPyConnection) -> None:
    spend = [
        row[0]
        for row in con.execute(
            "SELECT sum(net) AS spend FROM orders WHERE customer_id IS NOT NULL "
            "GROUP BY customer_id ORDER BY spend DESC"
        ).fetchall()
    ]
    top_share = sum(spend[: len(spend) // 10]) / sum(spend)
    assert top_share > Decimal("0.30")


def test_customers_repeat_like_a_real_shop(con: duckdb.DuckDBPyConnection) -> None:
    one_timers = _number(
        con,
        "SELECT avg((n = 1)::INTEGER) FROM (SELECT count(*) AS n FROM orders WHERE customer_id IS NOT NULL "
        "GROUP BY customer_id)",
    )
    assert 0.4 <= one_timers <= 0.8


def test_december_sells_more_per_day_than_the_year_on_average(con: duckdb.DuckDBPyConnection) -> None:
    for year in (2024, 2025):
        year_end = min(date(year + 1, 1, 1), WINDOW_END)
        days_in_year, days_in_december = (year_end - date(year, 1, 1)).days, (year_end - date(year, 12, 1)).days
        per_day = _number(con, f"SELECT sum(net) / {days_in_year} FROM orders WHERE year(ordered_at) = {year}")
        december = _number(
            con,
            f"SELECT sum(net) / {days_in_december} FROM orders WHERE year(ordered_at) = {year} "
            "AND month(ordered_at) = 12",
        )
        assert december > per_day, year


def test_new_customers_grow_from_year_to_year(con: duckdb.DuckDBPyConnection) -> None:
    first_orders = dict(
        con.execute(
            "SELECT year(first_order), count(*) FROM (SELECT min(ordered_at) AS first_order FROM orders "
            "WHERE customer_id IS NOT NULL GROUP BY customer_id) GROUP BY 1"
        ).fetchall()
    )
    assert first_orders[2025] > 1.3 * first_orders[2024]


def test_funnel_narrows_from_view_to_order(store: DemoFiles, con: duckdb.DuckDBPyConnection) -> None:
    sessions = dict(
        con.execute(f"SELECT type, count(DISTINCT session_id) FROM '{store.events_path}' GROUP BY type").fetchall()
    )
    assert sessions["view"] > sessions["cart"] > sessions["checkout"] > sessions["order"]
    assert 0.2 <= sessions["cart"] / sessions["view"] <= 0.4
    # an order event for every order placed on the site, none for marketplace orders
    site_orders = _scalar(con, "SELECT count(DISTINCT order_id) FROM lines WHERE channel <> 'marketplace'")
    assert sessions["order"] == site_orders


def test_seeing_the_shipping_cost_loses_checkouts(store: DemoFiles, con: duckdb.DuckDBPyConnection) -> None:
    conversion = dict(
        con.execute(
            f"""SELECT saw_shipping, avg(ordered::INTEGER) FROM (
              SELECT bool_or(type = 'shipping_view') AS saw_shipping, bool_or(type = 'order') AS ordered
              FROM '{store.events_path}' GROUP BY session_id HAVING bool_or(type = 'checkout'))
            GROUP BY saw_shipping"""
        ).fetchall()
    )
    assert conversion[True] < conversion[False]


def test_reviews_come_from_buyers_after_their_order(store: DemoFiles, con: duckdb.DuckDBPyConnection) -> None:
    unmatched = _scalar(
        con,
        f"""SELECT count(*) FROM '{store.feedback_path}' AS f WHERE NOT EXISTS (
              SELECT 1 FROM lines AS l WHERE l.customer_id = f.customer_id AND l.product_id = f.product_id
                AND l.ordered_at::TIMESTAMP < f."at"::TIMESTAMP)""",
    )
    assert store.feedback > 0
    assert unmatched == 0


def test_review_ratings_follow_the_text(store: DemoFiles) -> None:
    reviews = pq.read_table(store.feedback_path).to_pylist()
    assert {review["source"] for review in reviews} == {"review"}
    damaged = [r["rating"] for r in reviews if "damaged" in r["text"] or "broken" in r["text"]]
    late = [r["rating"] for r in reviews if "late" in r["text"].lower() or "slow" in r["text"]]
    praise_only = [r["rating"] for r in reviews if "Will definitely buy again." in r["text"]]
    assert damaged
    assert late
    assert praise_only
    assert max(damaged) <= 2
    assert max(late) <= 3
    assert min(praise_only) >= 4


def test_products_match_the_order_lines(store: DemoFiles, con: duckdb.DuckDBPyConnection) -> None:
    products = pq.read_table(store.products_path)
    assert products.schema.field("price").type == pa.decimal128(18, 4)
    assert products.schema.field("cost").type == pa.decimal128(18, 4)
    rows = products.to_pylist()
    assert len({row["product_id"] for row in rows}) == len(rows) == store.products
    assert len({row["category"] for row in rows}) == 8
    assert all(Decimal(0) < row["cost"] < row["price"] for row in rows)
    sold = {
        (product_id, name, category, supplier, Decimal(cost), Decimal(price))
        for product_id, name, category, supplier, cost, price in con.execute(
            "SELECT DISTINCT product_id, product_name, category, supplier, unit_cost, unit_price FROM lines"
        ).fetchall()
    }
    catalogue = {(r["product_id"], r["name"], r["category"], r["supplier"], r["cost"], r["price"]) for r in rows}
    assert sold <= catalogue
    assert len(sold) > len(catalogue) / 2


def test_catalogue_grows_slowly_with_the_store() -> None:
    assert _catalogue_size(5000) == 200  # the default store
    assert _catalogue_size(CUSTOMERS) == 94  # 200 x (400 / 5000) ** 0.3
    assert _catalogue_size(10) == 40
    assert _catalogue_size(10_000_000) == 1000


def test_marketing_spend_covers_every_day_and_paid_channel(store: DemoFiles) -> None:
    spend = pq.read_table(store.marketing_spend_path)
    assert spend.schema.field("amount").type == pa.decimal128(18, 2)
    rows = spend.to_pylist()
    channels = {row["channel"] for row in rows}
    assert channels == {"paid_search", "social", "email", "referral", "marketplace"}
    assert len({(row["date"], row["channel"]) for row in rows}) == len(rows) == 730 * len(channels)
    assert min(row["amount"] for row in rows) >= 0
    assert sum(row["amount"] for row in rows if row["channel"] == "paid_search") > 0


def test_events_calendar_has_the_right_dates(store: DemoFiles) -> None:
    rows = {(row["date"], row["name"]) for row in pq.read_table(store.events_calendar_path).to_pylist()}
    assert (date(2024, 2, 10), "Chinese New Year") in rows
    assert (date(2025, 1, 29), "Chinese New Year") in rows
    assert (date(2024, 11, 29), "Black Friday") in rows  # the day after the fourth Thursday of November
    assert (date(2025, 11, 28), "Black Friday") in rows
    assert (date(2025, 11, 11), "Singles' Day") in rows
    assert (date(2025, 12, 25), "Christmas Day") in rows


# --- scale and arguments ----------------------------------------------------------------------------------------------


def test_max_order_lines_writes_exactly_that_many_lines(tmp_path: Path) -> None:
    """The rule: exactly max_order_lines lines; the last order may be cut short but stays consistent."""
    written = generate_demo_store(tmp_path, max_order_lines=20_000, with_events=False, seed=3, end=END)
    assert written.order_lines == 20_000
    con = duckdb.connect()
    con.execute(f"CREATE TABLE cut AS SELECT * FROM read_csv('{written.orders_path}', all_varchar = true)")
    assert con.execute("SELECT count(*), count(DISTINCT order_id) FROM cut").fetchone() == (20_000, written.orders)
    assert _orders_with_disagreeing_lines(con, "cut") == dict.fromkeys(ORDER_LEVEL_FIELDS, 0)


def test_progress_reports_each_step(tmp_path: Path) -> None:
    steps: list[tuple[str, int, int]] = []
    generate_demo_store(tmp_path, customers=300, with_events=False, end=END, progress=lambda *step: steps.append(step))
    assert steps == [
        ("products", 1, 1),
        ("customers", 300, 300),
        ("marketing_spend", 1, 1),
        ("events_calendar", 1, 1),
        ("tickets", 1, 1),
    ]


def test_stock_follows_the_units_sold_and_tickets_follow_the_reviews(tmp_path: Path) -> None:
    """Each day's stock is the day before's less the units orders.csv sold that day (never below zero), except on
    the days a restock arrives, when it rises; tickets come from reviewers and answer before they are solved."""
    written = generate_demo_store(tmp_path, customers=300, seed=5, end=END)
    assert written.inventory_path is not None
    con = duckdb.connect()
    con.execute(f"CREATE VIEW stock AS SELECT * FROM '{written.inventory_path}'")
    con.execute(
        f"CREATE VIEW sold AS SELECT product_id, CAST(left(ordered_at, 10) AS DATE) AS date, sum(CAST(quantity AS "
        f"INTEGER)) AS units FROM read_csv('{written.orders_path}', all_varchar = true) GROUP BY ALL"
    )
    days = con.execute("SELECT count(DISTINCT date), count(DISTINCT product_id), count(*) FROM stock").fetchone()
    assert days == (730, written.products, 730 * written.products)
    broken = con.execute(
        """
        SELECT count(*) FROM (
            SELECT s.product_id, s.date, s.on_hand, lag(s.on_hand) OVER w AS before, coalesce(d.units, 0) AS units
            FROM stock s LEFT JOIN sold d USING (product_id, date)
            WINDOW w AS (PARTITION BY s.product_id ORDER BY s.date)
        ) WHERE before IS NOT NULL AND on_hand <= before AND on_hand <> greatest(before - units, 0)
        """
    ).fetchone()
    assert broken == (0,)
    assert con.execute("SELECT min(on_hand) >= 0, count(*) FILTER (WHERE on_hand = 0) > 0 FROM stock").fetchone() == (
        True,
        True,
    )
    con.execute(f"CREATE VIEW tickets AS SELECT * FROM '{written.tickets_path}'")
    con.execute(f"CREATE VIEW reviews AS SELECT * FROM '{written.feedback_path}'")
    assert con.execute(
        "SELECT count(*) FILTER (WHERE customer_id NOT IN (SELECT customer_id FROM reviews)), "
        "count(*) FILTER (WHERE first_response_at < created_at OR solved_at < first_response_at), "
        "count(*) FILTER (WHERE (solved_at IS NULL) <> (status = 'open')) FROM tickets"
    ).fetchone() == (0, 0, 0)
    unhappy = con.execute("SELECT count(*) FROM reviews WHERE rating <= 2").fetchone()
    tickets = con.execute("SELECT count(*) FROM tickets").fetchone()
    assert unhappy is not None
    assert tickets is not None
    assert 0 < tickets[0] <= unhappy[0] + 0.1 * written.feedback


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"customers": 0}, "customers must be at least 1"),
        ({"max_order_lines": 0}, "max_order_lines must be at least 1"),
        ({"end": date(2020, 6, 1)}, "calendar covers 2020-2030; .* runs 2018-06-03 to 2020-06-01"),
        ({"end": date(2031, 1, 1), "days": 400}, "calendar covers 2020-2030"),
        ({"days": 0, "end": END}, "days must be at least 1"),
    ],
)
def test_bad_arguments_are_input_errors(tmp_path: Path, arguments: dict[str, object], message: str) -> None:
    with pytest.raises(InputError, match=message):
        generate_demo_store(tmp_path, **arguments)  # type: ignore[arg-type]


def test_the_window_ends_on_the_end_date(tmp_path: Path) -> None:
    written = generate_demo_store(tmp_path, customers=300, seed=5, end=date(2026, 3, 31), days=90, with_events=False)
    con = duckdb.connect()
    first, last = con.execute(
        f"SELECT min(CAST(ordered_at AS TIMESTAMP)), max(CAST(ordered_at AS TIMESTAMP)) "
        f"FROM read_csv('{written.orders_path}', all_varchar = true)"
    ).fetchone()
    assert datetime(2026, 1, 1) <= first < datetime(2026, 1, 2)  # 90 days to 31 March 2026 start on 1 January
    assert datetime(2026, 3, 31) <= last < datetime(2026, 4, 1)


@pytest.mark.parametrize(
    ("now", "zone", "end"),
    [
        (datetime(2026, 12, 2, 1, 6, tzinfo=UTC), "Asia/Hong_Kong", date(2026, 12, 1)),  # 09:06 in Hong Kong
        # 03:00 on 2 December in Hong Kong is 19:00 UTC on 1 December: 1 December's UTC day is not over yet
        (datetime(2026, 12, 1, 19, 0, tzinfo=UTC), "Asia/Hong_Kong", date(2026, 11, 30)),
        (datetime(2026, 12, 2, 1, 0, tzinfo=UTC), "America/New_York", date(2026, 11, 30)),  # 20:00 on 1 December
        (datetime(2026, 12, 2, 0, 0, tzinfo=UTC), "UTC", date(2026, 12, 1)),
    ],
)
def test_the_default_end_is_yesterday_in_the_store_time_zone(now: datetime, zone: str, end: date) -> None:
    assert default_end(zone, now) == end
