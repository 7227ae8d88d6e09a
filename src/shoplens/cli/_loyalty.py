"""``shoplens loyalty``: earn points on purchases, redeem them, see balances, tiers and what the programme is worth."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import ibis
import pandas as pd
import typer

from shoplens.actions import (
    PROGRAMME_FILE,
    Programme,
    accrual_entries,
    aware,
    end_of_day,
    first_earning_days,
    load_programme,
    matched_repeat,
    order_values,
    placebo_repeat,
    reconcile,
    redemption_entries,
    replay,
    tier_migration,
    tiers_at,
)
from shoplens.appdb import AppDatabase, LedgerEntry, append_ledger_entries, ledger_entries
from shoplens.cli._app import JsonOption, app, settings
from shoplens.cli._output import emit_json, stdout
from shoplens.config import Settings
from shoplens.errors import InputError
from shoplens.metrics import customer_orders, data_end, purchase_refunds, purchases
from shoplens.warehouse import Warehouse, connect, warehouse_exists

loyalty_app = typer.Typer(
    name="loyalty",
    help=(
        "The loyalty programme: points earned on purchases (from a programme file, loyalty.yaml in the store home), "
        "redemptions, FIFO expiry, tiers, the liability, and members against comparable non-members."
    ),
    no_args_is_help=True,
)
app.add_typer(loyalty_app)

ProgrammeOption = Annotated[
    Path | None,
    typer.Option(
        "--programme",
        help=f"Programme file (YAML); default {PROGRAMME_FILE} in the store home, else the built-in defaults "
        "(1 point per currency unit, 1 point = 0.01, 500-point minimum, 12-month expiry, bronze/silver/gold at "
        "0/500/1500 points in 12 months).",
    ),
]


@dataclass(frozen=True)
class _Purchases:
    """What the loyalty commands read from the warehouse."""

    data_end: date
    values: pd.DataFrame  # order values that can earn under the programme (order_values)
    all_values: pd.DataFrame  # every customer's order values, enrolled or not, from a year before the start
    bought: pd.DataFrame  # every purchase of a known customer: customer_key, local_day, net
    channels: dict[str, str]  # acquisition channel per customer
    consenting: set[str]  # customers who agreed to marketing


class _Store:
    """What every loyalty command needs: the programme, and the warehouse's purchases and data end."""

    def __init__(self, config: Settings, programme_file: Path | None) -> None:
        self.config = config
        self.programme: Programme = load_programme(programme_file, config.home)
        self.zone = config.timezone

    def _data_end(self, backend: ibis.BaseBackend) -> date:
        orders, refunds = backend.table("orders"), backend.table("refunds")
        end = backend.execute(data_end(purchases(orders), purchase_refunds(refunds, orders), self.zone))
        if end is None or pd.isna(end):
            raise InputError("the warehouse holds no purchases yet")
        return pd.Timestamp(end).date()

    def _warehouse(self) -> Warehouse:
        if not warehouse_exists(self.config):
            raise InputError("the store has no warehouse yet: import orders first (shoplens import or shoplens demo)")
        return connect(self.config, read_only=True)

    def purchases(self) -> _Purchases:
        with self._warehouse() as warehouse:
            backend = warehouse.backend
            orders, refunds, customers = backend.table("orders"), backend.table("refunds"), backend.table("customers")
            end = self._data_end(backend)
            values = backend.execute(order_values(orders, refunds, customers, self.programme, self.zone))
            year_before = None if self.programme.starts is None else self.programme.starts - timedelta(days=366)
            everyone = self.programme.model_copy(update={"enrolment": "all", "starts": year_before})
            all_values = backend.execute(order_values(orders, refunds, customers, everyone, self.zone))
            bought = backend.execute(customer_orders(orders, self.zone).select("customer_key", "local_day", "net"))
            known = backend.execute(customers.select("customer_key", "channel_acquired", "consent_marketing"))
        return _Purchases(
            data_end=end,
            values=values,
            all_values=all_values,
            bought=bought,
            channels=dict(zip(known["customer_key"], known["channel_acquired"].fillna("unknown"), strict=True)),
            consenting=set(known.loc[known["consent_marketing"].fillna(False).astype(bool), "customer_key"]),
        )

    def data_end_moment(self) -> datetime:
        """The first instant after the data end's store-local day: the moment redemptions and expiries are as of."""
        with self._warehouse() as warehouse:
            return end_of_day(self._data_end(warehouse.backend), self.zone)

    def local_day(self, moment: datetime) -> date:
        return moment.astimezone(ZoneInfo(self.zone)).date()

    def as_of(self, ledger: list[LedgerEntry]) -> datetime:
        """The data end when there is a warehouse, else the newest ledger entry."""
        if warehouse_exists(self.config):
            return self.data_end_moment()
        return max(aware(entry.at) for entry in ledger)


def _database(config: Settings) -> AppDatabase:
    if config.database_url is None and not config.home.is_dir():
        raise InputError(f"no store at {config.home}: build one with shoplens demo or shoplens import, or pass --home")
    return AppDatabase.for_store(config)


