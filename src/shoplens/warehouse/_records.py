"""One streaming pass over a CSV file's records before DuckDB reads it, in bounded memory.

Hostile exports break a CSV reader in ways that lose records or memory: a field of 100 MB, an unterminated
quote that swallows the rest of the file, millions of empty lines, a gzip bomb, UTF-16 text. This pass reads the
file once in chunks of :data:`CHUNK_BYTES`, finds where each record ends (a line end outside quotes) and writes
the records DuckDB can read to a UTF-8 (or the dialect's encoding) copy, keeping aside:

* **empty records** (lines with nothing but a line end): skipped and counted, never quarantined;
* **records longer than** ``max_record_bytes``: quarantined with their record number ("record longer than N
  bytes"), their bytes skipped without being held;
* **an unterminated quote**: a quoted record that spans lines but does not close into the header's number of
  fields (or reaches the end of the file, or the length limit, still open) is taken to be its first line's
  stray quote: that line is quarantined and the pass starts again at the next line;
* **UTF-16** (told by its byte-order mark): transcoded to UTF-8 as it streams;
* **compressed size**: a gzip file that expands more than ``max_expansion`` times (once past
  :data:`EXPANSION_GRACE_BYTES`) or past ``max_decompressed_bytes`` stops the import with a one-line error.

Memory is bounded by about ``max_record_bytes`` plus two chunks, whatever the file holds. Record numbers are
those of the original file (data records from 1); :class:`RecordMap` maps the copy's record ordinals back.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import re
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import numpy as np

from shoplens.config import DEFAULT_IMPORT_MEMORY_BYTES
from shoplens.errors import UnreadableFileError

CHUNK_BYTES = 1024 * 1024
DEFAULT_MAX_RECORD_BYTES = 4 * 1024 * 1024
DEFAULT_MAX_EXPANSION = 1000
DEFAULT_MAX_DECOMPRESSED_BYTES = 64 * 1024**3
EXPANSION_GRACE_BYTES = 1024**3  # a small file may compress very well; the ratio is judged past this much
UTF16_BOMS = {codecs.BOM_UTF16_LE: "utf-16-le", codecs.BOM_UTF16_BE: "utf-16-be"}
_NON_BLANK = re.compile(rb"[^\r\n]")
_BLANK_LINE = re.compile(rb"\n\r*\n")  # a blank line after the first of a segment (see _lines)
_NOT_QUOTE_OR_LINE_END = bytes(b for b in range(256) if b not in b'"\n')


@dataclass(frozen=True)
class ReadLimits:
    """How much of a file an import accepts (``import_max_*`` settings)."""

    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES
    max_expansion: int = DEFAULT_MAX_EXPANSION
    max_decompressed_bytes: int = DEFAULT_MAX_DECOMPRESSED_BYTES
    memory_limit_bytes: int | None = DEFAULT_IMPORT_MEMORY_BYTES  # DuckDB's while importing (None: its own default)


@dataclass(frozen=True)
class PassReject:
    record: int
    reason: str
    byte_offset: int


class RecordMap:
    """Original record numbers of the records written to the copy, as runs (the copy's ordinal → original)."""

    def __init__(self) -> None:
        self._starts = array("q")  # the copy's ordinal (1-based) where a run starts
        self._shifts = array("q")  # original number minus the copy's ordinal in that run

    def add(self, ordinal: int, original: int) -> None:
        shift = original - ordinal
        if not self._shifts or self._shifts[-1] != shift:
            self._starts.append(ordinal)
            self._shifts.append(shift)

    def original(self, ordinals: np.ndarray) -> np.ndarray:
        if not self._starts:
            return ordinals.astype(np.int64)
        starts = np.frombuffer(self._starts, dtype=np.int64)
        shifts = np.frombuffer(self._shifts, dtype=np.int64)
        run = np.clip(np.searchsorted(starts, ordinals, side="right") - 1, 0, None)
        return ordinals.astype(np.int64) + shifts[run]


@dataclass
class CleanPass:
    """What the pass wrote and what it kept aside."""

    records_written: int = 0
    empty_records: int = 0
    rejects: list[PassReject] = field(default_factory=list)
    record_map: RecordMap = field(default_factory=RecordMap)
    transcoded_from: str | None = None


class _Utf8Reader(io.RawIOBase):
    """A binary stream of a UTF-16 stream's text as UTF-8, decoded as it is read."""

    def __init__(self, raw: IO[bytes], encoding: str) -> None:
        self._raw = raw
        self._decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
        self._pending = b""
        self._done = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        while not self._pending and not self._done:
            chunk = self._raw.read(CHUNK_BYTES)
            self._done = not chunk
            self._pending = self._decoder.decode(chunk, final=self._done).encode("utf-8")
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size


class _Guarded(io.RawIOBase):
    """A decompressed stream that stops with an error when it expands beyond the limits."""

    def __init__(self, path: Path, limits: ReadLimits) -> None:
        self._path = path
        self._file = path.open("rb")
        self._inner = gzip.GzipFile(fileobj=self._file, mode="rb")
        self._limits = limits
        self._out = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        try:
            size = self._inner.readinto(buffer)
        except (OSError, EOFError, gzip.BadGzipFile) as exc:
            raise UnreadableFileError(f"not a readable gzip file ({exc})") from None
        self._out += size
        limits = self._limits
        if self._out > limits.max_decompressed_bytes:
            raise UnreadableFileError(
                f"decompresses to more than {limits.max_decompressed_bytes:,} bytes (import_max_decompressed_bytes)"
            )
        if self._out > EXPANSION_GRACE_BYTES and self._out > limits.max_expansion * max(self._file.tell(), 1):
            raise UnreadableFileError(
                f"expands more than {limits.max_expansion} times when decompressed, like a "
                "compression bomb (import_max_expansion)"
            )
        return size

    def close(self) -> None:
        self._inner.close()
        self._file.close()
        super().close()


def open_text_bytes(path: Path, limits: ReadLimits | None = None) -> tuple[IO[bytes], str | None]:
    """The file's bytes, decompressed and, for UTF-16 (by its byte-order mark), as UTF-8; and the encoding it was
    transcoded from (None when the bytes are the file's own)."""
    raw: IO[bytes]
    if path.suffix.lower() == ".gz":
        raw = io.BufferedReader(_Guarded(path, limits or ReadLimits()), CHUNK_BYTES)
    else:
        raw = path.open("rb")
    try:
        head = raw.peek(2)[:2] if isinstance(raw, io.BufferedReader) else b""
    except UnreadableFileError:
        raw.close()
        raise
    encoding = UTF16_BOMS.get(head)
    if encoding is None:
        return raw, None
    raw.read(2)
    return io.BufferedReader(_Utf8Reader(raw, encoding), CHUNK_BYTES), encoding


def _chunks(source: IO[bytes]) -> Iterator[bytes]:
    while chunk := source.read(CHUNK_BYTES):
        yield chunk


def _odd_quotes_on_a_line(segment: bytes) -> bool:
    """Whether a line of ``segment`` has an odd number of quotes (a quoted field open across lines), in C: with
    only its quotes and line ends kept and each pair of quotes dropped, a line keeps one quote exactly when it had
    an odd number."""
    return b'"' in segment.translate(None, _NOT_QUOTE_OR_LINE_END).replace(b'""', b"")


def _field_count(record: bytes, delimiter: str) -> int:
    """How many fields a record spanning lines has; -1 when it is not one record (a quote out of place: text after
    a closing one, or one inside an unquoted field, which opens nothing)."""
    text = record.decode("utf-8", errors="replace").rstrip("\r\n")
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True))
    except csv.Error:
        return -1
    return len(rows[0]) if len(rows) == 1 else -1


