"""Customer lifecycle: where each known customer stands on a reference day (default: the data end, the last
store-local day with a purchase or a refund).

The rule, applied in this order (``active_days`` = 90 and ``lapsed_days`` = 180 by default; days are
store-local calendar days):

1. **new**: first order within the last ``active_days`` days;
2. **reactivated**: last order within the last ``active_days`` days, after a gap of more than ``lapsed_days``
   days since the order before it (the customer had lapsed and came back);
3. **active**: last order within the last ``active_days`` days;
4. **at risk**: last order ``active_days + 1`` to ``lapsed_days`` days ago;
5. **lapsed**: last order more than ``lapsed_days`` days ago.
"""

from __future__ import annotations

from datetime import date

import ibis
import ibis.expr.types as ir

from shoplens.errors import InputError
from shoplens.metrics._facts import data_end, money, with_local_day
from shoplens.metrics._time import Zone

LIFECYCLE_STATES: tuple[str, ...] = ("new", "active", "reactivated", "at risk", "lapsed")


def lifecycle_rule(active_days: int, lapsed_days: int) -> dict[str, str]:
    """The rule of each state in words, for people reading the result."""
    return {
        "new": f"first order within the last {active_days} days",
        "reactivated": (
            f"last order within the last {active_days} days, more than {lapsed_days} days after the order before it"
        ),
        "active": f"last order within the last {active_days} days (and not new or reactivated)",
        "at risk": f"last order {active_days + 1}-{lapsed_days} days ago",
        "lapsed": f"last order more than {lapsed_days} days ago",
    }


def lifecycle(
    orders: ir.Table,
    refunds: ir.Table,
    *,
    zone: Zone = "UTC",
    as_of: date | None = None,
    active_days: int = 90,
    lapsed_days: int = 180,
) -> ir.Table:
    """One row per known customer: ``customer_key, first_day, last_day, previous_day, orders,
    days_since_last, revenue, state``."""
    if not 0 < active_days < lapsed_days:
        raise InputError("lifecycle needs 0 < active_days < lapsed_days")
    known = orders.filter(orders.customer_key.notnull()).select("order_id", "customer_key", "ordered_at", "net")
    known = with_local_day(known, "ordered_at", zone)
    if as_of is not None:
        known = known.filter(known.local_day <= ibis.date(as_of))
        reference = ibis.date(as_of)
    else:
        reference = data_end(orders, refunds, zone)
    latest_first = ibis.row_number().over(
        group_by=known.customer_key, order_by=[ibis.desc(known.ordered_at), ibis.desc(known.order_id)]
    )
    ranked = known.mutate(recent_rank=latest_first)
    per = ranked.group_by("customer_key").aggregate(
        first_day=ranked.local_day.min(),
        last_day=ranked.local_day.max(),
        previous_day=ranked.local_day.max(where=ranked.recent_rank == 1),  # the order before the last one
        orders=ranked.count(),
        net=money(ranked.net.sum()),
    )
    given = refunds.filter(refunds.customer_key.notnull())
    if as_of is not None:
        local = with_local_day(given, "refunded_at", zone)
        given = local.filter(local.refunded_at.isnull() | (local.local_day <= ibis.date(as_of)))
    returned = given.group_by("customer_key").aggregate(refunded=money(given.amount.sum()))
    per = per.left_join(returned, "customer_key").drop("customer_key_right")
    per = per.mutate(
        days_since_last=reference.delta(per.last_day, unit="day").cast("int64"),
        days_since_first=reference.delta(per.first_day, unit="day").cast("int64"),
        gap_before_last=per.last_day.delta(per.previous_day, unit="day").cast("int64"),
        revenue=money(per.net - per.refunded.fill_null(0)),
    )
    recent = per.days_since_last <= active_days
    state = ibis.cases(
        (per.days_since_first <= active_days, ibis.literal("new")),
        (recent & (per.gap_before_last > lapsed_days).fill_null(False), ibis.literal("reactivated")),
        (recent, ibis.literal("active")),
        (per.days_since_last <= lapsed_days, ibis.literal("at risk")),
        else_=ibis.literal("lapsed"),
    )
    return per.select(
        "customer_key", "first_day", "last_day", "previous_day", "orders", "days_since_last", "revenue", state=state
    )


def lifecycle_summary(per_customer: ir.Table) -> ir.Table:
    """Per state: ``state, customers, share, revenue``."""
    summary = per_customer.group_by("state").aggregate(
        customers=per_customer.count(), revenue=money(per_customer.revenue.sum())
    )
    return summary.mutate(share=summary.customers.cast("float64") / summary.customers.sum().over().cast("float64"))
