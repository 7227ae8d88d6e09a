"""What went wrong with the orders (late delivery, sizing, damage in transit, a price that felt too high), the
refunds and cancellations it led to, and when each order was promised, shipped and delivered.

Delivery: the promised day is the Hong Kong day of the order plus ``PROMISED_DAYS`` (3 in Hong Kong, 7 abroad).
An order ships 2-30 hours after it is placed; one on time arrives on a day between the day after shipping and the
promised day, a late one (drawn with the purchases, see ``_customers.py``) 1 + Geometric(0.4) - 1 days after the
promised day (median 2 days late), in daytime delivery hours. Cancelled orders never ship (a late order is never
cancelled); what would ship or arrive after the end of the window has no date yet.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from shoplens.ingest.demo._calendar import SECONDS_PER_DAY, _Calendar
from shoplens.ingest.demo._catalogue import CATEGORIES, PRICE_COMPLAINT_SHARE, SIZING_PROBLEM_SHARE, _Catalogue
from shoplens.ingest.demo._money import _Money, _round_share
from shoplens.ingest.demo._orders import _LineDraft, _OrderDraft, _OrderTerms
from shoplens.ingest.demo._sampling import BoolArray, IntArray
from shoplens.ingest.demo._shop import (
    CANCELLED,
    CANCELLED_BEFORE_DISPATCH,
    CHANGED_MIND,
    DAMAGED,
    HONG_KONG,
    LATE,
    NOT_AS_DESCRIBED,
    PAID,
    PARTIALLY_REFUNDED,
    REFUNDED,
    WRONG_SIZE,
)

CANCELLED_SHARE = 0.012
BASE_REFUND_SHARE = 0.008
LOCAL_OFFSET_SECONDS = 8 * 3600  # Hong Kong is UTC+8 all year
PROMISED_DAYS = (3, 7)  # Hong Kong, abroad
DAYS_LATE_P = 0.4  # days late = Geometric(p): 1, 2, 3, ... with median 2


@dataclass(frozen=True)
class _Problems:
    """Per order: late delivery, status, refund amount (-1: none) and reason (-1: none); per line: its problems."""

    late: BoolArray
    promised_day: IntArray  # Hong Kong day (since the window's first day) the delivery was promised by
    shipped_seconds: IntArray  # since the start of the window, UTC; -1: not shipped (yet)
    delivered_seconds: IntArray  # -1: not delivered (yet)
    status: IntArray
    refund_cents: IntArray
    refund_reason: IntArray
    wrong_size: BoolArray
    damaged: BoolArray
    price_complaint: BoolArray


def _draw_problems(
    rng: np.random.Generator,
    orders: _OrderDraft,
    terms: _OrderTerms,
    lines: _LineDraft,
    money: _Money,
    calendar: _Calendar,
    catalogue: _Catalogue,
) -> _Problems:
    """Sizing, damage and price complaints per line, the refunds they and late deliveries cause, and the delivery
    dates."""
    line_count, line_product, order_line_start = len(lines.order), lines.product, lines.order_start
    late = orders.late
    product_category = catalogue.category[line_product]
    sized = np.array([c.sized for c in CATEGORIES])[product_category]
    wrong_size = sized & (rng.random(line_count) < SIZING_PROBLEM_SHARE)
    damaged = rng.random(line_count) < np.array([c.damage_risk for c in CATEGORIES])[product_category]
    price_complaint = rng.random(line_count) < PRICE_COMPLAINT_SHARE * (1 + catalogue.dear[line_product])
    line_value = _round_share(lines.gross_cents - money.line_discount_cents, 100 - money.code_percent[lines.order])
    order_status, refund_cents, refund_reason = _settle_refunds(
        rng,
        late=late,
        damaged_value_cents=np.add.reduceat(line_value * damaged, order_line_start),
        wrong_size_value_cents=np.add.reduceat(line_value * wrong_size, order_line_start),
        first_line_value_cents=line_value[order_line_start],
        net_cents=money.net_cents,
        shipping_cents=money.shipping_cents,
        total_cents=money.net_cents + money.shipping_cents + money.tax_cents,
    )
    promised_day, shipped, delivered = _draw_deliveries(rng, orders, terms, calendar, order_status == CANCELLED)
    return _Problems(
        late,
        promised_day,
        shipped,
        delivered,
        order_status,
        refund_cents,
        refund_reason,
        wrong_size,
        damaged,
        price_complaint,
    )


def _draw_deliveries(
    rng: np.random.Generator, orders: _OrderDraft, terms: _OrderTerms, calendar: _Calendar, cancelled: BoolArray
) -> tuple[IntArray, IntArray, IntArray]:
    """Promised day, shipped and delivered seconds (-1: none) per order, by the module's rule."""
    count = orders.count
    local_day = (orders.seconds + LOCAL_OFFSET_SECONDS) // SECONDS_PER_DAY
    promised_day = local_day + np.where(terms.country == HONG_KONG, PROMISED_DAYS[0], PROMISED_DAYS[1])
    shipped = orders.seconds + rng.integers(2 * 3600, 30 * 3600, count)
    shipped_day = (shipped + LOCAL_OFFSET_SECONDS) // SECONDS_PER_DAY
    on_time_day = shipped_day + 1 + (rng.random(count) * (promised_day - shipped_day)).astype(np.int64)
    late_day = promised_day + rng.geometric(DAYS_LATE_P, count)
    delivered_day = np.where(orders.late, late_day, np.minimum(on_time_day, promised_day))
    delivery_hour = rng.integers(10 * 3600, 20 * 3600, count)  # local 10:00-20:00
    delivered = delivered_day * SECONDS_PER_DAY + delivery_hour - LOCAL_OFFSET_SECONDS
    end = calendar.end_seconds
    shipped = np.where(cancelled | (shipped >= end), -1, shipped)
    delivered = np.where((shipped < 0) | (delivered >= end), -1, delivered)
    return promised_day.astype(np.int64), shipped.astype(np.int64), delivered.astype(np.int64)


