"""The loyalty programme: the ledger always reconciles and spends and expires oldest points first (against a
point-by-point model), a hand-made programme's arithmetic, the matched comparison's arithmetic, and the command
line on a small demo store (accrual idempotent, counted independently with pandas; redemption refusals)."""

from __future__ import annotations

import contextlib
import math
import threading
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest
from dateutil.relativedelta import relativedelta
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.conftest import build_demo_store, fresh_postgres_database, run_cli

from shoplens.actions import (
    Programme,
    accrual_entries,
    end_of_day,
    matched_repeat,
    reconcile,
    redemption_entries,
    replay,
    tier_migration,
    tiers_at,
)
from shoplens.appdb import AppDatabase, LedgerEntry, append_ledger_entries, ledger_entries
from shoplens.errors import InputError
from shoplens.metrics import NOT_PURCHASED_STATUSES

START = datetime(2025, 1, 1, 12, tzinfo=UTC)
EXPIRY_MONTHS = 3


def _values(orders: list[tuple[str, str, datetime, Decimal]]) -> pd.DataFrame:
    rows = [
        {"customer_key": c, "order_id": o, "ordered_at": at, "local_day": at.date(), "value": v}
        for c, o, at, v in orders
    ]
    return pd.DataFrame(rows, columns=["customer_key", "order_id", "ordered_at", "local_day", "value"])


class PointModel:
    """The independent model: every point is a token with its expiry; spending pops the oldest tokens."""

    def __init__(self) -> None:
        self.tokens: dict[str, list[tuple[datetime, str]]] = {}
        self.expired = 0

    def tick(self, moment: datetime) -> None:
        for customer, tokens in self.tokens.items():
            kept = [token for token in tokens if token[0] > moment]
            self.expired += len(tokens) - len(kept)
            self.tokens[customer] = kept

    def earn(self, customer: str, order_id: str, at: datetime, points: int) -> None:
        expiry = at + relativedelta(months=EXPIRY_MONTHS)
        self.tokens.setdefault(customer, []).extend([(expiry, order_id)] * points)

    def redeem(self, customer: str, points: int) -> bool:
        tokens = self.tokens.get(customer, [])
        if points > len(tokens):
            return False
        self.tokens[customer] = tokens[points:]  # tokens are in the order they were earned
        return True

    def lots(self, customer: str) -> dict[str, int]:
        left: dict[str, int] = {}
        for _, order_id in self.tokens.get(customer, []):
            left[order_id] = left.get(order_id, 0) + 1
        return left


operations = st.lists(
    st.tuples(
        st.sampled_from(["earn", "redeem", "tick"]),
        st.sampled_from(["a", "b"]),
        st.integers(min_value=0, max_value=45),  # days after the previous operation
        st.integers(min_value=1, max_value=40),  # points
    ),
    max_size=30,
)


@settings(max_examples=60, deadline=None)
@given(operations)
def test_the_ledger_reconciles_and_spends_and_expires_oldest_points_first(
    stream: list[tuple[str, str, int, int]],
) -> None:
    programme = Programme(expiry_months=EXPIRY_MONTHS, redemption={"minimum_points": 1})
    ledger: list[LedgerEntry] = []
    orders: list[tuple[str, str, datetime, Decimal]] = []
    model = PointModel()
    moment = START
    for number, (operation, customer, days, points) in enumerate(stream):
        moment += timedelta(days=days)  # whole days, so that expiry dates are often hit exactly
        model.tick(moment)
        if operation == "earn":
            orders.append((customer, f"o{number}", moment, Decimal(points) + Decimal("0.99")))  # floor: `points`
            model.earn(customer, f"o{number}", moment, points)
        if operation in ("earn", "tick"):
            ledger += accrual_entries(_values(orders), programme, ledger, moment)
        else:
            try:
                ledger += redemption_entries(ledger, customer, points, moment, programme)
                accepted = True
            except InputError:
                accepted = False
            assert accepted == model.redeem(customer, points)
        for entry in ledger:  # the appdb assigns ids in the order entries are appended
            entry.entry_id = entry.entry_id or ledger.index(entry) + 1
        checked = reconcile(ledger)
        assert checked.ok, checked.problems
        assert checked.negative_balances == 0
        current = replay(ledger, expire_until=moment)  # with the expiries not yet written (the other customer's)
        assert checked.expired - sum(entry.points for entry in current.due_expiries) == model.expired
        for key in ("a", "b"):
            account = current.accounts.get(key)
            assert (account.balance if account else 0) == len(model.tokens.get(key, []))
            lots = {lot.order_id: lot.remaining for lot in account.lots if lot.remaining} if account else {}
            assert lots == model.lots(key)


