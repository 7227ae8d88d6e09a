"""The warehouse, wherever the store's settings put it: a DuckDB file in the home, PostgreSQL, or Spark.

:func:`connect` opens the one the settings name (``warehouse_url``; absent = ``<home>/warehouse.duckdb``).
Analytics only ever see :attr:`Warehouse.backend`, an Ibis backend over the canonical tables, so the same
expressions run on every engine. Everything engine-specific (DDL, bulk loads, the data version) stays in
this package.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

import duckdb
import ibis

from shoplens.config import Settings, VaultKeySource
from shoplens.errors import WarehouseError
from shoplens.privacy import VaultKeys
from shoplens.warehouse._changes import TableChange
from shoplens.warehouse._ddl import EngineName
from shoplens.warehouse._duckdb_file import DuckDBFile, file_fingerprint
from shoplens.warehouse._postgres import PostgresWarehouse, store_schema
from shoplens.warehouse._spark import SparkWarehouse
from shoplens.warehouse._vault_store import load_vault_keys, needs_sealing, seal_plain_vault

EngineStore = DuckDBFile | PostgresWarehouse | SparkWarehouse
RemoteStore = PostgresWarehouse | SparkWarehouse


class Warehouse:
    """An open warehouse. Use as a context manager; analytics get :attr:`backend`, never a raw connection.

    ``Warehouse(path)`` opens (and creates) a DuckDB file; :func:`connect` opens whatever the settings name.
    The vault key comes from ``key_source``; by default the key file next to a DuckDB file (its store's home).
    """

    def __init__(self, path: Path, *, read_only: bool = False, key_source: VaultKeySource | None = None) -> None:
        self.store: EngineStore = DuckDBFile(path, read_only=read_only)
        self.key_source = key_source or VaultKeySource(path.parent)
        self._vault_keys: VaultKeys | None = None

    @classmethod
    def of(cls, store: EngineStore, key_source: VaultKeySource) -> Warehouse:
        warehouse = cls.__new__(cls)
        warehouse.store = store
        warehouse.key_source = key_source
        warehouse._vault_keys = None
        return warehouse

    def vault_keys(self) -> VaultKeys:
        """The keys of the vault, loaded and checked against it on first use (a VaultKeyError when they are
        missing or wrong); a vault with nothing encrypted yet gets its key file here."""
        if self._vault_keys is None:
            self._vault_keys = load_vault_keys(self.backend, self.key_source)
        return self._vault_keys

    def forget_vault_keys(self) -> None:
        """Load the keys again on next use (after a rotation)."""
        self._vault_keys = None

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    @property
    def engine(self) -> EngineName:
        return self.store.engine

    @property
    def backend(self) -> ibis.BaseBackend:
        """An Ibis backend over the canonical tables."""
        return self.store.backend

    @property
    def location(self) -> str:
        """Where the warehouse is, fit to print (a password in a URL is never shown)."""
        return self.store.describe()

    @property
    def data_version(self) -> int:
        """Bumped by every change of data, so cached results know when they are stale; kept in the warehouse."""
        return self.store.data_version()

    def change_token(self) -> str:
        """A cheap token that changes whenever the data may have changed (the file's fingerprint for DuckDB)."""
        return self.store.change_token()

    def row_counts(self) -> dict[str, int]:
        return self.store.row_counts()

    def apply_changes(self, changes: Sequence[TableChange]) -> None:
        """Replace and append rows of canonical tables and bump the data version (one transaction where the
        engine has them)."""
        self.store.apply([change for change in changes if not change.empty])

    def bump_data_version(self) -> int:
        """Mark the data as changed (cached results go stale); return the new version."""
        self.store.apply([])
        return self.data_version

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        """The DuckDB connection of a DuckDB-file warehouse (the import pipeline works in it)."""
        if not isinstance(self.store, DuckDBFile):
            raise WarehouseError(f"the warehouse on {self.engine} has no DuckDB connection; use .backend")
        return self.store.con

    def scalar(self, sql: str, params: Sequence[object] | None = None) -> object:
        """The first value of a DuckDB query on a DuckDB-file warehouse (for tests and tools; analytics use Ibis)."""
        rows = self.con.execute(sql, list(params or [])).fetchall()
        return rows[0][0] if rows else None

    def close(self) -> None:
        self.store.close()


def connect(settings: Settings, *, read_only: bool = False) -> Warehouse:
    """Open the store's warehouse: the DuckDB file in the home unless ``settings.warehouse_url`` names another.

    ``read_only`` opens an existing warehouse for reading and raises :class:`WarehouseError` when there is none.
    A store from before the vault was encrypted is encrypted in place on its first open (a read-only open
    opens it for writing once to do so).
    """
    warehouse = _open(settings, read_only=read_only)
    try:
        if not read_only:
            seal_plain_vault(warehouse, settings.store_secret())
            return warehouse
        # A DuckDB store last written by this version is known to be sealed: no scan of the whole vault (0.2 s for
        # 276,772 customers) on every read-only open.
        known = isinstance(warehouse.store, DuckDBFile) and warehouse.store.vault_known_sealed()
        if not needs_sealing(warehouse.backend, known_sealed=known):
            return warehouse
    except BaseException:
        warehouse.close()
        raise
    warehouse.close()
    with _open(settings, read_only=False) as writable:
        seal_plain_vault(writable, settings.store_secret())
    return _open(settings, read_only=True)


def _open(settings: Settings, *, read_only: bool) -> Warehouse:
    url = settings.warehouse_url
    keys = settings.vault_key_source()
    if url is None:
        return Warehouse(settings.warehouse_path, read_only=read_only, key_source=keys)
    if url.startswith(("postgresql://", "postgresql+psycopg://")):
        schema = store_schema(url, settings.store_secret())
        return Warehouse.of(PostgresWarehouse(url, schema=schema, read_only=read_only), keys)
    if url.startswith(("spark://", "sc://")):
        return Warehouse.of(SparkWarehouse(url, settings.home, read_only=read_only), keys)
    raise WarehouseError(f"unknown warehouse URL {url.split('://', 1)[0]}://…; see shoplens --help")


def change_token(settings: Settings) -> str:
    """:meth:`Warehouse.change_token` of the store's warehouse; for a DuckDB file it opens nothing."""
    if settings.warehouse_url is None:
        return file_fingerprint(settings.warehouse_path)
    with connect(settings, read_only=True) as warehouse:
        return warehouse.change_token()


def warehouse_exists(settings: Settings) -> bool:
    """Whether the store has a warehouse yet (for a DuckDB file, without opening it)."""
    if settings.warehouse_url is None:
        return settings.warehouse_path.exists()
    try:
        connect(settings, read_only=True).close()
    except WarehouseError as exc:
        if str(exc).startswith("no warehouse"):
            return False
        raise
    return True
