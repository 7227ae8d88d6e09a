"""Pseudonymous customer keys: a keyed hash (HMAC-SHA256) of the source customer id with the store secret.

Keys are computed from the id exactly as given (the importer has already trimmed it). The same customer
id always gets the same key in one store, keys cannot be reversed or recomputed
without the secret, and two stores never share keys. The importer computes the same HMAC inside its staging
database (``shoplens.warehouse.customer_key_sql``, millions of ids in parallel) from :func:`hmac_pads`;
:func:`customer_key` is the function in Python, and a test holds the two equal.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable

KEY_PREFIX = "c_"
KEY_HEX_CHARS = 20  # 80 bits: no collision expected below ~10^11 customers
_BLOCK = 64  # SHA-256 block size in bytes (RFC 2104)
# An e-mail identifies a customer only when it looks like one: an "n/a" or an empty field must not join everyone
# who left it so. The importer applies the same rule in SQL (``shoplens.warehouse`` ``email_identity_sql``).
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


def email_identity(email: str) -> str | None:
    """The normalised e-mail a customer's key is the hash of: spaces trimmed, lower-cased; None when it is not an
    e-mail address. Exactly what the importer computes, so a person is found by the e-mail they give."""
    normalised = email.strip(" ").lower()
    return normalised if re.match(EMAIL_PATTERN, normalised) else None


def customer_key(secret: bytes, source_customer_id: str) -> str:
    digest = hmac.new(secret, source_customer_id.encode(), hashlib.sha256).hexdigest()
    return KEY_PREFIX + digest[:KEY_HEX_CHARS]


def customer_keys(secret: bytes, source_customer_ids: Iterable[str]) -> list[str]:
    return [customer_key(secret, value) for value in source_customer_ids]


def hmac_pads(secret: bytes) -> tuple[bytes, bytes]:
    """The HMAC inner and outer padded keys; pass them as query parameters, never in SQL text."""
    key = hashlib.sha256(secret).digest() if len(secret) > _BLOCK else secret
    block = key.ljust(_BLOCK, b"\0")
    return bytes(b ^ 0x36 for b in block), bytes(b ^ 0x5C for b in block)
