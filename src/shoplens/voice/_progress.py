"""Where long voice computations report how far they are: a callback ``(step, done, total)`` set by the caller.

The computations run behind the query runner, which knows nothing of terminals; the command line sets a
reporter around its call (progress goes to stderr), and without one nothing is reported.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

Progress = Callable[[str, int, int], None]

_CURRENT: ContextVar[Progress | None] = ContextVar("shoplens_voice_progress", default=None)


@contextmanager
def reporting_progress(progress: Progress | None) -> Iterator[None]:
    """Voice computations started inside this block report to ``progress``."""
    token = _CURRENT.set(progress)
    try:
        yield
    finally:
        _CURRENT.reset(token)


def current_progress() -> Progress | None:
    return _CURRENT.get()


def report(step: str, done: int, total: int) -> None:
    """Tell the current reporter, if any, that ``step`` has ``done`` of ``total`` things done."""
    progress = _CURRENT.get()
    if progress is not None:
        progress(step, done, total)
