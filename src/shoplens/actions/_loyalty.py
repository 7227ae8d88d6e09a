"""The loyalty programme: what an order earns, how points are spent and expire, tiers, and what the programme is
worth to the shop.

The ledger (:class:`shoplens.appdb.LedgerEntry`) is append-only and a balance is the sum of a customer's entries.
Every order that earns opens a **lot** (its earn and bonus points) that expires ``expiry_months`` after the order;
redemptions and refund claw-backs spend the oldest lots first (FIFO), and an expiry takes what is left of its one
lot, so it can never take a balance below zero. :func:`replay` walks the ledger in time order and is the one place
these rules live: the accrual, a redemption and ``loyalty verify`` all call it.

Idempotence rests on the ledger's unique key (kind, order_id, customer_key): an order earns once (``earn``), gets
its bonus once (``bonus``), and a lot expires once (``expire`` with the lot's order id). A refund given after an
order earned claws back the difference once per accrual day (``adjust`` with order id ``<order>@<day>``).

What an order is worth follows :mod:`shoplens.metrics._facts`: purchases only, known customers only, net sales
(``orders.net``) less the refunds given against that order, never below zero; refunds that name no order (credit
notes) earn nothing back and take nothing away.
"""

from __future__ import annotations

import calendar
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

import ibis
import ibis.expr.types as ir
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from shoplens.appdb import LedgerEntry
from shoplens.errors import InputError
from shoplens.metrics import purchase_refunds, purchases, with_local_day

PROGRAMME_FILE = "loyalty.yaml"
REPEAT_WINDOW_DAYS = 90
EARNING_KINDS = ("earn", "bonus")
CENT = Decimal("0.01")


class Bonus(BaseModel):
    """Extra points on orders placed from ``starts`` to ``ends`` (store-local days, both included)."""

    model_config = ConfigDict(extra="forbid")

    name: str
    starts: date
    ends: date
    multiplier: Decimal = Field(default=Decimal(2), ge=1)

    @model_validator(mode="after")
    def _ordered(self) -> Bonus:
        if self.ends < self.starts:
            raise ValueError(f"bonus {self.name!r} ends before it starts")
        return self


class Redemption(BaseModel):
    model_config = ConfigDict(extra="forbid")

    value_per_point: Decimal = Field(default=Decimal("0.01"), gt=0)
    minimum_points: int = Field(default=500, ge=1)


class Tier(BaseModel):
    """A tier holds from ``threshold`` points earned in the rolling 12 months up to the next tier's threshold."""

    model_config = ConfigDict(extra="forbid")

    name: str
    threshold: int = Field(ge=0)


def _default_tiers() -> list[Tier]:
    return [Tier(name="bronze", threshold=0), Tier(name="silver", threshold=500), Tier(name="gold", threshold=1500)]


class Programme(BaseModel):
    """The programme file (YAML). Every field has a default, so an empty file is the default programme.

    ``starts``: the first day orders earn (none: every order ever). ``enrolment``: ``all`` enrols every customer
    who buys; ``marketing_consent`` only those who agreed to hear from the shop (a programme that mails point
    statements needs that agreement), so customers who buy without it are the non-members.
    """

    model_config = ConfigDict(extra="forbid")

    starts: date | None = None
    enrolment: Literal["all", "marketing_consent"] = "all"
    points_per_unit: Decimal = Field(default=Decimal(1), gt=0)
    first_order_bonus: int = Field(default=0, ge=0)
    bonuses: list[Bonus] = Field(default_factory=list)
    redemption: Redemption = Field(default_factory=Redemption)
    expiry_months: int = Field(default=12, ge=1, le=120)
    tiers: list[Tier] = Field(default_factory=_default_tiers)

    @model_validator(mode="after")
    def _tiers_climb(self) -> Programme:
        thresholds = [tier.threshold for tier in self.tiers]
        if not self.tiers or thresholds[0] != 0:
            raise ValueError("tiers must start with one whose threshold is 0")
        if thresholds != sorted(set(thresholds)):
            raise ValueError("tier thresholds must rise strictly")
        if len({tier.name for tier in self.tiers}) != len(self.tiers):
            raise ValueError("tier names must be different")
        return self

    def tier_of(self, points_earned: int) -> str:
        """The tier of a customer who earned ``points_earned`` in the rolling 12 months."""
        return [tier.name for tier in self.tiers if tier.threshold <= points_earned][-1]

    def value_of(self, points: int) -> Decimal:
        """What ``points`` are worth when redeemed, to the cent."""
        return (points * self.redemption.value_per_point).quantize(CENT, rounding=ROUND_HALF_UP)


