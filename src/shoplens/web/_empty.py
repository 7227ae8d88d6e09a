"""What fills an empty page: the exports, commands and pages that give a page its data, and the first-run guide.

A page learns what is missing from the runner, never from the wording of its messages: a question the store could
not answer arrives as :class:`UnansweredError` with the question's kind, and :data:`QUESTION_NEEDS` maps that kind
to what fills it (:data:`FILLERS`). A store without a warehouse or without orders needs its orders first, whatever
the page asked. The runner's own message is always shown with the hint.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shoplens.errors import FieldError, InputError, NotFoundError
from shoplens.queries import NoOrdersError, NoStoreError
from shoplens.web._deps import ANALYSTS
from shoplens.web._warehouse import UnansweredError

IMPORT_PAGE = "/import"


@dataclass(frozen=True)
class Link:
    label: str
    href: str


@dataclass(frozen=True)
class Filler:
    """What a page lacks (``missing``, a sentence), the commands that fill it, the profiles (as ``shoplens
    profiles`` lists them) that read the export, and a dashboard page that fills it instead of an import."""

    need: str
    missing: str
    commands: tuple[str, ...]
    profiles: tuple[str, ...] = ()
    page: Link | None = None

    @property
    def imported(self) -> bool:
        """Whether an import fills it (then the Import page does too)."""
        return bool(self.profiles)


@dataclass(frozen=True)
class Export:
    """One store export the first-run guide lists: what it is, the profiles that read it, where to get it."""

    need: str
    name: str
    fills: str
    profiles: tuple[str, ...]
    example_file: str
    where: tuple[Link, ...] = field(default=())
    source: str = ""  # where to get it when no shop admin page exports it

    @property
    def command(self) -> str:
        return f"shoplens import {self.example_file}"

    @property
    def command_with_profile(self) -> str:
        return f"shoplens import {self.example_file} --profile {self.profiles[0]}"


SHOPIFY_ORDERS = Link(
    "Shopify admin → Orders → Export",
    "https://help.shopify.com/en/manual/fulfillment/managing-orders/exporting-orders",
)
SHOPIFY_CUSTOMERS = Link(
    "Shopify admin → Customers → Export", "https://help.shopify.com/en/manual/customers/import-export-customers"
)
SHOPIFY_PRODUCTS = Link(
    "Shopify admin → Products → Export", "https://help.shopify.com/en/manual/products/import-export/export-products"
)
WOOCOMMERCE_ORDERS = Link(
    "WooCommerce → Analytics → Orders → Download (profile woocommerce-analytics)",
    "https://woocommerce.com/document/woocommerce-analytics/",
)
WOOCOMMERCE_PRODUCTS = Link(
    "WooCommerce → Products → Export (the built-in product CSV exporter)",
    "https://woocommerce.com/document/product-csv-importer-exporter/",
)

ORDER_PROFILES = (
    "shopify",
    "woocommerce",
    "woocommerce-analytics",
    "woocommerce-webtoffee",
    "online-retail",
    "cdnow",
    "generic",
)
EVENT_PROFILES = ("events", "ga4", "shoppers-sessions")
SPEND_PROFILES = ("spend", "google-ads", "meta-ads")

# the first-run guide, orders first: nothing else can be read without them
EXPORTS = (
    Export(
        "orders",
        "Orders",
        "every page: KPIs, customers, cohorts, products, CLV",
        ORDER_PROFILES,
        "orders_export.csv",
        (SHOPIFY_ORDERS, WOOCOMMERCE_ORDERS),
    ),
    Export(
        "customers",
        "Customers",
        "countries, acquisition channels and marketing consent of customers",
        ("shopify-customers",),
        "customers_export.csv",
        (SHOPIFY_CUSTOMERS,),
    ),
    Export(
        "products",
        "Products",
        "categories, costs and suppliers: margins, the Suppliers page",
        ("shopify-products", "woocommerce-products"),
        "products_export.csv",
        (SHOPIFY_PRODUCTS, WOOCOMMERCE_PRODUCTS),
    ),
    Export(
        "events",
        "Web events or sessions",
        "the Funnel, landing pages on Acquisition",
        EVENT_PROFILES,
        "events.csv",
        source="the GA4 BigQuery export, any tracker's events, or shoplens' own collector (shoplens collect serve)",
    ),
    Export(
        "feedback",
        "Reviews and feedback",
        "the Voice page",
        ("feedback",),
        "reviews.csv",
        source="a review app's CSV export: a text column, optionally rating, email, product_id, created_at",
    ),
    Export(
        "spend",
        "Marketing spend",
        "CAC, ROAS and LTV/CAC on Acquisition",
        SPEND_PROFILES,
        "spend.csv",
        source="a Google Ads or Meta Ads Manager report by day, or a CSV of date, channel, amount",
    ),
    Export(
        "tickets",
        "Support tickets",
        "support times on the Service page",
        ("tickets",),
        "tickets.csv",
        source="the help desk's ticket export (ticket_id, created_at, first_response_at, solved_at)",
    ),
    Export(
        "inventory",
        "Stock snapshots",
        "stock-outs and lost sales on the Service page",
        ("inventory",),
        "stock.csv",
        source="daily stock levels (product_id, date, on_hand) from the shop or the warehouse system",
    ),
)
EXPORTS_BY_NEED = {export.need: export for export in EXPORTS}

FILLERS = {
    filler.need: filler
    for filler in (
        Filler(
            "orders",
            "No orders yet: every analysis starts from the store's orders export.",
            (
                "shoplens import orders_export.csv",
                "shoplens import orders_export.csv --profile shopify",
                "shoplens demo",
            ),
            ORDER_PROFILES,
            Link("the first-run guide on the Overview", "/"),
        ),
        Filler(
            "events",
            "No web sessions yet: the funnel counts the sessions of the store's web events.",
            (
                "shoplens import events.csv --profile events",
                "shoplens collect serve --origin https://shop.example (the shop's pages load /collect/v1/snippet.js)",
                "shoplens collect load",
            ),
            EVENT_PROFILES,
        ),
        Filler(
            "feedback",
            "No reviews or feedback yet: the themes and hidden needs are read from customers' own words.",
            ("shoplens import reviews.csv --profile feedback",),
            ("feedback",),
        ),
        Filler(
            "service",
            "No support tickets or stock snapshots yet: support times and stock-outs are measured from them.",
            ("shoplens import tickets.csv --profile tickets", "shoplens import stock.csv --profile inventory"),
            ("tickets", "inventory"),
        ),
        Filler(
            "spend",
            "No marketing spend yet: CAC, ROAS and LTV/CAC need what each channel cost.",
            ("shoplens import spend.csv --profile spend",),
            SPEND_PROFILES,
        ),
        Filler(
            "market",
            "No competitors or market-size estimates yet: the position and the market share are read from them.",
            (
                "shoplens market size set --period YYYY-MM --size AMOUNT --source SOURCE",
                "shoplens market competitor add --name NAME --price-index 104 --delivery-days 2",
            ),
        ),
        Filler(
            "suppliers",
            "No suppliers to compare yet: they come from a products export with a supplier (vendor) column, "
            "and orders over at least one whole calendar month.",
            ("shoplens import products_export.csv --profile shopify-products",),
            ("shopify-products", "woocommerce-products"),
        ),
        Filler(
            "surveys",
            "No surveys yet: results appear here once customers answer one.",
            (
                "shoplens survey create survey.yaml",
                "shoplens survey sample SURVEY_ID",
                "shoplens survey export SURVEY_ID",
            ),
        ),
        Filler(
            "shifts",
            "Not enough history to compare: a shift needs orders in two windows, now and before.",
            ("shoplens import orders_export.csv",),
            ORDER_PROFILES,
        ),
        Filler(
            "cohorts",
            "No cohorts yet: a cohort is the customers whose first order fell in the same period.",
            ("shoplens import orders_export.csv",),
            ORDER_PROFILES,
        ),
        Filler(
            "clv",
            "Not enough repeat purchases to fit the lifetime-value model: it needs customers who bought on at "
            "least two different days.",
            ("shoplens import orders_export.csv", "shoplens clv fit --model bgnbd"),
            ORDER_PROFILES,
        ),
        Filler(
            "jobs",
            "No jobs yet: imports, demo builds and model fits show their progress here.",
            ("shoplens import orders_export.csv", "shoplens demo", "shoplens clv fit --model bgnbd"),
            ORDER_PROFILES,
        ),
    )
}

# the kind of a question (``Query.kind``) a page asks → what fills the page when the store cannot answer it
QUESTION_NEEDS = {
    "funnel": "events",
    "sessions": "events",
    "voice_themes": "feedback",
    "voice_needs": "feedback",
    "service": "service",
    "budget_status": "spend",
    "market_position": "market",
    "suppliers": "suppliers",
    "preference_shifts": "shifts",
    "cohorts": "cohorts",
    "clv_summary": "clv",
    "clv_fit": "clv",
    "clv_predict": "clv",
}


def needs_orders(exc: BaseException) -> bool:
    """Whether the store has no warehouse or no orders yet (the first run)."""
    reason = exc.reason if isinstance(exc, UnansweredError) else exc
    return isinstance(reason, NoStoreError | NoOrdersError)


def filler_for(exc: BaseException) -> Filler | None:
    """What fills the page that raised ``exc``; None for a bad value or a question with no filler known."""
    if needs_orders(exc):
        return FILLERS["orders"]
    if not isinstance(exc, UnansweredError) or isinstance(exc.reason, FieldError | NotFoundError):
        return None
    need = QUESTION_NEEDS.get(exc.kind)
    return FILLERS[need] if need else None


def empty_state(need: str, role: str, message: str = "") -> dict[str, Any]:
    """The template's empty-state block: what is missing, what fills it, the Import page for roles that import."""
    filler = FILLERS[need]
    return {
        "need": filler.need,
        "missing": filler.missing,
        "message": message,
        "commands": filler.commands,
        "profiles": filler.profiles,
        "page": filler.page,
        "import_page": IMPORT_PAGE if filler.imported and role in ANALYSTS else None,
    }


def state_for(exc: InputError | UnansweredError, role: str) -> dict[str, Any] | None:
    filler = filler_for(exc)
    return empty_state(filler.need, role, str(exc)) if filler else None
