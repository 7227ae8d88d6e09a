"""A tamper-evident audit log: every entry is chained to the one before it with an HMAC keyed by the store secret.

``hash = HMAC-SHA256(store secret, prev_hash + canonical(id, at, actor, action, details))`` and the first entry's
``prev_hash`` is 64 zeros. Whoever edits, deletes or reorders rows in the database file without the store
secret cannot produce matching hashes, so :func:`verify_audit` names the first entry that no longer checks.
What a chain cannot show on its own is that its newest entries were cut off, so the chain's head (the newest id
and hash) is also kept apart from the rows, in a small owner-only file (:func:`write_audit_head`, on every
append): :func:`verify_audit` given that head says so when the log ends before it.

The chain's rules live here; where the rows are kept does not. Callers pass in an :class:`AuditStore` (the app
database is one), which appends a row in one transaction and hands rows back in order.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from shoplens.errors import FieldError, InputError

GENESIS_HASH = "0" * 64
ACTOR_PATTERN = re.compile(r"cli|system|(user|token):[A-Za-z0-9_-]{1,64}")
ACTION_PATTERN = re.compile(r"[a-z][a-z0-9_-]*(\.[a-z][a-z0-9_-]*)*")
MAX_ACTION_LENGTH = 64


@dataclass(frozen=True)
class AuditRow:
    """One entry as it is stored: ``details`` is the canonical JSON text that the hash covers."""

    id: int
    at: datetime
    actor: str
    action: str
    details: str
    prev_hash: str
    hash: str


class AuditStore(Protocol):
    """Where the chain is kept. :class:`shoplens.appdb.AppDatabase` is one."""

    def append_audit(self, seal: Callable[[AuditRow | None], AuditRow]) -> AuditRow:
        """In one transaction, read the newest row (None when there is none) and store ``seal(newest)``.

        A store shared by several writers must make a writer that raced another read again and call ``seal``
        anew, so that the chain never forks.
        """
        ...

    def audit_rows(self) -> Iterator[AuditRow]:
        """Every row, oldest first."""
        ...

    def newest_audit_rows(self, limit: int) -> list[AuditRow]:
        """The newest ``limit`` rows, newest first."""
        ...


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime
    actor: str
    action: str
    details: dict[str, Any]
    prev_hash: str
    hash: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "at": _utc_text(self.at),
            "actor": self.actor,
            "action": self.action,
            "details": self.details,
            "hash": self.hash,
        }


@dataclass(frozen=True)
class AuditVerdict:
    """``ok`` when every entry's hash and link check (and the log reaches its head, when a head was given);
    ``first_bad_entry`` is the id of the first that does not, or of the first removed one; ``problem`` says why."""

    ok: bool
    entries: int
    first_bad_entry: int | None
    problem: str | None = None
    head_entry: int | None = None

    def as_dict(self) -> dict[str, Any]:
        found: dict[str, Any] = {"ok": self.ok, "entries": self.entries, "first_bad_entry": self.first_bad_entry}
        if self.problem is not None:  # only when not ok
            found["problem"] = self.problem
        return found


@dataclass(frozen=True)
class AuditHead:
    """The newest entry's id and hash, as written beside the log on each append."""

    id: int
    hash: str


def read_audit_head(path: Path) -> AuditHead | None:
    """The head kept in ``path``; None when there is none yet (a log written before heads were kept)."""
    try:
        found = json.loads(path.read_text(encoding="utf-8"))
        return AuditHead(int(found["id"]), str(found["hash"]))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError):
        raise InputError(f"{path.name}: the audit head is unreadable; restore it from a backup") from None