def load_programme(path: Path | None, home: Path) -> Programme:
    """The programme from ``path``, else from ``<home>/loyalty.yaml`` when it exists, else the defaults."""
    if path is None:
        path = home / PROGRAMME_FILE
        if not path.exists():
            return Programme()
    elif not path.is_file():
        raise InputError(f"programme file {path} does not exist")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError, OSError) as exc:
        first = (str(exc).splitlines() or [""])[0]
        raise InputError(f"programme file {path} is not readable YAML: {first}") from None
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise InputError(f"programme file {path} must be a mapping of settings")
    try:
        return Programme.model_validate(raw)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"])
        message = str(error["msg"]).removeprefix("Value error, ")
        raise InputError(f"programme file {path}: {where + ': ' if where else ''}{message}") from None


def add_months(moment: datetime, months: int) -> datetime:
    """``moment`` plus whole calendar months; the day is clamped to the month's last (31 Jan + 1 = 28/29 Feb)."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    return moment.replace(year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1]))


def aware(moment: datetime) -> datetime:
    """A UTC instant as timezone-aware (SQLite and DuckDB hand back naive UTC)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def end_of_day(day: date, zone: str) -> datetime:
    """The first UTC instant after the store-local ``day``: the "as of" moment of that day."""
    return datetime.combine(day + timedelta(days=1), time(), ZoneInfo(zone)).astimezone(UTC)


# --- the ledger --------------------------------------------------------------------------------------------------


@dataclass
class Lot:
    """The points one order earned (earn plus bonus) and what is left of them."""

    order_id: str
    earned_at: datetime
    expires_at: datetime
    points: int = 0
    remaining: int = 0
    expired: bool = False


@dataclass
class Account:
    customer_key: str
    lots: list[Lot] = field(default_factory=list)
    balance: int = 0
    earned: int = 0
    redeemed: int = 0
    expired: int = 0
    adjusted: int = 0

    def spend(self, points: int, first: Lot | None = None) -> int:
        """Take ``points`` from the lots, ``first`` then the oldest; returns what could not be taken."""
        ordered = ([first] if first is not None else []) + [lot for lot in self.lots if lot is not first]
        for lot in ordered:
            taken = min(lot.remaining, points)
            lot.remaining -= taken
            points -= taken
            if points == 0:
                break
        return points


@dataclass
class Replay:
    """The ledger walked in time order: every account, what is wrong, and (when asked) the expiries now due."""

    accounts: dict[str, Account]
    problems: list[str]
    due_expiries: list[LedgerEntry]


def _in_time_order(entries: Iterable[LedgerEntry]) -> list[LedgerEntry]:
    indexed = list(enumerate(entries))
    indexed.sort(key=lambda pair: (aware(pair[1].at), pair[1].entry_id or math.inf, pair[0]))
    return [entry for _, entry in indexed]


def _lot_of(order_id: str | None) -> str | None:
    """The order a claw-back belongs to (``<order>@<day>``), or the order id itself."""
    return None if order_id is None else order_id.rsplit("@", 1)[0]


