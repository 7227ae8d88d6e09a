"""Customer feedback: reviews, support tickets, survey free text and return reasons (``--profile feedback``).

A feedback file is CSV, Parquet or JSON-lines with at least a text column. The optional fields are
``id, customer_id, email, product_id, rating, created_at, source``. A file whose columns already carry these
names (or the canonical table's ``feedback_id`` and ``at``) needs no mapping, nor does the Women's
E-Commerce Clothing Reviews export (Kaggle, ``Review Text``, ``Rating``, ``Clothing ID``). Anything else is
described by a YAML mapping like the generic profile's::

    columns:                  # feedback field: source column
      id: Ticket ID
      text: Message
      email: Requester
      created_at: Created
    constants: {source: ticket}
    id_prefix: "zendesk-"     # keeps ids of different sources apart in the feedback table
    date_format: "%d/%m/%Y %H:%M"
    timezone: Europe/London
    delimiter: ";"
    encoding: utf-8
    personal_columns: [Requester name]   # more source columns to redact in quarantine files

E-mails are personal data: they go to the vault (``customer_pii``) and are used to find the customer, never
written to the feedback table. The loading itself is the warehouse's one import pipeline (its feedback target).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from pydantic import ValidationError

from shoplens.errors import MappingError, MissingColumnsError
from shoplens.ingest._mapping import FileMapping
from shoplens.ingest._profile import (
    DEFAULT_DATE_FORMATS,
    CsvDialect,
    FeedbackPlan,
    SourceProfile,
    col,
    register_profile,
    text_literal,
)

PROFILE_NAME = "feedback"
FEEDBACK_FIELDS: tuple[str, ...] = (
    "id",
    "text",
    "customer_id",
    "email",
    "product_id",
    "rating",
    "created_at",
    "source",
)
PERSONAL_FEEDBACK_FIELDS = ("email",)
FEEDBACK_SOURCES = ("review", "ticket", "survey", "return")
# Exports write times with an offset ("2024-01-14 19:32:26+00", ISO "...T...Z") as often as without.
FEEDBACK_DATE_FORMATS: tuple[str, ...] = (
    *DEFAULT_DATE_FORMATS,
    "%Y-%m-%d %H:%M:%S%z",
    "%Y-%m-%d %H:%M:%S.%f%z",
    "%Y-%m-%dT%H:%M:%S%z",
    "%Y-%m-%dT%H:%M:%S.%f%z",
    "%Y-%m-%dT%H:%M:%SZ",
    "%Y-%m-%dT%H:%M:%S.%fZ",
)
# Column names that mean a feedback field in files shaped like the canonical table (first match wins).
_SYNONYMS: dict[str, tuple[str, ...]] = {
    "id": ("id", "feedback_id"),
    "text": ("text",),
    "customer_id": ("customer_id",),
    "email": ("email",),
    "product_id": ("product_id",),
    "rating": ("rating",),
    "created_at": ("created_at", "at"),
    "source": ("source",),
}


class FeedbackMappingFile(FileMapping):
    """The YAML ``--mapping`` of a feedback file."""

    known_fields = FEEDBACK_FIELDS
    field_kind = "feedback field"

    id_prefix: str = ""


@dataclass(frozen=True)
class KnownExport:
    """A feedback export recognised by its header, so it imports without a mapping."""

    name: str
    signature: tuple[str, ...]  # columns that identify it
    columns: Mapping[str, str]  # feedback field -> source column
    constants: Mapping[str, str] = field(default_factory=dict)
    id_prefix: str = ""


KNOWN_EXPORTS: tuple[KnownExport, ...] = (
    # Nick Brooks, "Women's E-Commerce Clothing Reviews" (Kaggle, CC0): the first, unnamed column is the row index,
    # which the CSV reader names column_1. No customers or dates: reviews are linked to products only.
    KnownExport(
        name="womens-clothing-reviews",
        signature=("Clothing ID", "Review Text", "Rating", "Recommended IND"),
        columns={"id": "column_1", "text": "Review Text", "rating": "Rating", "product_id": "Clothing ID"},
        constants={"source": "review"},
        id_prefix="wecr-",
    ),
)


def parse_feedback_mapping(raw: Mapping[str, object]) -> FeedbackMappingFile:
    try:
        mapping = FeedbackMappingFile.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "mapping"
        raise MappingError(f"mapping: {where}: {first['msg']}") from None
    if "text" not in mapping.columns:
        raise MappingError("mapping: columns must map the required field text")
    return mapping


def feedback_dialect(mapping: Mapping[str, object] | None) -> CsvDialect:
    if mapping is None:
        return CsvDialect()
    parsed = parse_feedback_mapping(mapping)
    return CsvDialect(delimiter=parsed.delimiter, encoding=parsed.encoding)


def feedback_plan(header: Sequence[str], mapping: Mapping[str, object] | None) -> FeedbackPlan:
    """The plan for a file with this header: from the mapping, a recognised export, or canonical column names.

    Raises :class:`MissingColumnsError` (naming the columns) when the file has no text column to read.
    """
    present = set(header)
    if mapping is not None:
        parsed = parse_feedback_mapping(mapping)
        missing = [source for source in parsed.columns.values() if source not in present]
        if missing:
            raise MissingColumnsError("input", "mapped", missing)
        formats = [parsed.date_format] if isinstance(parsed.date_format, str) else parsed.date_format
        personal = [parsed.columns[f] for f in PERSONAL_FEEDBACK_FIELDS if f in parsed.columns]
        return FeedbackPlan(
            expressions=_expressions(parsed.columns, {k: str(v) for k, v in parsed.constants.items()}),
            layout="mapping",
            id_prefix=parsed.id_prefix,
            date_formats=tuple(formats) if formats else FEEDBACK_DATE_FORMATS,
            source_timezone=parsed.timezone,
            personal_columns=tuple(dict.fromkeys([*personal, *parsed.personal_columns])),
        )
    for export in KNOWN_EXPORTS:
        if all(name in present for name in export.signature):
            return FeedbackPlan(
                expressions=_expressions(export.columns, export.constants),
                layout=export.name,
                id_prefix=export.id_prefix,
                date_formats=FEEDBACK_DATE_FORMATS,
            )
    columns: dict[str, str] = {}
    for name, candidates in _SYNONYMS.items():
        found = next((c for c in candidates if c in present), None)
        if found is not None:
            columns[name] = found
    if "text" not in columns:
        raise MissingColumnsError("input", PROFILE_NAME, ["text"])
    personal = [columns[f] for f in PERSONAL_FEEDBACK_FIELDS if f in columns]
    return FeedbackPlan(
        expressions=_expressions(columns, {}),
        layout="canonical",
        date_formats=FEEDBACK_DATE_FORMATS,
        personal_columns=tuple(personal),
    )


def _expressions(columns: Mapping[str, str], constants: Mapping[str, str]) -> dict[str, str]:
    expressions = {name: col(source) for name, source in columns.items()}
    for name, value in constants.items():
        expressions.setdefault(name, text_literal(value))
    return expressions


PROFILE = register_profile(
    SourceProfile(
        name=PROFILE_NAME,
        description=(
            "reviews, tickets, survey free text, return reasons: a text column plus optional id, customer_id, email, "
            "product_id, rating, created_at, source (or --mapping); knows the Women's Clothing Reviews export"
        ),
        required=(),
        signatures=(("text",), *(export.signature for export in KNOWN_EXPORTS)),
        build=feedback_plan,
        dialect_from_mapping=feedback_dialect,
        target="feedback",
    )
)
