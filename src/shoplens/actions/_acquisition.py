"""Acquisition economics per channel: what a new customer cost, what they brought back, and how fast.

* A customer's **channel** is the channel of their first order, as in
  :func:`shoplens.metrics.acquisition_effects` (which gives ``new_customers``, the 90-day repeat rate and the
  revenue per customer, net of refunds).
* **Spend** is the warehouse's ``marketing_spend`` per channel over all its days; **CAC** = spend ÷ new customers
  of the channel; **ROAS** = revenue of those customers' orders (net of refunds, lifetime) ÷ spend. Both are NULL for
  a channel without spend rows (organic traffic, or a store that never imported its spend).
* **Value** per customer is observed, not predicted: net sales less refunds less the cost of the goods
  (``products.cost`` × quantity) when every sold product has a cost (``basis = "margin"``), otherwise net sales less
  refunds (``basis = "revenue"``). ``ltv_cac`` = value per customer ÷ CAC.
* **Payback**: the expected cumulative value per customer ``d`` days after acquisition is the sum, over the days
  ``s ≤ d``, of the value brought on day ``s`` divided by the customers observed for at least ``s`` days (so
  customers acquired recently count only for the days they could have bought on); ``payback_days`` is the first day
  it reaches the CAC, NULL when it has not yet.
"""

from __future__ import annotations

from collections.abc import Mapping

import ibis
import ibis.expr.types as ir

from shoplens.metrics import Zone, acquisition_effects, first_orders, money, ratio, with_local_day

REPEAT_WINDOW_DAYS = 90


def channel_effects(orders: ir.Table, refunds: ir.Table, *, zone: Zone) -> ir.Table:
    """Per channel of the first order: ``channel, customers, repeat_rate, orders_per_customer,
    revenue_per_customer`` (see :func:`shoplens.metrics.acquisition_effects`)."""
    return acquisition_effects(orders, refunds, by="channel", zone=zone, window_days=REPEAT_WINDOW_DAYS)


def acquired(orders: ir.Table, *, zone: Zone) -> ir.Table:
    """Every known customer's acquisition: ``customer_key, channel, acquired_on`` (the store-local day of the first
    order) and ``month`` (its first day)."""
    first = first_orders(orders, zone, REPEAT_WINDOW_DAYS)
    return first.select(
        "customer_key",
        "channel",
        acquired_on=first.local_day,
        month=first.local_day.truncate("M"),
    )


def costs_known(order_lines: ir.Table, products: ir.Table) -> ir.BooleanScalar:
    """True when every sold line names a product with a known cost (the margin can then be computed)."""
    priced = order_lines.left_join(products.select("product_id", "cost"), "product_id")
    return (priced.count(where=priced.cost.isnull()) == 0).as_scalar()


def value_events(
    orders: ir.Table,
    order_lines: ir.Table,
    refunds: ir.Table,
    products: ir.Table,
    *,
    zone: Zone,
    with_costs: bool,
) -> ir.Table:
    """What each known customer brought, event by event: ``customer_key, local_day, revenue, value`` — an order's net
    sales (less its goods' cost when ``with_costs``), and a refund's amount as a negative."""
    known = orders.filter(orders.customer_key.notnull())
    bought = with_local_day(known.select("order_id", "customer_key", "ordered_at", "net"), "ordered_at", zone)
    if with_costs:
        priced = order_lines.inner_join(products.select("product_id", "cost"), "product_id")
        cost = priced.group_by("order_id").aggregate(goods_cost=(priced.quantity * priced.cost).sum())
        bought = bought.left_join(cost, "order_id").drop("order_id_right")
        value = bought.net - bought.goods_cost.fill_null(0)
    else:
        value = bought.net
    sales = bought.select("customer_key", "local_day", revenue=money(bought.net), value=money(value))
    given = refunds.filter(refunds.customer_key.notnull(), refunds.refunded_at.notnull())
    given = with_local_day(given.select("customer_key", "refunded_at", "amount"), "refunded_at", zone)
    returned = given.select("customer_key", "local_day", revenue=money(-given.amount), value=money(-given.amount))
    return ibis.union(sales, returned, distinct=False)