class _Walk:
    """One pass over the ledger in time order (see :func:`replay`)."""

    def __init__(self, ordered: list[LedgerEntry], expire_until: datetime | None) -> None:
        self.expire_until = expire_until
        self.recorded_expiries = {(e.customer_key, e.order_id) for e in ordered if e.kind == "expire"}
        self.accounts: dict[str, Account] = {}
        self.problems: list[str] = []
        self.due: list[LedgerEntry] = []

    def expire_due(self, account: Account, moment: datetime) -> None:
        """Expire the lots whose date has come by ``moment`` and that no recorded entry expires."""
        for lot in account.lots:
            if lot.expired or lot.expires_at > moment or (account.customer_key, lot.order_id) in self.recorded_expiries:
                continue
            lot.expired = True
            if lot.remaining > 0:
                reason = f"points of order {lot.order_id} expired"
                self.due.append(
                    _entry(account.customer_key, lot.expires_at, "expire", -lot.remaining, lot.order_id, reason)
                )
                account.expired += lot.remaining
                account.balance -= lot.remaining
                lot.remaining = 0

    def apply(self, entry: LedgerEntry) -> None:
        at = aware(entry.at)
        account = self.accounts.setdefault(entry.customer_key, Account(entry.customer_key))
        if self.expire_until is not None:
            self.expire_due(account, min(at, self.expire_until))
        lot = next((lot for lot in account.lots if lot.order_id == _lot_of(entry.order_id)), None)
        handler = {"earn": self._earn, "bonus": self._earn, "redeem": self._redeem, "expire": self._expire}.get(
            entry.kind, self._adjust if entry.kind == "adjust" else None
        )
        if handler is None:
            self.problems.append(f"entry {entry.entry_id} has unknown kind {entry.kind!r}")
            return
        if not handler(entry, account, lot):
            return
        account.balance += entry.points
        if account.balance < 0:
            self.problems.append(f"customer {entry.customer_key} goes below zero at entry {entry.entry_id}")

    def _earn(self, entry: LedgerEntry, account: Account, lot: Lot | None) -> bool:
        if entry.points <= 0 or entry.order_id is None:
            self.problems.append(f"{entry.kind} entry {entry.entry_id} must add points for an order")
            return False
        if lot is None:
            at = aware(entry.at)
            never = datetime.max.replace(tzinfo=UTC)  # an earning entry without an expiry date keeps its points
            lot = Lot(entry.order_id, at, aware(entry.expires_at) if entry.expires_at is not None else never)
            account.lots.append(lot)
        lot.points += entry.points
        lot.remaining += entry.points
        account.earned += entry.points
        return True

    def _redeem(self, entry: LedgerEntry, account: Account, lot: Lot | None) -> bool:
        if entry.points >= 0:
            self.problems.append(f"redeem entry {entry.entry_id} must take points away")
            return False
        if account.spend(-entry.points):
            self.problems.append(f"redeem entry {entry.entry_id} spends more than the customer's balance")
        account.redeemed -= entry.points
        return True

    def _expire(self, entry: LedgerEntry, account: Account, lot: Lot | None) -> bool:
        if lot is None or -entry.points != lot.remaining:
            self.problems.append(f"expire entry {entry.entry_id} does not take exactly what is left of its lot")
        if lot is not None:
            lot.remaining -= min(lot.remaining, -entry.points)
            lot.expired = True
        account.expired -= entry.points
        return True

    def _adjust(self, entry: LedgerEntry, account: Account, lot: Lot | None) -> bool:
        if entry.points > 0:
            self.problems.append(f"adjust entry {entry.entry_id} adds points: only claw-backs are adjustments")
            return False
        if account.spend(-entry.points, first=lot):
            self.problems.append(f"adjust entry {entry.entry_id} takes more than the customer's balance")
        account.adjusted -= entry.points
        return True


def replay(entries: Iterable[LedgerEntry], *, expire_until: datetime | None = None) -> Replay:
    """Walk the ledger in time order, keeping each customer's lots.

    With ``expire_until``, lots whose expiry date has come by then and that have no expiry entry yet expire at
    their expiry date, in their place in time (so that a later redemption cannot spend them); those expiries are
    returned in ``due_expiries`` and counted in the accounts. Without it, the recorded entries alone are checked.
    """
    walk = _Walk(_in_time_order(entries), expire_until)
    for entry in _in_time_order(entries):
        walk.apply(entry)
    if expire_until is not None:
        for account in walk.accounts.values():
            walk.expire_due(account, expire_until)
    return Replay(walk.accounts, walk.problems, walk.due)


# --- accrual -----------------------------------------------------------------------------------------------------


