"""Shopify "Export products" CSV: one row per variant (and per extra image), into the ``products`` table.

A product's first row carries the product (Handle, Title, Vendor, Type, ...) and its first variant; each
further variant is a row with the Handle repeated, the product fields empty and the variant fields (Option
values, Variant SKU, Variant Price, Cost per item) filled. The product fields are carried to every row of
the Handle by window expressions.

A row without any variant field (no option value, SKU, price, compare-at price or cost) is an image-only row:
Shopify writes one for each image beyond the variants'. It is no product and no error, so it is a
continuation row of the product before it, counted with the duplicates (quarantining it would put a
correct row among the faulty ones, and hide real faults among hundreds of image rows).

* ``product_id``: the Variant SKU, else the variant's name as the orders export writes it ("Lineitem name":
  "Gardening Gloves - Green", a single-variant product's Title alone) so that order lines without a SKU find
  their product (two products sharing a title then share an id); the Handle and option values only without
  a title.
* ``name``: the Title, with the option values ("Gardening Gloves - Green") when the product has several variants,
  as Shopify names the variant in an order.
* ``category``: Type, else the last part of the standard Product Category ("Apparel & Accessories > Shirts").
* ``supplier``: Vendor; ``cost``: Cost per item; ``price``: Variant Price.

A newer catalogue replaces the stored products (a changed cost or price updates the row).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from shoplens.ingest._profile import SourceProfile, TablePlan, col, register_profile

REQUIRED = ("Handle", "Title", "Body (HTML)", "Vendor", "Variant Price")
OPTION_VALUES = ("Option1 Value", "Option2 Value", "Option3 Value")
VARIANT_FIELDS = (*OPTION_VALUES, "Variant SKU", "Variant Price", "Variant Compare At Price", "Cost per item")
SINGLE_VARIANT = "Default Title"  # the option value of a product without variants


def _blank(sql: str) -> str:
    return f"nullif(trim({sql}), '')"


def last_part(path_sql: str) -> str:
    """The last part of a category path "A > B > C" (the whole text when it has no '>')."""
    return f"nullif(trim(regexp_extract({path_sql}, '([^>]*)$', 1)), '')"


def _build(header: Sequence[str], mapping: Mapping[str, object] | None) -> TablePlan:
    def h(name: str) -> str:
        return _blank(col(name)) if name in header else "CAST(NULL AS VARCHAR)"

    def of_product(sql: str) -> str:
        return f"max({sql}) OVER (PARTITION BY {col('Handle')})"

    options = [f"CASE WHEN {h(o)} <> '{SINGLE_VARIANT}' THEN {h(o)} END" for o in OPTION_VALUES]
    option_text = f"nullif(concat_ws(' / ', {', '.join(options)}), '')"
    handle_and_options = (
        f"CASE WHEN {h('Handle')} IS NOT NULL THEN concat_ws(' / ', {h('Handle')}, {', '.join(options)}) END"
    )
    is_variant = " OR ".join(f"{h(f)} IS NOT NULL" for f in VARIANT_FIELDS)
    variants = f"sum(CASE WHEN {is_variant} THEN 1 ELSE 0 END) OVER (PARTITION BY {col('Handle')})"
    title = of_product(h("Title"))
    category = f"coalesce({of_product(h('Type'))}, {last_part(of_product(h('Product Category')))})"
    name = (
        f"CASE WHEN {variants} > 1 AND {option_text} IS NOT NULL THEN {title} || ' - ' || {option_text} "
        f"ELSE {title} END"
    )
    return TablePlan(
        table="products",
        expressions={
            # Without a SKU, the name the orders export gives the line item ("Lineitem name"), so that order lines
            # find their product; the handle only when there is no title either.
            "product_id": f"coalesce({h('Variant SKU')}, {name}, {handle_and_options})",
            "name": name,
            "category": category,
            "supplier": of_product(h("Vendor")),
            "cost": h("Cost per item"),
            "price": h("Variant Price"),
        },
        layout="shopify-products",
        continuation_rows=f"NOT ({is_variant})",
        replace_existing=True,
    )


PROFILE = register_profile(
    SourceProfile(
        name="shopify-products",
        description="Shopify products export (Handle, Title, Vendor, Variant Price, Cost per item ... one row per "
        "variant) into the product catalogue",
        required=REQUIRED,
        build=_build,
        target="table",
    )
)