@loyalty_app.command("accrue")
def accrue_command(ctx: typer.Context, programme: ProgrammeOption = None, as_json: JsonOption = False) -> None:
    """Earn points on every purchase not yet in the ledger, then expire points due by the data end.

    An order earns floor(value x points_per_unit), where value is its net sales less the refunds given against it;
    bonus windows and the first-order bonus add a bonus entry. Running it again adds nothing (each order earns
    once). Prints {"entries_added", "earn", "bonus", "adjust", "expire", "points_earned", "points_expired",
    "data_end"}.
    """
    store = _Store(settings(ctx), programme)
    found = store.purchases()
    values, end = found.values, found.data_end
    database = _database(store.config)
    try:
        new = append_ledger_entries(
            database, lambda ledger: accrual_entries(values, store.programme, ledger, end_of_day(end, store.zone))
        )
    finally:
        database.close()
    counts = {kind: sum(1 for entry in new if entry.kind == kind) for kind in ("earn", "bonus", "adjust", "expire")}
    document = {
        "entries_added": len(new),
        **counts,
        "points_earned": sum(entry.points for entry in new if entry.kind in ("earn", "bonus")),
        "points_expired": -sum(entry.points for entry in new if entry.kind == "expire"),
        "data_end": end,
    }
    if as_json:
        emit_json(document)
        return
    stdout.print(
        f"{len(new):,} ledger entries added ({counts['earn']:,} orders earned, {counts['expire']:,} lots expired) "
        f"as of {end}"
    )


@loyalty_app.command("redeem")
def redeem_command(
    ctx: typer.Context,
    customer: Annotated[str, typer.Option("--customer", help="The customer's pseudonymous key.")],
    points: Annotated[int, typer.Option("--points", help="Points to redeem (at least the programme's minimum).")],
    programme: ProgrammeOption = None,
    as_json: JsonOption = False,
) -> None:
    """Redeem points for a customer at the data end, oldest points first; expired points cannot be spent.

    Refuses (exit 2) more than the balance or less than the minimum. Prints {"customer_key", "points",
    "value", "balance", "expired"}.
    """
    store = _Store(settings(ctx), programme)
    at = store.data_end_moment()
    database = _database(store.config)
    try:
        new = append_ledger_entries(
            database, lambda ledger: redemption_entries(ledger, customer, points, at, store.programme), customer
        )
        balance = sum(entry.points for entry in ledger_entries(database, customer))
    finally:
        database.close()
    expired = -sum(entry.points for entry in new if entry.kind == "expire")
    value = store.programme.value_of(points)
    document = {"customer_key": customer, "points": points, "value": value, "balance": balance, "expired": expired}
    if as_json:
        emit_json(document)
        return
    stdout.print(f"redeemed {points:,} points (worth {value} {store.config.currency}); balance now {balance:,}")


def _lots(ledger: list[LedgerEntry], customer: str) -> list[dict[str, Any]]:
    account = replay(ledger).accounts.get(customer)
    if account is None:
        return []
    return [
        {"order_id": lot.order_id, "earned_at": lot.earned_at, "expires_at": lot.expires_at, "remaining": lot.remaining}
        for lot in account.lots
        if lot.remaining > 0
    ]


@loyalty_app.command("balance")
def balance_command(
    ctx: typer.Context,
    customer: Annotated[str | None, typer.Option("--customer", help="One customer's pseudonymous key.")] = None,
    programme: ProgrammeOption = None,
    as_json: JsonOption = False,
) -> None:
    """Points balances (the sum of each member's ledger entries), with their value and tier.

    With --customer: {"customer_key", "balance", "value", "tier", "lots": [{order_id, earned_at, expires_at,
    remaining}]} (a customer without entries has balance 0). Without: {"members", "balances": [{customer_key,
    balance, value, tier}]} largest first.
    """
    store = _Store(settings(ctx), programme)
    database = _database(store.config)
    try:
        ledger = ledger_entries(database, customer)
    finally:
        database.close()
    tiers = tiers_at(ledger, store.programme, store.as_of(ledger)) if ledger else {}
    balances: dict[str, int] = {}
    for entry in ledger:
        balances[entry.customer_key] = balances.get(entry.customer_key, 0) + entry.points
    if customer is not None:
        balance = balances.get(customer, 0)
        document: dict[str, Any] = {
            "customer_key": customer,
            "balance": balance,
            "value": store.programme.value_of(balance),
            "tier": tiers.get(customer),
            "lots": _lots(ledger, customer),
        }
    else:
        rows = sorted(balances.items(), key=lambda item: (-item[1], item[0]))
        document = {
            "members": len(rows),
            "balances": [
                {"customer_key": key, "balance": points, "value": store.programme.value_of(points), "tier": tiers[key]}
                for key, points in rows
            ],
        }
    if as_json:
        emit_json(document)
        return
    if customer is not None:
        stdout.print(f"{document['balance']:,} points (worth {document['value']} {store.config.currency})")
        return
    stdout.print(f"{len(balances):,} members; the largest balances:")
    for row in document["balances"][:10]:
        stdout.print(f"  {row['customer_key'][:16]}  {row['balance']:>8,}  {row['tier']}")