def order_values(orders: ir.Table, refunds: ir.Table, customers: ir.Table, programme: Programme, zone: str) -> ir.Table:
    """The orders that can earn: ``customer_key, order_id, ordered_at, local_day, value``.

    Purchases of known (and, with ``marketing_consent`` enrolment, consenting) customers from the programme's
    start; ``value`` is the order's net sales less the refunds given against it, never below zero.
    """
    bought = purchases(orders)
    bought = bought.filter(bought.customer_key.notnull()).select("customer_key", "order_id", "ordered_at", "net")
    bought = with_local_day(bought, "ordered_at", zone)
    if programme.starts is not None:
        bought = bought.filter(bought.local_day >= ibis.date(programme.starts))
    if programme.enrolment == "marketing_consent":
        consenting = customers.filter(customers.consent_marketing.fill_null(False)).select("customer_key")
        bought = bought.semi_join(consenting, "customer_key")
    given = purchase_refunds(refunds, orders)
    given = given.filter(given.order_id.notnull())
    refunded = given.group_by("order_id").aggregate(refunded=given.amount.sum())
    joined = bought.left_join(refunded, "order_id")
    value = joined.net.fill_null(0) - joined.refunded.fill_null(0)
    return joined.select(
        "customer_key",
        "order_id",
        "ordered_at",
        "local_day",
        value=ibis.greatest(value, 0).cast("decimal(38, 2)"),
    )


def order_points(value: Decimal, day: date, programme: Programme) -> tuple[int, int, list[str]]:
    """Base points of an order worth ``value`` on ``day``, its window bonus points and the bonuses' names."""
    base = int((value * programme.points_per_unit).to_integral_value(rounding=ROUND_FLOOR))
    bonus, names = 0, []
    for event in programme.bonuses:
        if event.starts <= day <= event.ends:
            bonus += int((base * (event.multiplier - 1)).to_integral_value(rounding=ROUND_FLOOR))
            names.append(event.name)
    return base, bonus, names


def accrual_entries(
    values: pd.DataFrame, programme: Programme, ledger: Sequence[LedgerEntry], as_of: datetime
) -> list[LedgerEntry]:
    """The entries an accrual appends: earn and bonus entries for orders that have none, claw-backs for orders
    refunded since they earned, then every expiry due by ``as_of``. Entries already in ``ledger`` are not repeated.

    ``values`` has the columns of :func:`order_values`.
    """
    keys = {(e.kind, e.order_id, e.customer_key) for e in ledger}
    credited: dict[tuple[str, str], int] = defaultdict(int)
    first_earning: dict[str, str] = {}  # each customer's first order that earned, in the ledger already
    for entry in _in_time_order(e for e in ledger if e.kind == "earn"):
        first_earning.setdefault(entry.customer_key, str(entry.order_id))
    for entry in ledger:
        if entry.kind in (*EARNING_KINDS, "adjust") and entry.order_id is not None:
            credited[(entry.customer_key, str(_lot_of(entry.order_id)))] += entry.points
    new: list[LedgerEntry] = []
    ordered = values.sort_values(["customer_key", "ordered_at", "order_id"])
    columns = [ordered[name].tolist() for name in ("customer_key", "order_id", "ordered_at", "local_day", "value")]
    for customer, order_id, ordered_at, local_day, value in zip(*columns, strict=True):
        at = aware(pd.Timestamp(ordered_at).to_pydatetime())
        base, bonus, names = order_points(Decimal(str(value)), pd.Timestamp(local_day).date(), programme)
        if base <= 0:
            continue
        if first_earning.setdefault(customer, order_id) == order_id and programme.first_order_bonus:
            bonus += programme.first_order_bonus
            names.append("first order")
        expires = add_months(at, programme.expiry_months)
        if ("earn", order_id, customer) in keys:
            owed = base + bonus - credited[(customer, order_id)]
            if owed < 0:  # refunded since it earned
                day = as_of.date().isoformat()
                new.append(_entry(customer, as_of, "adjust", owed, f"{order_id}@{day}", f"refund on order {order_id}"))
            continue
        new.append(_entry(customer, at, "earn", base, order_id, f"order {order_id}", expires))
        if bonus and ("bonus", order_id, customer) not in keys:
            new.append(_entry(customer, at, "bonus", bonus, order_id, ", ".join(names), expires))
    new = [e for e in new if (e.kind, e.order_id, e.customer_key) not in keys]
    new = _capped_clawbacks([*ledger, *new], new)
    return new + replay([*ledger, *new], expire_until=as_of).due_expiries


def _entry(
    customer: str,
    at: datetime,
    kind: str,
    points: int,
    order_id: str | None,
    reason: str,
    expires: datetime | None = None,
) -> LedgerEntry:
    return LedgerEntry(
        customer_key=customer,
        at=at,
        kind=kind,
        points=points,
        order_id=order_id,
        reason=reason[:200],
        expires_at=expires,
    )


