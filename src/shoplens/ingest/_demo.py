"""A deterministic, realistic demo store: orders, catalogue, web sessions, reviews, spend and calendar.

The store is a Hong Kong online shop selling in HKD. Every random draw comes from numpy's
``Generator(PCG64(...))`` seeded from one ``SeedSequence(seed)``, so the same arguments give
byte-identical files.

Generative model, per customer (vectorised over blocks of customers):

* **Acquisition.** The first order falls on a day drawn with weight *growth x demand*: new-customer
  acquisition grows ~80 % a year, and daily demand multiplies a weekly and a yearly pattern with the
  store's calendar (Chinese New Year run-up and holiday dip, 6.18, Singles' Day, Black Friday,
  Christmas, Boxing Day and a few store sales). The acquisition channel (organic, paid search,
  social, e-mail, referral, marketplace) has its own share, trend and customer quality; customers
  won with a discount code are slightly less loyal.
* **Repeat purchases (BG/NBD-like).** A purchase rate lambda ~ Gamma(r, alpha) per customer; repeat
  purchases follow a Poisson process with that rate on a *demand clock* (time stretched by the daily
  demand, so repeat orders show the same seasonality); after each repeat purchase the customer drops
  out with probability p ~ Beta(a, b). Channel quality scales lambda and b.
* **Spend (Gamma-Gamma-like).** Each customer has nu ~ Gamma(q, gamma); each order's target value is
  Gamma(p, nu). The order gets 1-8 lines whose products are picked near the target price in the
  customer's favourite category (or a category bestseller), so the value distribution is heavy-tailed.
* **Order details.** Time of day follows Hong Kong shopping hours (stored as UTC); device and channel
  mix; ~5 % guest check-outs (any order may be one: no customer id, e-mail, name or phone on it);
  discount codes (welcome codes by channel, sale-day codes, win-back codes); markdowns; shipping
  with a free-shipping threshold per country; destination tax; late deliveries (worse in December
  and around Chinese New Year), sizing problems (apparel, footwear) and damage in transit (fragile
  goods) that drive refunds and reviews.
* **Web sessions.** Each order not placed on a marketplace is the end of a converting session
  (views, carts, checkout, a shipping-cost view when shipping was charged, the order); around it the
  same day, Poisson numbers of sessions that stop after viewing, after carting, or at checkout (most
  of those after seeing the shipping cost), so view > cart > checkout > order per day.
* **Reviews** come from customers who ordered the product, more often after a problem; the text is
  built from templates for the recurring themes (late delivery, sizing, packaging, price) or praise,
  and the rating follows the text.

Scale: ``orders.csv`` is written block by block (at most 50,000 customers at a time) and never held
whole in memory. With ``max_order_lines`` the generator keeps adding blocks of customers (in random
order, so cutting a block biases nothing) until exactly that many lines are written; the last order
may then be cut short, and its order-level amounts are computed from the lines it keeps. Files are
sorted by time within a block (and events within chunks of 20,000 orders), ids are unique across blocks.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from datetime import date, timedelta
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from shoplens.errors import InputError
from shoplens.ingest._profile import SALES_FIELD_NAMES

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
ProgressCallback = Callable[[str, int, int], None]

# line_amount is left out: quantity x unit_price gives it.
ORDER_COLUMNS: tuple[str, ...] = tuple(name for name in SALES_FIELD_NAMES if name != "line_amount")
STORE_CURRENCY = "HKD"
DEMO_MAPPING = resources.files("shoplens.ingest").joinpath("mappings/demo.yaml")  # copied next to orders.csv
MAX_BLOCK_CUSTOMERS = 50_000
EVENT_CHUNK_ORDERS = 20_000  # web sessions are built for this many orders at a time (~30 events per order)
FIRST_ORDER_ID = 100_000  # order ids count up from 100001, so no reader drops leading zeros
SECONDS_PER_DAY = 86_400

# --- customer behaviour (rates are per day of average demand) -----------------------------------------------------
PURCHASE_RATE_SHAPE = 0.55  # r of lambda ~ Gamma(r, alpha)
PURCHASE_RATE_ALPHA = 110.0  # alpha (in days): mean lambda = r / alpha, one repeat order every ~200 days
MAX_PURCHASE_RATE = 0.5  # no customer orders more than every other day on average
DROPOUT_A = 0.9  # p ~ Beta(a, b) after each repeat purchase
DROPOUT_B = 2.8
ORDER_VALUE_SHAPE = 5.0  # p of z ~ Gamma(p, nu)
SPEND_RATE_SHAPE = 4.0  # q of nu ~ Gamma(q, gamma)
SPEND_RATE_GAMMA = 360.0  # gamma: mean target order value = p * gamma / (q - 1) = HKD 600
NEW_CUSTOMER_GROWTH_PER_YEAR = 1.8
GUEST_ORDER_SHARE = 0.05
WELCOME_CODE_SALE_DAY_BONUS = 0.30
SALE_DAY_CODE_SHARE = 0.45
WIN_BACK_CODE_SHARE = 0.07
LOYAL_CUSTOMER_CHANNEL_SHARE = 0.55  # repeat orders that come through the acquisition channel again
CANCELLED_SHARE = 0.012
BASE_REFUND_SHARE = 0.008
LATE_DELIVERY_SHARE = 0.06
LINES_PER_CUSTOMER_GUESS = 3.7  # used only to size blocks and the catalogue when max_order_lines is given


@dataclass(frozen=True)
class _Channel:
    name: str
    share_at_start: float  # share of new customers at the start of the window ...
    share_at_end: float  # ... and at its end (social grows)
    purchase_rate: float  # multiplies lambda
    loyalty: float  # multiplies b of the dropout Beta: above 1 means fewer dropouts
    spend: float  # multiplies the order value
    welcome_code_share: float  # share of new customers won with a code
    welcome_code: str
    consent_share: float  # share who agree to marketing
    traffic_share: float  # share of web sessions that do not convert


CHANNELS: tuple[_Channel, ...] = (
    _Channel("organic", 0.32, 0.26, 1.10, 1.30, 1.00, 0.10, "WELCOME10", 0.50, 0.33),
    _Channel("paid_search", 0.24, 0.21, 1.00, 1.00, 1.05, 0.18, "WELCOME10", 0.45, 0.27),
    _Channel("social", 0.12, 0.24, 0.80, 0.65, 0.85, 0.40, "INSTA15", 0.55, 0.25),
    _Channel("email", 0.07, 0.07, 1.25, 1.50, 1.00, 0.35, "NEWSLETTER10", 0.97, 0.08),
    _Channel("referral", 0.10, 0.10, 1.30, 1.70, 1.10, 0.60, "FRIEND15", 0.60, 0.07),
    _Channel("marketplace", 0.15, 0.12, 0.70, 0.55, 0.80, 0.05, "MKT5", 0.25, 0.00),
)
CHANNEL_NAMES = tuple(c.name for c in CHANNELS)
ORGANIC, EMAIL, MARKETPLACE = (CHANNEL_NAMES.index(n) for n in ("organic", "email", "marketplace"))

DEVICES = ("desktop", "mobile", "tablet", "app")
ORDER_DEVICE_MIX = (0.32, 0.52, 0.05, 0.11)
SESSION_DEVICE_MIX = (0.24, 0.63, 0.05, 0.08)
PREFERRED_DEVICE_SHARE = 0.75

# Hong Kong shopping hours (local 00..23); orders are stored in UTC, eight hours earlier.
LOCAL_HOUR_WEIGHTS = (3.0, 1.8, 1.0, 0.6, 0.4, 0.4, 0.7, 1.3, 2.2, 3.0, 3.6, 4.0,
                      4.6, 4.4, 4.0, 4.0, 4.2, 4.4, 4.6, 5.2, 6.0, 6.6, 6.4, 4.8)  # fmt: skip
UTC_HOUR_WEIGHTS = tuple(LOCAL_HOUR_WEIGHTS[(hour + 8) % 24] for hour in range(24))
WEEKDAY_DEMAND = (1.04, 1.00, 0.98, 0.97, 0.94, 1.00, 1.10)  # Monday .. Sunday
MONTH_DEMAND = (0.92, 0.85, 0.92, 0.95, 0.98, 0.98, 0.97, 0.95, 0.96, 1.00, 1.12, 1.25)  # January .. December

# code, percent off; FREESHIP waives shipping instead
DISCOUNT_CODES: tuple[tuple[str, int], ...] = (
    ("WELCOME10", 10), ("INSTA15", 15), ("NEWSLETTER10", 10), ("FRIEND15", 15), ("MKT5", 5),
    ("COMEBACK15", 15), ("VIP10", 10), ("FREESHIP", 0),
    ("LUCKY8", 8), ("MID618", 18), ("SUMMER15", 15), ("BIRTHDAY20", 20), ("DOUBLE11", 11),
    ("BLACKFRIDAY20", 20), ("CYBER20", 20), ("XMAS15", 15), ("BOXING20", 20),
)  # fmt: skip
DISCOUNT_CODE_INDEX = {code: index for index, (code, _) in enumerate(DISCOUNT_CODES)}
DISCOUNT_PERCENT = np.array([percent for _, percent in DISCOUNT_CODES], dtype=np.int64)
FREE_SHIPPING_CODE = DISCOUNT_CODE_INDEX["FREESHIP"]
WIN_BACK_CODES = np.array([DISCOUNT_CODE_INDEX[c] for c in ("COMEBACK15", "VIP10", "FREESHIP")], dtype=np.int64)
WELCOME_CODE_BY_CHANNEL = np.array([DISCOUNT_CODE_INDEX[c.welcome_code] for c in CHANNELS], dtype=np.int64)

STATUSES = ("paid", "refunded", "partially_refunded", "cancelled")
PAID, REFUNDED, PARTIALLY_REFUNDED, CANCELLED = range(4)
REFUND_REASONS = ("damaged in transit", "wrong size", "late delivery", "changed mind", "not as described",
                  "cancelled before dispatch")  # fmt: skip
DAMAGED, WRONG_SIZE, LATE, CHANGED_MIND, NOT_AS_DESCRIBED, CANCELLED_BEFORE_DISPATCH = range(6)

# Chinese New Year (first day of the lunar year).
CHINESE_NEW_YEAR: dict[int, date] = {
    2020: date(2020, 1, 25), 2021: date(2021, 2, 12), 2022: date(2022, 2, 1), 2023: date(2023, 1, 22),
    2024: date(2024, 2, 10), 2025: date(2025, 1, 29), 2026: date(2026, 2, 17), 2027: date(2027, 2, 6),
    2028: date(2028, 1, 26), 2029: date(2029, 2, 13), 2030: date(2030, 2, 3),
}  # fmt: skip


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


@dataclass(frozen=True)
class _Country:
    code: str
    share: float
    dialling_code: str
    mobile_first_digits: tuple[str, ...]
    mobile_digits: int
    tax_basis_points: int  # destination tax collected at checkout, on goods and shipping
    shipping_cents: int
    free_shipping_from_cents: int
    regions: tuple[tuple[str, float], ...]
    streets: tuple[str, ...]


COUNTRIES: tuple[_Country, ...] = (
    _Country("HK", 0.88, "+852", ("5", "6", "9"), 8, 0, 4_000, 50_000,
             (("Central and Western", 3.4), ("Wan Chai", 2.4), ("Eastern", 7.4), ("Southern", 3.6),
              ("Yau Tsim Mong", 4.3), ("Sham Shui Po", 5.6), ("Kowloon City", 5.5), ("Wong Tai Sin", 5.6),
              ("Kwun Tong", 9.0), ("Kwai Tsing", 6.6), ("Tsuen Wan", 4.2), ("Tuen Mun", 6.6), ("Yuen Long", 9.1),
              ("North", 4.2), ("Tai Po", 4.2), ("Sha Tin", 9.2), ("Sai Kung", 6.4), ("Islands", 2.6)),
             ("Nathan Road", "King's Road", "Queen's Road Central", "Hennessy Road", "Castle Peak Road",
              "Shau Kei Wan Road", "Tai Po Road", "Ma On Shan Road", "Sai Yeung Choi Street", "Des Voeux Road West",
              "Pok Fu Lam Road", "Lung Cheung Road", "Tung Chung Road", "Prince Edward Road West")),
    _Country("MO", 0.03, "+853", ("6",), 8, 0, 6_000, 60_000,
             (("Macau Peninsula", 7.0), ("Taipa", 2.5), ("Coloane", 0.5)),
             ("Avenida de Almeida Ribeiro", "Rua do Campo", "Avenida de Kwong Tung", "Rua de Coimbra")),
    _Country("SG", 0.03, "+65", ("8", "9"), 8, 900, 11_000, 100_000,
             (("Central", 3.0), ("East", 2.0), ("North", 1.5), ("North-East", 2.0), ("West", 2.0)),
             ("Orchard Road", "Tampines Avenue 4", "Bukit Timah Road", "Jurong West Street 91", "Serangoon Road")),
    _Country("TW", 0.03, "+886", ("9",), 9, 500, 9_000, 80_000,
             (("Taipei", 3.0), ("New Taipei", 3.0), ("Taichung", 2.0), ("Kaohsiung", 2.0), ("Taoyuan", 1.5)),
             ("Zhongshan Road", "Minsheng East Road", "Xinyi Road", "Heping West Road", "Wenhua Road")),
    _Country("GB", 0.015, "+44", ("7",), 10, 2_000, 18_000, 150_000,
             (("London", 4.0), ("South East", 2.0), ("North West", 1.5), ("Scotland", 1.0)),
             ("High Street", "Station Road", "Church Lane", "Victoria Road", "Mill Lane")),
    _Country("AU", 0.015, "+61", ("4",), 9, 1_000, 16_000, 150_000,
             (("New South Wales", 4.0), ("Victoria", 3.5), ("Queensland", 2.5), ("Western Australia", 1.5)),
             ("George Street", "Collins Street", "Queen Street", "Hay Street", "Chapel Street")),
)  # fmt: skip
HONG_KONG = 0
INTERNATIONAL_LATE_FACTOR = 1.8

GIVEN_NAMES = (
    "Ada", "Alan", "Angel", "Ben", "Calvin", "Carmen", "Cindy", "Derek", "Eric", "Esther", "Fiona", "Gary", "Grace",
    "Hazel", "Ivan", "Jacky", "Janice", "Jason", "Karen", "Kelvin", "Ling", "Mandy", "Matthew", "Natalie", "Oscar",
    "Peggy", "Queenie", "Raymond", "Sammi", "Stephanie", "Terence", "Tiffany", "Vivian", "Wing", "Winnie", "Yvonne",
    "Zoe", "Kenneth", "Priscilla", "Edmond",
)  # fmt: skip
SURNAMES = (
    "Chan", "Wong", "Lee", "Cheung", "Lau", "Ng", "Ho", "Leung", "Lam", "Tsang", "Yip", "Chow", "Tang", "Kwok", "Law",
    "Fung", "Mak", "Cheng", "Yeung", "Lo", "Siu", "Tam", "Choi", "Kwan", "Tse", "Lai", "Poon", "Yuen", "Smith",
    "Taylor", "Brown", "Tan", "Lim", "Lin", "Huang",
)  # fmt: skip
EMAIL_DOMAINS = ("gmail.com", "yahoo.com.hk", "outlook.com", "hotmail.com", "icloud.com", "netvigator.com")
EMAIL_DOMAIN_SHARES = (0.42, 0.16, 0.14, 0.12, 0.11, 0.05)
BUILDING_NAMES = ("Kam Fung", "Wing On", "Tai Hing", "Fortune", "Harbour View", "Lok Fu", "Sun Hing", "Po Lam",
                  "Hoi Tat", "Mei Foo", "Sereno", "Grand Pacific")  # fmt: skip
BUILDING_KINDS = ("Court", "Mansion", "Garden", "Tower", "Building", "House", "Centre")

# Web sessions that do not convert, per converting session: funnel view 100 % -> cart ~30 % -> checkout ~15 %
# -> order ~9 % of sessions.
VIEW_ONLY_SESSIONS_PER_ORDER = 7.8
CART_ABANDON_SESSIONS_PER_ORDER = 1.67
CHECKOUT_ABANDON_SESSIONS_PER_ORDER = 0.67
ABANDONED_CHECKOUT_SHIPPING_VIEW_SHARE = 0.8
KNOWN_VISITOR_SHARE = 0.3
EVENT_TYPES = ("view", "cart", "checkout", "shipping_view", "order")
VIEW, CART, CHECKOUT, SHIPPING_VIEW, ORDER = range(5)
EVENT_PAGES = ("", "/cart", "/checkout", "/checkout/shipping", "/checkout/thank-you")
# source, medium, campaign per channel (marketplace orders happen on the marketplace, not on the site)
TRAFFIC_SOURCES: tuple[tuple[str, tuple[tuple[str, str, str | None, float], ...]], ...] = (
    ("organic", (("google", "organic", None, 0.8), ("bing", "organic", None, 0.08), ("direct", "(none)", None, 0.12))),
    ("paid_search", (("google", "cpc", "brand", 0.45), ("google", "cpc", "generic", 0.55))),
    ("social", (("instagram", "paid_social", "new_arrivals", 0.5), ("facebook", "paid_social", "retargeting", 0.3),
                ("instagram", "paid_social", "lookalike", 0.2))),
    ("email", (("newsletter", "email", "weekly_newsletter", 0.6), ("newsletter", "email", "winback", 0.2),
               ("newsletter", "email", "welcome_series", 0.2))),
    ("referral", (("friend_referral", "referral", None, 0.7), ("lifestyle_blog", "referral", None, 0.3))),
    ("marketplace", (("hktvmall", "marketplace", None, 1.0),)),
)  # fmt: skip
SALE_CAMPAIGN_SHARE = 0.6  # paid, social and e-mail sessions on a sale day that carry the sale's campaign

# Review texts: openers by rating, then one sentence per theme the customer ran into, or praise.
REVIEW_OPENERS: dict[int, tuple[str, ...]] = {
    1: ("Terrible experience.", "Very disappointed.", "Would not recommend."),
    2: ("Disappointed.", "Not what I hoped for.", "Quite unhappy with this order."),
    3: ("It's okay.", "Mixed feelings.", "Not bad, not great."),
    4: ("Really nice overall.", "Pretty happy with this.", "Good quality."),
    5: ("Love it!", "Absolutely love this.", "Fantastic purchase."),
}
OPENERS_PER_RATING = 3
REVIEW_OPENER_TEXTS = tuple(text for rating in range(1, 6) for text in REVIEW_OPENERS[rating])
REVIEW_THEMES: dict[str, tuple[str, ...]] = {
    "late delivery": (
        "Delivery took almost two weeks, far longer than promised.",
        "The parcel arrived late and the tracking was never updated.",
        "Shipping was really slow; it came a week after the promised date.",
        "Late delivery again, and I needed it for a gift.",
    ),
    "sizing": (
        "Runs small, I had to send it back for a bigger size.",
        "The size chart is off; it was much too big.",
        "Fits tighter than expected, order one size up.",
        "Sizing is inconsistent with the chart.",
    ),
    "packaging": (
        "The box arrived crushed and the item was damaged.",
        "Poor packaging, it was broken when I opened it.",
        "Packaging was flimsy and the product got scratched.",
        "Arrived in a dented box with a cracked item inside.",
    ),
    "price": (
        "Nice, but overpriced for what it is.",
        "A bit too expensive; I found it cheaper elsewhere.",
        "The quality does not justify the price.",
        "Pricey compared with similar shops.",
    ),
}
REVIEW_PRAISE = (
    "Great quality, exactly as pictured.",
    "Arrived quickly and well wrapped.",
    "Excellent value for money.",
    "Will definitely buy again.",
    "Customer service was quick and friendly.",
)
REVIEW_NEUTRAL = ("It does the job, nothing special.", "Quality is average.", "Looks a little different in person.")
REVIEW_SHARE = 0.06  # of eligible order lines, plus REVIEW_SHARE_AFTER_PROBLEM when something went wrong
REVIEW_SHARE_AFTER_PROBLEM = 0.10

# Marketing spend: cost per new customer (HKD) for the bought channels, fixed daily amounts, rewards, commission.
PAID_SEARCH_COST_PER_NEW_CUSTOMER = 150.0
PAID_SEARCH_DAILY_BASE = 80.0
SOCIAL_COST_PER_NEW_CUSTOMER = 110.0
SOCIAL_DAILY_BASE = 50.0
EMAIL_DAILY_BASE = 40.0
EMAIL_COST_PER_NEW_CUSTOMER = 12.0
REFERRAL_REWARD = 50.0
MARKETPLACE_COMMISSION = 0.12
SPEND_CHANNELS = ("paid_search", "social", "email", "referral", "marketplace")


@dataclass(frozen=True)
class DemoFiles:
    """What :func:`generate_demo_store` wrote: paths, and counts of what is in them.

    ``customers`` counts distinct customer ids in orders.csv (guest orders have none); ``refunds``
    counts orders with a refund amount (refunded, partially refunded and cancelled orders).
    """

    out_dir: Path
    orders_path: Path
    mapping_path: Path
    products_path: Path
    events_path: Path | None
    feedback_path: Path
    marketing_spend_path: Path
    events_calendar_path: Path
    orders: int
    order_lines: int
    customers: int
    refunds: int
    events: int
    feedback: int
    products: int


def generate_demo_store(
    out_dir: Path,
    *,
    customers: int = 5000,
    seed: int = 0,
    start: date = date(2024, 1, 1),
    days: int = 730,
    max_order_lines: int | None = None,
    with_events: bool = True,
    progress: ProgressCallback | None = None,
) -> DemoFiles:
    """Write a demo store into ``out_dir`` (created if needed) and say what was written.

    ``customers`` customers make their first order within ``days`` days from ``start`` (UTC). With
    ``max_order_lines``, ``customers`` is ignored: blocks of customers are added until exactly
    ``max_order_lines`` order lines are written (the last order may be cut short), and the catalogue
    is sized for the number of customers that is expected to take. ``with_events=False`` skips the
    web sessions (events.parquet), which are ~10x the orders in rows. ``progress(step, done, total)``
    is called after each step: ``products``, then per block ``customers`` (or ``order_lines`` with
    ``max_order_lines``), then ``marketing_spend`` and ``events_calendar``.
    """
    if customers < 1:
        raise InputError("customers must be at least 1")
    if days < 1:
        raise InputError("days must be at least 1")
    if max_order_lines is not None and max_order_lines < 1:
        raise InputError("max_order_lines must be at least 1")
    end = start + timedelta(days=days)
    last_day = end - timedelta(days=1)
    known_years = f"{min(CHINESE_NEW_YEAR)}-{max(CHINESE_NEW_YEAR)}"
    if start.year not in CHINESE_NEW_YEAR or last_day.year not in CHINESE_NEW_YEAR:
        raise InputError(f"the demo store's calendar covers {known_years}; choose start and days inside it")

    report = progress or _no_progress
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    seeds = np.random.SeedSequence(seed)
    catalogue_seed, spend_seed, blocks_seed = seeds.spawn(3)

    calendar = _build_calendar(start, days)
    expected_customers = customers if max_order_lines is None else math.ceil(max_order_lines / LINES_PER_CUSTOMER_GUESS)
    catalogue = _build_catalogue(_generator(catalogue_seed), _catalogue_size(expected_customers))
    products_path = out_dir / "products.parquet"
    pq.write_table(catalogue.table(), products_path)
    report("products", 1, 1)

    mapping_path = out_dir / "mapping.yaml"
    mapping_path.write_bytes(DEMO_MAPPING.read_bytes())

    orders_path = out_dir / "orders.csv"
    events_path = out_dir / "events.parquet" if with_events else None
    feedback_path = out_dir / "feedback.parquet"
    totals = _Totals(days)
    feedback_writer = pq.ParquetWriter(feedback_path, FEEDBACK_SCHEMA)
    events_writer = pq.ParquetWriter(events_path, EVENTS_SCHEMA) if events_path is not None else None
    try:
        with orders_path.open("wb") as orders_file:
            orders_file.write((",".join(ORDER_COLUMNS) + "\n").encode())
            customers_done = 0
            while True:
                if max_order_lines is None:
                    block_customers = min(MAX_BLOCK_CUSTOMERS, customers - customers_done)
                    line_budget = None
                else:
                    line_budget = max_order_lines - totals.order_lines
                    block_customers = min(MAX_BLOCK_CUSTOMERS, math.ceil(line_budget / LINES_PER_CUSTOMER_GUESS) + 20)
                if block_customers <= 0 or line_budget == 0:
                    break
                simulation_seed, events_seed, feedback_seed = blocks_seed.spawn(1)[0].spawn(3)
                block = _simulate_block(
                    _generator(simulation_seed), block_customers, line_budget, calendar, catalogue, totals
                )
                orders_file.write(_orders_csv(block, calendar, catalogue))
                feedback = _feedback_table(_generator(feedback_seed), block, calendar, catalogue, totals.feedback + 1)
                feedback_writer.write_table(feedback)
                totals.feedback += feedback.num_rows
                if events_writer is not None:
                    events_rng = _generator(events_seed)
                    for first in range(0, block.order_count, EVENT_CHUNK_ORDERS):
                        orders = range(first, min(first + EVENT_CHUNK_ORDERS, block.order_count))
                        events, sessions = _events_table(
                            events_rng, block, calendar, catalogue, orders, totals.events + 1, totals.sessions + 1
                        )
                        events_writer.write_table(events)
                        totals.events += events.num_rows
                        totals.sessions += sessions
                totals.add_block(block)
                customers_done += block_customers
                if max_order_lines is None:
                    report("customers", customers_done, customers)
                else:
                    report("order_lines", totals.order_lines, max_order_lines)
    finally:
        feedback_writer.close()
        if events_writer is not None:
            events_writer.close()

    marketing_spend_path = out_dir / "marketing_spend.parquet"
    pq.write_table(_marketing_spend_table(_generator(spend_seed), calendar, totals), marketing_spend_path)
    report("marketing_spend", 1, 1)
    events_calendar_path = out_dir / "events_calendar.parquet"
    pq.write_table(calendar.table(), events_calendar_path)
    report("events_calendar", 1, 1)

    return DemoFiles(
        out_dir=out_dir,
        orders_path=orders_path,
        mapping_path=mapping_path,
        products_path=products_path,
        events_path=events_path,
        feedback_path=feedback_path,
        marketing_spend_path=marketing_spend_path,
        events_calendar_path=events_calendar_path,
        orders=totals.orders,
        order_lines=totals.order_lines,
        customers=totals.customers,
        refunds=totals.refunds,
        events=totals.events,
        feedback=totals.feedback,
        products=catalogue.size,
    )


def _no_progress(step: str, done: int, total: int) -> None:
    del step, done, total


def _generator(seed: np.random.SeedSequence) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(seed))


# --- sampling helpers -------------------------------------------------------------------------------------------------


def _categorical(rng: np.random.Generator, weights: Sequence[float] | FloatArray, size: int) -> IntArray:
    """Indices drawn with the given (unnormalised) weights."""
    cumulative = np.cumsum(np.asarray(weights, dtype=np.float64))
    drawn: IntArray = np.searchsorted(cumulative, rng.random(size) * cumulative[-1], side="right")
    return np.minimum(drawn, len(cumulative) - 1)


def _categorical_rows(rng: np.random.Generator, weights: FloatArray) -> IntArray:
    """One index per row of a (rows, choices) weight matrix."""
    cumulative = np.cumsum(weights, axis=1)
    drawn = rng.random(len(weights)) * cumulative[:, -1]
    chosen: IntArray = np.minimum((drawn[:, None] >= cumulative).sum(axis=1), weights.shape[1] - 1)
    return chosen


@dataclass(frozen=True)
class _GroupedChoice:
    """Weighted choice of an item within its group (items sorted by group), vectorised over many groups."""

    keys: FloatArray  # group + cumulative share of the item within its group
    offsets: IntArray  # first item of each group, and the item count at the end

    @classmethod
    def build(cls, groups: IntArray, weights: FloatArray, group_count: int) -> _GroupedChoice:
        offsets = np.searchsorted(groups, np.arange(group_count + 1)).astype(np.int64)
        within = np.empty(len(weights), dtype=np.float64)
        for group in range(group_count):
            first, stop = offsets[group], offsets[group + 1]
            share = np.cumsum(weights[first:stop]) / weights[first:stop].sum()
            share[-1] = 1.0
            within[first:stop] = share
        return cls(groups.astype(np.float64) + within, offsets)

    def sample(self, rng: np.random.Generator, groups: IntArray) -> IntArray:
        drawn = np.searchsorted(self.keys, groups + rng.random(len(groups)), side="right")
        return np.clip(drawn, self.offsets[groups], self.offsets[groups + 1] - 1).astype(np.int64)


def _seconds_of_day(rng: np.random.Generator, size: int) -> IntArray:
    hour = _categorical(rng, UTC_HOUR_WEIGHTS, size)
    return hour * 3600 + rng.integers(0, 3600, size)


def _group_starts(counts: IntArray) -> IntArray:
    return (np.cumsum(counts) - counts).astype(np.int64)


# --- text helpers (pyarrow compute, so strings are built in C, not in Python loops) ------------------------------


def _texts(values: Sequence[str | None], indices: IntArray, missing: BoolArray | None = None) -> Any:
    """values[indices] as an Arrow string array; null where ``missing``."""
    return pa.array(values, pa.string()).take(pa.array(indices, pa.int64(), mask=missing))


def _join(*parts: Any, separator: str = "") -> Any:
    return pc.binary_join_element_wise(*parts, separator)


def _numbered(prefix: str, numbers: IntArray, width: int) -> Any:
    return _join(prefix, pc.utf8_lpad(pc.cast(pa.array(numbers, pa.int64()), pa.string()), width, "0"))


def _money_texts(cents: IntArray) -> Any:
    """Non-negative amounts in cents as text with two decimals: 12345 -> "123.45"."""
    whole = pc.cast(pa.array(cents // 100, pa.int64()), pa.string())
    fraction = pc.utf8_lpad(pc.cast(pa.array(cents % 100, pa.int64()), pa.string()), 2, "0")
    return _join(whole, fraction, separator=".")


def _csv_field(texts: Any) -> Any:
    """Quote values that contain a comma, a quote or a line break (RFC 4180)."""
    needs_quotes = pc.fill_null(pc.match_substring_regex(texts, '[,"\r\n]'), False)
    quoted = _join('"', pc.replace_substring(texts, '"', '""'), '"')
    return pc.if_else(needs_quotes, quoted, texts)


def _decimals(units: IntArray, scale: int) -> Any:
    """Integer amounts in units of 10**-scale as an Arrow decimal128(18, scale) array."""
    return pa.array([Decimal(int(u)).scaleb(-scale) for u in units], pa.decimal128(18, scale))


def _round_share(amounts: IntArray, share_in_hundredths: IntArray) -> IntArray:
    """amounts x share / 100, rounded half up, in integer arithmetic (amounts are cents)."""
    return ((amounts * share_in_hundredths + 50) // 100).astype(np.int64)


# --- calendar ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _CalendarDay:
    day: date
    name: str
    kind: str  # holiday | shopping_festival | store_sale
    demand: float = 1.0
    discount_code: str | None = None


def _calendar_for_year(year: int) -> list[_CalendarDay]:
    new_year = CHINESE_NEW_YEAR[year]
    november_first = date(year, 11, 1)
    thanksgiving = november_first + timedelta(days=(3 - november_first.weekday()) % 7 + 21)
    black_friday = thanksgiving + timedelta(days=1)
    entries = [
        _CalendarDay(new_year + timedelta(days=offset), "Chinese New Year Sale", "store_sale", 1.35, "LUCKY8")
        for offset in range(-12, -2)
    ]
    entries += [
        _CalendarDay(new_year - timedelta(days=1), "Chinese New Year's Eve", "holiday", 0.7),
        _CalendarDay(new_year, "Chinese New Year", "holiday", 0.55),
        _CalendarDay(new_year + timedelta(days=1), "Chinese New Year (second day)", "holiday", 0.55),
        _CalendarDay(new_year + timedelta(days=2), "Chinese New Year (third day)", "holiday", 0.6),
        _CalendarDay(date(year, 6, 18), "Mid-Year Sale 6.18", "shopping_festival", 1.6, "MID618"),
        *(_CalendarDay(date(year, 7, d), "Summer Sale", "store_sale", 1.3, "SUMMER15") for d in range(1, 8)),
        *(_CalendarDay(date(year, 9, d), "Anniversary Sale", "store_sale", 1.45, "BIRTHDAY20") for d in (12, 13, 14)),
        _CalendarDay(date(year, 11, 11), "Singles' Day", "shopping_festival", 2.4, "DOUBLE11"),
        _CalendarDay(black_friday, "Black Friday", "shopping_festival", 2.6, "BLACKFRIDAY20"),
        _CalendarDay(
            black_friday + timedelta(days=1), "Black Friday Weekend", "shopping_festival", 1.7, "BLACKFRIDAY20"
        ),
        _CalendarDay(
            black_friday + timedelta(days=2), "Black Friday Weekend", "shopping_festival", 1.6, "BLACKFRIDAY20"
        ),
        _CalendarDay(black_friday + timedelta(days=3), "Cyber Monday", "shopping_festival", 2.0, "CYBER20"),
        *(_CalendarDay(date(year, 12, d), "Christmas Sale", "store_sale", 1.3, "XMAS15") for d in range(12, 24)),
        _CalendarDay(date(year, 12, 24), "Christmas Eve", "holiday", 1.0),
        _CalendarDay(date(year, 12, 25), "Christmas Day", "holiday", 0.6),
        _CalendarDay(date(year, 12, 26), "Boxing Day", "holiday", 1.7, "BOXING20"),
    ]
    return sorted(entries, key=lambda entry: (entry.day, entry.name))


@dataclass(frozen=True)
class _Calendar:
    start: date
    days: int
    entries: tuple[_CalendarDay, ...]  # every entry of every year the window touches
    demand: FloatArray  # relative daily demand, mean 1 over the window
    demand_clock: FloatArray  # cumulative demand at each day boundary (days + 1 values)
    acquisition_cdf: FloatArray  # cumulative share of new customers by day
    sale_code: IntArray  # DISCOUNT_CODES index of the day's sale code, or -1
    delivery_risk: FloatArray  # multiplies the chance of a late delivery

    @property
    def start_epoch_seconds(self) -> int:
        return (self.start - date(1970, 1, 1)).days * SECONDS_PER_DAY

    @property
    def end_seconds(self) -> int:
        return self.days * SECONDS_PER_DAY

    def table(self) -> Any:
        return pa.table(
            {
                "date": pa.array([e.day for e in self.entries], pa.date32()),
                "name": pa.array([e.name for e in self.entries], pa.string()),
                "kind": pa.array([e.kind for e in self.entries], pa.string()),
            }
        )


def _build_calendar(start: date, days: int) -> _Calendar:
    dates = [start + timedelta(days=offset) for offset in range(days)]
    demand = np.array([WEEKDAY_DEMAND[d.weekday()] * MONTH_DEMAND[d.month - 1] for d in dates])
    sale_code = np.full(days, -1, dtype=np.int64)
    delivery_risk = np.where([d.month == 12 for d in dates], 1.6, 1.0)
    entries: list[_CalendarDay] = []
    for year in range(start.year, dates[-1].year + 1):
        entries += _calendar_for_year(year)
        new_year_offset = (CHINESE_NEW_YEAR[year] - start).days
        low, high = max(new_year_offset - 5, 0), min(new_year_offset + 5, days)
        if low < high:
            delivery_risk[low:high] = 2.5  # couriers and suppliers stop for the holiday
    for entry in entries:
        offset = (entry.day - start).days
        if 0 <= offset < days:
            demand[offset] *= entry.demand
            if entry.discount_code is not None and sale_code[offset] < 0:
                sale_code[offset] = DISCOUNT_CODE_INDEX[entry.discount_code]
    demand /= demand.mean()
    demand_clock = np.concatenate([[0.0], np.cumsum(demand)])
    growth = NEW_CUSTOMER_GROWTH_PER_YEAR ** (np.arange(days) / 365.0)
    acquisition_cdf = np.cumsum(growth * demand)
    acquisition_cdf /= acquisition_cdf[-1]
    return _Calendar(start, days, tuple(entries), demand, demand_clock, acquisition_cdf, sale_code, delivery_risk)


# --- catalogue --------------------------------------------------------------------------------------------------------


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


# --- one block of customers -------------------------------------------------------------------------------------------


@dataclass
class _Totals:
    """Running counts across blocks (they also number the next block's ids), and what marketing spend follows."""

    days: int
    orders: int = 0
    order_lines: int = 0
    customers: int = 0
    customer_numbers_used: int = 0
    refunds: int = 0
    events: int = 0
    sessions: int = 0
    feedback: int = 0
    new_customers: IntArray = field(init=False)  # (day, acquisition channel)
    marketplace_sales_cents: IntArray = field(init=False)  # per day, net of discounts, cancelled orders left out

    def __post_init__(self) -> None:
        self.new_customers = np.zeros((self.days, len(CHANNELS)), dtype=np.int64)
        self.marketplace_sales_cents = np.zeros(self.days, dtype=np.int64)

    def add_block(self, block: _Block) -> None:
        self.orders += block.order_count
        self.order_lines += block.line_count
        self.customers += int(np.unique(block.order_customer[~block.order_guest]).size)
        self.customer_numbers_used += block.customer_count
        self.refunds += int((block.refund_cents >= 0).sum())
        first_day = block.first_order_seconds // SECONDS_PER_DAY
        self.new_customers += np.bincount(
            first_day * len(CHANNELS) + block.customer_channel, minlength=self.days * len(CHANNELS)
        ).reshape(self.days, len(CHANNELS))
        marketplace = (block.order_channel == MARKETPLACE) & (block.order_status != CANCELLED)
        self.marketplace_sales_cents += np.bincount(
            block.order_seconds[marketplace] // SECONDS_PER_DAY,
            weights=block.order_net_cents[marketplace],
            minlength=self.days,
        ).astype(np.int64)


@dataclass(frozen=True)
class _Block:
    """Customers, orders (sorted by time) and order lines (grouped by order) of one block, ready to write."""

    first_customer_number: int
    first_order_number: int
    # customers, in order of their first order; customer i has number first_customer_number + i
    customer_channel: IntArray
    customer_country: IntArray
    customer_region: IntArray
    customer_consent: BoolArray
    first_order_seconds: IntArray
    # orders
    order_customer: IntArray
    order_seconds: IntArray  # since the start of the window, UTC
    order_guest: BoolArray
    order_channel: IntArray
    order_device: IntArray
    order_code: IntArray  # DISCOUNT_CODES index or -1
    order_discount_cents: IntArray
    order_net_cents: IntArray  # goods after all discounts
    order_shipping_cents: IntArray
    order_tax_cents: IntArray
    order_status: IntArray
    refund_cents: IntArray  # -1: no refund
    refund_reason: IntArray  # REFUND_REASONS index or -1
    order_late: BoolArray
    order_line_start: IntArray
    order_line_count: IntArray
    # lines
    line_order: IntArray
    line_product: IntArray
    line_quantity: IntArray
    line_discount_cents: IntArray
    line_sizing_problem: BoolArray
    line_damaged: BoolArray
    line_price_complaint: BoolArray
    # personal data: one Arrow string array each, by customer
    customer_email: Any
    customer_name: Any
    customer_phone: Any
    customer_address: Any

    @property
    def customer_count(self) -> int:
        return len(self.customer_channel)

    @property
    def order_count(self) -> int:
        return len(self.order_seconds)

    @property
    def line_count(self) -> int:
        return len(self.line_order)


@dataclass(frozen=True)
class _NewCustomers:
    """The customers of one block in random order, with the traits that drive their orders."""

    acquisition_day: IntArray
    channel: IntArray
    won_with_code: BoolArray
    purchase_rate: FloatArray  # lambda, purchases per day of average demand
    repeats_before_dropout: IntArray
    spend_rate: FloatArray  # nu of the Gamma-Gamma model
    country: IntArray
    preferred_device: IntArray
    favourite_category: IntArray
    consent: BoolArray

    def head(self, count: int) -> _NewCustomers:
        return _NewCustomers(**{f.name: getattr(self, f.name)[:count] for f in fields(self)})


def _draw_customers(rng: np.random.Generator, count: int, calendar: _Calendar) -> _NewCustomers:
    acquisition_day = np.minimum(
        np.searchsorted(calendar.acquisition_cdf, rng.random(count), side="right"), calendar.days - 1
    ).astype(np.int64)
    elapsed = acquisition_day / max(calendar.days - 1, 1)
    share_at_start = np.array([c.share_at_start for c in CHANNELS])
    share_at_end = np.array([c.share_at_end for c in CHANNELS])
    channel = _categorical_rows(rng, share_at_start + (share_at_end - share_at_start) * elapsed[:, None])
    welcome_share = np.array([c.welcome_code_share for c in CHANNELS])[channel]
    on_sale = calendar.sale_code[acquisition_day] >= 0
    won_with_code = rng.random(count) < np.minimum(welcome_share + WELCOME_CODE_SALE_DAY_BONUS * on_sale, 0.9)
    purchase_rate = rng.gamma(PURCHASE_RATE_SHAPE, 1.0 / PURCHASE_RATE_ALPHA, count)
    purchase_rate *= np.array([c.purchase_rate for c in CHANNELS])[channel] * np.where(won_with_code, 0.9, 1.0)
    loyalty = np.array([c.loyalty for c in CHANNELS])[channel] * np.where(won_with_code, 0.75, 1.0)
    dropout = rng.beta(DROPOUT_A, DROPOUT_B * loyalty)
    return _NewCustomers(
        acquisition_day=acquisition_day,
        channel=channel,
        won_with_code=won_with_code,
        purchase_rate=np.minimum(purchase_rate, MAX_PURCHASE_RATE),
        repeats_before_dropout=rng.geometric(np.clip(dropout, 1e-9, 1.0)).astype(np.int64),
        spend_rate=rng.gamma(SPEND_RATE_SHAPE, 1.0 / SPEND_RATE_GAMMA, count),
        country=_categorical(rng, [c.share for c in COUNTRIES], count),
        preferred_device=_categorical(rng, ORDER_DEVICE_MIX, count),
        favourite_category=_categorical(rng, [c.demand_share for c in CATEGORIES], count),
        consent=rng.random(count) < np.array([c.consent_share for c in CHANNELS])[channel],
    )


def _draw_purchases(
    rng: np.random.Generator, customers: _NewCustomers, calendar: _Calendar
) -> tuple[IntArray, IntArray]:
    """Who buys when: (customer, seconds since the start) of every order, sorted by customer, then time.

    Repeat purchases are a Poisson process with the customer's rate on the demand clock, from the first order to
    the end of the window, stopped after the purchase at which the customer drops out.
    """
    count = len(customers.acquisition_day)
    day = customers.acquisition_day
    acquisition_clock = calendar.demand_clock[day] + rng.random(count) * calendar.demand[day]
    horizon = calendar.demand_clock[-1] - acquisition_clock
    arrivals = rng.poisson(customers.purchase_rate * horizon)
    repeat_customer = np.repeat(np.arange(count), arrivals)
    repeat_clock = acquisition_clock[repeat_customer] + horizon[repeat_customer] * rng.random(len(repeat_customer))
    in_time_order = np.lexsort((repeat_clock, repeat_customer))
    repeat_customer, repeat_clock = repeat_customer[in_time_order], repeat_clock[in_time_order]
    repeat_rank = np.arange(len(repeat_customer)) - _group_starts(arrivals)[repeat_customer]
    alive = repeat_rank < customers.repeats_before_dropout[repeat_customer]
    repeat_customer, repeat_clock = repeat_customer[alive], repeat_clock[alive]
    repeat_day = np.clip(np.searchsorted(calendar.demand_clock, repeat_clock, side="right") - 1, 0, calendar.days - 1)

    order_customer = np.concatenate([np.arange(count), repeat_customer]).astype(np.int64)
    order_day = np.concatenate([day, repeat_day]).astype(np.int64)
    order_seconds = order_day * SECONDS_PER_DAY + _seconds_of_day(rng, len(order_day))
    by_customer = np.lexsort((order_seconds, order_customer))
    return order_customer[by_customer], order_seconds[by_customer]


def _choose_products(
    rng: np.random.Generator, catalogue: _Catalogue, category: IntArray, target_unit_cents: FloatArray
) -> IntArray:
    """A product of the category priced near the target, or (a third of the time) one of its bestsellers."""
    count = len(category)
    near_price = np.searchsorted(catalogue.price_key, category * PRICE_KEY_SCALE + target_unit_cents.astype(np.int64))
    near_price = near_price + rng.integers(-1, 2, count)
    lowest, highest = catalogue.category_offsets[category], catalogue.category_offsets[category + 1] - 1
    chosen: IntArray = np.where(
        rng.random(count) < 0.35, catalogue.bestsellers.sample(rng, category), np.clip(near_price, lowest, highest)
    )
    return chosen


def _settle_refunds(
    rng: np.random.Generator,
    *,
    late: BoolArray,
    damaged_value_cents: IntArray,
    wrong_size_value_cents: IntArray,
    first_line_value_cents: IntArray,
    net_cents: IntArray,
    shipping_cents: IntArray,
    total_cents: IntArray,
) -> tuple[IntArray, IntArray, IntArray]:
    """Status, refund amount (-1: none) and reason (-1: none) per order.

    Damaged and wrongly sized goods come back (their value is refunded); a late order is refunded whole or gets
    its shipping and 10 % back; other refunds return the first line. A refund of all the goods refunds the total.
    """
    count = len(net_cents)
    any_damage, any_wrong_size = damaged_value_cents > 0, wrong_size_value_cents > 0
    cancelled = rng.random(count) < CANCELLED_SHARE
    refund_chance = BASE_REFUND_SHARE + 0.12 * late + 0.25 * any_wrong_size + 0.35 * any_damage
    refunded = ~cancelled & (rng.random(count) < refund_chance)
    whole_refund_for_lateness = rng.random(count) < 0.5
    goodwill = _round_share(net_cents, np.full(count, 10)) + shipping_cents
    reason: IntArray = np.select(
        [cancelled, ~refunded, any_damage, any_wrong_size, late, rng.random(count) < 0.7],
        [CANCELLED_BEFORE_DISPATCH, -1, DAMAGED, WRONG_SIZE, LATE, CHANGED_MIND],
        NOT_AS_DESCRIBED,
    )
    amount: IntArray = np.select(
        [cancelled, ~refunded, any_damage, any_wrong_size, late & whole_refund_for_lateness, late],
        [total_cents, -1, damaged_value_cents, wrong_size_value_cents, total_cents, goodwill],
        first_line_value_cents,
    )
    amount = np.where((amount >= net_cents) | (amount > total_cents), total_cents, amount)
    amount = np.where(refunded | cancelled, amount, -1)
    status: IntArray = np.select(
        [cancelled, amount < 0, amount == total_cents], [CANCELLED, PAID, REFUNDED], PARTIALLY_REFUNDED
    )
    return status, amount, reason


def _simulate_block(
    rng: np.random.Generator,
    customer_count: int,
    line_budget: int | None,
    calendar: _Calendar,
    catalogue: _Catalogue,
    totals: _Totals,
) -> _Block:
    """Customers, their orders and order lines; with a line budget, only as many customers as it takes."""
    customers = _draw_customers(rng, customer_count, calendar)
    order_customer, order_seconds = _draw_purchases(rng, customers, calendar)

    # Target order value (Gamma-Gamma) and the number of lines it takes.
    sale_day = calendar.sale_code[order_seconds // SECONDS_PER_DAY] >= 0
    channel_spend = np.array([c.spend for c in CHANNELS])[customers.channel]
    target_value_cents = (
        rng.gamma(ORDER_VALUE_SHAPE, 1.0, len(order_customer)) / customers.spend_rate[order_customer] * 100.0
    ) * (channel_spend[order_customer] * np.where(sale_day, 1.15, 1.0))
    extra_lines = rng.poisson(0.35 + 0.55 * np.sqrt(target_value_cents / 60_000.0))
    order_line_count = (1 + np.minimum(extra_lines, 7)).astype(np.int64)

    if line_budget is not None and order_line_count.sum() > line_budget:
        # Customers are in random order: keep the first ones until the budget is spent, and cut the last order.
        line_ends = np.cumsum(order_line_count)
        last_order = int(np.searchsorted(line_ends, line_budget))
        kept_orders = last_order + 1
        order_line_count = order_line_count[:kept_orders].copy()
        order_line_count[-1] -= int(line_ends[last_order] - line_budget)
        order_customer, order_seconds = order_customer[:kept_orders], order_seconds[:kept_orders]
        sale_day, target_value_cents = sale_day[:kept_orders], target_value_cents[:kept_orders]
        customer_count = int(order_customer[-1]) + 1
        customers = customers.head(customer_count)
    order_count = len(order_customer)
    order_day = order_seconds // SECONDS_PER_DAY
    orders_per_customer = np.bincount(order_customer, minlength=customer_count).astype(np.int64)
    first_order = np.zeros(order_count, dtype=np.bool_)
    first_order[_group_starts(orders_per_customer)] = True

    # Order attributes: first orders come through the acquisition channel, repeat orders also through e-mail (for
    # customers who agreed to marketing) and organic search.
    acquisition_channel = customers.channel[order_customer]
    route = rng.random(order_count)
    by_email = (route >= LOYAL_CUSTOMER_CHANNEL_SHARE) & (route < 0.8) & customers.consent[order_customer]
    repeat_channel = np.where(
        route < LOYAL_CUSTOMER_CHANNEL_SHARE, acquisition_channel, np.where(by_email, EMAIL, ORGANIC)
    )
    order_channel = np.where(first_order, acquisition_channel, repeat_channel).astype(np.int64)
    order_device = np.where(
        rng.random(order_count) < PREFERRED_DEVICE_SHARE,
        customers.preferred_device[order_customer],
        _categorical(rng, ORDER_DEVICE_MIX, order_count),
    ).astype(np.int64)
    order_guest = rng.random(order_count) < GUEST_ORDER_SHARE
    code_draw = rng.random(order_count)
    day_code = calendar.sale_code[order_day]
    welcome_code = np.where(sale_day, day_code, WELCOME_CODE_BY_CHANNEL[acquisition_channel])
    win_back_code = WIN_BACK_CODES[rng.integers(0, len(WIN_BACK_CODES), order_count)]
    repeat_code = np.where(
        sale_day & (code_draw < SALE_DAY_CODE_SHARE),
        day_code,
        np.where(code_draw > 1.0 - WIN_BACK_CODE_SHARE, win_back_code, -1),
    )
    first_code = np.where(customers.won_with_code[order_customer], welcome_code, -1)
    order_code = np.where(first_order, first_code, repeat_code).astype(np.int64)

    # Lines: products near the target unit price, in the customer's favourite category half of the time.
    line_count = int(order_line_count.sum())
    order_line_start = _group_starts(order_line_count)
    line_order = np.repeat(np.arange(order_count), order_line_count)
    line_quantity = (_categorical(rng, (0.80, 0.13, 0.05, 0.02), line_count) + 1).astype(np.int64)
    order_units = np.add.reduceat(line_quantity, order_line_start)
    line_category = np.where(
        rng.random(line_count) < 0.55,
        customers.favourite_category[order_customer[line_order]],
        _categorical(rng, [c.demand_share for c in CATEGORIES], line_count),
    ).astype(np.int64)
    target_unit_cents = target_value_cents[line_order] / order_units[line_order] * rng.lognormal(0, 0.4, line_count)
    line_product = _choose_products(rng, catalogue, line_category, target_unit_cents)

    # Money, in cents: markdowns per line, a code per order, shipping and destination tax.
    line_gross = line_quantity * catalogue.price_cents[line_product]
    marked_down = rng.random(line_count) < 0.05 + 0.15 * sale_day[line_order]
    markdown_percent = np.where(marked_down, rng.choice(np.array([10, 15, 20, 25, 30]), line_count), 0)
    line_discount_cents = _round_share(line_gross, markdown_percent)
    goods_cents = np.add.reduceat(line_gross - line_discount_cents, order_line_start)
    code_percent = np.where(order_code >= 0, DISCOUNT_PERCENT[np.maximum(order_code, 0)], 0)
    order_discount_cents = _round_share(goods_cents, code_percent)
    net_cents = goods_cents - order_discount_cents
    order_country = customers.country[order_customer]
    shipping_fee = np.array([c.shipping_cents for c in COUNTRIES])[order_country]
    free_from = np.array([c.free_shipping_from_cents for c in COUNTRIES])[order_country]
    shipping_cents = np.where((net_cents >= free_from) | (order_code == FREE_SHIPPING_CODE), 0, shipping_fee)
    tax_rate = np.array([c.tax_basis_points for c in COUNTRIES])[order_country]
    tax_cents = ((net_cents + shipping_cents) * tax_rate + 5000) // 10_000

    # What went wrong (late delivery, sizing, damage, a price that felt too high) and the refunds it caused.
    late_risk = LATE_DELIVERY_SHARE * calendar.delivery_risk[order_day]
    late = rng.random(order_count) < late_risk * np.where(order_country != HONG_KONG, INTERNATIONAL_LATE_FACTOR, 1.0)
    product_category = catalogue.category[line_product]
    sized = np.array([c.sized for c in CATEGORIES])[product_category]
    wrong_size = sized & (rng.random(line_count) < SIZING_PROBLEM_SHARE)
    damaged = rng.random(line_count) < np.array([c.damage_risk for c in CATEGORIES])[product_category]
    price_complaint = rng.random(line_count) < PRICE_COMPLAINT_SHARE * (1 + catalogue.dear[line_product])
    line_value = _round_share(line_gross - line_discount_cents, 100 - code_percent[line_order])
    order_status, refund_cents, refund_reason = _settle_refunds(
        rng,
        late=late,
        damaged_value_cents=np.add.reduceat(line_value * damaged, order_line_start),
        wrong_size_value_cents=np.add.reduceat(line_value * wrong_size, order_line_start),
        first_line_value_cents=line_value[order_line_start],
        net_cents=net_cents,
        shipping_cents=shipping_cents,
        total_cents=net_cents + shipping_cents + tax_cents,
    )

    # Output order: orders by time, lines by order; customers numbered by their first order.
    by_time = np.argsort(order_seconds, kind="stable")
    sorted_line_count = order_line_count[by_time]
    sorted_line_start = _group_starts(sorted_line_count)
    lines_by_time = np.repeat(order_line_start[by_time] - sorted_line_start, sorted_line_count) + np.arange(line_count)
    first_order_seconds = order_seconds[first_order]
    by_first_order = np.argsort(first_order_seconds, kind="stable")
    customer_rank = np.empty(customer_count, dtype=np.int64)
    customer_rank[by_first_order] = np.arange(customer_count)
    personal = _personal_data(rng, customers.country, totals.customer_numbers_used + 1).take(by_first_order)
    return _Block(
        first_customer_number=totals.customer_numbers_used + 1,
        first_order_number=totals.orders + 1,
        customer_channel=customers.channel[by_first_order],
        customer_country=customers.country[by_first_order],
        customer_region=personal.region,
        customer_consent=customers.consent[by_first_order],
        first_order_seconds=first_order_seconds[by_first_order],
        order_customer=customer_rank[order_customer[by_time]],
        order_seconds=order_seconds[by_time],
        order_guest=order_guest[by_time],
        order_channel=order_channel[by_time],
        order_device=order_device[by_time],
        order_code=order_code[by_time],
        order_discount_cents=order_discount_cents[by_time],
        order_net_cents=net_cents[by_time],
        order_shipping_cents=shipping_cents[by_time],
        order_tax_cents=tax_cents[by_time],
        order_status=order_status[by_time],
        refund_cents=refund_cents[by_time],
        refund_reason=refund_reason[by_time],
        order_late=late[by_time],
        order_line_start=sorted_line_start,
        order_line_count=sorted_line_count,
        line_order=np.repeat(np.arange(order_count), sorted_line_count),
        line_product=line_product[lines_by_time],
        line_quantity=line_quantity[lines_by_time],
        line_discount_cents=line_discount_cents[lines_by_time],
        line_sizing_problem=wrong_size[lines_by_time],
        line_damaged=damaged[lines_by_time],
        line_price_complaint=price_complaint[lines_by_time],
        customer_email=personal.email,
        customer_name=personal.name,
        customer_phone=personal.phone,
        customer_address=personal.address,
    )


@dataclass(frozen=True)
class _PersonalData:
    region: IntArray  # index into REGION_NAMES
    email: Any  # Arrow string arrays from here on
    name: Any
    phone: Any
    address: Any

    def take(self, indices: IntArray) -> _PersonalData:
        rows = pa.array(indices)
        return _PersonalData(
            self.region[indices], self.email.take(rows), self.name.take(rows), self.phone.take(rows),
            self.address.take(rows),
        )  # fmt: skip


def _choice_within_country(weights_per_country: Sequence[Sequence[float]]) -> _GroupedChoice:
    country_of_item = [index for index, weights in enumerate(weights_per_country) for _ in weights]
    weights = [weight for country_weights in weights_per_country for weight in country_weights]
    return _GroupedChoice.build(np.array(country_of_item, dtype=np.int64), np.array(weights), len(weights_per_country))


REGION_NAMES = tuple(region for country in COUNTRIES for region, _ in country.regions)
REGION_CHOICE = _choice_within_country([[weight for _, weight in country.regions] for country in COUNTRIES])
STREET_NAMES = tuple(street for country in COUNTRIES for street in country.streets)
STREET_CHOICE = _choice_within_country([[1.0] * len(country.streets) for country in COUNTRIES])
MOBILE_FIRST_DIGITS = tuple(digit for country in COUNTRIES for digit in country.mobile_first_digits)
MOBILE_FIRST_DIGIT_CHOICE = _choice_within_country([[1.0] * len(c.mobile_first_digits) for c in COUNTRIES])


def _personal_data(rng: np.random.Generator, country: IntArray, first_customer_number: int) -> _PersonalData:
    """Fake but plausible names, e-mails, phones and addresses, in the customers' order."""
    count = len(country)
    given = _texts(GIVEN_NAMES, rng.integers(0, len(GIVEN_NAMES), count))
    surname = _texts(SURNAMES, rng.integers(0, len(SURNAMES), count))
    # The number makes e-mails unique across the store; it is not the customer id (that follows first-order time).
    email_number = pc.cast(pa.array(first_customer_number + rng.permutation(count), pa.int64()), pa.string())
    domain = _texts(EMAIL_DOMAINS, _categorical(rng, EMAIL_DOMAIN_SHARES, count))
    email = _join(pc.utf8_lower(given), ".", pc.utf8_lower(surname), email_number, "@", domain)

    # Mobile numbers: a country's leading digit and its usual grouping (+852 9123 4567, +886 912 345 678, ...).
    digits = _join(
        _texts(MOBILE_FIRST_DIGITS, MOBILE_FIRST_DIGIT_CHOICE.sample(rng, country)),
        pc.utf8_lpad(pc.cast(pa.array(rng.integers(0, 10**9, count), pa.int64()), pa.string()), 9, "0"),
    )

    def part(first: int, stop: int) -> Any:
        return pc.utf8_slice_codeunits(digits, first, stop)

    grouped = {8: _join(part(0, 4), part(4, 8), separator=" "),
               9: _join(part(0, 3), part(3, 6), part(6, 9), separator=" "),
               10: _join(part(0, 4), part(4, 10), separator=" ")}  # fmt: skip
    digit_count = np.array([c.mobile_digits for c in COUNTRIES])[country]
    national = pc.if_else(
        pa.array(digit_count == 8), grouped[8], pc.if_else(pa.array(digit_count == 9), grouped[9], grouped[10])
    )
    phone = _join(_texts([c.dialling_code for c in COUNTRIES], country), national, separator=" ")

    region = REGION_CHOICE.sample(rng, country)
    region_name = _texts(REGION_NAMES, region)
    street = _join(
        pc.cast(pa.array(rng.integers(1, 400, count), pa.int64()), pa.string()),
        _texts(STREET_NAMES, STREET_CHOICE.sample(rng, country)),
        separator=" ",
    )
    floor = pc.cast(pa.array(rng.integers(1, 40, count), pa.int64()), pa.string())
    flat = _texts(tuple("ABCDEFGH"), rng.integers(0, 8, count))
    building = _join(
        _texts(BUILDING_NAMES, rng.integers(0, len(BUILDING_NAMES), count)),
        _texts(BUILDING_KINDS, rng.integers(0, len(BUILDING_KINDS), count)),
        separator=" ",
    )
    hong_kong_address = _join(_join("Flat ", flat), _join(floor, "/F"), building, street, region_name, separator=", ")
    other_address = _join(street, _join("Apt ", floor, flat), region_name, separator=", ")
    address = pc.if_else(pa.array(country == HONG_KONG), hong_kong_address, other_address)
    return _PersonalData(region, email, _join(given, surname, separator=" "), phone, address)


# --- orders.csv -------------------------------------------------------------------------------------------------------


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
    }
    rows = pc.binary_join_element_wise(
        *(columns[name] for name in ORDER_COLUMNS), ",", null_handling="replace", null_replacement=""
    )
    lines = _join(rows, "", separator="\n")  # each row followed by a line break, in one contiguous buffer
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32, count=len(lines) + 1, offset=lines.offset * 4)
    return memoryview(lines.buffers()[2])[int(offsets[0]) : int(offsets[-1])]


