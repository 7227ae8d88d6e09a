"""The vault's encryption and its lookup hashes; the only module that holds the vault key.

Every personal value is sealed alone with AES-256-GCM (authenticated: a changed byte fails to open, it is never
read as another value) under a fresh random 96-bit nonce, so equal values give unrelated ciphertexts. The value's
row and column are the associated data, so a ciphertext moved to another customer or field does not open either.
A sealed value is text::

    sv1.<key id: 8 hex>.<base64url of nonce (12 bytes) + ciphertext + tag (16 bytes)>

``sv1`` is the format's version; the key id (a hash of the key, not the key) tells which key sealed it, so a
rotated or wrong key is recognised without trying it. Lookups never decrypt: they compare keyed hashes
(:func:`keyed_hash`, HMAC-SHA256 with the store secret of a field's normalised value, the same the importer
computes in SQL).

Callers pass in the keys (:class:`VaultKeys`); this module reads no file and opens no connection.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pyarrow as pa
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from shoplens.errors import VaultKeyError

SEALED_PREFIX = "sv1."
KEY_ID_CHARS = 8
NONCE_BYTES = 12
AES_256_KEY_BYTES = 32
_KEY_ID_CONTEXT = b"shoplens vault key id\x1f"
_AAD_SEPARATOR = "\x1f"
_URLSAFE = bytes.maketrans(b"+/", b"-_")  # base64 to base64url (bytes.translate: str.translate is 9x slower)


def key_id(key: bytes) -> str:
    """A short public name of a key: a hash of it, from which the key cannot be found."""
    return hashlib.sha256(_KEY_ID_CONTEXT + key).hexdigest()[:KEY_ID_CHARS]


@dataclass(frozen=True)
class VaultKeys:
    """The key new values are sealed with, and older keys still accepted for opening (a rotation cut short).

    ``where`` says where the key came from (a file, an environment variable), for error messages only."""

    current: bytes
    older: tuple[bytes, ...] = ()
    where: str = "given"

    def __post_init__(self) -> None:
        if any(len(key) != AES_256_KEY_BYTES for key in (self.current, *self.older)):
            raise VaultKeyError(f"the vault key {self.where} is not 32 bytes")

    @property
    def current_id(self) -> str:
        return key_id(self.current)

    def ids(self) -> set[str]:
        return {key_id(key) for key in (self.current, *self.older)}

    def rotated(self, new_key: bytes) -> VaultKeys:
        """Keys that seal with ``new_key`` and still open what these open (for a rotation in progress)."""
        return VaultKeys(new_key, (self.current, *self.older), self.where)


def is_sealed(text: str | None) -> bool:
    return text is not None and text.startswith(SEALED_PREFIX)


def sealed_key_id(text: str) -> str | None:
    """The id of the key that sealed ``text``; None when it is not a sealed value."""
    if not is_sealed(text):
        return None
    return text[len(SEALED_PREFIX) : len(SEALED_PREFIX) + KEY_ID_CHARS]


def _aad(customer_key: str, column: str) -> bytes:
    return f"{customer_key}{_AAD_SEPARATOR}{column}".encode()


class _Cipher:
    """AES-GCM objects per key id, made once per batch of values."""

    def __init__(self, keys: VaultKeys) -> None:
        self.keys = keys
        self.sealing = AESGCM(keys.current)
        self.sealing_id = keys.current_id
        self.prefix = f"{SEALED_PREFIX}{self.sealing_id}.".encode()  # of every text this cipher seals
        self.opening = {key_id(key): AESGCM(key) for key in (keys.current, *keys.older)}

    def seal(self, value: str, customer_key: str, column: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        body = nonce + self.sealing.encrypt(nonce, value.encode(), _aad(customer_key, column))
        return (self.prefix + _base64url_bytes(body)).decode()

    def open(self, text: str, customer_key: str, column: str) -> str:
        sealed_with = sealed_key_id(text)
        if sealed_with is None:
            raise VaultKeyError(
                f"the vault holds a {column} value that is not encrypted; open the store for writing "
                "(shoplens import, or shoplens privacy rotate-key) to encrypt it"
            )
        cipher = self.opening.get(sealed_with)
        if cipher is None:
            raise self.cannot_decrypt(f"it was encrypted with key {sealed_with}")
        body_text = text[len(SEALED_PREFIX) + KEY_ID_CHARS + 1 :]
        try:
            body = base64.urlsafe_b64decode(body_text + "=" * (-len(body_text) % 4))
            plain = cipher.decrypt(body[:NONCE_BYTES], body[NONCE_BYTES:], _aad(customer_key, column))
        except (InvalidTag, binascii.Error, ValueError):
            raise self.cannot_decrypt("a value fails its authentication") from None
        return plain.decode()

    def cannot_decrypt(self, why: str) -> VaultKeyError:
        return VaultKeyError(
            f"the vault key {self.keys.where} cannot decrypt the vault ({why}); restore the key from a backup"
        )


def seal(keys: VaultKeys, value: str, *, customer_key: str, column: str) -> str:
    """``value`` encrypted for ``column`` of ``customer_key``'s vault row."""
    return _Cipher(keys).seal(value, customer_key, column)