def _capped_clawbacks(everything: Sequence[LedgerEntry], new: list[LedgerEntry]) -> list[LedgerEntry]:
    """Claw-backs no larger than the balance they come out of (points already spent are not taken back)."""
    adjustments = [e for e in new if e.kind == "adjust"]
    if not adjustments:
        return new
    others = [e for e in everything if e not in adjustments]
    balances = {key: account.balance for key, account in replay(others).accounts.items()}
    kept: list[LedgerEntry] = []
    for entry in new:
        if entry.kind == "adjust":
            available = balances.get(entry.customer_key, 0)
            entry.points = -min(-entry.points, available)
            balances[entry.customer_key] = available + entry.points
            if entry.points == 0:
                continue
        kept.append(entry)
    return kept


def redemption_entries(
    ledger: Sequence[LedgerEntry], customer_key: str, points: int, at: datetime, programme: Programme
) -> list[LedgerEntry]:
    """The customer's expiries due by ``at`` and the redemption, or :class:`InputError` when it cannot be made."""
    minimum = programme.redemption.minimum_points
    if points < minimum:
        raise InputError(f"--points {points} is below the programme's minimum redemption of {minimum} points")
    own = [entry for entry in ledger if entry.customer_key == customer_key]
    walked = replay(own, expire_until=at)
    account = walked.accounts.get(customer_key)
    balance = account.balance if account is not None else 0
    if points > balance:
        raise InputError(f"cannot redeem {points} points: customer {customer_key} has a balance of {balance} points")
    value = programme.value_of(points)
    redemption = _entry(customer_key, at, "redeem", -points, None, f"redeemed for {value}")
    return [*walked.due_expiries, redemption]


# --- reading the ledger ------------------------------------------------------------------------------------------


def earned_within(ledger: Sequence[LedgerEntry], start: datetime, end: datetime) -> dict[str, int]:
    """Points each customer earned (earn and bonus, less claw-backs) in ``(start, end]``."""
    earned: dict[str, int] = defaultdict(int)
    for entry in ledger:
        if entry.kind in (*EARNING_KINDS, "adjust") and start < aware(entry.at) <= end:
            earned[entry.customer_key] += entry.points
    return dict(earned)


def tiers_at(ledger: Sequence[LedgerEntry], programme: Programme, moment: datetime) -> dict[str, str]:
    """Each member's tier at ``moment`` (members who have an entry by then): points earned in the 12 months before."""
    members = {entry.customer_key for entry in ledger if aware(entry.at) <= moment}
    earned = earned_within(ledger, add_months(moment, -12), moment)
    return {key: programme.tier_of(earned.get(key, 0)) for key in sorted(members)}


def tier_migration(ledger: Sequence[LedgerEntry], programme: Programme, as_of: datetime) -> list[dict[str, Any]]:
    """Per month (at its end, the last month at ``as_of``): members, and how many moved up or down a tier since
    the previous month's end."""
    if not ledger:
        return []
    rank = {tier.name: index for index, tier in enumerate(programme.tiers)}
    first = min(aware(entry.at) for entry in ledger)
    month = date(first.year, first.month, 1)
    rows: list[dict[str, Any]] = []
    previous: dict[str, str] = {}
    while True:
        next_month = add_months(datetime.combine(month, time(), UTC), 1)
        moment = min(next_month, as_of)
        tiers = tiers_at(ledger, programme, moment)
        up = sum(1 for key, tier in tiers.items() if key in previous and rank[tier] > rank[previous[key]])
        down = sum(1 for key, tier in tiers.items() if key in previous and rank[tier] < rank[previous[key]])
        rows.append({"month": month.strftime("%Y-%m"), "members": len(tiers), "up": up, "down": down})
        previous = tiers
        if next_month >= as_of:
            return rows
        month = next_month.date()


@dataclass(frozen=True)
class Reconciliation:
    ok: bool
    entries: int
    earned: int
    redeemed: int
    expired: int
    clawed_back: int
    balances: int
    customers: int
    negative_balances: int
    problems: list[str]


