"""The vault: the one way in and out of the store's personal data (names, e-mails, phones, addresses).

Personal data lives in one warehouse table, ``customer_pii``, keyed by the pseudonymous ``customer_key``; every
other table carries the key only. Each personal value there is encrypted (:mod:`shoplens.privacy._crypto`) and
has a keyed hash of its normalised form beside it (``email_hash``, ...): lookups, the merge rule and the shared
address guard compare hashes, and only :func:`contacts` and a person's own export decrypt.

Everything that reads that table goes through :func:`contacts`, which checks
consent, releases only the fields asked for, and writes one entry to the audit log for every release (counts
and purpose, never a personal value). What an import writes there is described here too
(:func:`vault_upserts`), so the rules for merging new contact details with stored ones are stated once.

Callers pass in the warehouse as an Ibis backend, the vault keys and the audit log as an :data:`AuditSink`; this
module opens nothing itself.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

import ibis
import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.compute as pc
from ibis.common.exceptions import TableNotFound

from shoplens.errors import InputError, WarehouseError
from shoplens.privacy._audit import AuditEntry, AuditSink
from shoplens.privacy._consent import ConsentBook
from shoplens.privacy._crypto import SEALED_PREFIX, VaultKeys, open_columns, open_sealed, seal_columns
from shoplens.schema import TABLES

VAULT = TABLES["customer_pii"]
VAULT_TABLE = VAULT.name
VAULT_KEY = "customer_key"
VAULT_COLUMNS = tuple(VAULT.column_names)
CONTACT_FIELDS = ("email", "name", "phone", "address")
PERSONAL_COLUMNS = ("source_customer_id", *CONTACT_FIELDS)  # the shop's own customer id identifies a person too
HASH_COLUMNS: Mapping[str, str] = {name: f"{name}_hash" for name in PERSONAL_COLUMNS}
KEPT_PREFIX = "kept_"
MAX_PURPOSE_LENGTH = 80
_RELEASE_DETAILS = ("purpose", "asked", "released", "left_out", "fields", "consent")


@dataclass(frozen=True)
class Contact:
    """How to reach one customer. ``name`` is filled only when it was asked for."""

    customer_key: str
    email: str
    name: str | None = None


@dataclass(frozen=True)
class ContactRelease:
    """The contacts handed out, of how many asked for, and the audit entry that records the release."""

    contacts: list[Contact]
    asked: int
    audit_entry: AuditEntry

    @property
    def left_out(self) -> int:
        """Customers asked for whose contact was not released (no consent, or no e-mail in the vault)."""
        return self.asked - len(self.contacts)


def contacts(  # noqa: PLR0913 - keyword-only: what is released, to whom, why, and how it is recorded
    backend: ibis.BaseBackend,
    customer_keys: Sequence[str],
    *,
    purpose: str,
    action: str,
    audit: AuditSink,
    consent: ConsentBook | None,
    keys: VaultKeys,
    with_name: bool = False,
    context: Mapping[str, str | int] | None = None,
) -> ContactRelease:
    """The e-mail address (and with ``with_name`` the name) of those ``customer_keys`` that may be contacted.

    With a ``consent`` book (marketing: :func:`shoplens.privacy.consent_book`, read just before) only customers
    who agree to marketing now are released: their newest consent record, or the platform's flag when they have
    none; ``None`` releases without asking for consent (say so only for a purpose that needs none). A customer
    with no e-mail in the vault is never released. The release is written to the audit log as
    ``action``, with ``purpose``, the counts, the fields released and ``context`` (which must hold no personal
    data: a survey id, a file name), before the contacts are returned. Contacts come in the order asked for.
    """
    if not purpose.strip() or len(purpose) > MAX_PURPOSE_LENGTH:
        raise InputError(f"a release of personal data needs a purpose of 1 to {MAX_PURPOSE_LENGTH} characters")
    clashing = sorted(set(context or {}) & set(_RELEASE_DETAILS))
    if clashing:
        raise InputError(f"the audit context may not set {', '.join(clashing)}: the vault records those itself")
    if consent is not None and consent.purpose != "marketing":
        raise InputError(f"contacts are released on marketing consent, not on {consent.purpose} consent")
    fields = ["email", "name"] if with_name else ["email"]
    asked = list(dict.fromkeys(str(key) for key in customer_keys))
    found = _reachable(backend, asked, fields, consent, keys) if asked else {}
    released = [found[key] for key in asked if key in found]
    entry = audit(
        action,
        {
            **(context or {}),
            "purpose": purpose,
            "asked": len(asked),
            "released": len(released),
            "left_out": len(asked) - len(released),
            "fields": fields,
            "consent": "marketing" if consent is not None else "not required",
        },
    )
    return ContactRelease(released, len(asked), entry)


def _reachable(
    backend: ibis.BaseBackend,
    keys: list[str],
    fields: list[str],
    consent: ConsentBook | None,
    vault_keys: VaultKeys,
) -> dict[str, Contact]:
    try:
        vault = backend.table(VAULT_TABLE)
        customers = backend.table("customers")
    except TableNotFound:
        raise WarehouseError("the warehouse has no customer vault yet: import data first") from None
    # A key list joined as a table, not an IN list: a survey may reach hundreds of thousands of customers.
    asked = ibis.memtable({VAULT_KEY: keys}, schema={VAULT_KEY: "string"})
    reachable = vault.filter(vault.email.notnull()).semi_join(asked, VAULT_KEY)
    if consent is not None:
        reachable = reachable.semi_join(consent.consenting(customers), VAULT_KEY)
    sealed = reachable.select(VAULT_KEY, *fields).to_pyarrow()
    rows = open_columns(vault_keys, sealed, fields, key_column=VAULT_KEY).to_pylist()
    return {str(row[VAULT_KEY]): Contact(str(row[VAULT_KEY]), str(row["email"]), row.get("name")) for row in rows}


def vault_rows(incoming: ir.Table, *, at: datetime | None = None) -> ir.Table:
    """``incoming`` shaped as vault rows: every vault column in order, absent ones NULL, ``updated_at`` = ``at``.

    ``incoming`` has ``customer_key``, any of :data:`PERSONAL_COLUMNS` in clear and the keyed hash of each
    (:data:`HASH_COLUMNS`, computed by the caller with the store secret); any other column is refused, so that
    personal data cannot reach the vault under a name nobody knows to protect, or analytic data land in it.
    """
    if VAULT_KEY not in incoming.columns:
        raise InputError(f"vault rows need a {VAULT_KEY!r} column")
    unknown = [name for name in incoming.columns if name not in (VAULT_KEY, *PERSONAL_COLUMNS, *HASH_COLUMNS.values())]
    if unknown:
        raise InputError(f"the vault has no column(s) {', '.join(unknown)}; it keeps {', '.join(PERSONAL_COLUMNS)}")
    unhashed = [name for name in PERSONAL_COLUMNS if name in incoming.columns and HASH_COLUMNS[name] not in incoming]
    if unhashed:
        raise InputError(f"vault rows need the keyed hash of {', '.join(unhashed)} ({HASH_COLUMNS[unhashed[0]]})")
    moment = ibis.literal(_naive_utc(at), type="timestamp")
    return incoming.select(
        **{
            name: incoming[name].cast("string") if name in incoming.columns else ibis.null().cast("string")
            for name in (VAULT_KEY, *PERSONAL_COLUMNS, *HASH_COLUMNS.values())
        },
        updated_at=moment,
    ).select(*VAULT_COLUMNS)


def vault_upserts(
    stored: ir.Table,
    incoming: ir.Table,
    *,
    prefer: Literal["incoming", "stored"],
    at: datetime | None = None,
) -> ir.Table:
    """The vault rows an import writes: new customers, and stored customers whose contact details change.

    ``incoming`` holds at most one row per ``customer_key``, in clear with keyed hashes (see :func:`vault_rows`);
    ``stored`` is the vault (encrypted). Field by field, ``prefer="incoming"`` lets a known new value replace the
    stored one (an order import: the newest order's address is the one to use); ``prefer="stored"`` only fills
    what the vault lacks (a feedback import: an e-mail typed into a review does not replace the one the shop
    holds). The first ``source_customer_id`` stays. Values are compared by their keyed hashes, never by their
    (randomised) ciphertext, so rows that would not change are left out and a re-import writes nothing.

    Each personal column of the result holds the new value in clear where it changes (to be encrypted by
    :func:`sealed_vault_rows`) and NULL otherwise, with the stored ciphertext kept in ``kept_<column>``; the
    caller replaces the rows of the keys returned.
    """
    new = vault_rows(incoming, at=at)
    remembered = (VAULT_KEY, *PERSONAL_COLUMNS, *HASH_COLUMNS.values())
    old = stored.select(**{f"stored_{name}": stored[name] for name in remembered})
    joined = new.left_join(old, new[VAULT_KEY] == old[f"stored_{VAULT_KEY}"])
    changed = joined[f"stored_{VAULT_KEY}"].isnull()
    values: dict[str, ir.Value] = {}
    for name in PERSONAL_COLUMNS:
        fresh, kept = joined[name], joined[f"stored_{name}"]
        fresh_hash, kept_hash = joined[HASH_COLUMNS[name]], joined[f"stored_{HASH_COLUMNS[name]}"]
        takes_fresh = (
            kept.isnull() & fresh.notnull() if name == "source_customer_id" or prefer == "stored" else fresh.notnull()
        )
        differs = takes_fresh & ~(kept.notnull() & fresh_hash.identical_to(kept_hash))
        changed = changed | differs
        values[name] = ibis.ifelse(differs, fresh, ibis.null().cast("string"))
        values[f"{KEPT_PREFIX}{name}"] = ibis.ifelse(differs, ibis.null().cast("string"), kept)
        values[HASH_COLUMNS[name]] = ibis.ifelse(differs, fresh_hash, kept_hash)
    return joined.filter(changed).select(VAULT_KEY, **values, updated_at=joined.updated_at)


def sealed_vault_rows(upserts: pa.Table, keys: VaultKeys) -> pa.Table:
    """The rows :func:`vault_upserts` returned as they are stored: each new value encrypted, each kept one as it
    was, in the vault's columns."""
    sealed = seal_columns(keys, upserts, [name for name in PERSONAL_COLUMNS], key_column=VAULT_KEY)
    columns = {
        name: pc.coalesce(sealed.column(name), sealed.column(f"{KEPT_PREFIX}{name}"))
        if name in PERSONAL_COLUMNS
        else sealed.column(name)
        for name in VAULT_COLUMNS
    }
    return pa.table(columns)


def plain_vault_rows(vault: ir.Table) -> ir.Table:
    """Vault rows holding a personal value that is not encrypted (a store from before the vault was encrypted)."""
    plain = ibis.literal(False)
    for name in PERSONAL_COLUMNS:
        plain = plain | (vault[name].notnull() & ~vault[name].startswith(SEALED_PREFIX))
    return vault.filter(plain)


def sealed_sample(vault: ir.Table) -> tuple[str, str, str] | None:
    """One encrypted value of the vault (customer key, column, text), to check a key against before using it."""
    for name in PERSONAL_COLUMNS:
        found = vault.filter(vault[name].startswith(SEALED_PREFIX)).select(VAULT_KEY, name).limit(1).to_pyarrow()
        if found.num_rows:
            row = found.to_pylist()[0]
            return str(row[VAULT_KEY]), name, str(row[name])
    return None


def opened_vault_rows(rows: pa.Table, keys: VaultKeys) -> pa.Table:
    """Vault rows in clear, without their hashes: what a person's own export shows of them."""
    sealed = [name for name in PERSONAL_COLUMNS if name in rows.column_names]
    opened = open_columns(keys, rows, sealed, key_column=VAULT_KEY)
    return opened.drop_columns([name for name in HASH_COLUMNS.values() if name in opened.column_names])


def reencrypted_vault_rows(rows: pa.Table, old: VaultKeys, new: VaultKeys) -> pa.Table:
    """Vault rows opened with ``old`` and sealed again with ``new`` (a key rotation); hashes are unchanged."""
    columns = list(PERSONAL_COLUMNS)
    return seal_columns(new, open_columns(old, rows, columns, key_column=VAULT_KEY), columns, key_column=VAULT_KEY)


def identifiers_of(row: Mapping[str, object], keys: VaultKeys) -> list[str]:
    """A vault row's personal values in clear (to find the person in files outside the warehouse)."""
    key = str(row[VAULT_KEY])
    return [
        open_sealed(keys, str(row[name]), customer_key=key, column=name) for name in PERSONAL_COLUMNS if row.get(name)
    ]


def _naive_utc(at: datetime | None) -> datetime:
    """The vault keeps UTC in a TIMESTAMP without zone, as every warehouse table does."""
    moment = at if at is not None else datetime.now(UTC)
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo is not None else moment


def shared_addresses(vault: ir.Table, *, min_accounts: int) -> ir.Table:
    """Addresses held for at least ``min_accounts`` customer keys: ``accounts, customer_keys`` (sorted keys).

    Addresses are compared by ``address_hash``, the keyed hash of the address lower-cased with everything but
    letters and digits dropped, so "Flat D, 12/F" and "flat d 12f" are one address (an address with no letter or
    digit has no hash and joins nobody). Nothing is decrypted; only the keys leave this function.
    """
    held = vault.filter(vault.address_hash.notnull())
    grouped = held.group_by("address_hash").aggregate(
        accounts=held[VAULT_KEY].nunique(), customer_keys=held[VAULT_KEY].collect(distinct=True)
    )
    grouped = grouped.filter(grouped.accounts >= min_accounts)
    return grouped.select("accounts", customer_keys=grouped.customer_keys.sort())


# What an erasure clears besides the vault row: free text a person wrote or that may describe them. Everything else
# of theirs (orders, refunds, events, ...) stays for the shop's accounts, moved to a fresh key that nothing links back
# to them (:func:`erased_key`).
ERASED_TEXT: Mapping[str, tuple[str, ...]] = {
    "customers": ("region",),
    "feedback": ("text",),
    "tickets": ("subject", "tags"),
    "refunds": ("reason",),
}
ERASED_KEY_PREFIX = "x_"


def erased_key() -> str:
    """A new random key for an erased person's remaining rows: not derived from anything about them."""
    import secrets

    return ERASED_KEY_PREFIX + secrets.token_hex(10)
