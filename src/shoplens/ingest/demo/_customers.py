"""New customers and when they buy: acquisition day and channel, a BG/NBD-like purchase rate and dropout, and a
Gamma-Gamma spend rate.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from shoplens.ingest.demo._calendar import SECONDS_PER_DAY, _Calendar, _seconds_of_day
from shoplens.ingest.demo._catalogue import CATEGORIES
from shoplens.ingest.demo._sampling import (
    BoolArray,
    FloatArray,
    IntArray,
    _categorical,
    _categorical_rows,
    _group_starts,
)
from shoplens.ingest.demo._shop import CHANNELS, COUNTRIES, HONG_KONG, INTERNATIONAL_LATE_FACTOR, ORDER_DEVICE_MIX

PURCHASE_RATE_SHAPE = 0.55  # r of lambda ~ Gamma(r, alpha)
PURCHASE_RATE_ALPHA = 110.0  # alpha (in days): mean lambda = r / alpha, one repeat order every ~200 days
MAX_PURCHASE_RATE = 0.5  # no customer orders more than every other day on average
DROPOUT_A = 0.9  # p ~ Beta(a, b) after each repeat purchase
DROPOUT_B = 2.8
SPEND_RATE_SHAPE = 4.0  # q of nu ~ Gamma(q, gamma)
SPEND_RATE_GAMMA = 360.0  # gamma: mean target order value = p * gamma / (q - 1) = HKD 600
WELCOME_CODE_SALE_DAY_BONUS = 0.30
LATE_DELIVERY_SHARE = 0.06  # base chance that an order arrives after its promised day
# The planted effect of a late delivery: the customer leaves for good (no further order) with this chance, on top
# of the usual dropout, so their repeat rate after it is (1 - 0.40) x what it would have been.
LEAVES_AFTER_LATE_DELIVERY = 0.40


@dataclass(frozen=True)
class _NewCustomers:
    """The customers of one block in random order, with the traits that drive their orders."""

    acquisition_day: IntArray
    channel: IntArray
    won_with_code: BoolArray
    purchase_rate: FloatArray  # lambda, purchases per day of average demand
    repeats_before_dropout: IntArray
    spend_rate: FloatArray  # nu of the Gamma-Gamma model
    country: IntArray
    preferred_device: IntArray
    favourite_category: IntArray
    consent: BoolArray

    def head(self, count: int) -> _NewCustomers:
        return _NewCustomers(**{f.name: getattr(self, f.name)[:count] for f in fields(self)})


def _draw_customers(rng: np.random.Generator, count: int, calendar: _Calendar) -> _NewCustomers:
    acquisition_day = np.minimum(
        np.searchsorted(calendar.acquisition_cdf, rng.random(count), side="right"), calendar.days - 1
    ).astype(np.int64)
    elapsed = acquisition_day / max(calendar.days - 1, 1)
    share_at_start = np.array([c.share_at_start for c in CHANNELS])
    share_at_end = np.array([c.share_at_end for c in CHANNELS])
    channel = _categorical_rows(rng, share_at_start + (share_at_end - share_at_start) * elapsed[:, None])
    welcome_share = np.array([c.welcome_code_share for c in CHANNELS])[channel]
    on_sale = calendar.sale_code[acquisition_day] >= 0
    won_with_code = rng.random(count) < np.minimum(welcome_share + WELCOME_CODE_SALE_DAY_BONUS * on_sale, 0.9)
    purchase_rate = rng.gamma(PURCHASE_RATE_SHAPE, 1.0 / PURCHASE_RATE_ALPHA, count)
    purchase_rate *= np.array([c.purchase_rate for c in CHANNELS])[channel] * np.where(won_with_code, 0.9, 1.0)
    loyalty = np.array([c.loyalty for c in CHANNELS])[channel] * np.where(won_with_code, 0.75, 1.0)
    dropout = rng.beta(DROPOUT_A, DROPOUT_B * loyalty)
    return _NewCustomers(
        acquisition_day=acquisition_day,
        channel=channel,
        won_with_code=won_with_code,
        purchase_rate=np.minimum(purchase_rate, MAX_PURCHASE_RATE),
        repeats_before_dropout=rng.geometric(np.clip(dropout, 1e-9, 1.0)).astype(np.int64),
        spend_rate=rng.gamma(SPEND_RATE_SHAPE, 1.0 / SPEND_RATE_GAMMA, count),
        country=_categorical(rng, [c.share for c in COUNTRIES], count),
        preferred_device=_categorical(rng, ORDER_DEVICE_MIX, count),
        favourite_category=_categorical(rng, [c.demand_share for c in CATEGORIES], count),
        consent=rng.random(count) < np.array([c.consent_share for c in CHANNELS])[channel],
    )


def _draw_purchases(
    rng: np.random.Generator, customers: _NewCustomers, calendar: _Calendar
) -> tuple[IntArray, IntArray, BoolArray]:
    """Who buys when: (customer, seconds since the start, delivered late) of every order, sorted by customer, then
    time.

    Repeat purchases are a Poisson process with the customer's rate on the demand clock, from the first order to
    the end of the window, stopped after the purchase at which the customer drops out, or after a late delivery
    that made them leave (:data:`LEAVES_AFTER_LATE_DELIVERY`).
    """
    count = len(customers.acquisition_day)
    day = customers.acquisition_day
    acquisition_clock = calendar.demand_clock[day] + rng.random(count) * calendar.demand[day]
    horizon = calendar.demand_clock[-1] - acquisition_clock
    arrivals = rng.poisson(customers.purchase_rate * horizon)
    repeat_customer = np.repeat(np.arange(count), arrivals)
    repeat_clock = acquisition_clock[repeat_customer] + horizon[repeat_customer] * rng.random(len(repeat_customer))
    in_time_order = np.lexsort((repeat_clock, repeat_customer))
    repeat_customer, repeat_clock = repeat_customer[in_time_order], repeat_clock[in_time_order]
    repeat_rank = np.arange(len(repeat_customer)) - _group_starts(arrivals)[repeat_customer]
    alive = repeat_rank < customers.repeats_before_dropout[repeat_customer]
    repeat_customer, repeat_clock = repeat_customer[alive], repeat_clock[alive]
    repeat_day = np.clip(np.searchsorted(calendar.demand_clock, repeat_clock, side="right") - 1, 0, calendar.days - 1)

    order_customer = np.concatenate([np.arange(count), repeat_customer]).astype(np.int64)
    order_day = np.concatenate([day, repeat_day]).astype(np.int64)
    order_seconds = order_day * SECONDS_PER_DAY + _seconds_of_day(rng, len(order_day))
    by_customer = np.lexsort((order_seconds, order_customer))
    order_customer, order_seconds = order_customer[by_customer], order_seconds[by_customer]
    late = _draw_late_deliveries(rng, customers.country[order_customer], order_seconds, calendar)
    kept = _before_leaving(order_customer, late & (rng.random(len(late)) < LEAVES_AFTER_LATE_DELIVERY), count)
    return order_customer[kept], order_seconds[kept], late[kept]


def _draw_late_deliveries(
    rng: np.random.Generator, country: IntArray, order_seconds: IntArray, calendar: _Calendar
) -> BoolArray:
    """Late deliveries: worse abroad, in December and around Chinese New Year (the calendar's delivery risk)."""
    risk = LATE_DELIVERY_SHARE * calendar.delivery_risk[order_seconds // SECONDS_PER_DAY]
    late: BoolArray = rng.random(len(country)) < risk * np.where(country != HONG_KONG, INTERNATIONAL_LATE_FACTOR, 1.0)
    return late


def _before_leaving(order_customer: IntArray, leaves: BoolArray, customer_count: int) -> BoolArray:
    """Orders (sorted by customer, then time) up to and including the one after which the customer leaves."""
    left_before: IntArray = np.cumsum(leaves) - leaves  # leaving orders before this one, over all customers
    orders_per_customer = np.bincount(order_customer, minlength=customer_count)
    first_of_customer = _group_starts(orders_per_customer)
    kept: BoolArray = (left_before - left_before[first_of_customer][order_customer]) == 0
    return kept
