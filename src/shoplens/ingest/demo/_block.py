"""A block of customers made into orders and order lines, ready to write, and the running totals across blocks."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from shoplens.ingest.demo._calendar import SECONDS_PER_DAY, _Calendar
from shoplens.ingest.demo._catalogue import _Catalogue
from shoplens.ingest.demo._customers import _draw_customers, _NewCustomers
from shoplens.ingest.demo._money import _Money, _price_orders
from shoplens.ingest.demo._orders import _draw_lines, _draw_orders, _LineDraft, _order_terms, _OrderDraft, _OrderTerms
from shoplens.ingest.demo._personal import _personal_data
from shoplens.ingest.demo._problems import _draw_problems, _Problems
from shoplens.ingest.demo._sampling import BoolArray, IntArray, _group_starts
from shoplens.ingest.demo._shop import CANCELLED, CHANNELS, MARKETPLACE


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
    order_promised_day: IntArray  # Hong Kong day since the window's first day
    order_shipped_seconds: IntArray  # -1: not shipped (yet)
    order_delivered_seconds: IntArray  # -1: not delivered (yet)
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


def _simulate_block(
    rng: np.random.Generator,
    customer_count: int,
    line_budget: int | None,
    calendar: _Calendar,
    catalogue: _Catalogue,
    totals: _Totals,
) -> _Block:
    """Customers, their orders and order lines; with a line budget, only as many customers as it takes.

    The steps draw from ``rng`` in this order, so that a seed gives the same store.
    """
    customers = _draw_customers(rng, customer_count, calendar)
    customers, orders = _draw_orders(rng, customers, calendar, line_budget)
    terms = _order_terms(rng, customers, orders, calendar)
    lines = _draw_lines(rng, customers, orders, catalogue)
    money = _price_orders(rng, orders, terms, lines)
    problems = _draw_problems(rng, orders, terms, lines, money, calendar, catalogue)
    return _assemble_block(rng, customers, orders, terms, lines, money, problems, totals)


def _assemble_block(
    rng: np.random.Generator,
    customers: _NewCustomers,
    orders: _OrderDraft,
    terms: _OrderTerms,
    lines: _LineDraft,
    money: _Money,
    problems: _Problems,
    totals: _Totals,
) -> _Block:
    """Orders sorted by time, lines by order; customers numbered by their first order, with their personal data."""
    customer_count, order_count, line_count = len(customers.channel), orders.count, len(lines.order)
    order_seconds, order_line_count, order_line_start = orders.seconds, orders.line_count, lines.order_start
    by_time = np.argsort(order_seconds, kind="stable")
    sorted_line_count = order_line_count[by_time]
    sorted_line_start = _group_starts(sorted_line_count)
    lines_by_time = np.repeat(order_line_start[by_time] - sorted_line_start, sorted_line_count) + np.arange(line_count)
    first_order_seconds = order_seconds[orders.first_order]
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
        order_customer=customer_rank[orders.customer[by_time]],
        order_seconds=order_seconds[by_time],
        order_guest=terms.guest[by_time],
        order_channel=terms.channel[by_time],
        order_device=terms.device[by_time],
        order_code=terms.code[by_time],
        order_discount_cents=money.order_discount_cents[by_time],
        order_net_cents=money.net_cents[by_time],
        order_shipping_cents=money.shipping_cents[by_time],
        order_tax_cents=money.tax_cents[by_time],
        order_status=problems.status[by_time],
        refund_cents=problems.refund_cents[by_time],
        refund_reason=problems.refund_reason[by_time],
        order_late=problems.late[by_time],
        order_promised_day=problems.promised_day[by_time],
        order_shipped_seconds=problems.shipped_seconds[by_time],
        order_delivered_seconds=problems.delivered_seconds[by_time],
        order_line_start=sorted_line_start,
        order_line_count=sorted_line_count,
        line_order=np.repeat(np.arange(order_count), sorted_line_count),
        line_product=lines.product[lines_by_time],
        line_quantity=lines.quantity[lines_by_time],
        line_discount_cents=money.line_discount_cents[lines_by_time],
        line_sizing_problem=problems.wrong_size[lines_by_time],
        line_damaged=problems.damaged[lines_by_time],
        line_price_complaint=problems.price_complaint[lines_by_time],
        customer_email=personal.email,
        customer_name=personal.name,
        customer_phone=personal.phone,
        customer_address=personal.address,
    )
