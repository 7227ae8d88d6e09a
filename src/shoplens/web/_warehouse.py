"""The store as the web app reads it: the one query runner, with a memory of answers shared by every request.

A request first asks :meth:`StoreReader.version` which data it would see (the runner's source reads the
warehouse's change token and opens the warehouse only when it changed). Answers are kept in memory by question,
data version and time zone (:class:`shoplens.queries.ResultStore`), so a warm request neither opens the warehouse
nor computes anything, and the server never holds the warehouse open between requests. This module adds only what
HTTP needs: ETags, and the store's state as status codes (404 before the first import, 503 while one holds the
warehouse); a dashboard page instead learns which question the store could not answer, to say what would fill it.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TypeVar

from shoplens.config import Settings
from shoplens.errors import InputError
from shoplens.queries import NoStoreError, Query, QueryRunner, Result, ResultStore, StillComputingError, StoreBusyError
from shoplens.web._errors import ApiError

RESULTS_KEPT = 256

T = TypeVar("T")
R = TypeVar("R", bound=Result)

__all__ = ["PageReader", "StillComputingError", "StoreReader", "UnansweredError"]


class UnansweredError(Exception):
    """A page's question the store cannot answer from what it holds: ``kind`` is the question's kind, ``reason``
    the runner's own error (its message is what the page shows; the kind says what would fill the page)."""

    def __init__(self, kind: str, reason: InputError) -> None:
        super().__init__(reason.public if isinstance(reason, NoStoreError) else str(reason))  # no server paths
        self.kind = kind
        self.reason = reason


@contextmanager
def _busy_as_http() -> Iterator[None]:
    try:
        yield
    except StoreBusyError as exc:
        raise ApiError(503, "busy", str(exc), headers={"Retry-After": "5"}) from None


@contextmanager
def _as_http() -> Iterator[None]:
    """The store's state as the API's status codes."""
    try:
        with _busy_as_http():
            yield
    except NoStoreError as exc:
        raise ApiError(404, "not_found", exc.public) from None  # the message without the server's path


class StoreReader:
    """Reads one store for the web app; shared by every request of the app, thread-safe.

    With ``warm`` (the dashboard's questions), the first request that sees a new data version — the first after an
    import, or after the server starts — starts computing those answers one after another in a background thread,
    so that the pages visited next find them ready (or already on their way) instead of starting them. A warm-up
    stops when a newer import makes its answers stale; a question the store cannot answer yet is skipped.
    ``warm_more`` gives the questions that depend on those answers (a page per segment), asked after them."""

    def __init__(
        self,
        settings: Settings,
        *,
        results_kept: int = RESULTS_KEPT,
        warm: Sequence[Query] = (),
        warm_more: Callable[[QueryRunner], Sequence[Query]] | None = None,
    ) -> None:
        self.settings = settings
        self.memory = ResultStore(results_kept)
        self.runner = QueryRunner.for_store(settings, memory=self.memory)
        self.warm_queries = tuple(warm)
        self.warm_more = warm_more
        self.warmed: list[str] = []  # the kinds of the last warm-up's answers, in the order they were ready
        self._warming: int | None = None
        self._warm_lock = threading.Lock()
        self._warmer: threading.Thread | None = None

    def version(self) -> int:
        """The data version a request would see now."""
        with _as_http():
            found = int(self.runner.version() or 0)
        if self.warm_queries and found:
            self._warm(found)
        return found

    def _warm(self, version: int) -> None:
        with self._warm_lock:
            if self._warming == version:
                return
            self._warming = version
            self.warmed = []
            self._warmer = threading.Thread(target=self._compute_all, args=(version,), daemon=True, name="warm")
            self._warmer.start()

    def wait_warm(self, timeout: float | None = None) -> bool:
        """Wait for the warm-up to finish (True when it has, or none is running)."""
        warmer = self._warmer
        if warmer is not None:
            warmer.join(timeout)
        return warmer is None or not warmer.is_alive()

    def stop_warming(self, timeout: float | None = None) -> None:
        """Let the warm-up finish the answer it is computing and stop (the server's shutdown waits for it)."""
        with self._warm_lock:
            self._warming = -1
            warmer = self._warmer
        if warmer is not None:
            warmer.join(timeout)

    def _compute_all(self, version: int) -> None:
        if not self._compute(self.warm_queries, version) or self.warm_more is None:
            return
        try:
            more = self.warm_more(self.runner)
        except Exception:  # the answers they depend on cannot be had: those pages compute them when asked
            return
        self._compute(more, version)

    def _compute(self, queries: Sequence[Query], version: int) -> bool:
        """Answer each of ``queries``; False when a newer import stopped this warm-up."""
        for query in queries:
            if self._warming != version:
                return False  # a newer import: its own warm-up has started
            try:
                self.runner.run(query)
            except Exception:  # no events yet, no model fitted, the store busy: that page computes it when asked
                continue
            self.warmed.append(query.kind)
        return True

    def etag(self, kind: str, described: str, version: int) -> str:
        """A strong validator for an answer: what was asked, the data it was computed from and the time zone."""
        text = f"{kind}|{described}|{version}|{self.settings.timezone}"
        return f'"{hashlib.sha256(text.encode()).hexdigest()[:32]}"'

    def remember(self, kind: str, described: str, version: int, make: Callable[[], T]) -> T:
        """``make()`` (the rendering of an answer) for this question and data version, made once while kept."""
        return self.memory.remember(self.etag(kind, described, version), make)

    def answer(self, query: Query, result_type: type[R], *, wait: float | None = None) -> R:
        """The typed answer to ``query`` (see :meth:`shoplens.queries.QueryRunner.run`)."""
        with _as_http():
            return self.runner.run(query, result_type, wait=wait)


class PageReader:
    """The store as a dashboard page reads it: an answer not ready within ``wait`` seconds raises
    :class:`StillComputingError` (the page then says what is being computed and reloads itself)."""

    def __init__(self, store: StoreReader, wait: float) -> None:
        self.store = store
        self.wait = wait
        self.settings = store.settings

    def version(self) -> int:
        return self.store.version()

    def answer(self, query: Query, result_type: type[R]) -> R:
        """The answer, or :class:`UnansweredError` naming the question when the store cannot answer it (no
        store yet, no orders, no data of the kind the question needs, or a bad value)."""
        try:
            with _busy_as_http():
                return self.store.runner.run(query, result_type, wait=self.wait)
        except InputError as exc:
            raise UnansweredError(query.kind, exc) from exc
