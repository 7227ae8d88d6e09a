"""The warehouse as the web app reads it: read-only, opened only when a result is not already at hand.

A request first asks :meth:`StoreReader.version` which data it would see. The answer comes from the warehouse
file's fingerprint (size, modification time and inode of the DuckDB file and its write-ahead log): any write
changes one of them, and only then is the file opened to read its data version. Results are kept in memory by
(kind, query, data version, time zone), so a warm request neither opens DuckDB nor computes anything, and the
server never holds the warehouse open between requests (an import in another process can always write).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from shoplens.config import Settings
from shoplens.errors import WarehouseError
from shoplens.metrics import MetricQuery, MetricResult, MetricsRunner
from shoplens.warehouse import Warehouse
from shoplens.web._errors import ApiError

NO_STORE = "no store yet: import the store's exports first (shoplens import FILE --profile P, or shoplens demo)"
BUSY = "the store is being updated (an import holds the warehouse); try again in a moment"
RESULTS_KEPT = 256

T = TypeVar("T")
R = TypeVar("R", bound=MetricResult)


class Computation:
    """A result being computed in its own thread: what, since when, and (once done) its value or error."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.started = time.monotonic()
        self.done = threading.Event()
        self.value: Any = None
        self.error: BaseException | None = None


class StillComputingError(Exception):
    """A result asked for with a time limit is still being computed (the computation goes on)."""

    def __init__(self, running: Computation) -> None:
        self.kind = running.kind
        self.seconds = round(time.monotonic() - running.started, 1)
        super().__init__(f"{self.kind} is still being computed ({self.seconds} s so far)")


