"""The event spool: where the collector keeps events, durably, until ``shoplens collect load`` moves them into the
warehouse's ``events`` table.

The spool is a directory of append-only JSON-lines segment files (``events-<time>-<pid>-<random>.jsonl``), one
event in its canonical shape per line. A collector process writes to a segment of its own: it creates the file
under a hidden name, takes an exclusive ``flock`` on it, renames it into place and fsyncs the directory, then
appends each accepted batch with ``os.write`` and ``os.fsync`` before the batch is acknowledged. It never reopens
an old segment, so the torn line a crash may leave can only be the last line of a segment nobody writes to any
more. The lock is released by the kernel when the process ends, however it ends: a segment the loader can lock
is closed.

The loader (:func:`load_spool`, one at a time under ``.load.lock``) reads every segment from the byte offset it
loaded before (``loaded.json``) up to its last complete line. In a closed segment an unterminated last line is a
torn write (never acknowledged: the acknowledgement waits for the fsync of the whole batch): it is quarantined
with its segment and byte offset and counted. A line that is not an event is quarantined the same way. The
events are loaded through the strict table loader, which skips event ids already in the table; only after that
commit are closed segments deleted and the offsets of live ones recorded, so a crash of the loader at any point
loads the same events again on the next run and stores none of them twice.
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from shoplens.errors import WarehouseError
from shoplens.schema import TABLES
from shoplens.warehouse._connection import Warehouse
from shoplens.warehouse._side_tables import load_table_file

SEGMENT_PREFIX = "events-"
SEGMENT_SUFFIX = ".jsonl"
STATE_FILE = "loaded.json"
LOCK_FILE = ".load.lock"
MAX_SEGMENT_BYTES = 64 * 1024 * 1024
# The spool's columns: the events table's, with the shop's customer_id in place of the pseudonymous key (the
# table loader derives the key and never stores the id).
SPOOL_COLUMNS = tuple("customer_id" if c == "customer_key" else c for c in TABLES["events"].column_names)
_REQUIRED = ("event_id", "session_id", "type", "at")


def _fsync_directory(directory: Path) -> None:
    handle = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def _write_all(handle: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(handle, view)
        view = view[written:]


def encode_events(records: Sequence[Mapping[str, Any]]) -> bytes:
    """The JSON lines of ``records`` as the spool stores them."""
    return b"".join(
        json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n" for record in records
    )


class EventSpool:
    """The durable, append-only writer of one collector process (thread-safe)."""

    def __init__(self, directory: Path, *, max_segment_bytes: int = MAX_SEGMENT_BYTES) -> None:
        self.directory = directory
        self.max_segment_bytes = max_segment_bytes
        self._lock = threading.Lock()
        self._handle: int | None = None
        self._size = 0
        self.segment: Path | None = None

    def append(self, records: Sequence[Mapping[str, Any]]) -> None:
        """Write ``records`` and return once they are on disk (fsynced); a WarehouseError if they are not."""
        data = encode_events(records)
        if not data:
            return
        with self._lock:
            try:
                if self._handle is None or (self._size and self._size + len(data) > self.max_segment_bytes):
                    self._open_segment()
                assert self._handle is not None
                try:
                    _write_all(self._handle, data)
                    os.fsync(self._handle)
                except OSError:
                    self._abandon_segment()
                    raise
            except OSError as exc:
                raise WarehouseError(f"cannot write the event spool: {exc.strerror or exc}") from None
            self._size += len(data)

    def _abandon_segment(self) -> None:
        # A failed write may have left part of the batch, never acknowledged. Cutting it off could move bytes
        # under a loader that has read them; instead this segment is closed as it is (its tail is then a torn
        # line the loader quarantines) and the next batch goes to a new one.
        self.close()

    def _open_segment(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        name = f"{SEGMENT_PREFIX}{time.time_ns():020d}-{os.getpid()}-{secrets.token_hex(4)}{SEGMENT_SUFFIX}"
        hidden = self.directory / f".{name}.new"
        handle = os.open(hidden, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX)  # held while this process lives: the loader sees the segment is live
            os.rename(hidden, self.directory / name)
            _fsync_directory(self.directory)
        except OSError:
            os.close(handle)
            raise
        self.close()
        self._handle, self._size, self.segment = handle, 0, self.directory / name

    def close(self) -> None:
        """Close the current segment (it becomes closed for the loader); the next append starts a new one."""
        if self._handle is not None:
            with suppress(OSError):
                os.close(self._handle)
        self._handle, self._size, self.segment = None, 0, None


@dataclass
class SpoolLoad:
    """What one run of the loader did."""

    events_loaded: int = 0  # events new to the warehouse
    duplicates: int = 0  # events read from the spool that were already in the warehouse (or twice in the spool)
    quarantined: int = 0  # torn or unreadable lines, written to the quarantine directory
    segments_removed: int = 0
    quarantine_file: Path | None = None


@dataclass
class _Segment:
    path: Path
    handle: int
    closed: bool
    end: int  # the byte offset loaded through once this run commits


@dataclass
class _Batch:
    events: dict[str, dict[str, Any]] = field(default_factory=dict)
    read: int = 0
    bad: list[dict[str, Any]] = field(default_factory=list)

    def add_line(self, segment: str, offset: int, raw: bytes) -> None:
        try:
            record = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError):
            record = None
        if not isinstance(record, dict) or not all(isinstance(record.get(key), str) for key in _REQUIRED):
            self.quarantine(segment, offset, raw, "not an event (a damaged line)")
            return
        self.read += 1
        self.events.setdefault(record["event_id"], {name: record.get(name) for name in SPOOL_COLUMNS})

    def quarantine(self, segment: str, offset: int, raw: bytes, reason: str) -> None:
        text = raw.decode("utf-8", errors="replace")
        self.bad.append({"segment": segment, "offset": offset, "reason": reason, "line": text})


def _segments(directory: Path) -> list[Path]:
    return sorted(p for p in directory.glob(f"{SEGMENT_PREFIX}*{SEGMENT_SUFFIX}") if p.is_file())


def _read_state(directory: Path) -> dict[str, int]:
    try:
        state = json.loads((directory / STATE_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, json.JSONDecodeError) as exc:
        raise WarehouseError(f"cannot read {directory / STATE_FILE}: {exc}; fix or delete it") from None
    if not isinstance(state, dict) or not all(isinstance(v, int) and v >= 0 for v in state.values()):
        raise WarehouseError(f"{directory / STATE_FILE} must map segment names to byte offsets; fix or delete it")
    return state


def _write_atomically(path: Path, data: bytes) -> None:
    hidden = path.with_name(f".{path.name}.{os.getpid()}.new")
    handle = os.open(hidden, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
    try:
        _write_all(handle, data)
        os.fsync(handle)
    finally:
        os.close(handle)
    os.replace(hidden, path)
    _fsync_directory(path.parent)


@contextmanager
def _loader_lock(directory: Path) -> Iterator[None]:
    handle = os.open(directory / LOCK_FILE, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise WarehouseError("another `shoplens collect load` is running on this spool") from None
        yield
    finally:
        os.close(handle)


def _open_segment(path: Path, offset: int, batch: _Batch) -> _Segment:
    handle = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        closed = True
    except BlockingIOError:
        closed = False  # a collector still appends to it
    size = os.fstat(handle).st_size
    data = os.pread(handle, max(size - offset, 0), offset) if size > offset else b""
    complete = data.rfind(b"\n") + 1
    position = offset
    for line in data[:complete].splitlines(keepends=True):
        if line.strip():
            batch.add_line(path.name, position, line)
        position += len(line)
    end = offset + complete
    if closed and complete < len(data):
        batch.quarantine(path.name, end, data[complete:], "torn last line (a write cut short)")
        end = offset + len(data)
    return _Segment(path, handle, closed, end)


def _remove_stale_new_files(directory: Path) -> None:
    # A collector that died between creating its segment and naming it acknowledged nothing in it.
    for hidden in directory.glob(f".{SEGMENT_PREFIX}*{SEGMENT_SUFFIX}.new"):
        handle = os.open(hidden, os.O_RDONLY | os.O_CLOEXEC)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            hidden.unlink(missing_ok=True)
        except BlockingIOError:
            pass
        finally:
            os.close(handle)


def _write_quarantine(quarantine_dir: Path, bad: list[dict[str, Any]]) -> Path:
    quarantine_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    path = quarantine_dir / f"collect-{stamp}.jsonl"
    _write_atomically(path, encode_events(bad))
    return path


def load_spool(warehouse: Warehouse, directory: Path, secret: bytes, quarantine_dir: Path) -> SpoolLoad:
    """Move the spooled events into ``events`` (see the module's description); safe to run at any time."""
    result = SpoolLoad()
    if not directory.is_dir():
        return result
    with _loader_lock(directory):
        _remove_stale_new_files(directory)
        state = _read_state(directory)
        batch = _Batch()
        segments: list[_Segment] = []
        try:
            for path in _segments(directory):
                segments.append(_open_segment(path, state.get(path.name, 0), batch))
            if batch.bad:
                result.quarantine_file = _write_quarantine(quarantine_dir, batch.bad)
                result.quarantined = len(batch.bad)
            if batch.events:
                load_file = directory / f".load-{os.getpid()}-{secrets.token_hex(4)}.jsonl"
                try:
                    load_file.write_bytes(encode_events(list(batch.events.values())))
                    result.events_loaded = load_table_file(warehouse, "events", load_file, secret)
                finally:
                    load_file.unlink(missing_ok=True)
            result.duplicates = batch.read - result.events_loaded
            # The warehouse has committed: now what was loaded may go.
            for segment in segments:
                if segment.closed:
                    segment.path.unlink()
                    result.segments_removed += 1
            live = {s.path.name: s.end for s in segments if not s.closed}
            if live != state:
                _write_atomically(directory / STATE_FILE, json.dumps(live, sort_keys=True).encode())
            elif result.segments_removed:
                _fsync_directory(directory)
        finally:
            for segment in segments:
                os.close(segment.handle)
    return result
