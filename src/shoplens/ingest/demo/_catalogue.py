"""The product catalogue: categories with their price ranges, suppliers and risks, products sorted so that one
near a target price can be found by search, and each category's bestsellers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from shoplens.ingest.demo._columns import _decimals
from shoplens.ingest.demo._sampling import BoolArray, FloatArray, IntArray, _GroupedChoice


@dataclass(frozen=True)
class _Category:
    name: str
    demand_share: float
    price_range: tuple[float, float]  # HKD
    cost_ratio: tuple[float, float]
    sized: bool  # sizing complaints possible
    damage_risk: float  # per line
    qualities: tuple[str, ...]
    items: tuple[str, ...]
    variants: tuple[str, ...]
    suppliers: tuple[str, ...]


COLOURS = ("Black", "White", "Sage", "Navy", "Sand", "Rust", "Olive", "Grey")
CATEGORIES: tuple[_Category, ...] = (
    _Category("Apparel", 0.25, (149, 899), (0.30, 0.50), True, 0.010,
              ("Linen", "Cotton", "Merino", "Oversized", "Relaxed", "Cropped", "Pleated", "Quilted"),
              ("Shirt", "Tee", "Dress", "Cardigan", "Trousers", "Jacket", "Hoodie", "Skirt"), COLOURS,
              ("Harbour Thread Co.", "Lantau Linen Ltd", "Pearl Delta Garments")),
    _Category("Footwear", 0.11, (299, 1499), (0.35, 0.55), True, 0.010,
              ("Canvas", "Leather", "Suede", "Trail", "Knit", "Platform"),
              ("Sneakers", "Loafers", "Sandals", "Boots", "Slides", "Runners"), COLOURS,
              ("Kowloon Footwear Works", "Stride Asia Ltd", "Tai Kok Tsui Shoemakers")),
    _Category("Accessories", 0.12, (79, 799), (0.25, 0.45), False, 0.010,
              ("Woven", "Leather", "Silk", "Beaded", "Recycled", "Minimal"),
              ("Tote", "Crossbody Bag", "Scarf", "Cap", "Wallet", "Belt", "Card Holder", "Umbrella"), COLOURS,
              ("Jade Loop Accessories", "Victoria Leathercraft", "Sampan Bags Ltd")),
    _Category("Beauty", 0.15, (69, 599), (0.20, 0.40), False, 0.030,
              ("Hydrating", "Brightening", "Soothing", "Green Tea", "Rose", "Ginseng"),
              ("Serum", "Face Mist", "Sheet Mask Set", "Lip Balm", "Cleanser", "Hand Cream", "Sunscreen"),
              ("30 ml", "50 ml", "100 ml", "Travel Size", "Duo", "Refill"),
              ("Orchid Skin Lab", "Peak Botanicals", "Dragon Well Naturals")),
    _Category("Home", 0.10, (99, 1599), (0.35, 0.55), False, 0.050,
              ("Rattan", "Ceramic", "Bamboo", "Linen", "Terrazzo", "Marble"),
              ("Lamp", "Vase", "Cushion Cover", "Throw", "Candle", "Storage Basket", "Mirror"),
              ("Small", "Medium", "Large", "Ivory", "Charcoal", "Terracotta"),
              ("Junk Bay Living", "Bamboo Grove Home", "Lamma Candle Co.")),
    _Category("Kitchen", 0.08, (59, 999), (0.35, 0.55), False, 0.050,
              ("Enamel", "Cast Iron", "Stoneware", "Bamboo", "Carbon Steel", "Glass"),
              ("Wok", "Teapot", "Rice Bowl Set", "Chopping Board", "Dumpling Steamer", "Mug", "Knife"),
              ("Small", "Medium", "Large", "Ivory", "Charcoal", "Terracotta"),
              ("Wok & Steel Trading", "Cheung Chau Ceramics", "Granite Kitchenware Ltd")),
    _Category("Electronics", 0.07, (149, 2499), (0.55, 0.75), False, 0.050,
              ("Wireless", "Compact", "Smart", "Portable", "Noise-Cancelling", "Magnetic"),
              ("Earbuds", "Speaker", "Power Bank", "Charger", "Desk Lamp", "Phone Stand", "Headphones"),
              ("Black", "White", "Graphite", "Silver", "Blue", "Pro"),
              ("Shenzhen Brightway Tech", "Neon Circuit Ltd", "Lion Rock Audio")),
    _Category("Tea & Snacks", 0.12, (39, 329), (0.30, 0.50), False, 0.015,
              ("Aged", "Osmanthus", "Jasmine", "Oolong", "Salted Egg", "Black Sesame"),
              ("Tea Tin", "Cookies", "Tea Bags", "Almond Crisps", "Egg Rolls", "Mooncake Box", "Sampler"),
              ("100 g", "250 g", "Gift Box", "Family Pack", "Mini", "Classic"),
              ("Yunnan Leaf Traders", "Mong Kok Bakery Supply", "Fortune Tea House")),
)  # fmt: skip
SIZING_PROBLEM_SHARE = 0.12  # of lines in sized categories
PRICE_COMPLAINT_SHARE = 0.04  # of lines, plus as much again for the dearest quarter of a category
PRICE_KEY_SCALE = 10**9  # separates categories in the price search key (prices are below 10**9 cents)


@dataclass(frozen=True)
class _Catalogue:
    """Products sorted by category, then price. ``product_ids`` are numbered in a shuffled order."""

    product_ids: tuple[str, ...]
    names: tuple[str, ...]
    category: IntArray
    supplier: tuple[str, ...]
    price_cents: IntArray
    cost_cents: IntArray
    price_key: IntArray  # category * PRICE_KEY_SCALE + price, increasing
    category_offsets: IntArray
    bestsellers: _GroupedChoice  # popularity within category
    popularity: FloatArray  # over the whole catalogue
    dear: BoolArray  # in the dearest quarter of its category

    @property
    def size(self) -> int:
        return len(self.product_ids)

    def table(self) -> Any:
        by_id = sorted(range(self.size), key=lambda index: self.product_ids[index])
        rows = np.array(by_id, dtype=np.int64)
        return pa.table(
            {
                "product_id": pa.array([self.product_ids[i] for i in by_id], pa.string()),
                "name": pa.array([self.names[i] for i in by_id], pa.string()),
                "category": pa.array([CATEGORIES[self.category[i]].name for i in by_id], pa.string()),
                "supplier": pa.array([self.supplier[i] for i in by_id], pa.string()),
                "cost": _decimals(self.cost_cents[rows] * 100, 4),
                "price": _decimals(self.price_cents[rows] * 100, 4),
            }
        )


def _catalogue_size(expected_customers: int) -> int:
    """~200 products for 5,000 customers, growing slowly with the store (40 to 1,000)."""
    return int(np.clip(round(200 * (expected_customers / 5000) ** 0.3), 40, 1000))


def _build_catalogue(rng: np.random.Generator, size: int) -> _Catalogue:
    shares = np.array([c.demand_share for c in CATEGORIES])
    per_category = np.maximum(np.floor(shares / shares.sum() * size).astype(np.int64), 3)
    per_category[0] += size - per_category.sum()  # the remainder goes to the largest category
    names: list[str] = []
    suppliers: list[str] = []
    category_of: list[int] = []
    prices: list[int] = []
    costs: list[int] = []
    for index, (spec, count) in enumerate(zip(CATEGORIES, per_category, strict=True)):
        combinations = [
            f"{quality} {item} - {variant}"
            for quality in spec.qualities
            for item in spec.items
            for variant in spec.variants
        ]
        chosen = rng.permutation(len(combinations))[:count]
        low, high = spec.price_range
        raw_price = np.exp(rng.uniform(np.log(low), np.log(high), count))
        # shop prices end in .90: 129.90, 49.90
        price = np.where(raw_price >= 100, np.ceil(raw_price / 10) * 10, np.ceil(raw_price)) - 0.10
        cost = price * rng.uniform(*spec.cost_ratio, count)
        for position in np.argsort(price, kind="stable"):
            names.append(combinations[chosen[position]])
            suppliers.append(spec.suppliers[int(rng.integers(len(spec.suppliers)))])
            category_of.append(index)
            prices.append(round(float(price[position]) * 100))
            costs.append(round(float(cost[position]) * 100))
    category = np.array(category_of, dtype=np.int64)
    price_cents = np.array(prices, dtype=np.int64)
    product_numbers = rng.permutation(len(names)) + 1
    offsets = np.searchsorted(category, np.arange(len(CATEGORIES) + 1)).astype(np.int64)
    within_rank = np.concatenate([rng.permutation(int(n)) for n in per_category])
    within_weight = 1.0 / (within_rank + 1.0) ** 1.1  # Zipf-like bestsellers, independent of price
    popularity = within_weight / np.repeat(np.add.reduceat(within_weight, offsets[:-1]), per_category)
    popularity *= shares[category]
    dear = np.zeros(len(names), dtype=np.bool_)
    for index in range(len(CATEGORIES)):
        first, stop = offsets[index], offsets[index + 1]
        dear[first + (3 * (stop - first)) // 4 : stop] = True
    return _Catalogue(
        product_ids=tuple(f"P{number:04d}" for number in product_numbers),
        names=tuple(names),
        category=category,
        supplier=tuple(suppliers),
        price_cents=price_cents,
        cost_cents=np.array(costs, dtype=np.int64),
        price_key=category * PRICE_KEY_SCALE + price_cents,
        category_offsets=offsets,
        bestsellers=_GroupedChoice.build(category, within_weight, len(CATEGORIES)),
        popularity=popularity,
        dear=dear,
    )
