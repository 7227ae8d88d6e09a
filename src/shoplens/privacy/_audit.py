"""A tamper-evident audit log: every entry is chained to the one before it with an HMAC keyed by the store secret.

``hash = HMAC-SHA256(store secret, prev_hash + canonical(id, at, actor, action, details))`` and the first entry's
``prev_hash`` is 64 zeros. Whoever edits, deletes or reorders rows in the database file without the store
secret cannot produce matching hashes, so :func:`verify_audit` names the first entry that no longer checks.
What a chain cannot show on its own is that its newest entries were cut off: keep the count or the last hash
elsewhere (a backup, a ticket) when that matters.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError, OperationalError

from shoplens.appdb import AppDatabase, AuditRecord
from shoplens.errors import InputError, WarehouseError

GENESIS_HASH = "0" * 64
ACTOR_PATTERN = re.compile(r"cli|system|(user|token):[A-Za-z0-9_-]{1,64}")
ACTION_PATTERN = re.compile(r"[a-z][a-z0-9_-]*(\.[a-z][a-z0-9_-]*)*")
WRITE_ATTEMPTS = 5


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
    """``ok`` when every entry's hash and link check; ``first_bad_entry`` is the id of the first that does not."""

    ok: bool
    entries: int
    first_bad_entry: int | None

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "entries": self.entries, "first_bad_entry": self.first_bad_entry}


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


def record_audit(
    database: AppDatabase, *, actor: str, action: str, details: dict[str, Any], secret: bytes
) -> AuditEntry:
    """Append one entry in one transaction and return it.

    The last entry is read inside the same transaction that writes the new one; a writer that raced another
    hits the primary key (same next id) or the unique ``prev_hash`` and starts again on the new last entry.
    """
    if not ACTOR_PATTERN.fullmatch(actor):
        raise InputError(f"audit actor must be cli, system, user:<id> or token:<id>, not {actor[:40]!r}")
    if not ACTION_PATTERN.fullmatch(action) or len(action) > 64:
        raise InputError(f"audit action must look like 'share.export', not {action[:40]!r}")
    body = canonical_details(details)
    for attempt in range(WRITE_ATTEMPTS):
        try:
            with database.session() as session:
                if session.get_bind().dialect.name == "postgresql":
                    # Writers queue here; readers (verify, list) are not blocked.
                    session.execute(text("LOCK TABLE audit_log IN SHARE ROW EXCLUSIVE MODE"))
                last = session.execute(
                    select(AuditRecord.id, AuditRecord.hash).order_by(AuditRecord.id.desc()).limit(1)
                ).first()
                new_id, prev_hash = (last[0] + 1, last[1]) if last is not None else (1, GENESIS_HASH)
                at = datetime.now(UTC)
                record = AuditRecord(
                    id=new_id,
                    at=at,
                    actor=actor,
                    action=action,
                    details=body,
                    prev_hash=prev_hash,
                    hash=entry_hash(secret, prev_hash, new_id, at, actor, action, body),
                )
                session.add(record)
            return AuditEntry(new_id, at, actor, action, json.loads(body), prev_hash, record.hash)
        except (IntegrityError, OperationalError) as exc:  # lost a race (or SQLite was busy): read again
            if attempt == WRITE_ATTEMPTS - 1:
                raise WarehouseError(f"cannot append to the audit log: {str(exc).splitlines()[0][:160]}") from None
    raise AssertionError("unreachable")


def verify_audit(database: AppDatabase, *, secret: bytes) -> AuditVerdict:
    """Walk the chain from the first entry; stop at the first entry whose hash or link does not check."""
    entries = 0
    expected_prev = GENESIS_HASH
    with database.session() as session:
        rows = session.execute(
            select(
                AuditRecord.id,
                AuditRecord.at,
                AuditRecord.actor,
                AuditRecord.action,
                AuditRecord.details,
                AuditRecord.prev_hash,
                AuditRecord.hash,
            )
            .order_by(AuditRecord.id)
            .execution_options(yield_per=1000)
        )
        for id, at, actor, action, details, prev_hash, stored_hash in rows:
            entries += 1
            good_link = hmac.compare_digest(prev_hash, expected_prev)
            good_hash = hmac.compare_digest(stored_hash, entry_hash(secret, prev_hash, id, at, actor, action, details))
            if not (good_link and good_hash):
                total = session.scalar(select(func.count()).select_from(AuditRecord)) or 0
                return AuditVerdict(ok=False, entries=int(total), first_bad_entry=int(id))
            expected_prev = stored_hash
    return AuditVerdict(ok=True, entries=entries, first_bad_entry=None)


def recent_audit(database: AppDatabase, *, limit: int = 20) -> list[AuditEntry]:
    """The newest ``limit`` entries, newest first (as stored: run :func:`verify_audit` to trust them)."""
    if limit < 1:
        raise InputError(f"--limit must be at least 1, not {limit}")
    with database.session() as session:
        records = session.scalars(select(AuditRecord).order_by(AuditRecord.id.desc()).limit(limit))
        return [_entry(record) for record in records]


def _entry(record: AuditRecord) -> AuditEntry:
    try:
        details = json.loads(record.details)
    except ValueError:
        details = {"unreadable": True}
    if not isinstance(details, dict):
        details = {"value": details}
    return AuditEntry(record.id, record.at, record.actor, record.action, details, record.prev_hash, record.hash)