def reconcile(ledger: Sequence[LedgerEntry]) -> Reconciliation:
    """Earned − redeemed − expired − clawed back must equal the sum of the balances, no balance may be negative,
    and the FIFO lots must hold exactly each balance."""
    walked = replay(ledger)
    sums: dict[str, int] = defaultdict(int)
    balances: dict[str, int] = defaultdict(int)
    for entry in ledger:
        sums[entry.kind] += entry.points
        balances[entry.customer_key] += entry.points
    earned = sums["earn"] + sums["bonus"]
    redeemed, expired, clawed_back = -sums["redeem"], -sums["expire"], -sums["adjust"]
    total = sum(balances.values())
    problems = list(walked.problems)
    if earned - redeemed - expired - clawed_back != total:
        problems.append(
            f"earned {earned} − redeemed {redeemed} − expired {expired} − clawed back {clawed_back} ≠ {total}"
        )
    for key, account in walked.accounts.items():
        if sum(lot.remaining for lot in account.lots) != balances[key]:
            problems.append(f"customer {key}: the lots do not hold the balance")
    negative = sum(1 for balance in balances.values() if balance < 0)
    return Reconciliation(
        ok=not problems and negative == 0,
        entries=len(ledger),
        earned=earned,
        redeemed=redeemed,
        expired=expired,
        clawed_back=clawed_back,
        balances=total,
        customers=len(balances),
        negative_balances=negative,
        problems=problems[:20],
    )


# --- members against comparable non-members ----------------------------------------------------------------------

MATCHING_METHOD = (
    "Members join on the day of their first order that earned points; customers not in the ledger (not enrolled) "
    "get a pseudo-join day at their first order that would have earned (same start, same minimum value). "
    f"The outcome is another purchase within {REPEAT_WINDOW_DAYS} days after the join day, counted only for joins "
    f"whose {REPEAT_WINDOW_DAYS} days ended by the data end. Members and non-members are matched exactly on join "
    "month, acquisition channel, orders before joining (0, 1, 2-3, 4+) and spend before joining (none, below or "
    "above the median of those who had spent); the difference is the member-weighted mean of the differences within "
    "strata that hold both, with a normal 95% interval. Members in strata without non-members are left out and "
    "counted. It compares like with like on what was known at joining; it does not prove the programme caused it."
)


def _orders_bucket(count: int) -> str:
    return "0" if count == 0 else "1" if count == 1 else "2-3" if count <= 3 else "4+"


def first_earning_days(values: pd.DataFrame, programme: Programme) -> dict[str, date]:
    """Each customer's first day with an order that earns points (``values`` as :func:`order_values` gives them
    for every customer, enrolled or not): the day a member joins, or a non-member would have."""
    earning = values[[order_points(Decimal(str(v)), date.min, programme)[0] > 0 for v in values["value"]]]
    days = pd.to_datetime(earning["local_day"]).dt.date
    return {str(key): day for key, day in days.groupby(earning["customer_key"]).min().items()}