class _Scanner:
    """The state of one pass (see the module's description)."""

    OPEN_TOO_LONG = "unterminated quote (or a quoted field longer than the record limit)"

    def __init__(self, out: IO[bytes], columns: int, delimiter: str, limits: ReadLimits) -> None:
        self.out = out
        self.columns = columns
        self.delimiter = delimiter
        self.limit = limits.max_record_bytes
        self.result = CleanPass()
        self.record = 0  # the original number of the last record seen
        self.offset = 0  # byte offset (in the decoded stream) of the buffer's start
        self.skipping = False  # inside a too-long record whose bytes are dropped
        self.skip_quotes = 0
        self.pending: list[bytes] = []  # a quoted record's lines (when it spans lines)
        self.pending_bytes = 0
        self.pending_quotes = 0
        self.pending_offset = 0
        self.replay = b""  # bytes to read again after a restart, before any further input
        self.too_long = f"record longer than {self.limit:,} bytes"

    def _empty(self, count: int) -> None:
        """Empty records are skipped, but keep their numbers: a record's number is its place in the file."""
        self.result.empty_records += count
        self.record += count

    def reject(self, reason: str, offset: int) -> None:
        self.record += 1
        self.result.rejects.append(PassReject(self.record, reason, offset))

    def write(self, data: bytes, records: int) -> None:
        """Write ``records`` whole records; the first of them is the next original record."""
        result = self.result
        result.record_map.add(result.records_written + 1, self.record + 1)
        self.out.write(data)
        result.records_written += records
        self.record += records

    def feed(self, buf: bytes) -> bytes:
        """Take the records that end in ``buf``; return the unfinished tail (to come again with more bytes).

        After a restart (see :meth:`_restart`) the rest of ``buf`` is left in ``replay`` instead."""
        pos, size = 0, len(buf)
        while pos < size:
            if self.skipping:
                pos = self._skip(buf, pos)
                continue
            if self.pending:
                pos, tail = self._pending_line(buf, pos)
                if tail is not None:
                    return tail
                continue
            blank = _NON_BLANK.search(buf, pos)
            if blank is None:
                self._empty(buf.count(b"\n", pos))
                self.offset += size - pos
                return b""
            start = buf.rfind(b"\n", pos, blank.start()) + 1
            if start > pos:
                self._empty(buf.count(b"\n", pos, start))
                self.offset += start - pos
                pos = start
            end = buf.rfind(b"\n", pos) + 1
            if end == 0:
                return self._tail(buf, pos)
            pos = self._lines(buf, pos, end)
            if pos < 0:
                return b""
        return b""

    def _pending_line(self, buf: bytes, pos: int) -> tuple[int, bytes | None]:
        """The next line of a record open in quotes: where to go on, and the tail to return when ``buf`` is done
        with (its last line unfinished, or a restart that left the rest of ``buf`` in ``replay``)."""
        newline = buf.find(b"\n", pos)
        if newline < 0:
            if self.pending_bytes + len(buf) - pos <= self.limit:
                return pos, buf[pos:]
            self._restart(self.OPEN_TOO_LONG)
            self.replay += buf[pos:]
            return pos, b""
        if not self._continue(buf[pos : newline + 1]):
            self.replay += buf[newline + 1 :]
            return pos, b""
        return newline + 1, None

    def _tail(self, buf: bytes, pos: int) -> bytes:
        """An unfinished line: keep it unless it is already too long."""
        if len(buf) - pos > self.limit:
            self.skipping, self.skip_quotes = True, buf.count(b'"', pos)
            self.reject(self.too_long, self.offset)
            self.offset += len(buf) - pos
            return b""
        return buf[pos:]

    def _lines(self, buf: bytes, pos: int, end: int) -> int:
        """The whole lines ``buf[pos:end]``: in bulk when no line is blank, quoted across lines or too long.
        Returns where to go on, or -1 after a restart (the rest of ``buf`` is then in ``replay``)."""
        segment = buf[pos:end]
        # The bulk case is told without splitting the segment into lines (a segment shorter than the limit has
        # no line as long).
        if (
            (b'"' not in segment or not _odd_quotes_on_a_line(segment))
            and segment[: segment.find(b"\n")].strip(b"\r")
            and _BLANK_LINE.search(segment) is None
            and (len(segment) < self.limit or max(map(len, segment.split(b"\n"))) < self.limit)
        ):
            self.write(segment, segment.count(b"\n"))
            self.offset += len(segment)
            return end
        lines = segment.split(b"\n")
        lines.pop()  # after the last line end
        at = pos
        for piece in lines:
            line = piece + b"\n"
            at += len(line)
            if self.pending:
                if not self._continue(line):
                    self.replay += buf[at:]
                    return -1
                continue
            if not piece.strip(b"\r"):
                self._empty(1)
            elif len(line) > self.limit:
                self.reject(self.too_long, self.offset)
            elif line.count(b'"') & 1:
                self.pending, self.pending_bytes, self.pending_quotes = [line], len(line), line.count(b'"')
                self.pending_offset = self.offset
            else:
                self.write(line, 1)
            self.offset += len(line)
        return end

    def _continue(self, line: bytes) -> bool:
        """Add the next whole line to a record open in quotes; False when the pass restarted."""
        self.pending.append(line)
        self.pending_bytes += len(line)
        self.pending_quotes += line.count(b'"')
        self.offset += len(line)
        if self.pending_bytes > self.limit:
            self._restart(self.OPEN_TOO_LONG)
            return False
        if not self.pending_quotes & 1:
            record = b"".join(self.pending)
            if _field_count(record, self.delimiter) != self.columns:
                self._restart("unterminated quote")
                return False
            self.pending = []
            self.write(record, 1)
        return True

    def _restart(self, reason: str) -> None:
        """Quarantine the open record's first line and read its other lines again as records of their own."""
        first, rest = self.pending[0], b"".join(self.pending[1:])
        self.pending = []
        self.offset = self.pending_offset
        self.reject(reason, self.offset)
        self.offset += len(first)
        self.replay = rest + self.replay

    def _skip(self, buf: bytes, pos: int) -> int:
        """Drop a too-long record's bytes up to its end (a line end outside quotes)."""
        while True:
            newline = buf.find(b"\n", pos)
            if newline < 0:
                self.skip_quotes += buf.count(b'"', pos)
                self.offset += len(buf) - pos
                return len(buf)
            self.skip_quotes += buf.count(b'"', pos, newline)
            self.offset += newline + 1 - pos
            pos = newline + 1
            if not self.skip_quotes & 1:
                self.skipping = False
                return pos


