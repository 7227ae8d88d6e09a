"""Shopify "Export orders" CSV: one row per line item.

Order-level fields (Email, Created at, totals, Discount Amount, Refunded Amount, ...) may be filled on
the first line of an order only; the loader copies them to the order's other lines. Shopify's export
has no customer id, so the customer is identified by e-mail (which stays in the vault).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from shoplens.ingest._profile import SalesMapping, SourceProfile, col, register_profile

REQUIRED = ("Name", "Email", "Created at", "Currency", "Lineitem quantity", "Lineitem name", "Lineitem price")
PERSONAL = (
    "Email",
    "Billing Name",
    "Billing Street",
    "Billing Address1",
    "Billing Address2",
    "Billing Phone",
    "Billing Zip",
    "Shipping Name",
    "Shipping Street",
    "Shipping Address1",
    "Shipping Address2",
    "Shipping Phone",
    "Shipping Zip",
    "Phone",
    "Notes",
)


def _optional(header: Sequence[str], name: str) -> str:
    return col(name) if name in header else "NULL"


def _build(header: Sequence[str], mapping: Mapping[str, object] | None) -> SalesMapping:
    def h(name: str) -> str:
        return _optional(header, name)

    address = (
        f"nullif(concat_ws(', ', {h('Billing Address1')}, {h('Billing Address2')}, {h('Billing City')}, "
        f"{h('Billing Zip')}), '')"
    )
    status = (
        f"CASE WHEN nullif({h('Cancelled at')}, '') IS NOT NULL THEN 'cancelled' "
        f"ELSE coalesce(nullif({h('Financial Status')}, ''), 'paid') END"
    )
    return SalesMapping(
        expressions={
            "order_id": col("Name"),
            "ordered_at": col("Created at"),
            "email": col("Email"),
            "name": h("Billing Name"),
            "phone": f"coalesce({h('Billing Phone')}, {h('Phone')})",
            "address": address,
            "country": h("Billing Country"),
            "region": h("Billing Province"),
            "product_id": f"coalesce(nullif({h('Lineitem sku')}, ''), {col('Lineitem name')})",
            "product_name": col("Lineitem name"),
            "supplier": h("Vendor"),
            "quantity": col("Lineitem quantity"),
            "unit_price": col("Lineitem price"),
            "line_discount": h("Lineitem discount"),
            "order_discount": h("Discount Amount"),
            "shipping": h("Shipping"),
            "tax": h("Taxes"),
            "currency": col("Currency"),
            "channel": h("Source"),
            "status": status,
            "discount_code": h("Discount Code"),
            "refund_amount": h("Refunded Amount"),
            "consent_marketing": h("Accepts Marketing"),
        },
        date_formats=("%Y-%m-%d %H:%M:%S %z", "%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d %H:%M:%S"),
        personal_columns=tuple(c for c in PERSONAL if c in header),
        fill_order_fields=True,
    )


PROFILE = register_profile(
    SourceProfile(
        name="shopify",
        description="Shopify orders export (Name, Email, Created at, Lineitem ... one row per line item)",
        required=REQUIRED,
        build=_build,
    )
)