def write_audit_head(path: Path, row: AuditRow) -> None:
    """Move the head in ``path`` forward to ``row`` (never back: writers that raced may finish in any order).

    The file is replaced atomically, owner-only (0600), under an exclusive lock on a lock file beside it."""
    import fcntl
    import os

    path.parent.mkdir(parents=True, exist_ok=True)
    lock = os.open(path.with_suffix(".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        current = read_audit_head(path)
        if current is not None and current.id >= row.id:
            return
        temporary = path.with_suffix(".tmp")
        handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump({"id": row.id, "hash": row.hash}, out)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    finally:
        os.close(lock)


class _NoHead:
    """No head given: check the chain only (the head is the caller's to keep)."""


NO_HEAD = _NoHead()

AuditSink = Callable[[str, dict[str, Any]], AuditEntry]
"""Writes one entry, given its action and details, for an actor and store fixed beforehand (:func:`audit_sink`)."""


def canonical_details(details: dict[str, Any]) -> str:
    """The one text form of ``details``: JSON with sorted keys and no spaces (refuses NaN and non-JSON values)."""
    try:
        return json.dumps(details, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InputError(f"audit details must be plain JSON: {exc}") from None


def _utc_text(at: datetime) -> str:
    # SQLite hands back naive datetimes (stored as UTC), PostgreSQL aware ones in the session's zone.
    moment = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entry_hash(secret: bytes, prev_hash: str, id: int, at: datetime, actor: str, action: str, details: str) -> str:
    """The chained hash of one entry, ``details`` being its canonical JSON text as stored."""
    content = json.dumps([id, _utc_text(at), actor, action, details], separators=(",", ":"), ensure_ascii=False)
    return hmac.new(secret, (prev_hash + content).encode(), hashlib.sha256).hexdigest()


def record_audit(store: AuditStore, *, actor: str, action: str, details: dict[str, Any], secret: bytes) -> AuditEntry:
    """Append one entry to ``store``'s chain and return it."""
    if not ACTOR_PATTERN.fullmatch(actor):
        raise InputError(f"audit actor must be cli, system, user:<id> or token:<id>, not {actor[:40]!r}")
    if not ACTION_PATTERN.fullmatch(action) or len(action) > MAX_ACTION_LENGTH:
        raise InputError(f"audit action must look like 'share.export', not {action[:40]!r}")
    body = canonical_details(details)

    def seal(newest: AuditRow | None) -> AuditRow:
        new_id, prev_hash = (newest.id + 1, newest.hash) if newest is not None else (1, GENESIS_HASH)
        at = datetime.now(UTC)
        return AuditRow(
            new_id, at, actor, action, body, prev_hash, entry_hash(secret, prev_hash, new_id, at, actor, action, body)
        )

    return _entry(store.append_audit(seal))


def audit_sink(store: AuditStore, *, actor: str, secret: bytes) -> AuditSink:
    """An :data:`AuditSink` that records as ``actor`` in ``store``: what a reader of personal data is handed."""

    def record(action: str, details: dict[str, Any]) -> AuditEntry:
        return record_audit(store, actor=actor, action=action, details=details, secret=secret)

    return record


def verify_audit(store: AuditStore, *, secret: bytes, head: AuditHead | _NoHead | None = NO_HEAD) -> AuditVerdict:
    """Walk the chain from the first entry; stop at the first entry whose hash or link does not check.

    Given the ``head`` kept beside the log (None when none was written yet), also check that the log reaches it:
    a log that ends before its head lost its newest entries, and an entry at the head's id with another hash was
    rewritten. A head behind the log is fine (a writer without the head file, or one still finishing)."""
    entries = 0
    expected_prev = GENESIS_HASH
    at_head: str | None = None
    last_id = 0
    known_head = head if isinstance(head, AuditHead) else None
    rows = store.audit_rows()
    for row in rows:
        entries += 1
        good_link = hmac.compare_digest(row.prev_hash, expected_prev)
        recomputed = entry_hash(secret, row.prev_hash, row.id, row.at, row.actor, row.action, row.details)
        if not (good_link and hmac.compare_digest(row.hash, recomputed)):
            return AuditVerdict(
                ok=False,
                entries=entries + sum(1 for _ in rows),
                first_bad_entry=row.id,
                problem=f"entry {row.id} was changed or follows a deleted entry",
                head_entry=known_head.id if known_head else None,
            )
        if known_head is not None and row.id == known_head.id:
            at_head = row.hash
        expected_prev = row.hash
        last_id = row.id
    if known_head is None:
        return AuditVerdict(ok=True, entries=entries, first_bad_entry=None)
    last = last_id
    if last < known_head.id:
        return AuditVerdict(
            ok=False,
            entries=entries,
            first_bad_entry=last + 1,
            problem=f"the audit log ends at entry {last} but its head says {known_head.id}: entries were removed",
            head_entry=known_head.id,
        )
    if at_head is None or not hmac.compare_digest(at_head, known_head.hash):
        return AuditVerdict(
            ok=False,
            entries=entries,
            first_bad_entry=known_head.id,
            problem=f"entry {known_head.id} does not have the hash its head recorded: the log was rewritten",
            head_entry=known_head.id,
        )
    return AuditVerdict(ok=True, entries=entries, first_bad_entry=None, head_entry=known_head.id)


def recent_audit(store: AuditStore, *, limit: int = 20) -> list[AuditEntry]:
    """The newest ``limit`` entries, newest first (as stored: run :func:`verify_audit` to trust them)."""
    if limit < 1:
        raise FieldError(f"{{limit}} must be at least 1, not {limit}")
    return [_entry(row) for row in store.newest_audit_rows(limit)]


def _entry(row: AuditRow) -> AuditEntry:
    try:
        details = json.loads(row.details)
    except ValueError:
        details = {"unreadable": True}
    if not isinstance(details, dict):
        details = {"value": details}
    return AuditEntry(row.id, row.at, row.actor, row.action, details, row.prev_hash, row.hash)
