"""orders.csv: a block's order lines as CSV text, built column by column in Arrow."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from shoplens.ingest._profile import SALES_FIELD_NAMES
from shoplens.ingest.demo._block import _Block
from shoplens.ingest.demo._calendar import SECONDS_PER_DAY, _Calendar
from shoplens.ingest.demo._catalogue import CATEGORIES, _Catalogue
from shoplens.ingest.demo._columns import _csv_field, _join, _money_texts, _numbered, _texts
from shoplens.ingest.demo._personal import REGION_NAMES
from shoplens.ingest.demo._shop import (
    CHANNEL_NAMES,
    COUNTRIES,
    DEVICES,
    DISCOUNT_CODES,
    REFUND_REASONS,
    STATUSES,
    STORE_CURRENCY,
)

# line_amount is left out: quantity x unit_price gives it.
ORDER_COLUMNS: tuple[str, ...] = tuple(name for name in SALES_FIELD_NAMES if name != "line_amount")
FIRST_ORDER_ID = 100_000  # order ids count up from 100001, so no reader drops leading zeros


def _orders_csv(block: _Block, calendar: _Calendar, catalogue: _Catalogue) -> memoryview:
    """The block's order lines as CSV text (ORDER_COLUMNS, one line each), built column by column in Arrow."""
    line_order = pa.array(block.line_order)
    line_product = pa.array(block.line_product)
    order_customer = pa.array(block.order_customer)
    known_customer = pa.array(block.order_customer, mask=block.order_guest)  # guests: null

    # Text is quoted where needed once per customer, product or order, then repeated onto the lines.
    def from_orders(texts: Any) -> Any:
        return _csv_field(texts).take(line_order)

    def from_customers(texts: Any, *, guests_see: bool = False) -> Any:
        return _csv_field(texts).take(order_customer if guests_see else known_customer).take(line_order)

    def from_products(values: Sequence[str]) -> Any:
        return _csv_field(pa.array(values, pa.string())).take(line_product)

    def constant(text: str) -> Any:
        return _texts((text,), np.zeros(block.line_count, dtype=np.int64))

    order_numbers = FIRST_ORDER_ID + block.first_order_number + np.arange(block.order_count)
    ordered_at = pa.array(calendar.start_epoch_seconds + block.order_seconds, pa.timestamp("s"))

    def moments(seconds: Any) -> Any:  # UTC times; -1: none yet
        at = pa.array(calendar.start_epoch_seconds + seconds, pa.timestamp("s"), mask=seconds < 0)
        return from_orders(pc.strftime(at, format="%Y-%m-%d %H:%M:%S"))

    promised = pa.array(calendar.start_epoch_seconds + block.order_promised_day * SECONDS_PER_DAY, pa.timestamp("s"))
    customer_numbers = block.first_customer_number + np.arange(block.customer_count)
    refund_amount = pc.if_else(
        pa.array(block.refund_cents >= 0), _money_texts(np.maximum(block.refund_cents, 0)), pa.scalar(None, pa.string())
    )
    consent = block.customer_consent[block.order_customer] & ~block.order_guest
    columns = {
        "order_id": from_orders(pc.cast(pa.array(order_numbers), pa.string())),
        "ordered_at": from_orders(pc.strftime(ordered_at, format="%Y-%m-%d %H:%M:%S")),
        "customer_id": from_customers(_numbered("D", customer_numbers, 6)),
        "email": from_customers(block.customer_email),
        "name": from_customers(block.customer_name),
        "phone": from_customers(block.customer_phone),
        "address": from_customers(block.customer_address, guests_see=True),  # guests still get their parcel
        "country": from_customers(_texts([c.code for c in COUNTRIES], block.customer_country), guests_see=True),
        "region": from_customers(_texts(REGION_NAMES, block.customer_region), guests_see=True),
        "product_id": from_products(catalogue.product_ids),
        "product_name": from_products(catalogue.names),
        "category": from_products([CATEGORIES[index].name for index in catalogue.category]),
        "supplier": from_products(catalogue.supplier),
        "unit_cost": _money_texts(catalogue.cost_cents[block.line_product]),
        "quantity": pc.cast(pa.array(block.line_quantity), pa.string()),
        "unit_price": _money_texts(catalogue.price_cents[block.line_product]),
        "line_discount": _money_texts(block.line_discount_cents),
        "order_discount": from_orders(_money_texts(block.order_discount_cents)),
        "shipping": from_orders(_money_texts(block.order_shipping_cents)),
        "tax": from_orders(_money_texts(block.order_tax_cents)),
        "currency": constant(STORE_CURRENCY),
        "channel": from_orders(_texts(CHANNEL_NAMES, block.order_channel)),
        "device": from_orders(_texts(DEVICES, block.order_device)),
        "status": from_orders(_texts(STATUSES, block.order_status)),
        "discount_code": from_orders(
            _texts([code for code, _ in DISCOUNT_CODES], np.maximum(block.order_code, 0), block.order_code < 0)
        ),
        "refund_amount": from_orders(refund_amount),
        "refund_reason": from_orders(
            _texts(REFUND_REASONS, np.maximum(block.refund_reason, 0), block.refund_reason < 0)
        ),
        "is_refund": constant("false"),  # refunds are order-level amounts, not returned lines
        "consent_marketing": from_orders(_texts(("false", "true"), consent.astype(np.int64))),
        "promised_delivery_date": from_orders(pc.strftime(promised, format="%Y-%m-%d")),
        "shipped_at": moments(block.order_shipped_seconds),
        "delivered_at": moments(block.order_delivered_seconds),
    }
    rows = pc.binary_join_element_wise(
        *(columns[name] for name in ORDER_COLUMNS), ",", null_handling="replace", null_replacement=""
    )
    lines = _join(rows, "", separator="\n")  # each row followed by a line break, in one contiguous buffer
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32, count=len(lines) + 1, offset=lines.offset * 4)
    return memoryview(lines.buffers()[2])[int(offsets[0]) : int(offsets[-1])]
