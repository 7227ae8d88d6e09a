"""Where a runner reads from: the store's warehouse (opened read-only per computation) or a bare Ibis backend.

A store's data version is asked for often (every web request) and opening the warehouse for it each time would be
wasteful: :class:`StoreSource` keeps the version it read together with the warehouse's change token
(:func:`shoplens.warehouse.change_token`: for a DuckDB file the fingerprint of the file and its write-ahead log,
read without opening it) and opens the warehouse again only when the token changed. The warehouse is never held
open between computations, so an import in another process can always write.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from shoplens.config import Settings
from shoplens.errors import InputError, ShoplensError, WarehouseError
from shoplens.warehouse import HELD_BY_ANOTHER, change_token, connect

NO_STORE = (
    "no store in {home} yet: import the store's exports first (shoplens import FILE --profile P, or shoplens demo)"
)
NO_STORE_PUBLIC = (
    "no data in this store yet: import the store's exports first (shoplens import FILE --profile P, or shoplens demo)"
)
BUSY = "the store is being updated (an import holds the warehouse); try again in a moment"


class NoStoreError(InputError):
    """The home holds no warehouse yet. ``public`` says so without the home's path (for the web, which must not
    show where the server keeps its files)."""

    def __init__(self, home: object) -> None:
        super().__init__(NO_STORE.format(home=home))
        self.public = NO_STORE_PUBLIC


class StoreBusyError(WarehouseError):
    """An import holds the warehouse; a reader should try again shortly."""


@dataclass(frozen=True)
class Opened:
    """An open backend with the canonical tables, and the data version it shows (None: not versioned)."""

    backend: Any
    data_version: int | None
    database: str | None = None


class Source(Protocol):
    def version(self) -> int | None: ...

    def open(self) -> AbstractContextManager[Opened]: ...


class BackendSource:
    """A fixed Ibis backend (tests, notebooks, parity across engines); versioned only when told its version."""

    def __init__(self, backend: Any, *, database: str | None = None, data_version: int | None = None) -> None:
        self.backend = backend
        self.database = database
        self.data_version = data_version

    def version(self) -> int | None:
        return self.data_version

    @contextmanager
    def open(self) -> Iterator[Opened]:
        yield Opened(self.backend, self.data_version, self.database)


class StoreSource:
    """The warehouse of a store home (wherever its settings put it), read-only; thread-safe."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._seen: tuple[str, int] | None = None

    def version(self) -> int:
        """The data version a reader would see now; opens the warehouse only when its change token moved."""
        try:
            token = change_token(self.settings)  # a DuckDB file: its fingerprint, nothing opened
        except WarehouseError as exc:
            raise self._no_store_or(exc) from None
        with self._lock:
            if self._seen is not None and self._seen[0] == token:
                return self._seen[1]
        with self.open() as opened:
            version = int(opened.data_version or 0)
        with self._lock:
            self._seen = (token, version)
        return version

    def _no_store_or(self, exc: WarehouseError) -> ShoplensError:
        """A warehouse that cannot be opened: not there yet, held by an import, or the error itself."""
        message = str(exc)
        if message.startswith("no warehouse"):
            return NoStoreError(self.settings.home)
        if HELD_BY_ANOTHER in message or "lock" in message.lower():  # DuckDB's file lock; PostgreSQL's lock timeout
            return StoreBusyError(BUSY)
        return exc

    @contextmanager
    def open(self) -> Iterator[Opened]:
        try:
            warehouse = connect(self.settings, read_only=True)
        except WarehouseError as exc:
            raise self._no_store_or(exc) from None
        with warehouse:
            yield Opened(warehouse.backend, warehouse.data_version)
