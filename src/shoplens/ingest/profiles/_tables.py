"""Profiles for files of one canonical table described by a YAML ``--mapping`` (events, spend, inventory,
tickets, ...), and the helper every such profile, built-in or third-party, is made with.

A mapping names, for each column of the table, the source column that fills it::

    columns:                 # table column: source column
      ticket_id: Ticket ID
      created_at: Created
      first_response_at: First reply
      email: Requester        # tables with a customer: customer_id and/or email find the customer
    constants: {channel: email}
    date_format: "%d/%m/%Y %H:%M"
    timezone: Europe/London
    decimal_separator: ","
    delimiter: ";"
    personal_columns: [Requester name]

A file whose columns already carry the table's column names needs no mapping.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

from pydantic import ValidationError

from shoplens.errors import MappingError, MissingColumnsError
from shoplens.ingest._mapping import NumberMapping
from shoplens.ingest._profile import (
    DEFAULT_DATE_FORMATS,
    CsvDialect,
    FilePlan,
    RowRule,
    SourceProfile,
    TablePlan,
    col,
    register_profile,
    text_literal,
)
from shoplens.schema import TABLES

IDENTITY_FIELDS = ("customer_id", "email")


def table_fields(table: str) -> tuple[str, ...]:
    """The fields a mapping for ``table`` may name: its columns, with the customer given by id or e-mail."""
    columns = [c for c in TABLES[table].column_names if c != "customer_key"]
    extra = IDENTITY_FIELDS if "customer_key" in TABLES[table].column_names else ()
    return (*columns, *extra)


def required_fields(table: str, content_id: str | None = None) -> tuple[str, ...]:
    """The columns a file must give: the non-null ones without a default (a ``content_id`` key is optional)."""
    return tuple(
        c.name
        for c in TABLES[table].columns
        if not c.nullable and c.default is None and c.name not in ("customer_key", content_id)
    )


class TableMapping(NumberMapping):
    """A mapping of a file of one canonical table (its known fields are set per table)."""


def parse_table_mapping(table: str, raw: Mapping[str, object], content_id: str | None = None) -> TableMapping:
    """A mapping for ``table``, checked: known fields only, every required column mapped or constant."""
    model: type[TableMapping] = type(f"{table.title()}Mapping", (TableMapping,), {"known_fields": table_fields(table)})
    try:
        mapping: TableMapping = model.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "mapping"
        raise MappingError(f"mapping: {where}: {first['msg']}") from None
    missing = [f for f in required_fields(table, content_id) if f not in mapping.columns and f not in mapping.constants]
    if missing:
        raise MappingError(f"mapping: columns must map the required {table} column(s) {', '.join(missing)}")
    return mapping


def mapped_plan(table: str, header: Sequence[str], raw: Mapping[str, object] | None, **options: object) -> TablePlan:
    """The plan of a file of ``table``: by its mapping, or by column names when it has none."""
    content_id = options.get("content_id")
    content_id = content_id if isinstance(content_id, str) else None
    if raw is None:
        present = set(header)
        missing = [f for f in required_fields(table, content_id) if f not in present]
        if missing:
            raise MissingColumnsError("input", table, missing)
        expressions = {f: col(f) for f in table_fields(table) if f in present}
        return TablePlan(table=table, expressions=expressions, layout="canonical", **options)  # type: ignore[arg-type]
    mapping = parse_table_mapping(table, raw, content_id)
    absent = [source for source in mapping.columns.values() if source not in header]
    if absent:
        raise MissingColumnsError("input", "mapped", absent)
    expressions = {field: col(source) for field, source in mapping.columns.items()}
    for field, value in mapping.constants.items():
        expressions.setdefault(field, text_literal(str(value).lower() if isinstance(value, bool) else str(value)))
    formats = [mapping.date_format] if isinstance(mapping.date_format, str) else mapping.date_format
    personal = [mapping.columns[f] for f in ("email", "customer_id") if f in mapping.columns]
    return TablePlan(
        table=table,
        expressions=expressions,
        layout="mapping",
        date_formats=tuple(formats) if formats else DEFAULT_DATE_FORMATS,
        source_timezone=mapping.timezone,
        decimal_separator=mapping.decimal_separator,
        personal_columns=tuple(dict.fromkeys([*personal, *mapping.personal_columns])),
        **options,  # type: ignore[arg-type]
    )


def source_column(expression: str | None) -> str | None:
    """The source column an expression reads, when it is a plain quoted column."""
    if expression and len(expression) > 1 and expression[0] == expression[-1] == '"':
        return expression[1:-1].replace('""', '"')
    return None


def _dialect_for(table: str, content_id: str | None = None) -> Callable[[Mapping[str, object]], CsvDialect]:
    def dialect(raw: Mapping[str, object]) -> CsvDialect:
        mapping = parse_table_mapping(table, raw, content_id)
        return CsvDialect(delimiter=mapping.delimiter, encoding=mapping.encoding)

    return dialect


def table_profile(
    name: str,
    table: str,
    description: str,
    *,
    replace_existing: bool = False,
    rules: Sequence[RowRule] = (),
    free_text: Sequence[str] = (),
    content_id: str | None = None,
    register: bool = True,
) -> SourceProfile:
    """A profile for files of one canonical table: named like the table's columns, or described by a mapping.

    ``rules`` quarantine rows (conditions over the typed table columns); the source columns of the table
    columns in ``free_text`` (what a customer may have written) are redacted in quarantine files. With
    ``content_id``, that key column may be left out: rows without it get a fingerprint of their content.
    """

    def build(header: Sequence[str], raw: Mapping[str, object] | None) -> FilePlan:
        plan = mapped_plan(
            table, header, raw, replace_existing=replace_existing, rules=tuple(rules), content_id=content_id
        )
        redacted = [source_column(plan.expressions.get(f)) for f in free_text]
        personal = dict.fromkeys([*plan.personal_columns, *(c for c in redacted if c)])
        return replace(plan, personal_columns=tuple(personal))

    profile = SourceProfile(
        name=name,
        description=description,
        required=(),
        signatures=(required_fields(table, content_id),),
        build=build,
        dialect_from_mapping=_dialect_for(table, content_id),
        target="table",
    )
    return register_profile(profile) if register else profile
