"""Shopify "Export orders" CSV: one row per line item.

Order-level fields (Email, Created at, totals, Discount Amount, Refunded Amount, ...) may be filled on
the first line of an order only; the loader copies them to the order's other lines. Shopify's export
has no customer id, so the customer is identified by e-mail (which stays in the vault). Older exports and
Shopify's order-import layout name some columns differently ("Processed At", "Buyer Accepts Marketing",
"Total Tax", "Shipping line price", lower-case spellings): :data:`ALIASES` reads each.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from shoplens.errors import MissingColumnsError
from shoplens.ingest._profile import SalesMapping, SourceProfile, col, register_profile

REQUIRED = ("Name", "Email", "Lineitem quantity", "Lineitem name", "Lineitem price")
# Column names have changed between Shopify's export versions (and its order-import layout, which tools such as
# Matrixify write): each field is read from the first of its names the file has, whatever their capitalisation.
ALIASES: dict[str, tuple[str, ...]] = {
    "ordered_at": ("Created at", "Processed At", "Paid at"),
    "cancelled_at": ("Cancelled at",),
    "shipped_at": ("Fulfilled at", "Fulfilled At"),
    "consent": ("Accepts Marketing", "Buyer Accepts Marketing", "Accepts Email Marketing"),
    "channel": ("Source", "Source name"),
    "discount_code": ("Discount Code",),
    "order_discount": ("Discount Amount",),
    "shipping": ("Shipping", "Shipping line price"),
    "tax": ("Taxes", "Total Tax"),
    "region": ("Billing Province", "Billing Province Code"),
    "country": ("Billing Country", "Billing Country Code"),
}
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
    found = _named(header, (name,))
    return col(found) if found else "NULL"


def _named(header: Sequence[str], names: Sequence[str]) -> str | None:
    """The file's own spelling of the first of ``names`` it has (compared without case)."""
    spelled = {column.lower(): column for column in header}
    return next((spelled[n.lower()] for n in names if n.lower() in spelled), None)


def _build(header: Sequence[str], mapping: Mapping[str, object] | None) -> SalesMapping:
    def h(name: str) -> str:
        return _optional(header, name)

    def a(field: str) -> str:
        found = _named(header, ALIASES[field])
        return col(found) if found else "NULL"

    ordered_at = _named(header, ALIASES["ordered_at"])
    if ordered_at is None:
        raise MissingColumnsError("input", "shopify", [" or ".join(ALIASES["ordered_at"])])

    address = (
        f"nullif(concat_ws(', ', {h('Billing Address1')}, {h('Billing Address2')}, {h('Billing City')}, "
        f"{h('Billing Zip')}), '')"
    )
    status = (
        f"CASE WHEN nullif({a('cancelled_at')}, '') IS NOT NULL THEN 'cancelled' "
        f"ELSE coalesce(nullif({h('Financial Status')}, ''), 'paid') END"
    )
    return SalesMapping(
        expressions={
            "order_id": col("Name"),
            "ordered_at": col(ordered_at),
            "email": col("Email"),
            "name": h("Billing Name"),
            "phone": f"coalesce({h('Billing Phone')}, {h('Phone')})",
            "address": address,
            "country": a("country"),
            "region": a("region"),
            "product_id": f"coalesce(nullif({h('Lineitem sku')}, ''), {col('Lineitem name')})",
            "product_name": col("Lineitem name"),
            "supplier": h("Vendor"),
            "quantity": col("Lineitem quantity"),
            "unit_price": col("Lineitem price"),
            "line_discount": h("Lineitem discount"),
            "order_discount": a("order_discount"),
            "shipping": a("shipping"),
            "tax": a("tax"),
            "currency": h("Currency"),
            "channel": a("channel"),
            "status": status,
            "discount_code": a("discount_code"),
            "refund_amount": h("Refunded Amount"),
            "consent_marketing": a("consent"),
            "shipped_at": a("shipped_at"),
        },
        date_formats=("%Y-%m-%d %H:%M:%S %z", "%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d %H:%M:%S"),
        personal_columns=tuple(found for c in PERSONAL if (found := _named(header, (c,)))),
        fill_order_fields=True,
    )


PROFILE = register_profile(
    SourceProfile(
        name="shopify",
        description=(
            "Shopify orders export (Name, Email, Created at or Processed At, Lineitem ... one row per line item), "
            "old and new column names"
        ),
        required=REQUIRED,
        build=_build,
    )
)