# --- events.parquet ---------------------------------------------------------------------------------------------------


EVENTS_SCHEMA = pa.schema(
    [
        ("event_id", pa.string()),
        ("session_id", pa.string()),
        ("customer_id", pa.string()),
        ("type", pa.string()),
        ("at", pa.timestamp("us", tz="UTC")),
        ("page", pa.string()),
        ("product_id", pa.string()),
        ("source", pa.string()),
        ("medium", pa.string()),
        ("campaign", pa.string()),
        ("device", pa.string()),
    ]
)
SOURCE_ROWS = tuple(row for _, rows in TRAFFIC_SOURCES for row in rows)
SOURCE_CHOICE = _GroupedChoice.build(
    np.array([CHANNEL_NAMES.index(name) for name, rows in TRAFFIC_SOURCES for _ in rows], dtype=np.int64),
    np.array([row[3] for row in SOURCE_ROWS]),
    len(CHANNELS),
)
CAMPAIGN_CHANNELS = np.array([name in ("paid_search", "social", "email") for name in CHANNEL_NAMES])


def _events_table(
    rng: np.random.Generator,
    block: _Block,
    calendar: _Calendar,
    catalogue: _Catalogue,
    orders: range,
    first_event_number: int,
    first_session_number: int,
) -> tuple[Any, int]:
    """Web sessions and their events (table, session count) around some of the block's orders.

    One converting session per order placed on the site, and around it, the same day, sessions that stop at the
    product page, the cart or the checkout. Known visitors of sessions without an order are customers of the same
    block who had already bought before.
    """
    site_orders = orders.start + np.flatnonzero(block.order_channel[orders.start : orders.stop] != MARKETPLACE)
    abandoned = rng.poisson(
        (VIEW_ONLY_SESSIONS_PER_ORDER, CART_ABANDON_SESSIONS_PER_ORDER, CHECKOUT_ABANDON_SESSIONS_PER_ORDER),
        size=(len(site_orders), 3),
    ).ravel()
    converting = len(site_orders)
    session_order = np.concatenate([site_orders, np.repeat(np.repeat(site_orders, 3), abandoned)])
    session_depth = np.concatenate(  # deepest step reached: CART means stopped after the cart, and so on
        [np.full(converting, ORDER), np.repeat(np.tile(np.array([VIEW, CART, CHECKOUT]), converting), abandoned)]
    ).astype(np.int64)
    session_count = len(session_order)
    is_converting = np.arange(session_count) < converting

    day = block.order_seconds[session_order] // SECONDS_PER_DAY
    order_end = block.order_seconds[session_order]
    session_channel = np.where(
        is_converting,
        block.order_channel[session_order],
        _categorical(rng, [c.traffic_share for c in CHANNELS], session_count),
    )
    session_device = np.where(
        is_converting,
        block.order_device[session_order],
        _categorical(rng, SESSION_DEVICE_MIX, session_count),
    )
    # Visitors: the buyer (none for a guest), or now and then a customer who had already bought before that day.
    first_seconds = day * SECONDS_PER_DAY
    earlier_customers = np.searchsorted(block.first_order_seconds, first_seconds, side="left")
    known_visitor = (rng.random(session_count) < KNOWN_VISITOR_SHARE) & (earlier_customers > 0)
    visitor = np.where(
        known_visitor, np.floor(rng.random(session_count) * np.maximum(earlier_customers, 1)).astype(np.int64), -1
    )
    visitor = np.where(
        is_converting, np.where(block.order_guest[session_order], -1, block.order_customer[session_order]), visitor
    )

    ordered_lines = np.where(is_converting, block.order_line_count[session_order], 0)
    views = np.where(is_converting, ordered_lines, 1) + rng.poisson(np.where(is_converting, 1.0, 1.3))
    carts = np.where(is_converting, ordered_lines, (session_depth >= CART).astype(np.int64))
    checkouts = (session_depth >= CHECKOUT).astype(np.int64)
    shipping_views = np.where(
        is_converting,
        block.order_shipping_cents[session_order] > 0,
        (session_depth == CHECKOUT) & (rng.random(session_count) < ABANDONED_CHECKOUT_SHIPPING_VIEW_SHARE),
    ).astype(np.int64)
    order_events = is_converting.astype(np.int64)
    per_session = views + carts + checkouts + shipping_views + order_events

    event_session = np.repeat(np.arange(session_count), per_session)
    session_first_event = _group_starts(per_session)
    position = np.arange(len(event_session)) - session_first_event[event_session]
    step_ends = np.cumsum(np.stack([views, carts, checkouts, shipping_views, order_events]), axis=0)
    event_type = (position[None, :] >= step_ends[:, event_session]).sum(axis=0).astype(np.int64)

    # Products: a converting session views and carts what was ordered; other views follow popularity; an abandoned
    # cart holds the first product viewed.
    event_count = len(event_session)
    line_start = block.order_line_start[session_order][event_session]
    from_order = is_converting[event_session] & (
        ((event_type == VIEW) & (position < ordered_lines[event_session])) | (event_type == CART)
    )
    cart_position = np.where(event_type == CART, position - views[event_session], position)
    product = np.where(
        from_order,
        block.line_product[np.minimum(line_start + cart_position, block.line_count - 1)],
        _categorical(rng, catalogue.popularity, event_count),
    )
    abandoned_cart = (event_type == CART) & ~is_converting[event_session]
    product = np.where(abandoned_cart, product[session_first_event[event_session]], product)
    product = np.where(event_type <= CART, product, -1)

    # Times: a few seconds to minutes between events; a converting session ends with its order.
    gaps = (rng.exponential(50.0, event_count) + 3).astype(np.int64)
    gaps[session_first_event] = 0
    elapsed = np.cumsum(gaps)
    elapsed -= elapsed[session_first_event][event_session]
    session_span = elapsed[session_first_event + per_session - 1]
    session_start = np.where(
        is_converting, order_end - session_span, first_seconds + _seconds_of_day(rng, session_count)
    )
    event_seconds = np.clip(session_start[event_session] + elapsed, 0, calendar.end_seconds - 1)

    source_row = SOURCE_CHOICE.sample(rng, session_channel)
    sale_code = calendar.sale_code[day]
    sale_campaign = CAMPAIGN_CHANNELS[session_channel] & (sale_code >= 0) & (rng.random(session_count) < 0.6)

    in_time_order = np.lexsort((position, event_session, event_seconds))
    session_rank = np.empty(session_count, dtype=np.int64)
    session_rank[np.lexsort((np.arange(session_count), event_seconds[session_first_event]))] = np.arange(session_count)
    event_session_sorted = event_session[in_time_order]
    product_sorted = product[in_time_order]
    type_sorted = event_type[in_time_order]
    campaign_names = [campaign for _, _, campaign, _ in SOURCE_ROWS] + [code.lower() for code, _ in DISCOUNT_CODES]
    campaign = _texts(campaign_names, np.where(sale_campaign, len(SOURCE_ROWS) + sale_code, source_row))

    product_ids = _texts(catalogue.product_ids, np.maximum(product_sorted, 0), product_sorted < 0)
    page = pc.if_else(
        pa.array(type_sorted == VIEW),
        _join("/products/", product_ids),
        _texts(EVENT_PAGES, type_sorted),
    )
    session_of = pa.array(event_session_sorted)
    visitor_sorted = visitor[event_session_sorted]
    table = pa.table(
        {
            "event_id": _numbered("E", first_event_number + np.arange(event_count), 9),
            "session_id": _numbered("S", first_session_number + session_rank[event_session_sorted], 8),
            "customer_id": pc.if_else(
                pa.array(visitor_sorted >= 0),
                _numbered("D", block.first_customer_number + np.maximum(visitor_sorted, 0), 6),
                pa.scalar(None, pa.string()),
            ),
            "type": _texts(EVENT_TYPES, type_sorted),
            "at": pa.array((calendar.start_epoch_seconds + event_seconds[in_time_order]) * 1_000_000).cast(
                pa.timestamp("us", tz="UTC")
            ),
            "page": page,
            "product_id": product_ids,
            "source": _texts([r[0] for r in SOURCE_ROWS], source_row).take(session_of),
            "medium": _texts([r[1] for r in SOURCE_ROWS], source_row).take(session_of),
            "campaign": campaign.take(session_of),
            "device": _texts(DEVICES, session_device).take(session_of),
        },
        schema=EVENTS_SCHEMA,
    )
    return table, session_count


