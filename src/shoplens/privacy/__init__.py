"""Privacy, at the bottom of the layers: the vault of personal data, the tamper-evident audit log, k-anonymity.

Every layer above may use it; it imports only errors, config and schema, so callers pass in what it works on
(an Ibis backend over the warehouse, an :class:`AuditStore` such as the app database).

* :func:`contacts` is the one read of personal data: consent checked, only the fields asked for, each release
  written to the audit log. :func:`vault_rows` and :func:`vault_upserts` describe what an import writes there.
* :func:`consent_book` reads the current decisions per purpose (analytics, marketing, sharing) from a
  :class:`ConsentStore`; :func:`platform_consent_records` is what an import adds to them.
* The vault is encrypted (AES-256-GCM, one random nonce per value) with :class:`VaultKeys` the caller passes in;
  lookups compare :func:`keyed_hash` values, never ciphertexts.
* :func:`record_audit` appends an entry to the hash-chained audit log; :func:`verify_audit` checks the chain.
* :func:`suppress_small_cells` keeps only aggregate rows with at least ``k`` people behind them.
* :func:`csv_cell` (and :func:`csv_row`, :func:`csv_record`, :func:`csv_safe_table`) escape text cells a
  spreadsheet would run as formulas, in every CSV written for others.
"""

from shoplens.privacy._audit import (
    GENESIS_HASH,
    AuditEntry,
    AuditHead,
    AuditRow,
    AuditSink,
    AuditStore,
    AuditVerdict,
    audit_sink,
    canonical_details,
    entry_hash,
    read_audit_head,
    recent_audit,
    record_audit,
    verify_audit,
    write_audit_head,
)
from shoplens.privacy._consent import (
    PLATFORM_PREFIX,
    PURPOSES,
    ConsentBook,
    ConsentRecord,
    ConsentStore,
    Purpose,
    check_purpose,
    consent_book,
    platform_consent_records,
)
from shoplens.privacy._crypto import (
    SEALED_PREFIX,
    VaultKeys,
    check_keys,
    is_sealed,
    key_id,
    keyed_hash,
    open_sealed,
    seal,
    sealed_key_id,
)
from shoplens.privacy._csv import FORMULA_STARTS, csv_cell, csv_record, csv_row, csv_safe_table
from shoplens.privacy._kanon import DEFAULT_K, Suppressed, check_k, people, share_of_released, suppress_small_cells
from shoplens.privacy._retention import inactive_customers, last_activity
from shoplens.privacy._vault import (
    CONTACT_FIELDS,
    ERASED_TEXT,
    HASH_COLUMNS,
    PERSONAL_COLUMNS,
    VAULT_COLUMNS,
    VAULT_KEY,
    VAULT_TABLE,
    Contact,
    ContactRelease,
    contacts,
    erased_key,
    identifiers_of,
    opened_vault_rows,
    plain_vault_rows,
    reencrypted_vault_rows,
    sealed_sample,
    sealed_vault_rows,
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
    "HASH_COLUMNS",
    "PERSONAL_COLUMNS",
    "PLATFORM_PREFIX",
    "PURPOSES",
    "SEALED_PREFIX",
    "VAULT_COLUMNS",
    "VAULT_KEY",
    "VAULT_TABLE",
    "AuditEntry",
    "AuditHead",
    "AuditRow",
    "AuditSink",
    "AuditStore",
    "AuditVerdict",
    "ConsentBook",
    "ConsentRecord",
    "ConsentStore",
    "Contact",
    "ContactRelease",
    "Purpose",
    "Suppressed",
    "VaultKeys",
    "audit_sink",
    "canonical_details",
    "check_k",
    "check_keys",
    "check_purpose",
    "consent_book",
    "contacts",
    "csv_cell",
    "csv_record",
    "csv_row",
    "csv_safe_table",
    "entry_hash",
    "erased_key",
    "identifiers_of",
    "inactive_customers",
    "is_sealed",
    "key_id",
    "keyed_hash",
    "last_activity",
    "open_sealed",
    "opened_vault_rows",
    "people",
    "plain_vault_rows",
    "platform_consent_records",
    "read_audit_head",
    "recent_audit",
    "record_audit",
    "reencrypted_vault_rows",
    "seal",
    "sealed_key_id",
    "sealed_sample",
    "sealed_vault_rows",
    "share_of_released",
    "shared_addresses",
    "suppress_small_cells",
    "vault_rows",
    "vault_upserts",
    "verify_audit",
    "write_audit_head",
]
