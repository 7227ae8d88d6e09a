"""Service diagnostics: how fast support answers, which products run out of stock and what that costs, and whether
a slow answer is followed by fewer repeat purchases.

- **Support.** A ticket's first response time is ``first_response_at − created_at`` and its resolution time
  ``solved_at − created_at``, in hours; an unanswered ticket has neither and counts as not answered within any
  limit. Per channel: tickets, answered, median and 90th percentile of the first response, the share answered
  within ``RESPONSE_LIMIT_HOURS`` (24), median resolution, still open.
- **Stock-outs.** A product is out of stock on a day whose snapshot shows ``on_hand = 0``; it was out *all day*
  when the snapshot before showed 0 too (the day it ran out it still sold what it had, and the loss of that day is
  not estimated). Lost units are what the product would have sold on its whole days out, estimated from how it
  sold when in stock nearby: its share of the store's units (every product, that store-local day) over its in-stock
  days within ``NEARBY_DAYS`` (14) of a whole day out, times the store's units on its whole days out. The store's
  units are the exposure because stock-outs come when demand is high (seasons, sale days, growth): a plain rate
  per in-stock day over the whole span misses most of that, and so does one without the store's demand. The 95 %
  interval is a prediction interval for the units that were actually lost, from a quasi-Poisson model of the
  product's daily units (mean share × store units, variance φ times the mean, φ ≥ 1 estimated from the nearby
  days so that lumpy sales widen it): variance φ · share · (D_out² / D_near + D_out), the share's estimation error
  plus the days' own noise (D: store units on the whole days out and on the nearby in-stock days); normal, cut at
  0. Lost sales are lost units and their bounds × the product's mean unit price.
- **After a slow answer.** For each ticket of a known customer whose following ``AFTER_DAYS`` (90) ended by the
  data end: was it slow (not answered within 24 hours), how many purchases had the customer made before it, and
  did they buy again in the 90 days after it? The comparison of slow against prompt is made within bands of prior
  purchases (0, 1, 2-3, 4+), see :func:`shoplens.metrics.matched_difference`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import ibis
import ibis.expr.types as ir

from shoplens.metrics._facts import money, ratio, with_local_day
from shoplens.metrics._time import Zone

RESPONSE_LIMIT_HOURS = 24
AFTER_DAYS = 90
NEARBY_DAYS = 14
PRIOR_BANDS = (("0", 0, 0), ("1", 1, 1), ("2-3", 2, 3), ("4+", 4, None))
Z_95 = 1.959964


def _hours(end: ir.TimestampValue, start: ir.TimestampValue) -> ir.FloatingValue:
    return end.delta(start, unit="second").cast("float64") / 3600.0


def ticket_times(tickets: ir.Table) -> ir.Table:
    """One row per ticket: ``ticket_id, customer_key, created_at, channel, response_hours, resolution_hours,
    answered, open, slow`` (slow: not answered within 24 hours)."""
    response = _hours(tickets.first_response_at, tickets.created_at)
    return tickets.select(
        "ticket_id",
        "customer_key",
        "created_at",
        channel=tickets.channel.fill_null("(none)"),
        response_hours=response,
        resolution_hours=_hours(tickets.solved_at, tickets.created_at),
        answered=tickets.first_response_at.notnull(),
        open=tickets.solved_at.isnull(),
        slow=(response > RESPONSE_LIMIT_HOURS).fill_null(True),
    )


def support_summary(times: ir.Table) -> ir.Table:
    """Per channel: ``channel, tickets, answered, median_response_hours, p90_response_hours,
    answered_within_24h_share, median_resolution_hours, open``."""
    return times.group_by("channel").aggregate(
        tickets=times.count(),
        answered=times.answered.sum().cast("int64"),
        median_response_hours=times.response_hours.quantile(0.5),
        p90_response_hours=times.response_hours.quantile(0.9),
        answered_within_24h_share=ratio((~times.slow).sum(), times.count()),
        median_resolution_hours=times.resolution_hours.quantile(0.5),
        open=times.open.sum().cast("int64"),
    )


def stock_outs(inventory: ir.Table, order_lines: ir.Table, orders: ir.Table, *, zone: Zone) -> ir.Table:
    """Per product with at least one stock-out day: ``product_id, days_tracked, stockout_days, whole_days_out,
    nearby_days, units_per_day_in_stock, lost_units, lost_units_low, lost_units_high, lost_sales, lost_sales_low,
    lost_sales_high, lost_units_variance, lost_sales_variance`` (estimates, their 95 % interval and the variances a
    total's interval adds up, see the module's rule), largest lost sales first. ``units_per_day_in_stock`` is over
    the nearby in-stock days."""
    days = inventory.group_by(["product_id", "date"]).aggregate(on_hand=inventory.on_hand.sum())
    days = days.mutate(before=days.on_hand.lag().over(group_by="product_id", order_by="date"))
    span = days.aggregate(first=days.date.min(), last=days.date.max())
    header = with_local_day(orders.select("order_id", "ordered_at"), "ordered_at", zone)
    lines = order_lines.select("order_id", "product_id", "quantity", "amount").inner_join(
        header.select("order_id", "local_day"), "order_id"
    )
    lines = lines.cross_join(span).filter(lambda t: (t.local_day >= t.first) & (t.local_day <= t.last))
    sold = lines.group_by(["product_id", "local_day"]).aggregate(units=lines.quantity.sum(), amount=lines.amount.sum())
    store = lines.group_by(store_day="local_day").aggregate(store_units=lines.quantity.sum())
    joined = days.left_join(sold, [days.product_id == sold.product_id, days.date == sold.local_day])
    joined = joined.left_join(store, joined.date == store.store_day)
    joined = joined.select(
        "product_id",
        "date",
        in_stock=joined.on_hand > 0,
        out=joined.on_hand == 0,
        whole_day_out=(joined.on_hand == 0) & (joined.before == 0).fill_null(False),
        units=joined.units.fill_null(0).cast("float64"),
        amount=joined.amount,
        store_units=joined.store_units.fill_null(0).cast("float64"),
    )
    outs = joined.filter(joined.whole_day_out).select(out_product="product_id", out_date="date")
    near = joined.inner_join(
        outs,
        [
            joined.product_id == outs.out_product,
            joined.date >= outs.out_date - ibis.interval(days=NEARBY_DAYS),
            joined.date <= outs.out_date + ibis.interval(days=NEARBY_DAYS),
        ],
    )
    near = near.filter(near.in_stock).select("product_id", "date", "units", "store_units").distinct()
    reference = near.group_by("product_id").aggregate(
        nearby_days=near.count().cast("int64"), near_units=near.units.sum(), near_store_units=near.store_units.sum()
    )
    reference = reference.mutate(share=ratio(reference.near_units, reference.near_store_units))
    spread = near.inner_join(reference.select("product_id", "share"), "product_id")
    expected = spread.share * spread.store_units
    spread = spread.group_by("product_id").aggregate(
        pearson=((spread.units - expected) ** 2 / expected).sum(where=expected > 0)
    )
    per = joined.group_by("product_id").aggregate(
        days_tracked=joined.count(),
        stockout_days=joined.out.sum().cast("int64"),
        whole_days_out=joined.whole_day_out.sum().cast("int64"),
        out_store_units=joined.store_units.sum(where=joined.whole_day_out).fill_null(0.0),
        units=joined.units.sum(),
        amount=joined.amount.sum().fill_null(0),
    )
    per = per.filter(per.stockout_days > 0)
    per = per.left_join(reference, "product_id").drop("product_id_right")
    per = per.left_join(spread, "product_id").drop("product_id_right")
    dispersion = ibis.greatest(ratio(per.pearson, per.nearby_days - 1).fill_null(1.0), 1.0)
    per = per.mutate(
        units_per_day_in_stock=ratio(per.near_units, per.nearby_days),
        lost_units=(per.share * per.out_store_units).fill_null(0.0),
        lost_units_variance=(
            dispersion * per.share * (per.out_store_units**2 / per.near_store_units.nullif(0.0) + per.out_store_units)
        ).fill_null(0.0),
        unit_price=ratio(per.amount, per.units),
    )
    half = Z_95 * per.lost_units_variance.sqrt()
    per = per.mutate(lost_units_low=ibis.greatest(per.lost_units - half, 0.0), lost_units_high=per.lost_units + half)
    per = per.mutate(
        lost_sales=money(per.lost_units * per.unit_price),
        lost_sales_low=money(per.lost_units_low * per.unit_price),
        lost_sales_high=money(per.lost_units_high * per.unit_price),
        lost_sales_variance=per.lost_units_variance * per.unit_price.fill_null(0.0) ** 2,
    )
    return per.select(
        "product_id",
        "days_tracked",
        "stockout_days",
        "whole_days_out",
        per.nearby_days.fill_null(0).name("nearby_days"),
        "units_per_day_in_stock",
        "lost_units",
        "lost_units_low",
        "lost_units_high",
        "lost_sales",
        "lost_sales_low",
        "lost_sales_high",
        "lost_units_variance",
        "lost_sales_variance",
    ).order_by([ibis.desc("lost_sales"), "product_id"])


def summed_interval(total: float, variance: float) -> tuple[float, float]:
    """The 95 % interval of a total over independent products (lost units or lost sales): the total ± 1.96 √(sum of
    their variances), cut at 0 (the products' days out are modelled as independent, so their variances add)."""
    half = Z_95 * math.sqrt(variance)
    return max(total - half, 0.0), total + half


def prior_band(prior: ir.IntegerValue) -> ir.StringValue:
    branches = []
    for label, low, high in PRIOR_BANDS:
        inside = prior >= low if high is None else (prior >= low) & (prior <= high)
        branches.append((inside, ibis.literal(label)))
    return ibis.cases(*branches)


def after_tickets(times: ir.Table, orders: ir.Table, *, data_end: ir.TimestampValue) -> ir.Table:
    """Per (prior-purchase band, slow): ``prior_band, slow, tickets, bought_again`` over the tickets of known
    customers whose 90 days after ended by ``data_end``."""
    known = times.filter(
        times.customer_key.notnull() & (times.created_at + ibis.interval(days=AFTER_DAYS) <= data_end)
    ).select("ticket_id", "customer_key", "created_at", "slow")
    bought = orders.filter(orders.customer_key.notnull()).select("customer_key", "ordered_at")
    pairs = known.left_join(bought, "customer_key")
    after = (pairs.ordered_at > pairs.created_at) & (
        pairs.ordered_at <= pairs.created_at + ibis.interval(days=AFTER_DAYS)
    )
    per = pairs.group_by(["ticket_id", "slow"]).aggregate(
        prior=(pairs.ordered_at < pairs.created_at).sum().fill_null(0).cast("int64"),
        again=after.fill_null(False).any(),
    )
    per = per.mutate(prior_band=prior_band(per.prior))
    return per.group_by(["prior_band", "slow"]).aggregate(
        tickets=per.count(), bought_again=per.again.sum().cast("int64")
    )


def matched_difference(
    cells: Sequence[Mapping[str, Any]],
    *,
    stratum: str = "prior_band",
    treated: str = "slow",
    units: str = "tickets",
    arms: tuple[str, str] = ("slow_tickets", "prompt_tickets"),
) -> dict[str, Any]:
    """Repeat rate of the treated (a slow answer; a late delivery) minus that of the others, matched on strata.

    ``cells`` hold, per (``stratum``, ``treated``), the number of ``units`` and how many of them were followed by a
    purchase (``bought_again``). Within each stratum that has both arms, the difference of the two rates; the strata
    are weighted by their treated units (the effect on those treated). The 95 % interval is the normal approximation
    of the weighted sum of independent binomial differences. ``baseline`` is the others' rate weighted the same way:
    what the treated would have had. The counts of the matched units are named by ``arms`` (treated, others). None
    when no stratum has both arms.
    """
    treated_units, other_units = arms
    by_stratum: dict[str, dict[bool, tuple[int, int]]] = {}
    for cell in cells:
        by_stratum.setdefault(str(cell[stratum]), {})[bool(cell[treated])] = (
            int(cell[units]),
            int(cell["bought_again"]),
        )
    matched = {key: split for key, split in by_stratum.items() if True in split and False in split}
    weight = sum(split[True][0] for split in matched.values())
    if not weight:
        return {"estimate": None, "low": None, "high": None, "baseline": None, treated_units: 0, other_units: 0}
    estimate = variance = baseline = 0.0
    for split in matched.values():
        (n_treated, k_treated), (n_other, k_other) = split[True], split[False]
        p_treated, p_other, share = k_treated / n_treated, k_other / n_other, n_treated / weight
        estimate += share * (p_treated - p_other)
        baseline += share * p_other
        variance += share**2 * (p_treated * (1 - p_treated) / n_treated + p_other * (1 - p_other) / n_other)
    half = Z_95 * math.sqrt(variance)
    return {
        "estimate": round(estimate, 6),
        "low": round(estimate - half, 6),
        "high": round(estimate + half, 6),
        "baseline": round(baseline, 6),
        treated_units: weight,
        other_units: sum(split[False][0] for split in matched.values()),
    }
