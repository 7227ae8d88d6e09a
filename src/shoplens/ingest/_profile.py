"""The one interface every source profile implements, built-in or third-party.

A profile says how the rows of one kind of store export become the rows of one *import target*: sales rows
(one row per order line or refunded line, described by :data:`SALES_FIELDS`) or feedback rows. It only names
source columns and writes small SQL expressions over them; parsing, validation, quarantine, de-duplication and
loading are one pipeline for every profile and target, in the warehouse layer.

Expressions are SQL over a staging table (DuckDB's dialect, whatever engine holds the warehouse) whose columns
are the file's own columns, all as VARCHAR. Use :func:`col` to quote a source column name.

Profiles are plug-ins: :func:`register_profile` adds one, and so does a package that declares an entry point
in the group ``shoplens.profiles`` naming a :class:`SourceProfile` (or a function returning one); entry points
are read the first time the registry is asked for its profiles.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Literal

FieldKind = Literal["text", "int", "money", "price", "timestamp", "date", "bool"]


@dataclass(frozen=True)
class SalesField:
    name: str
    kind: FieldKind
    required: bool = False
    personal: bool = False
    meaning: str = ""
    order_level: bool = False  # a fact about the whole order, repeated (or only present) on its lines


SALES_FIELDS: tuple[SalesField, ...] = (
    SalesField("order_id", "text", required=True, meaning="order or invoice number"),
    SalesField("ordered_at", "timestamp", required=True, meaning="when the order was placed", order_level=True),
    SalesField("customer_id", "text", meaning="customer id in the shop system; empty = guest order", order_level=True),
    SalesField("email", "text", personal=True, order_level=True),
    SalesField("name", "text", personal=True, order_level=True),
    SalesField("phone", "text", personal=True, order_level=True),
    SalesField("address", "text", personal=True, order_level=True),
    SalesField("country", "text", order_level=True),
    SalesField("region", "text", order_level=True),
    SalesField("product_id", "text", meaning="SKU or product code"),
    SalesField("product_name", "text"),
    SalesField("category", "text"),
    SalesField("supplier", "text"),
    SalesField("unit_cost", "price"),
    SalesField("quantity", "int", required=True),
    SalesField("unit_price", "price", required=True),
    SalesField("line_amount", "money", meaning="line total before discounts when the source gives only totals"),
    SalesField("line_discount", "money"),
    SalesField(
        "order_discount", "money", meaning="order-level discount, repeated on every line of the order", order_level=True
    ),
    SalesField("shipping", "money", order_level=True),
    SalesField("tax", "money", order_level=True),
    SalesField("currency", "text", order_level=True),
    SalesField(
        "channel", "text", meaning="acquisition or sales channel (web, app, marketplace, email, ...)", order_level=True
    ),
    SalesField("device", "text", order_level=True),
    SalesField("status", "text", order_level=True),
    SalesField("discount_code", "text", order_level=True),
    SalesField(
        "refund_amount", "money", meaning="order-level amount refunded, repeated on every line", order_level=True
    ),
    SalesField("refund_reason", "text", order_level=True),
    SalesField("is_refund", "bool", meaning="true when the row is a returned or cancelled line, not a sale"),
    SalesField("consent_marketing", "bool", order_level=True),
    SalesField(
        "promised_delivery_date", "date", meaning="the day delivery was promised by (store zone)", order_level=True
    ),
    SalesField("shipped_at", "timestamp", meaning="when the order was shipped (fulfilled)", order_level=True),
    SalesField("delivered_at", "timestamp", meaning="when the parcel was delivered", order_level=True),
)
SALES_FIELD_NAMES = tuple(f.name for f in SALES_FIELDS)
PERSONAL_FIELDS = tuple(f.name for f in SALES_FIELDS if f.personal)
ORDER_LEVEL_FIELDS = tuple(f.name for f in SALES_FIELDS if f.order_level)


def col(name: str) -> str:
    """A source column as a SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def text_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


@dataclass(frozen=True)
class RowRule:
    """A profile's own reason to quarantine a row, beyond the common checks.

    ``condition`` is SQL over the parsed sales fields (by canonical name) that is TRUE for a bad row.
    """

    column: str
    reason: str
    condition: str


