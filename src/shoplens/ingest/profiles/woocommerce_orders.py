"""Two more WooCommerce order exports besides the Advanced Order Export layout (``woocommerce``).

``woocommerce-webtoffee``: the WebToffee "Order Export & Order Import for WooCommerce" CSV. One row per order;
its items are packed into ``line_item_1``, ``line_item_2``, ... as ``name:…|product_id:…|sku:…|quantity:…|
total:…|tax:…``. Each item becomes an order line (a record with three items counts as three rows read). An
item's ``total`` is after the order's coupons: where the item has no ``subtotal``, the order's
``discount_total`` is spread over its items in proportion to their totals, so that gross − discount is the
items' total to the cent in the usual case (rounding can move a cent between lines). ``coupon_items`` gives the
discount code and ``refund_items`` the refunded amount and reason. Guests have ``customer_user`` 0 and are
keyed by e-mail like everyone (a later account with that e-mail is the same customer). Dates are written
``DD-MM-YYYY HH:MM:SS`` in the shop's zone (set ``timezone`` in ``shoplens config``: they are read as UTC).
Trailing empty rows, which the plugin writes, have no order number and are quarantined as such.

``woocommerce-analytics``: WooCommerce's own Analytics → Orders → Download CSV (Date, Order #, Status, Customer,
Customer type, Product(s), Items sold, Coupon(s), Net Sales). One row per order and no per-product prices, so
each order is one line of "Items sold" units at Net Sales / units. The export names the customer but gives
no e-mail or id: the customer is keyed by the case-folded name (two customers of one name are merged; the
name itself stays in the vault). Product(s) lists names only, so product analyses have nothing to read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from shoplens.ingest._profile import SalesMapping, SourceProfile, col, packed_field, register_profile

WEBTOFFEE_REQUIRED = ("order_number", "order_date", "status", "billing_email", "line_item_1")
WEBTOFFEE_PERSONAL = (
    "customer_email",
    "billing_first_name",
    "billing_last_name",
    "billing_company",
    "billing_email",
    "billing_phone",
    "billing_address_1",
    "billing_address_2",
    "billing_postcode",
    "shipping_first_name",
    "shipping_last_name",
    "shipping_company",
    "shipping_address_1",
    "shipping_address_2",
    "shipping_postcode",
    "customer_note",
    "order_notes",
    "customer_ip_address",
)
DATE_FORMATS = ("%d-%m-%Y %H:%M:%S", "%Y-%m-%d %H:%M:%S", "%d-%m-%Y %H:%M", "%Y-%m-%d %H:%M")


def _line_items(header: Sequence[str]) -> list[str]:
    numbered = [c for c in header if c.startswith("line_item_") and c.removeprefix("line_item_").isdigit()]
    return sorted(numbered, key=lambda c: int(c.removeprefix("line_item_")))


def _webtoffee(header: Sequence[str], mapping: Mapping[str, object] | None) -> SalesMapping:
    def h(name: str) -> str:
        return col(name) if name in header else "NULL"

    item = '"_item"'
    items = _line_items(header)
    total = f"TRY_CAST({packed_field(item, 'total')} AS DECIMAL(18,4))"
    subtotal = packed_field(item, "subtotal")
    order_total = " + ".join(f"coalesce(TRY_CAST({packed_field(col(c), 'total')} AS DECIMAL(18,4)), 0)" for c in items)
    discount = f"coalesce(TRY_CAST(nullif({h('discount_total')}, '') AS DECIMAL(18,4)), 0)"
    spread = f"round({total} + {discount} * {total} / nullif({order_total}, 0), 2)"
    return SalesMapping(
        expressions={
            "order_id": f"coalesce(nullif({h('order_number')}, ''), {h('order_id')})",
            "ordered_at": col("order_date"),
            "customer_id": f"nullif(nullif({h('customer_user')}, ''), '0')",
            "email": f"coalesce(nullif({h('billing_email')}, ''), {h('customer_email')})",
            "name": f"nullif(concat_ws(' ', {h('billing_first_name')}, {h('billing_last_name')}), '')",
            "phone": h("billing_phone"),
            "address": f"nullif(concat_ws(', ', {h('billing_address_1')}, {h('billing_address_2')}, "
            f"{h('billing_city')}, {h('billing_postcode')}), '')",
            "country": h("billing_country"),
            "region": h("billing_state"),
            "product_id": f"coalesce({packed_field(item, 'sku')}, {packed_field(item, 'product_id')})",
            "product_name": packed_field(item, "name"),
            "quantity": packed_field(item, "quantity"),
            "unit_price": "NULL",  # from the line total / quantity
            "line_amount": f"coalesce({subtotal}, CAST({spread} AS VARCHAR), {packed_field(item, 'total')})",
            "order_discount": h("discount_total"),
            "shipping": h("shipping_total"),
            "tax": h("tax_total"),
            "currency": h("order_currency"),
            "status": f"lower(regexp_replace(coalesce(nullif({h('status')}, ''), 'completed'), '^wc-', ''))",
            "discount_code": packed_field(h("coupon_items"), "code"),
            "refund_amount": packed_field(h("refund_items"), "amount"),
            "refund_reason": packed_field(h("refund_items"), "reason"),
        },
        date_formats=DATE_FORMATS,
        personal_columns=tuple(c for c in WEBTOFFEE_PERSONAL if c in header),
        line_items=tuple(items),
    )


ANALYTICS_REQUIRED = ("Date", "Order #", "Status", "Customer", "Customer type", "Items sold", "Net Sales")


def _analytics(header: Sequence[str], mapping: Mapping[str, object] | None) -> SalesMapping:
    def h(name: str) -> str:
        return col(name) if name in header else "NULL"

    return SalesMapping(
        expressions={
            "order_id": col("Order #"),
            "ordered_at": col("Date"),
            "customer_id": f"lower(trim({col('Customer')}))",
            "name": col("Customer"),
            "quantity": col("Items sold"),
            "unit_price": "NULL",
            "line_amount": col("Net Sales"),
            "status": f"lower({col('Status')})",
            "discount_code": f"nullif(split_part({h('Coupon(s)')}, ',', 1), '')",
            "channel": h("Attribution"),
        },
        date_formats=("%Y-%m-%d %H:%M:%S", "%Y-%m-%d", "%B %d, %Y", "%d/%m/%Y"),
        personal_columns=("Customer",),
    )


WEBTOFFEE = register_profile(
    SourceProfile(
        name="woocommerce-webtoffee",
        description="WooCommerce orders by WebToffee's Order Export (one row per order, items in line_item_N)",
        required=WEBTOFFEE_REQUIRED,
        build=_webtoffee,
    )
)
ANALYTICS = register_profile(
    SourceProfile(
        name="woocommerce-analytics",
        description="WooCommerce Analytics > Orders CSV (Date, Order #, Status, Customer, Items sold, Net Sales)",
        required=ANALYTICS_REQUIRED,
        build=_analytics,
    )
)