# --- feedback.parquet -------------------------------------------------------------------------------------------------


FEEDBACK_SCHEMA = pa.schema(
    [
        ("feedback_id", pa.string()),
        ("customer_id", pa.string()),
        ("product_id", pa.string()),
        ("source", pa.string()),
        ("rating", pa.int8()),
        ("text", pa.string()),
        ("at", pa.timestamp("us", tz="UTC")),
    ]
)


def _feedback_table(
    rng: np.random.Generator, block: _Block, calendar: _Calendar, catalogue: _Catalogue, first_feedback_number: int
) -> Any:
    """Product reviews by customers who bought the product; problems make a review likelier and its rating lower."""
    line_order = block.line_order
    late = block.order_late[line_order]
    sizing, damaged, price = block.line_sizing_problem, block.line_damaged, block.line_price_complaint
    problems = late.astype(np.int64) + sizing + damaged + price
    eligible = ~block.order_guest[line_order] & (block.order_status[line_order] != CANCELLED)
    chance = REVIEW_SHARE + REVIEW_SHARE_AFTER_PROBLEM * (problems > 0)
    delivery_days = rng.integers(2, 6, block.line_count) + late * rng.integers(7, 15, block.line_count)
    written_after = (delivery_days + rng.exponential(6.0, block.line_count)) * SECONDS_PER_DAY
    seconds = block.order_seconds[line_order] + written_after.astype(np.int64)
    reviewed = np.flatnonzero(eligible & (rng.random(block.line_count) < chance) & (seconds < calendar.end_seconds))
    count = len(reviewed)
    late, sizing, damaged, price = late[reviewed], sizing[reviewed], damaged[reviewed], price[reviewed]
    problems = problems[reviewed]

    # Rating: the worst problem sets it (damage 2, late or sizing 3, price 4), each further one costs a star.
    worst = np.maximum.reduce([3 * damaged, 2 * late, 2 * sizing, 1 * price]).astype(np.int64)
    unhappy = 5 - worst - np.maximum(problems - 1, 0) - (rng.random(count) < 0.35)
    happy = 3 + _categorical(rng, (0.05, 0.33, 0.62), count)
    rating = np.where(problems > 0, np.clip(unhappy, 1, 4), happy).astype(np.int64)

    opener = (rating - 1) * OPENERS_PER_RATING + rng.integers(0, OPENERS_PER_RATING, count)
    sentences = [_texts(REVIEW_OPENER_TEXTS, opener)]
    for theme, flags in (("late delivery", late), ("sizing", sizing), ("packaging", damaged), ("price", price)):
        options = REVIEW_THEMES[theme]
        sentences.append(_texts(options, rng.integers(0, len(options), count), ~flags))
    praise = _texts(REVIEW_PRAISE, rng.integers(0, len(REVIEW_PRAISE), count), (problems > 0) | (rating < 4))
    neutral = _texts(REVIEW_NEUTRAL, rng.integers(0, len(REVIEW_NEUTRAL), count), (problems > 0) | (rating != 3))
    text = pc.binary_join_element_wise(*sentences, praise, neutral, " ", null_handling="skip")

    in_time_order = np.argsort(seconds[reviewed], kind="stable")
    reviewed_order = line_order[reviewed][in_time_order]
    customer = block.first_customer_number + block.order_customer[reviewed_order]
    table = pa.table(
        {
            "feedback_id": _numbered("R", first_feedback_number + np.arange(count), 7),
            "customer_id": _numbered("D", customer, 6),
            "product_id": _texts(catalogue.product_ids, block.line_product[reviewed][in_time_order]),
            "source": _texts(("review",), np.zeros(count, np.int64)),
            "rating": pa.array(rating[in_time_order], pa.int8()),
            "text": text.take(pa.array(in_time_order)),
            "at": pa.array((calendar.start_epoch_seconds + seconds[reviewed][in_time_order]) * 1_000_000).cast(
                pa.timestamp("us", tz="UTC")
            ),
        },
        schema=FEEDBACK_SCHEMA,
    )
    return table