@dataclass(frozen=True)
class CsvDialect:
    delimiter: str | None = None  # None: detect from the header line
    encoding: str = "utf-8"
    # Exports that write a title or a date range above the header (ad platforms' reports): the header is the
    # first of the file's first lines that holds all these column names, and the lines above it are skipped.
    # Empty, or no such line: the header is the first line.
    header_with: tuple[str, ...] = ()


DEFAULT_DATE_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d")


@dataclass(frozen=True)
class SalesMapping:
    """What a profile hands to the loader for one file."""

    expressions: Mapping[str, str]  # canonical field -> SQL over source columns (VARCHAR)
    date_formats: Sequence[str] = DEFAULT_DATE_FORMATS
    source_timezone: str = "UTC"
    decimal_separator: str = "."
    currency: str | None = None
    allow_zero_price: bool = True
    rules: Sequence[RowRule] = ()
    personal_columns: Sequence[str] = ()  # source columns redacted in quarantine files
    helpers: Mapping[str, str] = field(default_factory=dict)  # extra SQL columns that rules may use
    # Exports that write order-level fields (date, e-mail, totals) on the first line of an order only:
    # the loader copies them to the order's other lines before validating.
    fill_order_fields: bool = False
    # Exports with one row per order and its items packed into columns (WebToffee's line_item_1, line_item_2,
    # ...): each non-empty one becomes a row whose expressions read the item as "_item" (see packed_field). A
    # record with several items counts as that many rows read; one with none as one row (quarantined).
    line_items: Sequence[str] = ()


def packed_field(packed_sql: str, key: str) -> str:
    """The value of ``key`` in a packed "key:value|key:value" text (WooCommerce exports), NULL when absent."""
    pattern = text_literal(f"(?:^|\\|){key}:([^|]*)")
    return f"nullif(trim(regexp_extract({packed_sql}, {pattern}, 1)), '')"


@dataclass(frozen=True)
class FeedbackPlan:
    """How the rows of one feedback file become feedback rows: a SQL expression over source columns per field."""

    expressions: Mapping[str, str]
    layout: str  # "mapping", "canonical" or the name of a recognised export
    id_prefix: str = ""
    date_formats: Sequence[str] = DEFAULT_DATE_FORMATS
    source_timezone: str = "UTC"
    personal_columns: Sequence[str] = field(default_factory=tuple)


@dataclass(frozen=True)
class TablePlan:
    """How the rows of one file become rows of one canonical table: products, customers, events, sessions,
    marketing spend, inventory or tickets (``target="table"``).

    ``expressions`` maps the table's columns to SQL over source columns; the pipeline types each by the
    table's own column type (dates and times with ``date_formats`` in ``source_timezone``, amounts with
    ``decimal_separator``), quarantines rows that do not parse or miss a required column, and keys rows by the
    table's primary key. ``customer_id`` and ``email`` (for tables with a ``customer_key``) give the customer,
    keyed like orders; on ``customers``, ``email``, ``name``, ``phone`` and ``address`` go to the vault only.
    """

    table: str
    expressions: Mapping[str, str]
    layout: str  # the export recognised, for the import summary
    date_formats: Sequence[str] = DEFAULT_DATE_FORMATS
    source_timezone: str = "UTC"
    decimal_separator: str = "."
    rules: Sequence[RowRule] = ()  # conditions over the typed columns (by table column name)
    personal_columns: Sequence[str] = ()  # source columns redacted in quarantine files
    # Catalogues and account lists: a later file's row replaces the stored row with the same key.
    # Facts (events, spend, snapshots, tickets): a row whose key is stored already is a duplicate.
    replace_existing: bool = False
    # Rows of one file with the same key: "first" keeps the first (later ones are duplicates), "last" the last.
    keep: Literal["first", "last"] = "first"
    # SQL over source columns, TRUE for a row that repeats an earlier row's record without adding a row of the
    # table (the image-only rows of a Shopify product export): not checked, not loaded, counted as a duplicate.
    continuation_rows: str | None = None
    # Files whose rows are parts of one fact (a campaign's ads, devices or networks on one day): rows of one
    # file with the same key become one row, these columns summed (the others taken from the first row).
    # Every summed row counts as loaded (or duplicate, when the key is stored already); ``keep`` is unused.
    sum_columns: Sequence[str] = ()
    # Conditions over the source columns (text, quoted with col()), TRUE = the row is not data (a report's
    # "Total" line): checked before any column is typed, so the row is quarantined with this reason.
    source_rules: Sequence[RowRule] = ()
    notes: Sequence[str] = ()  # what the import summary's warnings should tell about this file's reading
    # A key column the file may leave empty (events, sessions without an id): the pipeline fills it with a
    # fingerprint of the row's other columns and its occurrence among identical rows of the file, so two
    # identical rows are two facts and a re-import of the file yields the same ids.
    content_id: str | None = None