def open_sealed(keys: VaultKeys, text: str, *, customer_key: str, column: str) -> str:
    """The value ``text`` seals; a VaultKeyError (no value in it) when these keys cannot open it."""
    return _Cipher(keys).open(text, customer_key, column)


def check_keys(keys: VaultKeys, sample: tuple[str, str, str] | None) -> None:
    """Fail now, before anything is written with them, when ``keys`` cannot open ``sample`` (customer key,
    column, sealed text: any one value of the vault)."""
    if sample is not None:
        customer_key, column, text = sample
        open_sealed(keys, text, customer_key=customer_key, column=column)


def seal_columns(keys: VaultKeys, rows: pa.Table, columns: Sequence[str], *, key_column: str) -> pa.Table:
    """``rows`` with each of ``columns`` sealed (NULL stays NULL); ``key_column`` names each row's customer key.

    The same text as :meth:`_Cipher.seal` value by value, made for a whole column at once (an import seals
    millions): the nonces are drawn from the system's random source in one call and cut into 12-byte pieces,
    each row's customer key is encoded once for all its columns, and the loop calls only the cipher."""
    cipher = _Cipher(keys)
    encrypt, prefix = cipher.sealing.encrypt, cipher.prefix
    key_prefixes = [f"{key}{_AAD_SEPARATOR}".encode() for key in rows.column(key_column).to_pylist()]
    for column in columns:
        index = rows.schema.get_field_index(column)
        values = rows.column(index).to_pylist()
        nonces = os.urandom(NONCE_BYTES * len(values))
        suffix = column.encode()
        # As bytes, made text by one vectorised cast: a list of str becomes an Arrow array 10x slower.
        sealed = [
            None
            if value is None
            else prefix
            + _base64url_bytes(
                (nonce := nonces[row * NONCE_BYTES : row * NONCE_BYTES + NONCE_BYTES])
                + encrypt(nonce, str(value).encode(), key_prefixes[row] + suffix)
            )
            for row, value in enumerate(values)
        ]
        rows = rows.set_column(index, column, pa.array(sealed, pa.binary()).cast(pa.string()))
    return rows


def _base64url_bytes(body: bytes) -> bytes:
    return binascii.b2a_base64(body, newline=False).translate(_URLSAFE).rstrip(b"=")


def open_columns(keys: VaultKeys, rows: pa.Table, columns: Sequence[str], *, key_column: str) -> pa.Table:
    """``rows`` with each of ``columns`` opened (NULL stays NULL)."""
    return _map_columns(rows, columns, key_column, _Cipher(keys).open)


def _map_columns(
    rows: pa.Table, columns: Sequence[str], key_column: str, change: Callable[[str, str, str], str]
) -> pa.Table:
    customer_keys = rows.column(key_column).to_pylist()
    for column in columns:
        index = rows.schema.get_field_index(column)
        values = rows.column(index).to_pylist()
        changed = [
            None if value is None else change(str(value), str(key), column)
            for value, key in zip(values, customer_keys, strict=True)
        ]
        rows = rows.set_column(index, column, pa.array(changed, pa.string()))
    return rows


def keyed_hash(secret: bytes, field: str, normalised: str) -> str:
    """The lookup hash of a field's normalised value: HMAC-SHA256 with the store secret of ``field:value``, in
    hexadecimal. The field's name keeps one field's hash from matching another's (an e-mail and a shop id)."""
    return hmac.new(secret, f"{field}:{normalised}".encode(), hashlib.sha256).hexdigest()
