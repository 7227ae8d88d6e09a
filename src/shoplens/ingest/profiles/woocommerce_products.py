"""WooCommerce's built-in product CSV export (Products → Export), into the ``products`` table.

One row per product; a variable product's variations are rows of Type "variation" whose Parent names the
parent product (by its SKU, or "id:NN").

* ``product_id``: the SKU, else the product ID. A row with neither (a variation of an export without IDs) cannot
  be told apart from its siblings and is quarantined ("missing product id").
* ``name``: Name; a variation without one takes its parent's.
* ``category``: the first category listed, by its most specific part: "Clothing > Hoodies, Music" is
  "Hoodies" (commas inside a category name are written "\\," and kept). A variation (listed without categories)
  takes its parent's.
* ``price``: Sale price when set, else Regular price (the sale's date window is not applied: the export is a
  snapshot of the prices now).
* ``cost``: WooCommerce has no cost of its own; the Cost of Goods plug-in's column "Meta: _wc_cog_cost" is read
  when the export has it.
* ``supplier``: none (WooCommerce has no vendor field).

A newer export replaces the stored products (a changed price or cost updates the row).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from shoplens.ingest._profile import SourceProfile, TablePlan, col, register_profile
from shoplens.ingest.profiles.shopify_products import last_part

REQUIRED = ("Type", "SKU", "Name", "Regular price", "Categories")
COST_COLUMN = "Meta: _wc_cog_cost"
_ESCAPED_COMMA = "chr(31)"  # stands in for "\," while the list is split on commas


def _build(header: Sequence[str], mapping: Mapping[str, object] | None) -> TablePlan:
    def h(name: str) -> str:
        return f"nullif(trim({col(name)}), '')" if name in header else "CAST(NULL AS VARCHAR)"

    own_key = f"coalesce({h('SKU')}, 'id:' || {h('ID')})"
    family = f"coalesce({h('Parent')}, {own_key})"

    def of_parent(sql: str) -> str:
        return f"max(CASE WHEN {h('Parent')} IS NULL THEN {sql} END) OVER (PARTITION BY {family})"

    first_path = f"split_part(replace({h('Categories')}, '\\,', {_ESCAPED_COMMA}), ',', 1)"
    category = f"replace({last_part(first_path)}, {_ESCAPED_COMMA}, ',')"
    return TablePlan(
        table="products",
        expressions={
            "product_id": f"coalesce({h('SKU')}, {h('ID')})",
            "name": f"coalesce({h('Name')}, {of_parent(h('Name'))})",
            "category": f"coalesce({category}, {of_parent(category)})",
            "cost": h(COST_COLUMN),
            "price": f"coalesce({h('Sale price')}, {h('Regular price')})",
        },
        layout="woocommerce-products",
        replace_existing=True,
    )


PROFILE = register_profile(
    SourceProfile(
        name="woocommerce-products",
        description="WooCommerce product export (ID, Type, SKU, Name, Sale price, Regular price, Categories, ...) "
        "into the product catalogue",
        required=REQUIRED,
        build=_build,
        target="table",
    )
)
