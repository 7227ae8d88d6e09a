"""A block's orders before they are sorted: who orders when and for how much, how each order is placed, and its
lines (products near the target price, in the customer's favourite category half of the time).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from shoplens.ingest.demo._calendar import SECONDS_PER_DAY, _Calendar
from shoplens.ingest.demo._catalogue import CATEGORIES, PRICE_KEY_SCALE, _Catalogue
from shoplens.ingest.demo._customers import _draw_purchases, _NewCustomers
from shoplens.ingest.demo._sampling import BoolArray, FloatArray, IntArray, _categorical, _group_starts
from shoplens.ingest.demo._shop import (
    CHANNELS,
    EMAIL,
    ORDER_DEVICE_MIX,
    ORGANIC,
    PREFERRED_DEVICE_SHARE,
    WELCOME_CODE_BY_CHANNEL,
    WIN_BACK_CODES,
)

ORDER_VALUE_SHAPE = 5.0  # p of z ~ Gamma(p, nu)
GUEST_ORDER_SHARE = 0.05
SALE_DAY_CODE_SHARE = 0.45
WIN_BACK_CODE_SHARE = 0.07
LOYAL_CUSTOMER_CHANNEL_SHARE = 0.55  # repeat orders that come through the acquisition channel again


@dataclass(frozen=True)
class _OrderDraft:
    """A block's orders, sorted by customer, then time: who, when, and what the order is meant to be worth."""

    customer: IntArray
    seconds: IntArray  # since the start of the window, UTC
    sale_day: BoolArray
    target_value_cents: FloatArray
    line_count: IntArray
    first_order: BoolArray
    late: BoolArray  # delivered after the promised day (drawn with the purchases: it decides whether more follow)

    @property
    def count(self) -> int:
        return len(self.customer)

    @property
    def day(self) -> IntArray:
        return self.seconds // SECONDS_PER_DAY


