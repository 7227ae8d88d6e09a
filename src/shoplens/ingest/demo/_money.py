"""What the orders cost, in cents: markdowns per line, the discount code's share per order, shipping (free above
the destination's threshold or with FREESHIP) and destination tax.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from shoplens.ingest.demo._orders import _LineDraft, _OrderDraft, _OrderTerms
from shoplens.ingest.demo._sampling import IntArray
from shoplens.ingest.demo._shop import COUNTRIES, DISCOUNT_PERCENT, FREE_SHIPPING_CODE


def _round_share(amounts: IntArray, share_in_hundredths: IntArray) -> IntArray:
    """amounts x share / 100, rounded half up, in integer arithmetic (amounts are cents)."""
    return ((amounts * share_in_hundredths + 50) // 100).astype(np.int64)


@dataclass(frozen=True)
class _Money:
    """Per line: the markdown; per order: the code's percent and discount, net goods, shipping and tax."""

    line_discount_cents: IntArray
    code_percent: IntArray
    order_discount_cents: IntArray
    net_cents: IntArray  # goods after all discounts
    shipping_cents: IntArray
    tax_cents: IntArray


def _price_orders(rng: np.random.Generator, orders: _OrderDraft, terms: _OrderTerms, lines: _LineDraft) -> _Money:
    """Markdowns on some lines (more on sale days), the order's code, shipping and destination tax."""
    line_count, line_order, order_line_start = len(lines.order), lines.order, lines.order_start
    line_gross, sale_day, order_code, order_country = lines.gross_cents, orders.sale_day, terms.code, terms.country
    marked_down = rng.random(line_count) < 0.05 + 0.15 * sale_day[line_order]
    markdown_percent = np.where(marked_down, rng.choice(np.array([10, 15, 20, 25, 30]), line_count), 0)
    line_discount_cents = _round_share(line_gross, markdown_percent)
    goods_cents = np.add.reduceat(line_gross - line_discount_cents, order_line_start)
    code_percent = np.where(order_code >= 0, DISCOUNT_PERCENT[np.maximum(order_code, 0)], 0)
    order_discount_cents = _round_share(goods_cents, code_percent)
    net_cents = goods_cents - order_discount_cents
    shipping_fee = np.array([c.shipping_cents for c in COUNTRIES])[order_country]
    free_from = np.array([c.free_shipping_from_cents for c in COUNTRIES])[order_country]
    shipping_cents = np.where((net_cents >= free_from) | (order_code == FREE_SHIPPING_CODE), 0, shipping_fee)
    tax_rate = np.array([c.tax_basis_points for c in COUNTRIES])[order_country]
    tax_cents = ((net_cents + shipping_cents) * tax_rate + 5000) // 10_000
    return _Money(line_discount_cents, code_percent, order_discount_cents, net_cents, shipping_cents, tax_cents)
