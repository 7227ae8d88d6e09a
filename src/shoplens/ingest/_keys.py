"""Pseudonymous customer keys: a keyed hash (HMAC-SHA256) of the source customer id with the store secret.

The same customer id always gets the same key in one store, keys cannot be reversed or recomputed
without the secret, and two stores never share keys.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

KEY_PREFIX = "c_"
KEY_HEX_CHARS = 20  # 80 bits: no collision expected below ~10^11 customers


def customer_key(secret: bytes, source_customer_id: str) -> str:
    digest = hmac.new(secret, source_customer_id.strip().encode(), hashlib.sha256).hexdigest()
    return KEY_PREFIX + digest[:KEY_HEX_CHARS]


def customer_keys(secret: bytes, source_customer_ids: Iterable[str]) -> list[str]:
    return [customer_key(secret, value) for value in source_customer_ids]
