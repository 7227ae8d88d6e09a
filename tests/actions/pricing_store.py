"""A hand-made store whose demand has a known price elasticity, imported through the generic CSV profile."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from pathlib import Path

import numpy as np

TRUE_ELASTICITY = -1.5
FIRST_MONDAY = date(2025, 1, 6)
WEEKS = 52
# product: (category, regular price, cost); costs are half the regular price
PRODUCTS = {
    "TEA-1": ("Tea", 20.0, 10.0),
    "TEA-2": ("Tea", 40.0, 20.0),
    "MUG-1": ("Kitchen", 60.0, 30.0),
    "POT-1": ("Kitchen", 100.0, 50.0),
}
PRICE_STEPS = (0.8, 0.9, 1.0, 1.1, 1.2)  # each week a product sells at one of these multiples of its price
MEAN_UNITS = 30.0  # weekly units at the regular price
CHANNELS = ("web", "app")  # even weeks' orders come from the web shop, odd weeks' from the app

MAPPING = """\
columns:
  order_id: order
  ordered_at: at
  customer_id: customer
  channel: channel
  product_id: sku
  category: category
  unit_cost: cost
  quantity: qty
  unit_price: price
"""


def weekly_demand(
    rng: np.random.Generator, weeks: int = WEEKS, products: Mapping[str, tuple[str, float, float]] = PRODUCTS
) -> list[tuple[int, str, float, int]]:
    """(week, product, price, units): units ~ Poisson(MEAN_UNITS * (price / regular) ** TRUE_ELASTICITY)."""
    rows = []
    for week in range(weeks):
        for product, (_, regular, _) in products.items():
            price = round(regular * float(rng.choice(PRICE_STEPS)), 2)
            units = int(rng.poisson(MEAN_UNITS * (price / regular) ** TRUE_ELASTICITY))
            rows.append((week, product, price, units))
    return rows


def write_store_csv(directory: Path, seed: int = 3) -> tuple[Path, Path]:
    """orders.csv (one order per product and week, on the week's Wednesday) and its generic mapping."""
    rows = weekly_demand(np.random.default_rng(seed))
    lines = ["order,at,customer,channel,sku,category,cost,qty,price"]
    for week, product, price, units in rows:
        if units == 0:
            continue
        day = FIRST_MONDAY + timedelta(days=7 * week + 2)
        category, _, cost = PRODUCTS[product]
        lines.append(
            f"W{week:02d}-{product},{day} 12:00:00,C{week % 20},{CHANNELS[week % 2]},{product},{category},{cost:.2f},"
            f"{units},{price:.2f}"
        )
    orders, mapping = directory / "orders.csv", directory / "mapping.yaml"
    orders.write_text("\n".join(lines) + "\n")
    mapping.write_text(MAPPING)
    return orders, mapping
