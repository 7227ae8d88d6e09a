"""RFM: recency, frequency and monetary quintile scores, and the eleven named segments built from them.

For every known customer with at least one order, as of a reference day (by default the data end: the last
store-local day with a purchase or a refund in the store):

* ``recency_days``: days from the customer's last order day to the reference day;
* ``frequency``: orders placed; ``monetary``: net sales less the customer's refunds (can be negative).

**Scores.** Each measure becomes a score 1-5 by its rank among all customers: ``score = 1 + floor(5 * rank /
n)`` where ``rank`` is the number of customers strictly worse (older last order; fewer orders; less money) and
``n`` the number of customers. So score 5 goes to the best fifth, ties always share a score, and a score never
depends on the order rows come in (so every engine gives the same answer). When many customers tie (most
customers of most shops order once), a score can be empty: all one-order customers get the same F score.

**Segments** come from the R score and ``FM = floor((F + M) / 2)``, on the grid below (R across, FM down):

======  ================  ================  ================  ===================  ===================
FM \\ R  1                 2                 3                 4                    5
======  ================  ================  ================  ===================  ===================
5       Can't lose them   Can't lose them   Loyal             Loyal                Champions
4       At risk           At risk           Loyal             Loyal                Champions
3       At risk           At risk           Need attention    Potential loyalists  Potential loyalists
2       Hibernating       Hibernating       About to sleep    Potential loyalists  Potential loyalists
1       Lost              Hibernating       About to sleep    Promising            New
======  ================  ================  ================  ===================  ===================
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import ibis
import ibis.expr.types as ir

from shoplens.metrics._facts import (
    customer_purchases,
    customer_refunds,
    data_end,
    money,
    with_local_day,
    zero_money,
)
from shoplens.metrics._time import Zone


@dataclass(frozen=True)
class Segment:
    name: str
    cells: tuple[tuple[int, int], ...]  # (R score, FM score)
    meaning: str
    action: str

    @property
    def rule(self) -> str:
        by_recency: dict[int, list[int]] = {}
        for recency, fm in self.cells:
            by_recency.setdefault(recency, []).append(fm)
        parts = []
        for recency, fms in sorted(by_recency.items()):
            fm_text = str(fms[0]) if len(fms) == 1 else f"{min(fms)}-{max(fms)}"
            parts.append(f"R {recency} & FM {fm_text}")
        return " or ".join(parts)


SEGMENTS: tuple[Segment, ...] = (
    Segment(
        "Champions",
        ((5, 4), (5, 5)),
        "Bought very recently, buy often and spend the most.",
        "Reward them: early access, loyalty perks, ask for reviews and referrals; no discounts needed.",
    ),
    Segment(
        "Loyal",
        ((3, 4), (3, 5), (4, 4), (4, 5)),
        "Buy often and spend well, and bought not long ago.",
        "Upsell higher-value products, enrol them in the loyalty programme, ask for reviews.",
    ),
    Segment(
        "Potential loyalists",
        ((4, 2), (4, 3), (5, 2), (5, 3)),
        "Recent customers with average frequency and spend.",
        "Offer membership or a loyalty programme and recommend related products to build the habit.",
    ),
    Segment(
        "New",
        ((5, 1),),
        "Bought very recently, but only once or for little.",
        "Onboard them well: a welcome series, delivery follow-up, and a reason for the second order.",
    ),
    Segment(
        "Promising",
        ((4, 1),),
        "Bought fairly recently, but little and seldom.",
        "Build awareness of the range: bestsellers, free-shipping thresholds, a modest second-order offer.",
    ),
    Segment(
        "Need attention",
        ((3, 3),),
        "Average recency, frequency and spend; drifting if nothing happens.",
        "Send limited-time, personalised offers based on past purchases to reactivate them.",
    ),
    Segment(
        "About to sleep",
        ((3, 1), (3, 2)),
        "Below-average recency, frequency and spend.",
        "Share popular products and a time-limited incentive before they go quiet.",
    ),
    Segment(
        "At risk",
        ((1, 3), (1, 4), (2, 3), (2, 4)),
        "Used to buy often and spend well, but not for a long time.",
        "Win them back with personalised e-mails, renewals and helpful reminders; find out what changed.",
    ),
    Segment(
        "Can't lose them",
        ((1, 5), (2, 5)),
        "Were among the best customers (most orders, most spend) but have not returned for long.",
        "Reach out personally with your best win-back offer; ask for feedback; do not let them go to a rival.",
    ),
    Segment(
        "Hibernating",
        ((1, 2), (2, 1), (2, 2)),
        "Last order long ago, few orders and low spend.",
        "Offer other relevant products and special discounts; recreate brand value; keep costs low.",
    ),
    Segment(
        "Lost",
        ((1, 1),),
        "Lowest recency, frequency and monetary scores.",
        "Try one low-cost reactivation campaign; otherwise stop spending on them.",
    ),
)
SCORING = (
    "Recency (days since the last order), frequency (orders) and monetary (net sales less refunds) are each "
    "scored 1-5 by rank: score = 1 + floor(5 * rank / n), where rank counts the customers strictly worse and n "
    "is the number of customers, so 5 is the best fifth and ties share a score. FM = floor((F + M) / 2); the "
    "segment comes from the (R, FM) cell, see each segment's rule."
)
SEGMENT_NAMES: tuple[str, ...] = tuple(s.name for s in SEGMENTS)
SEGMENT_BY_NAME: dict[str, Segment] = {s.name: s for s in SEGMENTS}


def segment_of(recency_score: int, fm_score: int) -> str:
    """The segment of one (R, FM) cell of the grid."""
    for segment in SEGMENTS:
        if (recency_score, fm_score) in segment.cells:
            return segment.name
    raise ValueError(f"no segment for R={recency_score}, FM={fm_score}")


def _score(value: ir.NumericValue, *, best_is_high: bool, customers: ir.IntegerValue) -> ir.IntegerValue:
    order = value if best_is_high else value.desc()
    worse = ibis.rank().over(order_by=order)  # customers strictly worse than this one (ties share the rank)
    return (worse * 5 // customers + 1).cast("int64")


def rfm_scores(orders: ir.Table, refunds: ir.Table, *, zone: Zone = "UTC", as_of: date | None = None) -> ir.Table:
    """One row per known customer with an order on or before ``as_of``: measures, scores and segment.

    Columns: ``customer_key, last_order_day, recency_days, frequency, monetary, net_sales, refunds,
    r_score, f_score, m_score, fm_score, segment``.
    """
    if as_of is not None:
        orders = _until(orders, "ordered_at", as_of, zone)
        refunds = _until(refunds, "refunded_at", as_of, zone)
    reference = data_end(orders, refunds, zone) if as_of is None else ibis.date(as_of)
    purchases = customer_purchases(orders, zone)
    given = customer_refunds(refunds)
    joined = purchases.left_join(given, "customer_key").drop("customer_key_right")
    measures = joined.mutate(
        refunds=joined.refunds.fill_null(zero_money()),
        recency_days=reference.delta(joined.last_day, unit="day").cast("int64"),
    )
    measures = measures.mutate(frequency=measures.orders, monetary=money(measures.net_sales - measures.refunds))
    customers = measures.count().as_scalar()
    scored = measures.mutate(
        r_score=_score(measures.recency_days, best_is_high=False, customers=customers),
        f_score=_score(measures.frequency, best_is_high=True, customers=customers),
        m_score=_score(measures.monetary, best_is_high=True, customers=customers),
    )
    scored = scored.mutate(fm_score=((scored.f_score + scored.m_score) // 2).cast("int64"))
    cell = scored.r_score * 10 + scored.fm_score
    segment = ibis.cases(*[(cell.isin([r * 10 + fm for r, fm in s.cells]), ibis.literal(s.name)) for s in SEGMENTS])
    return scored.select(
        "customer_key",
        last_order_day=scored.last_day,
        recency_days=scored.recency_days,
        frequency=scored.frequency,
        monetary=scored.monetary,
        net_sales=scored.net_sales,
        refunds=scored.refunds,
        r_score=scored.r_score,
        f_score=scored.f_score,
        m_score=scored.m_score,
        fm_score=scored.fm_score,
        segment=segment,
    )


def rfm_segments(scores: ir.Table) -> ir.Table:
    """Customers, revenue (net of refunds) and averages per segment: ``segment, customers, revenue, ...``."""
    return scores.group_by("segment").aggregate(
        customers=scores.count(),
        revenue=money(scores.monetary.sum()),
        mean_recency_days=scores.recency_days.cast("float64").mean(),
        mean_frequency=scores.frequency.cast("float64").mean(),
        mean_monetary=scores.monetary.cast("float64").mean(),
    )


def rfm_thresholds(scores: ir.Table) -> ir.Table:
    """What each score means in the data: the range of recency, frequency and monetary per score 1-5."""
    parts = []
    for measure, score in (("recency_days", "r_score"), ("frequency", "f_score"), ("monetary", "m_score")):
        parts.append(
            scores.group_by(score=scores[score])
            .aggregate(
                low=scores[measure].cast("float64").min(),
                high=scores[measure].cast("float64").max(),
                customers=scores.count(),
            )
            .mutate(measure=ibis.literal(measure))
        )
    union = ibis.union(*parts, distinct=False)
    return union.select("measure", "score", "low", "high", "customers").order_by(["measure", "score"])


def _until(table: ir.Table, column: str, last_day: date, zone: Zone) -> ir.Table:
    """Rows up to the end of the store-local day ``last_day``."""
    local = with_local_day(table, column, zone)
    kept = local.filter(local[column].isnull() | (local.local_day <= ibis.date(last_day)))
    return kept.drop("local_at", "local_day")
