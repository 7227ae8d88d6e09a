"""Ingest: source profiles, file readers, pseudonymous keys and the demo store generator."""

from shoplens.ingest import profiles as _builtin_profiles  # noqa: F401  (registers the built-in profiles)
from shoplens.ingest._keys import customer_key, customer_key_sql, customer_keys, hmac_pads
from shoplens.ingest._profile import (
    ORDER_LEVEL_FIELDS,
    PERSONAL_FIELDS,
    SALES_FIELD_NAMES,
    SALES_FIELDS,
    CsvDialect,
    RowRule,
    SalesField,
    SalesMapping,
    SourceProfile,
    col,
    register_profile,
    registered_profiles,
    text_literal,
)
from shoplens.ingest._readers import Reject, StagedFile, file_format, read_header, stage_file

__all__ = [
    "ORDER_LEVEL_FIELDS",
    "PERSONAL_FIELDS",
    "SALES_FIELDS",
    "SALES_FIELD_NAMES",
    "CsvDialect",
    "Reject",
    "RowRule",
    "SalesField",
    "SalesMapping",
    "SourceProfile",
    "StagedFile",
    "col",
    "customer_key",
    "customer_key_sql",
    "customer_keys",
    "file_format",
    "hmac_pads",
    "read_header",
    "register_profile",
    "registered_profiles",
    "stage_file",
    "text_literal",
]
