"""WooCommerce orders exported line by line ("Advanced Order Export For WooCommerce" default columns).

Each row is one order item with the order's fields repeated. Customers are identified by their
WooCommerce user id when the export has one, else by billing e-mail (guest checkouts).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from shoplens.ingest._profile import SalesMapping, SourceProfile, col, register_profile

REQUIRED = ("Order Number", "Order Date", "Email (Billing)", "Item Name", "Quantity (- Refund)", "Item Cost")
PERSONAL = (
    "Email (Billing)",
    "First Name (Billing)",
    "Last Name (Billing)",
    "Company (Billing)",
    "Address 1&2 (Billing)",
    "Postcode (Billing)",
    "Phone (Billing)",
    "First Name (Shipping)",
    "Last Name (Shipping)",
    "Address 1&2 (Shipping)",
    "Postcode (Shipping)",
    "Customer Note",
)


def _build(header: Sequence[str], mapping: Mapping[str, object] | None) -> SalesMapping:
    def h(name: str) -> str:
        return col(name) if name in header else "NULL"

    email = col("Email (Billing)")
    # A guest checkout has user id 0; the pipeline keys every customer by e-mail where there is one, so the
    # guest and a later account with that e-mail are one customer.
    customer = f"nullif(nullif({h('Customer User ID')}, ''), '0')"
    status = f"lower(regexp_replace(coalesce({h('Order Status')}, 'completed'), '^wc-', ''))"
    return SalesMapping(
        expressions={
            "order_id": col("Order Number"),
            "ordered_at": col("Order Date"),
            "customer_id": customer,
            "email": email,
            "name": f"nullif(concat_ws(' ', {h('First Name (Billing)')}, {h('Last Name (Billing)')}), '')",
            "phone": h("Phone (Billing)"),
            "address": f"nullif(concat_ws(', ', {h('Address 1&2 (Billing)')}, {h('City (Billing)')}, "
            f"{h('Postcode (Billing)')}), '')",
            "country": h("Country Code (Billing)"),
            "region": h("State Code (Billing)"),
            "product_id": f"coalesce(nullif({h('SKU')}, ''), {col('Item Name')})",
            "product_name": col("Item Name"),
            "quantity": col("Quantity (- Refund)"),
            "unit_price": col("Item Cost"),
            "order_discount": h("Cart Discount Amount"),
            "shipping": h("Order Shipping Amount"),
            "tax": h("Order Total Tax Amount"),
            "currency": h("Currency"),
            "channel": "'web'",
            "status": status,
            "discount_code": h("Coupon Code"),
            "refund_amount": f"abs(TRY_CAST({h('Order Refund Amount')} AS DECIMAL(18,2)))::VARCHAR",
        },
        date_formats=("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"),
        personal_columns=tuple(c for c in PERSONAL if c in header),
        fill_order_fields=True,
    )


PROFILE = register_profile(
    SourceProfile(
        name="woocommerce",
        description="WooCommerce orders, one row per item (Order Number, Order Date, Email (Billing), Item Name, ...)",
        required=REQUIRED,
        build=_build,
    )
)