def _draw_orders(
    rng: np.random.Generator, customers: _NewCustomers, calendar: _Calendar, line_budget: int | None
) -> tuple[_NewCustomers, _OrderDraft]:
    """Who orders when, each order's target value (Gamma-Gamma) and the number of lines it takes.

    With a line budget, only the customers it takes are kept (they are in random order, so this biases nothing),
    and the last order is cut short.
    """
    customer_count = len(customers.channel)
    order_customer, order_seconds, late = _draw_purchases(rng, customers, calendar)
    sale_day = calendar.sale_code[order_seconds // SECONDS_PER_DAY] >= 0
    channel_spend = np.array([c.spend for c in CHANNELS])[customers.channel]
    target_value_cents = (
        rng.gamma(ORDER_VALUE_SHAPE, 1.0, len(order_customer)) / customers.spend_rate[order_customer] * 100.0
    ) * (channel_spend[order_customer] * np.where(sale_day, 1.15, 1.0))
    extra_lines = rng.poisson(0.35 + 0.55 * np.sqrt(target_value_cents / 60_000.0))
    order_line_count = (1 + np.minimum(extra_lines, 7)).astype(np.int64)

    if line_budget is not None and order_line_count.sum() > line_budget:
        line_ends = np.cumsum(order_line_count)
        last_order = int(np.searchsorted(line_ends, line_budget))
        kept_orders = last_order + 1
        order_line_count = order_line_count[:kept_orders].copy()
        order_line_count[-1] -= int(line_ends[last_order] - line_budget)
        order_customer, order_seconds = order_customer[:kept_orders], order_seconds[:kept_orders]
        late = late[:kept_orders]
        sale_day, target_value_cents = sale_day[:kept_orders], target_value_cents[:kept_orders]
        customer_count = int(order_customer[-1]) + 1
        customers = customers.head(customer_count)
    orders_per_customer = np.bincount(order_customer, minlength=customer_count).astype(np.int64)
    first_order = np.zeros(len(order_customer), dtype=np.bool_)
    first_order[_group_starts(orders_per_customer)] = True
    return customers, _OrderDraft(
        order_customer, order_seconds, sale_day, target_value_cents, order_line_count, first_order, late
    )


@dataclass(frozen=True)
class _OrderTerms:
    """How each order is placed: channel, device, as a guest or not, discount code (-1: none), destination."""

    channel: IntArray
    device: IntArray
    guest: BoolArray
    code: IntArray
    country: IntArray


def _order_terms(
    rng: np.random.Generator, customers: _NewCustomers, orders: _OrderDraft, calendar: _Calendar
) -> _OrderTerms:
    """First orders come through the acquisition channel, repeat orders also through e-mail (for customers who
    agreed to marketing) and organic search; welcome codes come with first orders, sale-day and win-back codes later.
    """
    order_count, order_customer, order_day = orders.count, orders.customer, orders.day
    first_order, sale_day = orders.first_order, orders.sale_day
    acquisition_channel = customers.channel[order_customer]
    route = rng.random(order_count)
    by_email = (route >= LOYAL_CUSTOMER_CHANNEL_SHARE) & (route < 0.8) & customers.consent[order_customer]
    repeat_channel = np.where(
        route < LOYAL_CUSTOMER_CHANNEL_SHARE, acquisition_channel, np.where(by_email, EMAIL, ORGANIC)
    )
    order_channel = np.where(first_order, acquisition_channel, repeat_channel).astype(np.int64)
    order_device = np.where(
        rng.random(order_count) < PREFERRED_DEVICE_SHARE,
        customers.preferred_device[order_customer],
        _categorical(rng, ORDER_DEVICE_MIX, order_count),
    ).astype(np.int64)
    order_guest = rng.random(order_count) < GUEST_ORDER_SHARE
    code_draw = rng.random(order_count)
    day_code = calendar.sale_code[order_day]
    welcome_code = np.where(sale_day, day_code, WELCOME_CODE_BY_CHANNEL[acquisition_channel])
    win_back_code = WIN_BACK_CODES[rng.integers(0, len(WIN_BACK_CODES), order_count)]
    repeat_code = np.where(
        sale_day & (code_draw < SALE_DAY_CODE_SHARE),
        day_code,
        np.where(code_draw > 1.0 - WIN_BACK_CODE_SHARE, win_back_code, -1),
    )
    first_code = np.where(customers.won_with_code[order_customer], welcome_code, -1)
    order_code = np.where(first_order, first_code, repeat_code).astype(np.int64)
    return _OrderTerms(order_channel, order_device, order_guest, order_code, customers.country[order_customer])


@dataclass(frozen=True)
class _LineDraft:
    """A block's order lines, grouped by order as in the :class:`_OrderDraft`."""

    order: IntArray
    order_start: IntArray  # first line of each order
    product: IntArray
    quantity: IntArray
    gross_cents: IntArray  # quantity x unit price


def _draw_lines(
    rng: np.random.Generator, customers: _NewCustomers, orders: _OrderDraft, catalogue: _Catalogue
) -> _LineDraft:
    """Products near the target unit price, in the customer's favourite category half of the time."""
    order_customer, order_line_count, target_value_cents = orders.customer, orders.line_count, orders.target_value_cents
    line_count = int(order_line_count.sum())
    order_line_start = _group_starts(order_line_count)
    line_order = np.repeat(np.arange(orders.count), order_line_count)
    line_quantity = (_categorical(rng, (0.80, 0.13, 0.05, 0.02), line_count) + 1).astype(np.int64)
    order_units = np.add.reduceat(line_quantity, order_line_start)
    line_category = np.where(
        rng.random(line_count) < 0.55,
        customers.favourite_category[order_customer[line_order]],
        _categorical(rng, [c.demand_share for c in CATEGORIES], line_count),
    ).astype(np.int64)
    target_unit_cents = target_value_cents[line_order] / order_units[line_order] * rng.lognormal(0, 0.4, line_count)
    line_product = _choose_products(rng, catalogue, line_category, target_unit_cents)
    line_gross = line_quantity * catalogue.price_cents[line_product]
    return _LineDraft(line_order, order_line_start, line_product, line_quantity, line_gross)


def _choose_products(
    rng: np.random.Generator, catalogue: _Catalogue, category: IntArray, target_unit_cents: FloatArray
) -> IntArray:
    """A product of the category priced near the target, or (a third of the time) one of its bestsellers."""
    count = len(category)
    near_price = np.searchsorted(catalogue.price_key, category * PRICE_KEY_SCALE + target_unit_cents.astype(np.int64))
    near_price = near_price + rng.integers(-1, 2, count)
    lowest, highest = catalogue.category_offsets[category], catalogue.category_offsets[category + 1] - 1
    chosen: IntArray = np.where(
        rng.random(count) < 0.35, catalogue.bestsellers.sample(rng, category), np.clip(near_price, lowest, highest)
    )
    return chosen
