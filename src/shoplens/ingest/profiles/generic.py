"""Any CSV, Parquet or JSON-lines file, described by a YAML mapping (``--mapping FILE``).

The mapping names, for each canonical sales field, the source column that fills it::

    columns:                 # canonical field: source column
      order_id: Order No
      ordered_at: Date
      customer_id: Customer
      email: E-mail
      product_id: SKU
      quantity: Qty
      unit_price: Price
    constants:               # fixed values for fields the file does not have
      currency: EUR
      channel: web
    date_format: "%d.%m.%Y %H:%M"   # one strftime format or a list, tried in order
    timezone: Europe/Berlin         # zone of the source's times (stored as UTC)
    decimal_separator: ","          # "1.234,50" -> 1234.50
    delimiter: ";"                  # CSV only; detected from the header when absent
    encoding: latin-1               # CSV only; utf-8 by default
    refund_values: [Return, Refund] # with columns.is_refund: which values mark a returned line
    allow_zero_price: true
    personal_columns: [Notes]       # more source columns to redact in quarantine files
    fill_order_fields: true         # order fields (date, e-mail, totals) only on an order's first line

Mapped e-mail, name, phone and address columns are redacted in quarantine files automatically.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pydantic import Field, ValidationError

from shoplens.errors import MappingError, MissingColumnsError
from shoplens.ingest._mapping import NumberMapping
from shoplens.ingest._profile import (
    DEFAULT_DATE_FORMATS,
    PERSONAL_FIELDS,
    SALES_FIELD_NAMES,
    SALES_FIELDS,
    CsvDialect,
    SalesMapping,
    SourceProfile,
    col,
    register_profile,
    text_literal,
)

REQUIRED_FIELDS = tuple(f.name for f in SALES_FIELDS if f.required)


class GenericMapping(NumberMapping):
    known_fields = SALES_FIELD_NAMES
    field_kind = "canonical field"

    refund_values: list[str] = Field(default_factory=list)
    allow_zero_price: bool = True
    fill_order_fields: bool = False


def parse_mapping(raw: Mapping[str, object] | None) -> GenericMapping:
    if raw is None:
        raise MappingError("the generic profile needs --mapping FILE (a YAML mapping of columns)")
    try:
        mapping = GenericMapping.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "mapping"
        raise MappingError(f"mapping: {where}: {first['msg']}") from None
    missing = [f for f in REQUIRED_FIELDS if f not in mapping.columns and f not in mapping.constants]
    if missing:
        raise MappingError(f"mapping: columns must map the required field(s) {', '.join(missing)}")
    return mapping


def _build(header: Sequence[str], raw: Mapping[str, object] | None) -> SalesMapping:
    mapping = parse_mapping(raw)
    missing = [source for source in mapping.columns.values() if source not in header]
    if missing:
        raise MissingColumnsError("input", "mapped", missing)
    expressions = {field: col(source) for field, source in mapping.columns.items()}
    for field, value in mapping.constants.items():
        expressions.setdefault(field, text_literal(str(value).lower() if isinstance(value, bool) else str(value)))
    if mapping.refund_values and "is_refund" in mapping.columns:
        values = ", ".join(text_literal(v) for v in mapping.refund_values)
        expressions["is_refund"] = (
            f"CASE WHEN {col(mapping.columns['is_refund'])} IN ({values}) THEN 'true' ELSE 'false' END"
        )
    formats = [mapping.date_format] if isinstance(mapping.date_format, str) else mapping.date_format
    personal = [mapping.columns[f] for f in PERSONAL_FIELDS if f in mapping.columns]
    return SalesMapping(
        expressions=expressions,
        date_formats=tuple(formats) if formats else DEFAULT_DATE_FORMATS,
        source_timezone=mapping.timezone,
        decimal_separator=mapping.decimal_separator,
        currency=str(mapping.constants["currency"]) if "currency" in mapping.constants else None,
        allow_zero_price=mapping.allow_zero_price,
        personal_columns=tuple(dict.fromkeys([*personal, *mapping.personal_columns])),
        fill_order_fields=mapping.fill_order_fields,
    )


def _dialect(raw: Mapping[str, object]) -> CsvDialect:
    mapping = parse_mapping(raw)
    return CsvDialect(delimiter=mapping.delimiter, encoding=mapping.encoding)


PROFILE = register_profile(
    SourceProfile(
        name="generic",
        description="any CSV/Parquet/JSON-lines file plus a YAML --mapping of its columns",
        required=(),
        build=_build,
        needs_mapping=True,
        dialect_from_mapping=_dialect,
    )
)
