"""How the demo shop trades: sales channels, devices, discount codes, order statuses and refund reasons, and the
countries it ships to (shipping, tax, phone numbers, regions and streets).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

STORE_CURRENCY = "HKD"


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