def customer_value(
    customers: ir.Table, events: ir.Table, *, data_end: ir.DateValue
) -> tuple[ir.Table, ir.Table, ir.Table]:
    """From :func:`acquired` customers and :func:`value_events`:

    * per channel: ``channel, customers, revenue, value`` (lifetime totals);
    * per channel and day after acquisition: ``channel, day, value`` (events before acquisition, such as a refund
      dated before the first order, are left out);
    * per channel and days observed (``data_end`` − acquisition day): ``channel, observed_days, customers``.
    """
    joined = events.inner_join(customers, "customer_key")
    joined = joined.mutate(day=joined.local_day.delta(joined.acquired_on, unit="day").cast("int64"))
    totals = joined.group_by("channel").aggregate(revenue=money(joined.revenue.sum()), value=money(joined.value.sum()))
    counts = customers.group_by("channel").aggregate(customers=customers.count())
    per_channel = counts.left_join(totals, counts.channel.identical_to(totals.channel)).drop("channel_right")
    after = joined.filter(joined.day >= 0)
    by_day = after.group_by(["channel", "day"]).aggregate(value=money(after.value.sum()))
    observed = customers.mutate(observed_days=data_end.delta(customers.acquired_on, unit="day").cast("int64"))
    by_observed = observed.group_by(["channel", "observed_days"]).aggregate(customers=observed.count())
    return per_channel, by_day, by_observed


def spend_by_channel(marketing_spend: ir.Table) -> ir.Table:
    """``channel, spend, spend_from, spend_through`` over every day of ``marketing_spend``."""
    return marketing_spend.group_by("channel").aggregate(
        spend=money(marketing_spend.amount.sum()),
        spend_from=marketing_spend.date.min(),
        spend_through=marketing_spend.date.max(),
    )


def by_acquisition_month(customers: ir.Table, events: ir.Table, marketing_spend: ir.Table) -> ir.Table:
    """Per month of acquisition and channel: ``month, channel, new_customers, spend, cac, revenue_per_customer,
    value_per_customer`` (value to date of that month's customers; spend of the channel in that month)."""
    joined = events.inner_join(customers, "customer_key")
    totals = joined.group_by(["month", "channel"]).aggregate(
        revenue=money(joined.revenue.sum()), value=money(joined.value.sum())
    )
    counts = customers.group_by(["month", "channel"]).aggregate(new_customers=customers.count())
    spent = marketing_spend.mutate(month=marketing_spend.date.truncate("M"))
    spent = spent.group_by(["month", "channel"]).aggregate(spend=money(spent.amount.sum()))
    table = counts.left_join(totals, [counts.month == totals.month, counts.channel.identical_to(totals.channel)]).drop(
        "month_right", "channel_right"
    )
    table = table.left_join(spent, [table.month == spent.month, table.channel == spent.channel]).drop(
        "month_right", "channel_right"
    )
    return table.select(
        "month",
        "channel",
        "new_customers",
        "spend",
        cac=ratio(table.spend, table.new_customers),
        revenue_per_customer=ratio(table.revenue.fill_null(0), table.new_customers),
        value_per_customer=ratio(table.value.fill_null(0), table.new_customers),
    ).order_by(["month", ibis.asc("channel", nulls_first=True)])


def payback_days(
    value_by_day: Mapping[int, float], customers_by_observed: Mapping[int, int], cac: float | None
) -> int | None:
    """The first day after acquisition when the expected cumulative value per customer reaches ``cac`` (see the
    module docstring); None without a CAC or when it is not reached within the days observed."""
    if cac is None:
        return None
    longest = max(customers_by_observed, default=-1)
    # customers observed for at least s days, for s = 0 .. longest
    at_least = [0] * (longest + 2)
    for days, count in customers_by_observed.items():
        at_least[max(days, 0)] += count
    for days in range(longest - 1, -1, -1):
        at_least[days] += at_least[days + 1]
    cumulative = 0.0
    for day in range(longest + 1):
        if at_least[day] == 0:
            break
        cumulative += value_by_day.get(day, 0.0) / at_least[day]
        if cumulative >= cac:
            return day
    return None


def spend_months(marketing_spend: ir.Table) -> ir.Table:
    """Spend per channel and month: ``channel, month, spend, first_day, last_day`` (days with a spend row)."""
    spent = marketing_spend.mutate(month=marketing_spend.date.truncate("M"))
    return spent.group_by(["channel", "month"]).aggregate(
        spend=money(spent.amount.sum()), first_day=spent.date.min(), last_day=spent.date.max()
    )


# --- first web session: source, medium, campaign, landing page, referring site --------------------------------

TOUCHPOINTS = ("source", "medium", "campaign", "landing_page", "referrer")
UNKNOWN = "(unknown)"
NOT_REFERRED = "(not a referral)"
NO_SESSION = "(no web session)"
REFERRAL_MEDIA = ("referral",)
TRAFFIC_TYPE_SOURCE = "traffic type "  # a sessions export's own traffic code, as the source: "traffic type 2"