def clean_csv(
    source: IO[bytes], out: IO[bytes], *, skip_lines: int, columns: int, delimiter: str, limits: ReadLimits
) -> CleanPass:
    """Copy the header (after ``skip_lines`` title lines, which are dropped) and the readable records of
    ``source`` to ``out``; see the module's description."""
    scanner = _Scanner(out, columns, delimiter, limits)
    head, line_end = b"", b"\n"
    chunks = _chunks(source)
    for number in range(skip_lines + 1):
        while b"\n" not in head:
            more = next(chunks, b"")
            if not more:
                break
            head += more
            if b"\n" not in head and len(head) > limits.max_record_bytes:
                raise UnreadableFileError("the header line is longer than the record limit")
        line, _, head = head.partition(b"\n")
        scanner.offset += len(line) + 1
        if number == skip_lines:
            out.write(line.removeprefix(codecs.BOM_UTF8) + b"\n")
            line_end = b"\r\n" if line.endswith(b"\r") else b"\n"
    carry = _run(scanner, head)
    for chunk in chunks:
        carry = _run(scanner, carry + chunk)
    if carry:  # a last record without a line end
        carry = _run(scanner, carry + line_end)
    while scanner.pending:  # still open in quotes at the end of the file
        scanner._restart("unterminated quote")
        _run(scanner, b"")
    return scanner.result


def _run(scanner: _Scanner, buf: bytes) -> bytes:
    tail = scanner.feed(buf)
    while scanner.replay:
        replay, scanner.replay = scanner.replay, b""
        tail = scanner.feed(replay + tail)
    return tail