def matched_repeat(
    orders: pd.DataFrame,
    channels: Mapping[str, str],
    joins: Mapping[str, date],
    could_join: Mapping[str, date],
    data_end: date,
) -> dict[str, Any]:
    """Repeat rate of members after joining against matched non-members (see :data:`MATCHING_METHOD`).

    ``orders``: every purchase of a known customer (``customer_key, local_day, net``); ``joins``: each member's
    join day; ``could_join``: the day each customer bought in a way that earns (:func:`first_earning_days`), so
    that a non-member's pseudo-join day is defined as a member's is; ``channels``: acquisition channels.
    """
    frame = orders.copy()
    frame["local_day"] = pd.to_datetime(frame["local_day"]).dt.date
    join_day = {key: day for key, day in could_join.items() if key not in joins} | dict(joins)
    rows = []
    by_customer = {str(key): group for key, group in frame.groupby("customer_key")}
    for key, day in join_day.items():
        if (data_end - day).days < REPEAT_WINDOW_DAYS or key not in by_customer:
            continue
        own = by_customer[key]
        before = own[own["local_day"] < day]
        later = own[(own["local_day"] > day) & (own["local_day"] <= day + timedelta(days=REPEAT_WINDOW_DAYS))]
        rows.append(
            {
                "member": key in joins,
                "month": day.strftime("%Y-%m"),
                "channel": channels.get(key) or "unknown",
                "orders_before": _orders_bucket(len(before)),
                "spend_before": float(before["net"].astype(float).sum()),
                "repeated": not later.empty,
            }
        )
    people = pd.DataFrame(rows, columns=["member", "month", "channel", "orders_before", "spend_before", "repeated"])
    members, others = people[people["member"]], people[~people["member"]]
    result: dict[str, Any] = {
        "method": MATCHING_METHOD,
        "window_days": REPEAT_WINDOW_DAYS,
        "members_eligible": len(members),
        "non_members_eligible": len(others),
        "naive": {
            "members": _rate(members["repeated"]),
            "non_members": _rate(others["repeated"]),
        },
    }
    naive = result["naive"]
    naive["difference"] = (
        round(naive["members"] - naive["non_members"], 4)
        if None not in (naive["members"], naive["non_members"])
        else None
    )
    if members.empty or others.empty:
        reason = "no members yet"
        if others.empty:
            reason = "no non-members to compare with: every customer who bought in a way that earns joined"
        result |= {"matched": None, "reason": reason}
        return result
    spent = people.loc[people["spend_before"] > 0, "spend_before"]
    median = float(spent.median()) if not spent.empty else 0.0
    people["spend_bucket"] = [
        "none" if s <= 0 else "below median" if s <= median else "above median" for s in people["spend_before"]
    ]
    strata_columns = ["month", "channel", "orders_before", "spend_bucket"]
    weighted_member = weighted_other = variance = 0.0
    matched_members = matched_others = strata = 0
    for _, stratum in people.groupby(strata_columns):
        treated, control = stratum[stratum["member"]], stratum[~stratum["member"]]
        if treated.empty or control.empty:
            continue
        strata += 1
        n_t, n_c = len(treated), len(control)
        p_t, p_c = float(treated["repeated"].mean()), float(control["repeated"].mean())
        matched_members += n_t
        matched_others += n_c
        weighted_member += n_t * p_t
        weighted_other += n_t * p_c
        variance += n_t**2 * (p_t * (1 - p_t) / n_t + p_c * (1 - p_c) / n_c)
    if not matched_members:
        result |= {"matched": None, "reason": "no stratum holds both members and non-members"}
        return result
    difference = (weighted_member - weighted_other) / matched_members
    half_width = 1.96 * math.sqrt(variance) / matched_members
    result["matched"] = {
        "strata": strata,
        "members": matched_members,
        "non_members": matched_others,
        "members_unmatched": len(members) - matched_members,
        "members_repeat_rate": round(weighted_member / matched_members, 4),
        "non_members_repeat_rate": round(weighted_other / matched_members, 4),
        "difference": round(difference, 4),
        "low": round(difference - half_width, 4),
        "high": round(difference + half_width, 4),
    }
    return result


def _rate(flags: pd.Series) -> float | None:
    return round(float(flags.mean()), 4) if len(flags) else None


def placebo_repeat(
    values: pd.DataFrame,
    orders: pd.DataFrame,
    channels: Mapping[str, str],
    enrolled: set[str],
    programme: Programme,
) -> dict[str, Any] | None:
    """The same comparison in the year before the programme started, with its enrolment rule applied as if it had
    started then: no programme existed, so a difference here measures what the method reports without one (bias
    or chance). None when the programme has no start or enrols everyone.

    ``values``: :func:`order_values` of every customer from a year before the start; ``enrolled``: the customers
    the enrolment rule admits; ``orders`` and ``channels`` as for :func:`matched_repeat`.
    """
    if programme.starts is None or programme.enrolment == "all":
        return None
    start = programme.starts
    year_before = add_months(datetime.combine(start, time()), -12).date()
    days = pd.to_datetime(values["local_day"]).dt.date
    earlier = values[(days >= year_before) & (days < start)]
    could_join = first_earning_days(earlier, programme)
    joins = {key: day for key, day in could_join.items() if key in enrolled}
    before = orders[pd.to_datetime(orders["local_day"]).dt.date < start]
    result = matched_repeat(before, channels, joins, could_join, start - timedelta(days=1))
    result.pop("method")
    result["period"] = {
        "from": add_months(datetime.combine(start, time()), -12).date(),
        "to": start - timedelta(days=1),
    }
    return result
