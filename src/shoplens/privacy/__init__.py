"""Privacy: the tamper-evident audit log and k-anonymity for data that leaves the store.

* :func:`record_audit` appends an entry to the hash-chained audit log; :func:`verify_audit` checks the chain.
* :func:`suppress_small_cells` keeps only aggregate rows with at least ``k`` people behind them.
"""

from shoplens.privacy._audit import (
    GENESIS_HASH,
    AuditEntry,
    AuditVerdict,
    canonical_details,
    entry_hash,
    recent_audit,
    record_audit,
    verify_audit,
)
from shoplens.privacy._kanon import DEFAULT_K, Suppressed, check_k, people, share_of_released, suppress_small_cells

__all__ = [
    "DEFAULT_K",
    "GENESIS_HASH",
    "AuditEntry",
    "AuditVerdict",
    "Suppressed",
    "canonical_details",
    "check_k",
    "entry_hash",
    "people",
    "recent_audit",
    "record_audit",
    "share_of_released",
    "suppress_small_cells",
    "verify_audit",
]