@loyalty_app.command("summary")
def summary_command(ctx: typer.Context, programme: ProgrammeOption = None, as_json: JsonOption = False) -> None:
    """What the programme holds and does: members, points outstanding, the liability, tiers, tier moves per
    month, and members' 90-day repeat rate against non-members matched on what they did before joining.

    Prints {"members", "points_outstanding", "liability", "currency", "tiers": {name: members}, "tier_migration":
    [{month, members, up, down}], "repeat": {"method", "naive", "matched": {difference, low, high, ...}}, "as_of"}.
    Members are the customers with ledger entries; non-members are customers who bought from the programme start
    (every purchase when it has none) without joining.
    """
    store = _Store(settings(ctx), programme)
    found = store.purchases()
    bought, channels, end, all_values = found.bought, found.channels, found.data_end, found.all_values
    as_of = end_of_day(end, store.zone)
    database = _database(store.config)
    try:
        ledger = ledger_entries(database)
    finally:
        database.close()
    balances: dict[str, int] = {}
    for entry in ledger:
        balances[entry.customer_key] = balances.get(entry.customer_key, 0) + entry.points
    outstanding = sum(balances.values())
    tiers = tiers_at(ledger, store.programme, as_of)
    tier_counts = {tier.name: sum(1 for name in tiers.values() if name == tier.name) for tier in store.programme.tiers}
    first_earn: dict[str, datetime] = {}
    for entry in ledger:
        if entry.kind == "earn":
            moment = aware(entry.at)
            first_earn[entry.customer_key] = min(first_earn.get(entry.customer_key, moment), moment)
    joins = {key: store.local_day(moment) for key, moment in first_earn.items()}
    since_start = all_values
    if store.programme.starts is not None:
        since_start = all_values[pd.to_datetime(all_values["local_day"]).dt.date >= store.programme.starts]
    could_join = first_earning_days(since_start, store.programme)
    repeat = matched_repeat(bought, channels, joins, could_join, end)
    document: dict[str, Any] = {
        "members": len(balances),
        "points_outstanding": outstanding,
        "liability": store.programme.value_of(outstanding),
        "currency": store.config.currency,
        "value_per_point": store.programme.redemption.value_per_point,
        "tiers": tier_counts,
        "tier_migration": tier_migration(ledger, store.programme, as_of),
        "repeat": repeat,
        "placebo": placebo_repeat(all_values, bought, channels, found.consenting, store.programme),
        "programme_starts": store.programme.starts,
        "enrolment": store.programme.enrolment,
        "as_of": end,
    }
    if as_json:
        emit_json(document)
        return
    stdout.print(
        f"{document['members']:,} members hold {outstanding:,} points, a liability of {document['liability']} "
        f"{store.config.currency}; tiers: " + ", ".join(f"{name} {count:,}" for name, count in tier_counts.items())
    )
    matched = repeat["matched"]
    if matched is None:
        stdout.print(f"repeat rate: {repeat['reason']}")
    else:
        stdout.print(
            f"{repeat['window_days']}-day repeat rate, members vs matched non-members: "
            f"{matched['members_repeat_rate']:.1%} vs {matched['non_members_repeat_rate']:.1%} "
            f"(difference {matched['difference'] * 100:+.1f} points, 95% {matched['low'] * 100:+.1f} to "
            f"{matched['high'] * 100:+.1f})"
        )
    placebo = document["placebo"]
    if placebo is not None and placebo["matched"] is not None:
        check = placebo["matched"]
        stdout.print(
            f"the same comparison in the year before the start (no programme): {check['difference'] * 100:+.1f} "
            f"points (95% {check['low'] * 100:+.1f} to {check['high'] * 100:+.1f})"
        )


@loyalty_app.command("verify")
def verify_command(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Check the ledger: earned − redeemed − expired − clawed back = the sum of the balances, no balance below
    zero, and every redemption and expiry consistent with oldest-first lots.

    Prints {"ok", "entries", "earned", "redeemed", "expired", "clawed_back", "balances", "customers",
    "negative_balances", "problems": [...]}; exits 0 when the ledger reconciles (also when it is empty) and 1
    when it does not.
    """
    config = settings(ctx)
    database = _database(config)
    try:
        result = reconcile(ledger_entries(database))
    finally:
        database.close()
    if as_json:
        emit_json(asdict(result))
    else:
        verdict = "reconciles" if result.ok else "does NOT reconcile"
        stdout.print(f"the ledger {verdict}: {result.entries:,} entries, balances {result.balances:,} points")
        for problem in result.problems:
            stdout.print(f"  {problem}")
    if not result.ok:
        raise typer.Exit(1)