def test_a_hand_made_programme() -> None:
    programme = Programme(
        points_per_unit=Decimal(1),
        first_order_bonus=50,
        bonuses=[{"name": "double November", "starts": date(2025, 11, 1), "ends": date(2025, 11, 30)}],
        redemption={"value_per_point": Decimal("0.05"), "minimum_points": 100},
        expiry_months=12,
        tiers=[
            {"name": "bronze", "threshold": 0},
            {"name": "silver", "threshold": 200},
            {"name": "gold", "threshold": 500},
        ],
    )
    values = _values(
        [
            # A, 10 Jan: 120.40 -> 120 points + 50 for the first order = 170 (expires 10 Jan 2026)
            ("A", "a1", datetime(2025, 1, 10, 9, tzinfo=UTC), Decimal("120.40")),
            # A, 15 Nov: 80 -> 80 + 80 double-points bonus = 160
            ("A", "a2", datetime(2025, 11, 15, 9, tzinfo=UTC), Decimal("80.00")),
            # B, 1 Jun: net 600 less a refund of 100 (order_values nets it) = 500 + 50 first order = 550
            ("B", "b1", datetime(2025, 6, 1, 9, tzinfo=UTC), Decimal("500.00")),
        ]
    )
    year_end = end_of_day(date(2025, 12, 31), "UTC")
    ledger = accrual_entries(values, programme, [], year_end)
    assert sorted((e.customer_key, e.kind, e.order_id, e.points) for e in ledger) == [
        ("A", "bonus", "a1", 50),
        ("A", "bonus", "a2", 80),
        ("A", "earn", "a1", 120),
        ("A", "earn", "a2", 80),
        ("B", "bonus", "b1", 50),
        ("B", "earn", "b1", 500),
    ]
    # Tiers at the year end: A earned 170 + 160 = 330 (silver, 200-499), B 550 (gold, 500+).
    assert tiers_at(ledger, programme, year_end) == {"A": "silver", "B": "gold"}
    # Liability: (330 + 550) points x 0.05 = 44.00.
    assert programme.value_of(sum(e.points for e in ledger)) == Decimal("44.00")

    # 20 Jan 2026: A's January lot (170) expired on 10 Jan, so only 160 are left and 200 cannot be redeemed.
    with pytest.raises(InputError, match=r"^cannot redeem 200 points: customer A has a balance of 160 points$"):
        redemption_entries(ledger, "A", 200, datetime(2026, 1, 20, tzinfo=UTC), programme)
    # 5 Jan 2026: 200 come out of the January lot first (170) and 30 out of November's, leaving 130 there.
    ledger += redemption_entries(ledger, "A", 200, datetime(2026, 1, 5, tzinfo=UTC), programme)
    january_end = end_of_day(date(2026, 1, 31), "UTC")
    ledger += accrual_entries(values, programme, ledger, january_end)  # nothing new; the empty lot expires nothing
    lots = {lot.order_id: lot.remaining for lot in replay(ledger).accounts["A"].lots}
    assert lots == {"a1": 0, "a2": 130}
    assert not [e for e in ledger if e.kind == "expire"]
    # End of January: A earned 160 in the 12 months (the January 2025 order has left the window): bronze, one
    # tier down; B still gold. Liability: (130 + 550) x 0.05 = 34.00.
    assert tier_migration(ledger, programme, january_end)[-1] == {"month": "2026-01", "members": 2, "up": 0, "down": 1}
    assert programme.value_of(sum(e.points for e in ledger)) == Decimal("34.00")
    assert reconcile(ledger).ok

    # B's order is refunded by another 200 later: value 300 -> 300 + 50 = 350 points, 200 clawed back once.
    refunded = values.assign(value=[Decimal("120.40"), Decimal("80.00"), Decimal("300.00")])
    clawback = accrual_entries(refunded, programme, ledger, january_end)
    assert [(e.kind, e.order_id, e.points) for e in clawback] == [("adjust", "b1@2026-02-01", -200)]
    assert accrual_entries(refunded, programme, ledger + clawback, january_end) == []


def _orders(rows: list[tuple[str, str, float]]) -> pd.DataFrame:
    return pd.DataFrame(
        [{"customer_key": c, "local_day": date.fromisoformat(d), "net": Decimal(str(n))} for c, d, n in rows]
    )