# What a profile's ``build`` hands to the import target it feeds.
FilePlan = SalesMapping | FeedbackPlan | TablePlan
ENTRY_POINT_GROUP = "shoplens.profiles"
_log = logging.getLogger(__name__)


@dataclass
class SourceProfile:
    """A registered way to read one kind of store export.

    ``required`` lists the source columns without which a file is not this profile's export;
    ``build`` turns the file's header (and an optional mapping file) into the plan its target reads:
    a :class:`SalesMapping` for ``target="sales"``, a :class:`FeedbackPlan` for ``target="feedback"``.
    """

    name: str
    description: str
    required: Sequence[str]
    build: Callable[[Sequence[str], Mapping[str, object] | None], FilePlan]
    dialect: CsvDialect = field(default_factory=CsvDialect)
    needs_mapping: bool = False
    dialect_from_mapping: Callable[[Mapping[str, object]], CsvDialect] | None = None
    # The import target its rows fill: order lines ("sales"), customer feedback ("feedback"), one canonical
    # table ("table", with a TablePlan), or a target registered with shoplens.warehouse.register_import_target.
    target: str = "sales"
    # Column sets that identify this export when `shoplens import` is given no --profile: a file is this
    # profile's when it has every column of one set. Empty: ``required`` (when there is any).
    signatures: Sequence[Sequence[str]] = ()

    def recognises(self, header: Sequence[str]) -> int:
        """How specifically a file with this header is this profile's export: the size of the largest
        signature it carries in full, 0 when it carries none (or the profile needs a mapping)."""
        if self.needs_mapping:
            return 0
        present = set(header)
        signatures = self.signatures or ((self.required,) if self.required else ())
        return max((len(s) for s in signatures if s and set(s) <= present), default=0)

    def dialect_for(self, mapping: Mapping[str, object] | None) -> CsvDialect:
        if mapping is not None and self.dialect_from_mapping is not None:
            return self.dialect_from_mapping(mapping)
        return self.dialect

    def missing_columns(self, header: Sequence[str]) -> list[str]:
        present = set(header)
        return [c for c in self.required if c not in present]


_REGISTRY: dict[str, SourceProfile] = {}
_ENTRY_POINTS_READ: set[str] = set()


def register_profile(profile: SourceProfile) -> SourceProfile:
    """Make a profile available to ``shoplens import --profile NAME``. Later registrations win."""
    _REGISTRY[profile.name] = profile
    return profile


def registered_profiles() -> dict[str, SourceProfile]:
    _register_entry_points()
    return dict(_REGISTRY)


def _register_entry_points() -> None:
    """Register the profiles installed packages declare in the ``shoplens.profiles`` entry point group.

    Each entry point is read once per process. One that fails to load is logged and left out, so a broken
    plug-in cannot stop the built-in profiles from working.
    """
    for point in entry_points(group=ENTRY_POINT_GROUP):
        key = f"{point.name}={point.value}"
        if key in _ENTRY_POINTS_READ:
            continue
        _ENTRY_POINTS_READ.add(key)
        try:
            loaded = point.load()
            profile = loaded() if callable(loaded) and not isinstance(loaded, SourceProfile) else loaded
        except Exception:  # a third party's code: whatever it raises, shoplens goes on without it
            _log.warning("the source profile entry point %s could not be loaded", key, exc_info=True)
            continue
        if isinstance(profile, SourceProfile):
            register_profile(profile)
        else:
            _log.warning("the entry point %s names %r, not a shoplens SourceProfile", key, type(profile).__name__)
