"""Results kept in memory, each computed once however many callers ask for it meanwhile.

A long-running process (the web app) keeps the answers it computed by key — the question, the data version and the
store's time zone — so a question seen before is answered without opening the warehouse. A result still being
computed is not computed twice: later callers wait for the first computation, which runs in its own thread, so a
caller with a time limit can give up waiting (:class:`StillComputingError`) while the work goes on.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar

RESULTS_KEPT = 256
T = TypeVar("T")


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


class ResultStore:
    """The last ``kept`` results by key; thread-safe, shared by every request of a process."""

    def __init__(self, kept: int = RESULTS_KEPT) -> None:
        self.kept = kept
        self._lock = threading.Lock()
        self._results: OrderedDict[str, Any] = OrderedDict()
        self._running: dict[str, Computation] = {}

    def get(self, key: str) -> tuple[bool, Any]:
        with self._lock:
            if key in self._results:
                self._results.move_to_end(key)
                return True, self._results[key]
        return False, None

    def put(self, key: str, value: Any) -> None:
        with self._lock:
            self._results[key] = value
            while len(self._results) > self.kept:
                self._results.popitem(last=False)

    def remember(self, key: str, make: Callable[[], T]) -> T:
        """``make()`` for ``key``, made in the caller's thread at most once while kept."""
        found, value = self.get(key)
        if not found:
            value = make()
            self.put(key, value)
        return value  # type: ignore[no-any-return]

    def compute(self, key: str, kind: str, make: Callable[[], tuple[T, str]], *, wait: float | None = None) -> T:
        """The value for ``key``, computed at most once while kept, in its own thread.

        ``make`` returns the value and the key to keep it under (the data may have changed between asking and
        computing: the value is kept under the version it was really computed from). With ``wait`` (seconds), a
        value not ready by then raises :class:`StillComputingError` while the computation goes on.
        """
        found, value = self.get(key)
        if found:
            return value  # type: ignore[no-any-return]
        with self._lock:
            running = self._running.get(key)
            if running is None:
                running = self._running[key] = Computation(kind)
                worker = threading.Thread(target=self._run, args=(key, running, make), daemon=True)
                worker.start()
        if not running.done.wait(wait):
            raise StillComputingError(running)
        if running.error is not None:
            raise running.error
        return running.value  # type: ignore[no-any-return]

    def _run(self, key: str, running: Computation, make: Callable[[], tuple[Any, str]]) -> None:
        try:
            running.value, kept_as = make()
            self.put(kept_as, running.value)
        except BaseException as exc:  # handed to every caller waiting for this result
            running.error = exc
        finally:
            with self._lock:
                self._running.pop(key, None)
            running.done.set()