# --- marketing_spend.parquet ------------------------------------------------------------------------------------------


def _marketing_spend_table(rng: np.random.Generator, calendar: _Calendar, totals: _Totals) -> Any:
    """Daily spend per paid channel: bought channels cost what their new customers cost (over the past week, with
    noise), e-mail a platform fee, referrals a reward per referred customer, the marketplace its commission."""
    week = np.ones(7) / 7

    def past_week(new_customers: IntArray) -> FloatArray:
        return np.convolve(new_customers.astype(np.float64), week)[: calendar.days]

    new = {name: totals.new_customers[:, CHANNEL_NAMES.index(name)] for name in CHANNEL_NAMES}
    noise = rng.lognormal(0.0, 0.15, (2, calendar.days))
    spend_hkd = {
        "paid_search": PAID_SEARCH_DAILY_BASE
        + PAID_SEARCH_COST_PER_NEW_CUSTOMER * past_week(new["paid_search"]) * noise[0],
        "social": SOCIAL_DAILY_BASE + SOCIAL_COST_PER_NEW_CUSTOMER * past_week(new["social"]) * noise[1],
        "email": EMAIL_DAILY_BASE + EMAIL_COST_PER_NEW_CUSTOMER * past_week(new["email"]),
        "referral": REFERRAL_REWARD * new["referral"].astype(np.float64),
        "marketplace": MARKETPLACE_COMMISSION * totals.marketplace_sales_cents / 100.0,
    }
    dates = [calendar.start + timedelta(days=offset) for offset in range(calendar.days)]
    cents = np.stack([np.round(spend_hkd[name] * 100).astype(np.int64) for name in SPEND_CHANNELS], axis=1)
    return pa.table(
        {
            "date": pa.array([d for d in dates for _ in SPEND_CHANNELS], pa.date32()),
            "channel": pa.array(list(SPEND_CHANNELS) * calendar.days, pa.string()),
            "amount": _decimals(cents.ravel(), 2),
        }
    )
