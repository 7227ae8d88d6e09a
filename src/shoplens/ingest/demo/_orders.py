"""One block of customers simulated into orders and order lines (channel, device, discount code, products,
money, what went wrong and the refunds it caused), and the running totals across blocks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from shoplens.ingest.demo._calendar import SECONDS_PER_DAY, _Calendar
from shoplens.ingest.demo._catalogue import (
    CATEGORIES,
    PRICE_COMPLAINT_SHARE,
    PRICE_KEY_SCALE,
    SIZING_PROBLEM_SHARE,
    _Catalogue,
)
from shoplens.ingest.demo._customers import _draw_customers, _draw_purchases
from shoplens.ingest.demo._personal import _personal_data
from shoplens.ingest.demo._sampling import BoolArray, FloatArray, IntArray, _categorical, _group_starts
from shoplens.ingest.demo._shop import (
    CANCELLED,
    CANCELLED_BEFORE_DISPATCH,
    CHANGED_MIND,
    CHANNELS,
    COUNTRIES,
    DAMAGED,
    DISCOUNT_PERCENT,
    EMAIL,
    FREE_SHIPPING_CODE,
    HONG_KONG,
    INTERNATIONAL_LATE_FACTOR,
    LATE,
    MARKETPLACE,
    NOT_AS_DESCRIBED,
    ORDER_DEVICE_MIX,
    ORGANIC,
    PAID,
    PARTIALLY_REFUNDED,
    PREFERRED_DEVICE_SHARE,
    REFUNDED,
    WELCOME_CODE_BY_CHANNEL,
    WIN_BACK_CODES,
    WRONG_SIZE,
)

ORDER_VALUE_SHAPE = 5.0  # p of z ~ Gamma(p, nu)
GUEST_ORDER_SHARE = 0.05
SALE_DAY_CODE_SHARE = 0.45
WIN_BACK_CODE_SHARE = 0.07
LOYAL_CUSTOMER_CHANNEL_SHARE = 0.55  # repeat orders that come through the acquisition channel again
CANCELLED_SHARE = 0.012
BASE_REFUND_SHARE = 0.008
LATE_DELIVERY_SHARE = 0.06


def _round_share(amounts: IntArray, share_in_hundredths: IntArray) -> IntArray:
    """amounts x share / 100, rounded half up, in integer arithmetic (amounts are cents)."""
    return ((amounts * share_in_hundredths + 50) // 100).astype(np.int64)


@dataclass
class _Totals:
    """Running counts across blocks (they also number the next block's ids), and what marketing spend follows."""

    days: int
    orders: int = 0
    order_lines: int = 0
    customers: int = 0
    customer_numbers_used: int = 0
    refunds: int = 0
    events: int = 0
    sessions: int = 0
    feedback: int = 0
    new_customers: IntArray = field(init=False)  # (day, acquisition channel)
    marketplace_sales_cents: IntArray = field(init=False)  # per day, net of discounts, cancelled orders left out

    def __post_init__(self) -> None:
        self.new_customers = np.zeros((self.days, len(CHANNELS)), dtype=np.int64)
        self.marketplace_sales_cents = np.zeros(self.days, dtype=np.int64)

    def add_block(self, block: _Block) -> None:
        self.orders += block.order_count
        self.order_lines += block.line_count
        self.customers += int(np.unique(block.order_customer[~block.order_guest]).size)
        self.customer_numbers_used += block.customer_count
        self.refunds += int((block.refund_cents >= 0).sum())
        first_day = block.first_order_seconds // SECONDS_PER_DAY
        self.new_customers += np.bincount(
            first_day * len(CHANNELS) + block.customer_channel, minlength=self.days * len(CHANNELS)
        ).reshape(self.days, len(CHANNELS))
        marketplace = (block.order_channel == MARKETPLACE) & (block.order_status != CANCELLED)
        self.marketplace_sales_cents += np.bincount(
            block.order_seconds[marketplace] // SECONDS_PER_DAY,
            weights=block.order_net_cents[marketplace],
            minlength=self.days,
        ).astype(np.int64)


@dataclass(frozen=True)
class _Block:
    """Customers, orders (sorted by time) and order lines (grouped by order) of one block, ready to write."""

    first_customer_number: int
    first_order_number: int
    # customers, in order of their first order; customer i has number first_customer_number + i
    customer_channel: IntArray
    customer_country: IntArray
    customer_region: IntArray
    customer_consent: BoolArray
    first_order_seconds: IntArray
    # orders
    order_customer: IntArray
    order_seconds: IntArray  # since the start of the window, UTC
    order_guest: BoolArray
    order_channel: IntArray
    order_device: IntArray
    order_code: IntArray  # DISCOUNT_CODES index or -1
    order_discount_cents: IntArray
    order_net_cents: IntArray  # goods after all discounts
    order_shipping_cents: IntArray
    order_tax_cents: IntArray
    order_status: IntArray
    refund_cents: IntArray  # -1: no refund
    refund_reason: IntArray  # REFUND_REASONS index or -1
    order_late: BoolArray
    order_line_start: IntArray
    order_line_count: IntArray
    # lines
    line_order: IntArray
    line_product: IntArray
    line_quantity: IntArray
    line_discount_cents: IntArray
    line_sizing_problem: BoolArray
    line_damaged: BoolArray
    line_price_complaint: BoolArray
    # personal data: one Arrow string array each, by customer
    customer_email: Any
    customer_name: Any
    customer_phone: Any
    customer_address: Any

    @property
    def customer_count(self) -> int:
        return len(self.customer_channel)

    @property
    def order_count(self) -> int:
        return len(self.order_seconds)

    @property
    def line_count(self) -> int:
        return len(self.line_order)


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
    cancelled = rng.random(count) < CANCELLED_SHARE
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


def _simulate_block(
    rng: np.random.Generator,
    customer_count: int,
    line_budget: int | None,
    calendar: _Calendar,
    catalogue: _Catalogue,
    totals: _Totals,
) -> _Block:
    """Customers, their orders and order lines; with a line budget, only as many customers as it takes."""
    customers = _draw_customers(rng, customer_count, calendar)
    order_customer, order_seconds = _draw_purchases(rng, customers, calendar)

    # Target order value (Gamma-Gamma) and the number of lines it takes.
    sale_day = calendar.sale_code[order_seconds // SECONDS_PER_DAY] >= 0
    channel_spend = np.array([c.spend for c in CHANNELS])[customers.channel]
    target_value_cents = (
        rng.gamma(ORDER_VALUE_SHAPE, 1.0, len(order_customer)) / customers.spend_rate[order_customer] * 100.0
    ) * (channel_spend[order_customer] * np.where(sale_day, 1.15, 1.0))
    extra_lines = rng.poisson(0.35 + 0.55 * np.sqrt(target_value_cents / 60_000.0))
    order_line_count = (1 + np.minimum(extra_lines, 7)).astype(np.int64)

    if line_budget is not None and order_line_count.sum() > line_budget:
        # Customers are in random order: keep the first ones until the budget is spent, and cut the last order.
        line_ends = np.cumsum(order_line_count)
        last_order = int(np.searchsorted(line_ends, line_budget))
        kept_orders = last_order + 1
        order_line_count = order_line_count[:kept_orders].copy()
        order_line_count[-1] -= int(line_ends[last_order] - line_budget)
        order_customer, order_seconds = order_customer[:kept_orders], order_seconds[:kept_orders]
        sale_day, target_value_cents = sale_day[:kept_orders], target_value_cents[:kept_orders]
        customer_count = int(order_customer[-1]) + 1
        customers = customers.head(customer_count)
    order_count = len(order_customer)
    order_day = order_seconds // SECONDS_PER_DAY
    orders_per_customer = np.bincount(order_customer, minlength=customer_count).astype(np.int64)
    first_order = np.zeros(order_count, dtype=np.bool_)
    first_order[_group_starts(orders_per_customer)] = True

    # Order attributes: first orders come through the acquisition channel, repeat orders also through e-mail (for
    # customers who agreed to marketing) and organic search.
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

    # Lines: products near the target unit price, in the customer's favourite category half of the time.
    line_count = int(order_line_count.sum())
    order_line_start = _group_starts(order_line_count)
    line_order = np.repeat(np.arange(order_count), order_line_count)
    line_quantity = (_categorical(rng, (0.80, 0.13, 0.05, 0.02), line_count) + 1).astype(np.int64)
    order_units = np.add.reduceat(line_quantity, order_line_start)
    line_category = np.where(
        rng.random(line_count) < 0.55,
        customers.favourite_category[order_customer[line_order]],
        _categorical(rng, [c.demand_share for c in CATEGORIES], line_count),
    ).astype(np.int64)
    target_unit_cents = target_value_cents[line_order] / order_units[line_order] * rng.lognormal(0, 0.4, line_count)
    line_product = _choose_products(rng, catalogue, line_category, target_unit_cents)

    # Money, in cents: markdowns per line, a code per order, shipping and destination tax.
    line_gross = line_quantity * catalogue.price_cents[line_product]
    marked_down = rng.random(line_count) < 0.05 + 0.15 * sale_day[line_order]
    markdown_percent = np.where(marked_down, rng.choice(np.array([10, 15, 20, 25, 30]), line_count), 0)
    line_discount_cents = _round_share(line_gross, markdown_percent)
    goods_cents = np.add.reduceat(line_gross - line_discount_cents, order_line_start)
    code_percent = np.where(order_code >= 0, DISCOUNT_PERCENT[np.maximum(order_code, 0)], 0)
    order_discount_cents = _round_share(goods_cents, code_percent)
    net_cents = goods_cents - order_discount_cents
    order_country = customers.country[order_customer]
    shipping_fee = np.array([c.shipping_cents for c in COUNTRIES])[order_country]
    free_from = np.array([c.free_shipping_from_cents for c in COUNTRIES])[order_country]
    shipping_cents = np.where((net_cents >= free_from) | (order_code == FREE_SHIPPING_CODE), 0, shipping_fee)
    tax_rate = np.array([c.tax_basis_points for c in COUNTRIES])[order_country]
    tax_cents = ((net_cents + shipping_cents) * tax_rate + 5000) // 10_000

    # What went wrong (late delivery, sizing, damage, a price that felt too high) and the refunds it caused.
    late_risk = LATE_DELIVERY_SHARE * calendar.delivery_risk[order_day]
    late = rng.random(order_count) < late_risk * np.where(order_country != HONG_KONG, INTERNATIONAL_LATE_FACTOR, 1.0)
    product_category = catalogue.category[line_product]
    sized = np.array([c.sized for c in CATEGORIES])[product_category]
    wrong_size = sized & (rng.random(line_count) < SIZING_PROBLEM_SHARE)
    damaged = rng.random(line_count) < np.array([c.damage_risk for c in CATEGORIES])[product_category]
    price_complaint = rng.random(line_count) < PRICE_COMPLAINT_SHARE * (1 + catalogue.dear[line_product])
    line_value = _round_share(line_gross - line_discount_cents, 100 - code_percent[line_order])
    order_status, refund_cents, refund_reason = _settle_refunds(
        rng,
        late=late,
        damaged_value_cents=np.add.reduceat(line_value * damaged, order_line_start),
        wrong_size_value_cents=np.add.reduceat(line_value * wrong_size, order_line_start),
        first_line_value_cents=line_value[order_line_start],
        net_cents=net_cents,
        shipping_cents=shipping_cents,
        total_cents=net_cents + shipping_cents + tax_cents,
    )

    # Output order: orders by time, lines by order; customers numbered by their first order.
    by_time = np.argsort(order_seconds, kind="stable")
    sorted_line_count = order_line_count[by_time]
    sorted_line_start = _group_starts(sorted_line_count)
    lines_by_time = np.repeat(order_line_start[by_time] - sorted_line_start, sorted_line_count) + np.arange(line_count)
    first_order_seconds = order_seconds[first_order]
    by_first_order = np.argsort(first_order_seconds, kind="stable")
    customer_rank = np.empty(customer_count, dtype=np.int64)
    customer_rank[by_first_order] = np.arange(customer_count)
    personal = _personal_data(rng, customers.country, totals.customer_numbers_used + 1).take(by_first_order)
    return _Block(
        first_customer_number=totals.customer_numbers_used + 1,
        first_order_number=totals.orders + 1,
        customer_channel=customers.channel[by_first_order],
        customer_country=customers.country[by_first_order],
        customer_region=personal.region,
        customer_consent=customers.consent[by_first_order],
        first_order_seconds=first_order_seconds[by_first_order],
        order_customer=customer_rank[order_customer[by_time]],
        order_seconds=order_seconds[by_time],
        order_guest=order_guest[by_time],
        order_channel=order_channel[by_time],
        order_device=order_device[by_time],
        order_code=order_code[by_time],
        order_discount_cents=order_discount_cents[by_time],
        order_net_cents=net_cents[by_time],
        order_shipping_cents=shipping_cents[by_time],
        order_tax_cents=tax_cents[by_time],
        order_status=order_status[by_time],
        refund_cents=refund_cents[by_time],
        refund_reason=refund_reason[by_time],
        order_late=late[by_time],
        order_line_start=sorted_line_start,
        order_line_count=sorted_line_count,
        line_order=np.repeat(np.arange(order_count), sorted_line_count),
        line_product=line_product[lines_by_time],
        line_quantity=line_quantity[lines_by_time],
        line_discount_cents=line_discount_cents[lines_by_time],
        line_sizing_problem=wrong_size[lines_by_time],
        line_damaged=damaged[lines_by_time],
        line_price_complaint=price_complaint[lines_by_time],
        customer_email=personal.email,
        customer_name=personal.name,
        customer_phone=personal.phone,
        customer_address=personal.address,
    )
