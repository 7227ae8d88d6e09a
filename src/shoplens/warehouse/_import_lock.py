"""One import at a time per store: a second one waits for the first instead of failing on the warehouse's lock.

The lock is an ``flock`` on ``<home>/.import.lock``, which the kernel releases when the process ends however it
ends, so a killed import never leaves the store locked. The waiting import says so once on stderr and gives up
after ``import_wait_seconds`` with a message that names neither a process nor a program.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from shoplens.errors import WarehouseError

LOCK_FILE = ".import.lock"
WAITING_MESSAGE = "waiting for another import to finish…"
POLL_SECONDS = 0.2


@contextmanager
def import_lock(home: Path, *, wait_seconds: float, notify: Callable[[str], None]) -> Iterator[None]:
    """Hold the store's import lock, waiting up to ``wait_seconds`` for another import to finish."""
    handle = os.open(home / LOCK_FILE, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        deadline = time.monotonic() + wait_seconds
        told = False
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise WarehouseError(
                        f"another import is still running after {wait_seconds:g} s; try again when it has finished "
                        "(or raise import_wait_seconds)"
                    ) from None
                if not told:
                    notify(WAITING_MESSAGE)
                    told = True
                time.sleep(POLL_SECONDS)
        yield
    finally:
        os.close(handle)


def import_running(home: Path) -> bool:
    """Whether an import holds the store's import lock now."""
    path = home / LOCK_FILE
    if not path.exists():
        return False
    handle = os.open(path, os.O_RDWR | os.O_CLOEXEC)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(handle)
    return False
