"""Privacy, at the bottom of the layers: the vault of personal data, the tamper-evident audit log, k-anonymity.

Every layer above may use it; it imports only errors, config and schema, so callers pass in what it works on
(an Ibis backend over the warehouse, an :class:`AuditStore` such as the app database).

* :func:`contacts` is the one read of personal data: consent checked, only the fields asked for, each release
  written to the audit log. :func:`vault_rows` and :func:`vault_upserts` describe what an import writes there.
* :func:`record_audit` appends an entry to the hash-chained audit log; :func:`verify_audit` checks the chain.
* :func:`suppress_small_cells` keeps only aggregate rows with at least ``k`` people behind them.
* :func:`csv_cell` (and :func:`csv_row`, :func:`csv_record`, :func:`csv_safe_table`) escape text cells a
  spreadsheet would run as formulas, in every CSV written for others.
"""

from shoplens.privacy._audit import (
    GENESIS_HASH,
    AuditEntry,
    AuditRow,
    AuditSink,
    AuditStore,
    AuditVerdict,
    audit_sink,
    canonical_details,
    entry_hash,
    recent_audit,
    record_audit,
    verify_audit,
)
from shoplens.privacy._csv import FORMULA_STARTS, csv_cell, csv_record, csv_row, csv_safe_table
from shoplens.privacy._kanon import DEFAULT_K, Suppressed, check_k, people, share_of_released, suppress_small_cells
from shoplens.privacy._vault import (
    CONTACT_FIELDS,
    ERASED_TEXT,
    PERSONAL_COLUMNS,
    VAULT_COLUMNS,
    VAULT_KEY,
    VAULT_TABLE,
    Contact,
    ContactRelease,
    contacts,
    erased_key,
    shared_addresses,
    vault_rows,
    vault_upserts,
)

__all__ = [
    "CONTACT_FIELDS",
    "DEFAULT_K",
    "ERASED_TEXT",
    "FORMULA_STARTS",
    "GENESIS_HASH",
    "PERSONAL_COLUMNS",
    "VAULT_COLUMNS",
    "VAULT_KEY",
    "VAULT_TABLE",
    "AuditEntry",
    "AuditRow",
    "AuditSink",
    "AuditStore",
    "AuditVerdict",
    "Contact",
    "ContactRelease",
    "Suppressed",
    "audit_sink",
    "canonical_details",
    "check_k",
    "contacts",
    "csv_cell",
    "csv_record",
    "csv_row",
    "csv_safe_table",
    "entry_hash",
    "erased_key",
    "people",
    "recent_audit",
    "record_audit",
    "share_of_released",
    "shared_addresses",
    "suppress_small_cells",
    "vault_rows",
    "vault_upserts",
    "verify_audit",
]