def test_the_matched_comparison_by_hand() -> None:
    orders = _orders(
        [
            ("m1", "2025-02-01", 10), ("m1", "2025-03-01", 10),  # member, joined Feb, back in 28 days
            ("m2", "2025-02-10", 10),  # member, joined Feb, never back
            ("n1", "2025-02-05", 10), ("n1", "2025-06-01", 10),  # non-member, back after 116 days: not a repeat
            ("n2", "2025-02-20", 10),  # non-member, never back
            ("m3", "2024-05-01", 50), ("m3", "2025-03-03", 10), ("m3", "2025-03-20", 10),  # one order before
            ("n3", "2024-06-01", 50), ("n3", "2025-03-10", 10), ("n3", "2025-04-01", 10),  # the same, non-member
            ("m4", "2025-04-01", 10),  # member from a channel no non-member came from: unmatched
        ]
    )  # fmt: skip
    channels = {key: "search" for key in ("m1", "m2", "m3", "n1", "n2", "n3")} | {"m4": "social"}
    joins = {"m1": date(2025, 2, 1), "m2": date(2025, 2, 10), "m3": date(2025, 3, 3), "m4": date(2025, 4, 1)}
    could_join = joins | {"n1": date(2025, 2, 5), "n2": date(2025, 2, 20), "n3": date(2025, 3, 10)}
    result = matched_repeat(orders, channels, joins, could_join, date(2025, 12, 31))
    # Naive: members 2 of 4 came back (0.5), non-members 1 of 3 (0.3333).
    assert result["naive"] == {"members": 0.5, "non_members": 0.3333, "difference": 0.1667}
    # Stratum Feb/search/0 orders/no spend: members 1/2, non-members 0/2 -> +0.5, weight 2.
    # Stratum Mar/search/1 order/spend at the median (50): members 1/1, non-members 1/1 -> 0, weight 1.
    # Difference (2 x 0.5 + 1 x 0) / 3 = 0.3333; members 2/3, non-members (2 x 0 + 1 x 1) / 3.
    # Variance: 2^2 x (0.25/2 + 0/2) + 1^2 x 0 = 0.5; half width 1.96 x sqrt(0.5) / 3 = 0.4620.
    half_width = 1.96 * math.sqrt(0.5) / 3
    assert result["matched"] == {
        "strata": 2,
        "members": 3,
        "non_members": 3,
        "members_unmatched": 1,
        "members_repeat_rate": 0.6667,
        "non_members_repeat_rate": 0.3333,
        "difference": 0.3333,
        "low": round(1 / 3 - half_width, 4),
        "high": round(1 / 3 + half_width, 4),
    }


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A demo store with a programme from 2025 for consenting customers, accrued twice."""
    home = build_demo_store(tmp_path_factory.mktemp("loyalty") / "home", customers=300, seed=5)
    (home / "loyalty.yaml").write_text(
        "starts: 2025-01-01\nenrolment: marketing_consent\nfirst_order_bonus: 100\nexpiry_months: 6\n", encoding="utf-8"
    )
    first, second = run_cli(home, "loyalty", "accrue", "--json"), run_cli(home, "loyalty", "accrue", "--json")
    assert first.exit_code == 0 == second.exit_code, first.stderr + second.stderr
    return {"home": home, "first": first.json(), "second": second.json()}


def _qualifying_orders(home: Path, *, since: str = "2025-01-01", consenting_only: bool = True) -> pd.DataFrame:
    """Independently (pandas on the warehouse file): purchases of known customers from `since` (UTC days; the demo
    store keeps UTC), of consenting ones only unless told, worth at least 1 after the refunds against them."""
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        orders = con.sql("SELECT order_id, customer_key, ordered_at, net, status FROM orders").df()
        refunds = con.sql("SELECT order_id, amount FROM refunds").df()
        consenting = set(con.sql("SELECT customer_key FROM customers WHERE consent_marketing").df()["customer_key"])
    bought = orders[~orders["status"].fillna("").str.strip().str.lower().isin(NOT_PURCHASED_STATUSES)]
    bought = bought[bought["customer_key"].notnull() & (bought["ordered_at"] >= pd.Timestamp(since))]
    if consenting_only:
        bought = bought[bought["customer_key"].isin(consenting)]
    bought = bought.assign(consenting=bought["customer_key"].isin(consenting))
    refunded = refunds.groupby("order_id")["amount"].sum()
    value = bought["net"].astype(float) - bought["order_id"].map(refunded).fillna(0).astype(float)
    return bought[value >= 1].assign(points=value[value >= 1].map(math.floor))


def test_accrual_earns_once_per_qualifying_order(demo_store: dict[str, Any]) -> None:
    home = demo_store["home"]
    expected = _qualifying_orders(home)
    database = AppDatabase(f"sqlite:///{home / 'app.db'}")
    try:
        ledger = ledger_entries(database)
    finally:
        database.close()
    earn = [entry for entry in ledger if entry.kind == "earn"]
    assert len(earn) == len(expected) > 50
    assert {e.order_id for e in earn} == set(expected["order_id"])
    assert sum(e.points for e in earn) == expected["points"].sum()
    bonus = [entry for entry in ledger if entry.kind == "bonus"]
    assert len(bonus) == expected["customer_key"].nunique()  # one first-order bonus per member
    assert demo_store["first"]["entries_added"] == len(ledger)
    assert demo_store["second"]["entries_added"] == 0
    verified = run_cli(home, "loyalty", "verify", "--json").json()
    assert verified["ok"]
    assert verified["negative_balances"] == 0
    assert verified["earned"] == expected["points"].sum() + 100 * len(bonus)


def test_summary_counts_members_and_prices_the_liability(demo_store: dict[str, Any]) -> None:
    home = demo_store["home"]
    summary = run_cli(home, "loyalty", "summary", "--json").json()
    verified = run_cli(home, "loyalty", "verify", "--json").json()
    assert summary["members"] == _qualifying_orders(home)["customer_key"].nunique()
    assert summary["points_outstanding"] == verified["balances"]
    assert summary["liability"] == round(verified["balances"] * 0.01, 2)
    assert sum(summary["tiers"].values()) == summary["members"]
    assert summary["repeat"]["matched"]["members"] <= summary["repeat"]["members_eligible"]
    # The placebo year (2024): everyone whose first order worth at least 1 came by 2 Oct 2024 (so that their 90
    # days ended in 2024), consenting ones as the "members".
    earning_2024 = _qualifying_orders(home, since="2024-01-01", consenting_only=False)
    earning_2024 = earning_2024[earning_2024["ordered_at"] < pd.Timestamp("2025-01-01")]
    first = earning_2024.sort_values("ordered_at").groupby("customer_key").first()
    eligible = first[first["ordered_at"] < pd.Timestamp("2024-10-03")]
    placebo = summary["placebo"]
    assert placebo["period"] == {"from": "2024-01-01", "to": "2024-12-31"}
    assert placebo["members_eligible"] == eligible["consenting"].sum() > 0
    assert placebo["non_members_eligible"] == (~eligible["consenting"]).sum() > 0


def test_redeeming_more_than_the_balance_exits_2_with_the_reason(demo_store: dict[str, Any]) -> None:
    home = demo_store["home"]
    richest = run_cli(home, "loyalty", "balance", "--json").json()["balances"][0]
    key, balance = richest["customer_key"], richest["balance"]
    refused = run_cli(home, "loyalty", "redeem", "--customer", key, "--points", str(balance + 1), "--json")
    assert (refused.exit_code, refused.stdout) == (2, "")
    assert (
        refused.stderr
        == f"error: cannot redeem {balance + 1} points: customer {key} has a balance of {balance} points\n"
    )
    too_few = run_cli(home, "loyalty", "redeem", "--customer", key, "--points", "10", "--json")
    assert (too_few.exit_code, too_few.stderr) == (
        2,
        "error: --points 10 is below the programme's minimum redemption of 500 points\n",
    )


def test_two_redemptions_at_once_cannot_spend_the_same_points(demo_store: dict[str, Any]) -> None:
    home = demo_store["home"]
    programme = Programme(redemption={"minimum_points": 1})
    row = run_cli(home, "loyalty", "balance", "--json").json()["balances"][1]
    key, balance = row["customer_key"], row["balance"]
    at = datetime(2025, 12, 31, tzinfo=UTC)  # the data end: nothing of the balance is due to expire
    start = threading.Barrier(2, timeout=30)
    outcomes: list[str] = []
    databases = [AppDatabase(f"sqlite:///{home / 'app.db'}") for _ in range(2)]

    def slow_plan(ledger: list[LedgerEntry]) -> list[LedgerEntry]:
        time.sleep(0.3)  # both would have read the same balance without the write lock
        return redemption_entries(ledger, key, balance, at, programme)

    def redeem(database: AppDatabase) -> None:
        start.wait()
        try:
            append_ledger_entries(database, slow_plan, key)
            outcomes.append("redeemed")
        except InputError as refused:
            outcomes.append(str(refused))

    threads = [threading.Thread(target=redeem, args=(database,)) for database in databases]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for database in databases:
        database.close()
    refusal = f"cannot redeem {balance} points: customer {key} has a balance of 0 points"
    assert sorted(outcomes) == sorted(["redeemed", refusal])
    assert run_cli(home, "loyalty", "balance", "--customer", key, "--json").json()["balance"] == 0
    assert run_cli(home, "loyalty", "verify", "--json").json()["ok"]


@pytest.mark.parametrize("command", ["accrue", "redeem", "balance", "summary", "verify"])
def test_every_loyalty_command_has_help_and_json(command: str, tmp_path: Path) -> None:
    result = run_cli(tmp_path, "loyalty", command, "--help")
    assert result.exit_code == 0
    assert "--json" in result.stdout
    assert len(result.stdout.split("\n\n")[1].strip()) > 20


def test_a_bad_programme_file_is_refused_in_one_line(tmp_path: Path) -> None:
    programme = tmp_path / "loyalty.yaml"
    programme.write_text("tiers:\n  - {name: gold, threshold: 100}\n", encoding="utf-8")
    result = run_cli(tmp_path / "home", "loyalty", "summary", "--programme", str(programme), "--json")
    assert (result.exit_code, result.stderr) == (
        2,
        f"error: programme file {programme}: tiers must start with one whose threshold is 0\n",
    )


@pytest.mark.parametrize("engine", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_the_app_database_appends_an_accrual_once(engine: str, tmp_path: Path) -> None:
    programme = Programme(expiry_months=1, first_order_bonus=5, redemption={"minimum_points": 1})
    # c1 earns 10 + 5 on 1 March (expires 1 April) and 20 on 10 April; c2 earns 7 + 5 on 2 March.
    values = _values(
        [
            ("c1", "o1", datetime(2025, 3, 1, 8, tzinfo=UTC), Decimal("10.50")),
            ("c1", "o2", datetime(2025, 4, 10, 8, tzinfo=UTC), Decimal("20.00")),
            ("c2", "o3", datetime(2025, 3, 2, 8, tzinfo=UTC), Decimal("7.00")),
        ]
    )
    as_of = end_of_day(date(2025, 4, 15), "UTC")
    with contextlib.ExitStack() as stack:
        url = (
            f"sqlite:///{tmp_path / 'app.db'}" if engine == "sqlite" else stack.enter_context(fresh_postgres_database())
        )
        database = AppDatabase(url)
        stack.callback(database.close)
        first = append_ledger_entries(database, lambda ledger: accrual_entries(values, programme, ledger, as_of))
        again = append_ledger_entries(database, lambda ledger: accrual_entries(values, programme, ledger, as_of))
        # 5 earn/bonus entries, and both March lots expired (c1: 15 on 1 April, c2: 12 on 2 April).
        assert sorted((e.kind, e.order_id, e.points) for e in first if e.kind == "expire") == [
            ("expire", "o1", -15),
            ("expire", "o3", -12),
        ]
        assert (len(first), again) == (7, [])
        redemption = append_ledger_entries(
            database, lambda ledger: redemption_entries(ledger, "c1", 20, as_of, programme), "c1"
        )
        assert [(e.kind, e.points) for e in redemption] == [("redeem", -20)]
        stored = ledger_entries(database)
        assert sum(e.points for e in stored if e.customer_key == "c1") == 0  # 15 + 20 − 15 expired − 20
        assert reconcile(stored).ok


def test_verify_finds_a_ledger_that_spends_points_it_never_had(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    database = AppDatabase(f"sqlite:///{home / 'app.db'}")
    at = datetime(2025, 5, 1, tzinfo=UTC)
    earn = LedgerEntry(customer_key="c1", at=at, kind="earn", points=10, order_id="o1")
    overspent = LedgerEntry(customer_key="c1", at=at + timedelta(days=1), kind="redeem", points=-30, order_id=None)
    try:
        append_ledger_entries(database, lambda _: [earn, overspent])  # written past every check, as a bug might
    finally:
        database.close()
    result = run_cli(home, "loyalty", "verify", "--json")
    report = result.json()
    assert (result.exit_code, report["ok"], report["negative_balances"]) == (1, False, 1)
    assert (report["earned"], report["redeemed"], report["balances"]) == (10, 30, -20)  # 10 − 30 = −20
    assert report["problems"][0] == f"redeem entry {overspent.entry_id} spends more than the customer's balance"
