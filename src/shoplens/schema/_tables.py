"""Canonical warehouse tables (DESIGN.md). Money is DECIMAL, timestamps are UTC.

Analytic tables carry only the pseudonymous ``customer_key``; names, e-mails, phones and addresses
live in ``customer_pii`` (the vault) and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass

MONEY = "DECIMAL(18,2)"
UNIT_PRICE = "DECIMAL(18,4)"


@dataclass(frozen=True)
class Column:
    name: str
    sql_type: str
    nullable: bool = True
    meaning: str = ""
    default: str | None = None  # SQL literal for rows (and files) that do not give the column


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...] = ()
    personal: bool = False
    meaning: str = ""
    large: bool = False  # keys kept by the loader, not as an index, so bulk loads stay fast

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def ddl(self) -> str:
        parts = [
            f'"{c.name}" {c.sql_type}{"" if c.default is None else " DEFAULT " + c.default}'
            f"{'' if c.nullable else ' NOT NULL'}"
            for c in self.columns
        ]
        if self.primary_key and not self.large:
            parts.append("PRIMARY KEY (" + ", ".join(f'"{k}"' for k in self.primary_key) + ")")
        return f'CREATE TABLE IF NOT EXISTS "{self.name}" (\n  ' + ",\n  ".join(parts) + "\n)"


def _c(name: str, sql_type: str, meaning: str = "", *, nullable: bool = True, default: str | None = None) -> Column:
    return Column(name, sql_type, nullable, meaning, default)


CUSTOMERS = Table(
    "customers",
    (
        _c("customer_key", "VARCHAR", "pseudonymous key: keyed hash of the source customer id", nullable=False),
        _c("first_seen", "TIMESTAMP", "first order (UTC)"),
        _c("country", "VARCHAR"),
        _c("region", "VARCHAR"),
        _c("channel_acquired", "VARCHAR", "channel of the first order"),
        _c("consent_marketing", "BOOLEAN", "may receive marketing (NULL = unknown, treated as no)"),
        _c("source_profile", "VARCHAR"),
        _c("has_account", "BOOLEAN", "the shop knows this customer by an account id (not only guest checkouts)"),
    ),
    large=True,
    primary_key=("customer_key",),
    meaning="one row per known customer",
)

CUSTOMER_PII = Table(
    "customer_pii",
    (
        _c("customer_key", "VARCHAR", nullable=False),
        _c("source_customer_id", "VARCHAR", "the id in the shop system (encrypted)"),
        _c("email", "VARCHAR", "encrypted"),
        _c("name", "VARCHAR", "encrypted"),
        _c("phone", "VARCHAR", "encrypted"),
        _c("address", "VARCHAR", "encrypted"),
        _c("updated_at", "TIMESTAMP"),
        # Keyed hashes (HMAC-SHA256 with the store secret) of the normalised values: lookups and the merge rule
        # compare these, never the encrypted text.
        _c("source_customer_id_hash", "VARCHAR", "keyed hash of the shop's id"),
        _c("email_hash", "VARCHAR", "keyed hash of the normalised e-mail"),
        _c("name_hash", "VARCHAR", "keyed hash of the name"),
        _c("phone_hash", "VARCHAR", "keyed hash of the phone"),
        _c("address_hash", "VARCHAR", "keyed hash of the address without case, spaces or punctuation"),
    ),
    large=True,
    primary_key=("customer_key",),
    personal=True,
    meaning="the vault: the only table with personal data",
)

PRODUCTS = Table(
    "products",
    (
        _c("product_id", "VARCHAR", nullable=False),
        _c("name", "VARCHAR"),
        _c("category", "VARCHAR"),
        _c("supplier", "VARCHAR"),
        _c("cost", UNIT_PRICE),
        _c("price", UNIT_PRICE),
    ),
    primary_key=("product_id",),
)

ORDERS = Table(
    "orders",
    (
        _c("order_id", "VARCHAR", nullable=False),
        _c("customer_key", "VARCHAR", "NULL for guest orders"),
        _c("ordered_at", "TIMESTAMP", "UTC", nullable=False),
        _c("channel", "VARCHAR"),
        _c("device", "VARCHAR"),
        _c("currency", "VARCHAR"),
        _c("gross", MONEY, "sum of quantity x unit price"),
        _c("discount", MONEY),
        _c("shipping", MONEY),
        _c("tax", MONEY),
        _c("net", MONEY, "merchandise revenue after discounts: gross - discount (shipping and tax apart)"),
        _c("discount_code", "VARCHAR"),
        _c("status", "VARCHAR"),
        _c("source_profile", "VARCHAR"),
        _c("is_guest", "BOOLEAN", "placed without an account (NULL: the export does not say)"),
        _c("promised_delivery_date", "DATE", "store-local day the delivery was promised by (NULL: not known)"),
        _c("shipped_at", "TIMESTAMP", "UTC; when the order left (fulfilled); NULL: not shipped or not known"),
        _c("delivered_at", "TIMESTAMP", "UTC; NULL: not delivered or not known"),
    ),
    large=True,
    primary_key=("order_id",),
)

ORDER_LINES = Table(
    "order_lines",
    (
        _c("order_id", "VARCHAR", nullable=False),
        _c("line_no", "INTEGER", nullable=False),
        _c("product_id", "VARCHAR"),
        _c("quantity", "INTEGER", nullable=False),
        _c("unit_price", UNIT_PRICE, nullable=False),
        _c("discount", MONEY, "line-level discount"),
        _c("amount", MONEY, "line total before discounts (quantity x unit price unless the source gives it)"),
        _c("row_key", "UHUGEINT", "fingerprint of the source row: re-imports skip rows already here", nullable=False),
        _c("import_id", "VARCHAR"),
    ),
    primary_key=("order_id", "line_no"),
    large=True,
)

REFUNDS = Table(
    "refunds",
    (
        _c("refund_id", "VARCHAR", nullable=False),
        _c("order_id", "VARCHAR", "the refunded order where the source names it, else the credit note"),
        _c("customer_key", "VARCHAR"),
        _c("product_id", "VARCHAR"),
        _c("quantity", "INTEGER"),
        _c("amount", MONEY, "positive amount given back", nullable=False),
        _c("reason", "VARCHAR"),
        _c("refunded_at", "TIMESTAMP"),
        _c("row_key", "UHUGEINT", nullable=False),
        _c("import_id", "VARCHAR"),
    ),
    primary_key=("refund_id",),
    large=True,
)

EVENTS = Table(
    "events",
    (
        _c("event_id", "VARCHAR", nullable=False),
        _c("session_id", "VARCHAR", nullable=False),
        _c("customer_key", "VARCHAR"),
        _c(
            "type",
            "VARCHAR",
            "view | cart | checkout | order | shipping_view | registration, or the source's own name for others",
            nullable=False,
        ),
        _c("at", "TIMESTAMP", nullable=False),
        _c("page", "VARCHAR"),
        _c("product_id", "VARCHAR"),
        _c("source", "VARCHAR"),
        _c("medium", "VARCHAR"),
        _c("campaign", "VARCHAR"),
        _c("device", "VARCHAR"),
    ),
    large=True,
    primary_key=("event_id",),
)

SESSIONS = Table(
    "sessions",
    (
        _c("session_id", "VARCHAR", "the source's id, else a fingerprint of the row", nullable=False),
        _c("customer_key", "VARCHAR", "NULL when the source does not know the visitor"),
        _c("started_at", "TIMESTAMP", "UTC; NULL when the source gives no date (then see month)"),
        _c("month", "VARCHAR", "month of the session, Jan..Dec, when the source gives no full date"),
        _c("administrative_pages", "INTEGER", "account, contact and other administrative pages visited"),
        _c("administrative_seconds", "DOUBLE"),
        _c("informational_pages", "INTEGER", "information pages (about, shipping, terms ...) visited"),
        _c("informational_seconds", "DOUBLE"),
        _c("product_pages", "INTEGER", "product-related pages visited"),
        _c("product_seconds", "DOUBLE"),
        _c("bounce_rate", "DOUBLE", "mean bounce rate of the pages visited (web-analytics measure, 0-1)"),
        _c("exit_rate", "DOUBLE", "mean exit rate of the pages visited (0-1)"),
        _c("page_value", "DOUBLE", "mean page value of the pages visited (web-analytics measure)"),
        _c("special_day", "DOUBLE", "closeness to a special day such as Mother's Day (0-1)"),
        _c("operating_system", "VARCHAR"),
        _c("browser", "VARCHAR"),
        _c("region", "VARCHAR"),
        _c("traffic_type", "VARCHAR", "the source's traffic or channel code"),
        _c("visitor_type", "VARCHAR", "new | returning | other"),
        _c("weekend", "BOOLEAN"),
        _c("converted", "BOOLEAN", "the session ended in a purchase", nullable=False),
    ),
    large=True,
    primary_key=("session_id",),
    meaning="one row per web session, for sources that give sessions rather than events",
)

FEEDBACK = Table(
    "feedback",
    (
        _c("feedback_id", "VARCHAR", nullable=False),
        _c("customer_key", "VARCHAR"),
        _c("product_id", "VARCHAR"),
        _c("source", "VARCHAR", "review | ticket | survey | return"),
        _c("rating", "INTEGER"),
        _c("text", "VARCHAR"),
        _c("at", "TIMESTAMP"),
    ),
    primary_key=("feedback_id",),
)

MARKETING_SPEND = Table(
    "marketing_spend",
    (
        _c("date", "DATE", nullable=False),
        _c("channel", "VARCHAR", nullable=False),
        _c("amount", MONEY, "cost in the store's currency", nullable=False),
        _c(
            "campaign",
            "VARCHAR",
            "the ad platform's campaign; '' for spend given per channel only",
            nullable=False,
            default="''",
        ),
        _c("platform", "VARCHAR", "google_ads | meta_ads | ... (NULL: not said)"),
        _c("impressions", "BIGINT"),
        _c("clicks", "BIGINT"),
        _c("currency", "VARCHAR"),
    ),
    primary_key=("date", "channel", "campaign"),
)

INVENTORY = Table(
    "inventory",
    (
        _c("product_id", "VARCHAR", nullable=False),
        _c("date", "DATE", "day of the snapshot", nullable=False),
        _c("on_hand", "INTEGER", "units in stock that day", nullable=False),
        _c("location", "VARCHAR"),
    ),
    primary_key=("product_id", "date"),
    meaning="stock snapshots: units on hand per product and day",
)

TICKETS = Table(
    "tickets",
    (
        _c("ticket_id", "VARCHAR", nullable=False),
        _c("customer_key", "VARCHAR"),
        _c("created_at", "TIMESTAMP", "UTC", nullable=False),
        _c("first_response_at", "TIMESTAMP", "UTC; NULL while unanswered"),
        _c("solved_at", "TIMESTAMP", "UTC; NULL while open"),
        _c("channel", "VARCHAR", "email | chat | phone | social | form ..."),
        _c("status", "VARCHAR"),
        _c("subject", "VARCHAR", "free text: may hold anything a customer wrote"),
        _c("tags", "VARCHAR", "comma-separated"),
    ),
    primary_key=("ticket_id",),
    meaning="support tickets, for service diagnostics",
)

EVENTS_CALENDAR = Table(
    "events_calendar",
    (_c("date", "DATE", nullable=False), _c("name", "VARCHAR", nullable=False), _c("kind", "VARCHAR")),
    primary_key=("date", "name"),
)

TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        CUSTOMERS,
        CUSTOMER_PII,
        PRODUCTS,
        ORDERS,
        ORDER_LINES,
        REFUNDS,
        EVENTS,
        SESSIONS,
        FEEDBACK,
        MARKETING_SPEND,
        EVENTS_CALENDAR,
        INVENTORY,
        TICKETS,
    )
}
ANALYTIC_TABLES = [t.name for t in TABLES.values() if not t.personal]