def session_touchpoints(events: ir.Table | None, sessions: ir.Table | None) -> ir.Table:
    """One row per web session: ``session_id, customer_key, started_at, source, medium, campaign, landing_page,
    referrer``.

    From ``events``: the source, medium, campaign and page of the session's first event (by time, then event id),
    and any known customer of the session. The **referring site** is the source of a session whose medium is
    ``referral`` (trackers such as GA4 put the referring domain there), ``(not a referral)`` otherwise. From
    ``sessions`` (exports that give whole sessions, such as UCI Online Shoppers): the source is the export's
    ``traffic_type`` code as ``traffic type N``; medium, campaign, landing page and referrer are unknown.
    """
    parts = []
    if events is not None:
        window = ibis.window(group_by="session_id", order_by=[ibis.asc("at"), ibis.asc("event_id")])
        ordered = events.mutate(event_order=ibis.row_number().over(window))
        opening = ordered.filter(ordered.event_order == 0)
        known = events.group_by("session_id").aggregate(session_customer=events.customer_key.max())
        first = opening.inner_join(known, "session_id")
        parts.append(
            first.select(
                "session_id",
                customer_key=first.session_customer,
                started_at=first.at,
                source=first.source,
                medium=first.medium,
                campaign=first.campaign,
                landing_page=first.page,
                referrer=ibis.ifelse(
                    first.medium.lower().isin(REFERRAL_MEDIA), first.source, ibis.literal(NOT_REFERRED)
                ),
            )
        )
    if sessions is not None:
        parts.append(
            sessions.select(
                "session_id",
                "customer_key",
                "started_at",
                source=ibis.literal(TRAFFIC_TYPE_SOURCE) + sessions.traffic_type.cast("string"),
                medium=ibis.null("string"),
                campaign=ibis.null("string"),
                landing_page=ibis.null("string"),
                referrer=ibis.null("string"),
            )
        )
    if not parts:
        raise ValueError("session_touchpoints needs events or sessions")
    schema = {"session_id": "string", "customer_key": "string", "started_at": "timestamp"}
    parts = [part.cast({**schema, **dict.fromkeys(TOUCHPOINTS, "string")}) for part in parts]
    table = parts[0] if len(parts) == 1 else ibis.union(*parts, distinct=False)
    return table.mutate(**{name: table[name].cast("string").nullif("").fill_null(UNKNOWN) for name in TOUCHPOINTS})


def first_touch(touchpoints: ir.Table) -> ir.Table:
    """The first web session of each known customer (by start, then session id): ``customer_key, source, medium,
    campaign, landing_page, referrer``."""
    known = touchpoints.filter(touchpoints.customer_key.notnull())
    window = ibis.window(
        group_by="customer_key", order_by=[ibis.asc("started_at", nulls_first=False), ibis.asc("session_id")]
    )
    ordered = known.mutate(session_order=ibis.row_number().over(window))
    return ordered.filter(ordered.session_order == 0).select("customer_key", *TOUCHPOINTS)


def touchpoint_effects(orders: ir.Table, touchpoints: ir.Table, *, by: str, zone: Zone) -> tuple[ir.Table, ir.Table]:
    """Per value of ``by`` (one of :data:`TOUCHPOINTS`) of the customer's first web session:

    * ``touchpoint, sessions, new_customers, repeat_rate`` — sessions with that value (any visitor), customers with a
      purchase whose first session had it (``(no web session)`` for customers never seen on the site), and their
      90-day repeat rate (as :func:`channel_effects`: only customers whose 90 days have passed count);
    * ``customer_key, touchpoint`` for each new customer, to join their predicted CLV and RFM segment.
    """
    if by not in TOUCHPOINTS:
        raise ValueError(f"by must be one of {TOUCHPOINTS}, not {by!r}")
    first = first_orders(orders, zone, REPEAT_WINDOW_DAYS).select("customer_key", "repeated")
    touched = first_touch(touchpoints)
    touched = touched.select("customer_key", touchpoint=touched[by])
    customers = first.left_join(touched, "customer_key").drop("customer_key_right")
    customers = customers.mutate(touchpoint=customers.touchpoint.fill_null(NO_SESSION))
    per = customers.group_by("touchpoint").aggregate(
        new_customers=customers.count().cast("int64"),
        repeaters=customers.count(where=customers.repeated.fill_null(False)),
        eligible=customers.count(where=customers.repeated.notnull()),
    )
    per = per.mutate(repeat_rate=ratio(per.repeaters, per.eligible))
    visits = touchpoints.group_by(touchpoint=touchpoints[by]).aggregate(sessions=touchpoints.count().cast("int64"))
    table = visits.outer_join(per, visits.touchpoint == per.touchpoint)
    table = table.select(
        touchpoint=ibis.coalesce(table.touchpoint, table.touchpoint_right),
        sessions=table.sessions.fill_null(0),
        new_customers=table.new_customers.fill_null(0),
        repeat_rate=table.repeat_rate,
    )
    return table, customers.select("customer_key", "touchpoint")


def spend_by_campaign(marketing_spend: ir.Table) -> ir.Table:
    """``campaign, spend`` over every day of ``marketing_spend``, for the rows that name a campaign."""
    named = marketing_spend.filter(marketing_spend.campaign != "")
    return named.group_by("campaign").aggregate(spend=money(named.amount.sum()))