class StoreReader:
    """Reads one store's warehouse for the web app; shared by every request of the app, thread-safe."""

    def __init__(self, settings: Settings, *, results_kept: int = RESULTS_KEPT) -> None:
        self.settings = settings
        self.results_kept = results_kept
        self._lock = threading.Lock()
        self._version: tuple[tuple[int, ...], int] | None = None
        self._results: OrderedDict[str, Any] = OrderedDict()
        self._running: dict[str, Computation] = {}

    def _fingerprint(self) -> tuple[int, ...]:
        found: list[int] = []
        for path in (self.settings.warehouse_path, Path(f"{self.settings.warehouse_path}.wal")):
            try:
                stat = path.stat()
            except FileNotFoundError:
                found.extend((0, 0, 0))
                continue
            found.extend((stat.st_size, stat.st_mtime_ns, stat.st_ino))
        return tuple(found)

    def version(self) -> int:
        """The data version a request would see now; opens the warehouse only when its files have changed."""
        if not self.settings.warehouse_path.exists():
            raise ApiError(404, "not_found", NO_STORE)
        fingerprint = self._fingerprint()
        with self._lock:
            if self._version is not None and self._version[0] == fingerprint:
                return self._version[1]
        with self.open() as warehouse:
            version = warehouse.data_version
        with self._lock:
            self._version = (fingerprint, version)
        return version

    @contextmanager
    def open(self) -> Iterator[Warehouse]:
        """The warehouse, opened read-only for as long as the block runs."""
        if not self.settings.warehouse_path.exists():
            raise ApiError(404, "not_found", NO_STORE)
        try:
            warehouse = Warehouse(self.settings.warehouse_path, read_only=True)
        except WarehouseError as exc:
            if "lock" in str(exc).lower():
                raise ApiError(503, "busy", BUSY, headers={"Retry-After": "5"}) from None
            raise
        with warehouse:
            yield warehouse

    def runner_for(self, warehouse: Warehouse) -> MetricsRunner:
        """A metrics runner over an open warehouse, with the on-disk result cache the CLI shares."""
        return MetricsRunner.for_warehouse(
            warehouse, store_timezone=self.settings.timezone, cache_dir=self.settings.home / "cache" / "metrics"
        )

    @contextmanager
    def runner(self) -> Iterator[MetricsRunner]:
        """A metrics runner over the warehouse, for as long as the block runs."""
        with self.open() as warehouse:
            yield self.runner_for(warehouse)

    def etag(self, kind: str, described: str, version: int) -> str:
        """A strong validator for a result: what was asked, the data it was computed from and the time zone."""
        text = f"{kind}|{described}|{version}|{self.settings.timezone}"
        return f'"{hashlib.sha256(text.encode()).hexdigest()[:32]}"'

    def _kept(self, key: str) -> tuple[bool, Any]:
        with self._lock:
            if key in self._results:
                self._results.move_to_end(key)
                return True, self._results[key]
        return False, None

    def _keep(self, key: str, value: Any) -> None:
        with self._lock:
            self._results[key] = value
            while len(self._results) > self.results_kept:
                self._results.popitem(last=False)

    def remember(self, kind: str, described: str, version: int, make: Callable[[], T]) -> T:
        """``make()`` for this question and data version, made at most once while kept (nothing is opened)."""
        key = self.etag(kind, described, version)
        found, value = self._kept(key)
        if not found:
            value = make()
            self._keep(key, value)
        return value  # type: ignore[no-any-return]

    def result(
        self,
        kind: str,
        described: str,
        version: int,
        compute: Callable[[Warehouse], T],
        *,
        wait: float | None = None,
    ) -> T:
        """The result of ``compute`` for this question and data version, computed at most once while kept.

        The computation runs in its own thread, and a request asking for a result already being computed waits for
        that one. With ``wait`` (seconds), a result not ready by then raises :class:`StillComputingError` while
        the computation goes on, so a page can say so instead of hanging. Should the data change between asking
        for the version and computing, the result is kept under the version it was really computed from.
        """
        key = self.etag(kind, described, version)
        found, value = self._kept(key)
        if found:
            return value  # type: ignore[no-any-return]
        with self._lock:
            running = self._running.get(key)
            if running is None:
                running = self._running[key] = Computation(kind)
                worker = threading.Thread(target=self._compute, args=(key, described, running, compute), daemon=True)
                worker.start()
        if not running.done.wait(wait):
            raise StillComputingError(running)
        if running.error is not None:
            raise running.error
        return running.value  # type: ignore[no-any-return]

    def _compute(self, key: str, described: str, running: Computation, compute: Callable[[Warehouse], Any]) -> None:
        try:
            with self.open() as warehouse:
                running.value = compute(warehouse)
                computed_from = warehouse.data_version
            self._keep(self.etag(running.kind, described, computed_from), running.value)
        except BaseException as exc:  # handed to every request waiting for this result
            running.error = exc
        finally:
            with self._lock:
                self._running.pop(key, None)
            running.done.set()

    def metric(
        self, query: MetricQuery, result_type: type[R], version: int | None = None, *, wait: float | None = None
    ) -> R:
        """A metric query's typed result, through the memory cache, then the runner (and its disk cache)."""

        def compute(warehouse: Warehouse) -> R:
            return self.runner_for(warehouse).run_as(query, result_type)

        seen = self.version() if version is None else version
        return self.result(query.kind, query.model_dump_json(), seen, compute, wait=wait)


class PageReader:
    """The store as a dashboard page reads it: a result not ready within ``wait`` seconds raises
    :class:`StillComputingError` (the page then says what is being computed and reloads itself)."""

    def __init__(self, store: StoreReader, wait: float) -> None:
        self.store = store
        self.wait = wait
        self.settings = store.settings

    def version(self) -> int:
        return self.store.version()

    def runner_for(self, warehouse: Warehouse) -> MetricsRunner:
        return self.store.runner_for(warehouse)

    def metric(self, query: MetricQuery, result_type: type[R], version: int | None = None) -> R:
        return self.store.metric(query, result_type, version, wait=self.wait)

    def result(self, kind: str, described: str, version: int, compute: Callable[[Warehouse], T]) -> T:
        return self.store.result(kind, described, version, compute, wait=self.wait)