def _settle_refunds(
    rng: np.random.Generator,
    *,
    late: BoolArray,
    damaged_value_cents: IntArray,
    wrong_size_value_cents: IntArray,
    first_line_value_cents: IntArray,
    net_cents: IntArray,
    shipping_cents: IntArray,
    total_cents: IntArray,
) -> tuple[IntArray, IntArray, IntArray]:
    """Status, refund amount (-1: none) and reason (-1: none) per order.

    Damaged and wrongly sized goods come back (their value is refunded); a late order is refunded whole or gets
    its shipping and 10 % back; other refunds return the first line. A refund of all the goods refunds the total.
    """
    count = len(net_cents)
    any_damage, any_wrong_size = damaged_value_cents > 0, wrong_size_value_cents > 0
    cancelled = ~late & (rng.random(count) < CANCELLED_SHARE)
    refund_chance = BASE_REFUND_SHARE + 0.12 * late + 0.25 * any_wrong_size + 0.35 * any_damage
    refunded = ~cancelled & (rng.random(count) < refund_chance)
    whole_refund_for_lateness = rng.random(count) < 0.5
    goodwill = _round_share(net_cents, np.full(count, 10)) + shipping_cents
    reason: IntArray = np.select(
        [cancelled, ~refunded, any_damage, any_wrong_size, late, rng.random(count) < 0.7],
        [CANCELLED_BEFORE_DISPATCH, -1, DAMAGED, WRONG_SIZE, LATE, CHANGED_MIND],
        NOT_AS_DESCRIBED,
    )
    amount: IntArray = np.select(
        [cancelled, ~refunded, any_damage, any_wrong_size, late & whole_refund_for_lateness, late],
        [total_cents, -1, damaged_value_cents, wrong_size_value_cents, total_cents, goodwill],
        first_line_value_cents,
    )
    amount = np.where((amount >= net_cents) | (amount > total_cents), total_cents, amount)
    amount = np.where(refunded | cancelled, amount, -1)
    status: IntArray = np.select(
        [cancelled, amount < 0, amount == total_cents], [CANCELLED, PAID, REFUNDED], PARTIALLY_REFUNDED
    )
    return status, amount, reason
