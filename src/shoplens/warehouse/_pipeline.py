"""The one import pipeline: stage → parse and type → rule checks → fingerprint de-dup → quarantine → load.

Every record read ends in exactly one of three places, so ``rows_read = rows_loaded + rows_quarantined +
rows_duplicate`` always holds:

* **quarantine** (``<home>/quarantine/<import-id>.csv``): records that cannot be parsed or break a rule, each
  with its record number, column and reason; personal columns are redacted there;
* **duplicate**: records whose fingerprint is already in the warehouse (a re-import, or the overlap of a newer
  export with an older one);
* **loaded**: everything else, into the canonical tables, with personal data only in the vault.

What differs between kinds of source is an :class:`ImportTarget`: which canonical tables it fills, how it types
and checks its fields, its fingerprint and its load. A new kind of source is a profile (ingest) plus a target.

The work is DuckDB SQL over the staged file. A DuckDB warehouse is worked on directly, each file in one
transaction. For PostgreSQL or Spark the same steps run in a scratch DuckDB that first fetches the rows the
file touches (:class:`ScratchMirror`); the changes are then applied to the warehouse in bulk, with the data
version, in one transaction per file where the engine has them.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import duckdb
import numpy as np

from shoplens.errors import FieldError, InputError, MissingColumnsError, UnknownProfileError
from shoplens.ingest import CsvDialect, FilePlan, SourceProfile, hmac_pads, registered_profiles, text_literal
from shoplens.privacy import VAULT_TABLE, VaultKeys
from shoplens.warehouse._connection import Warehouse
from shoplens.warehouse._duckdb_file import DuckDBFile, bump_data_version
from shoplens.warehouse._quarantine import FAULT_SEPARATOR, QuarantineWriter, quarantine_faults
from shoplens.warehouse._readers import StagedFile, read_header, stage_file
from shoplens.warehouse._records import ReadLimits
from shoplens.warehouse._scratch import ScratchMirror

Progress = Callable[[str, int, int], None]
STAGED_TABLE = "stg_raw"
STEPS = 6


@dataclass
class ImportSummary:
    """What one ``shoplens import`` did. Counts of ``orders``/``customers`` describe the files read."""

    import_id: str
    profile: str
    files: list[str]
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    rows_duplicate: int = 0
    rows_empty: int = 0  # empty lines skipped (not records read)
    rows_updated: int = 0  # of rows_loaded: rows that replaced a stored row with the same key (catalogues)
    orders: int = 0
    customers: int = 0
    refunds: int = 0
    guest_rows: int = 0
    orders_new: int = 0
    customers_new: int = 0
    quarantine_path: str | None = None
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)
    currencies: list[str] = field(default_factory=list)  # of amounts loaded by table profiles (spend)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def new_import_id() -> str:
    return datetime.now(UTC).strftime("imp-%Y%m%dT%H%M%S-") + secrets.token_hex(3)


def get_profile(name: str) -> SourceProfile:
    profiles = registered_profiles()
    if name not in profiles:
        raise UnknownProfileError(name, list(profiles))
    return profiles[name]


def report_step(progress: Progress | None, name: str, done: int, total: int) -> None:
    if progress is not None:
        progress(name, done, total)


class FileLoad:
    """One file's import as a target sees it: the DuckDB connection to work in and the warehouse's rows."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        mirror: ScratchMirror | None,
        import_id: str,
        profile: str,
        secret: bytes,
        vault_keys: Callable[[], VaultKeys],
    ) -> None:
        self.con = con
        self.vault_keys = vault_keys  # loaded (and checked) only when the file has personal data to write
        self.mirror = mirror
        self.import_id = import_id
        self.profile = profile
        inner_pad, outer_pad = hmac_pads(secret)
        # For customer_key_sql: pass as query parameters, never in SQL text.
        self.pads: dict[str, object] = {"inner_pad": inner_pad, "outer_pad": outer_pad}

    def existing(self, table: str, column: str, keys_sql: str, *, lower: bool = False) -> None:
        """Make the warehouse's rows of ``table`` whose ``column`` is one of the keys ``keys_sql`` selects (as one
        column ``k``) visible to the following SQL. A DuckDB warehouse is worked on directly: nothing to do."""
        if self.mirror is not None:
            params = self.pads if "$inner_pad" in keys_sql else {}
            self.mirror.fetch(table, column, keys_sql, params, lower=lower)

    def count(self, sql: str) -> int:
        rows = self.con.execute(sql).fetchall()
        return int(rows[0][0]) if rows and rows[0][0] is not None else 0


@dataclass(frozen=True)
class FileCounts:
    valid: int  # rows without a fault
    new: int  # valid rows not yet in the warehouse (the rest are duplicates)


class ImportTarget(Protocol):
    """What one kind of source fills, and how. The pipeline calls the methods in this order for each file."""

    name: str
    parsed_table: str  # the staging table ``parse`` builds: ``pos`` (the staged rowid), ``_fault``, typed fields
    work_tables: tuple[str, ...]  # every staging table it may leave behind

    @property
    def tables(self) -> tuple[str, ...]:
        """The canonical tables it writes (for a target whose table depends on the file: after ``parse``)."""

    def parse(self, load: FileLoad, staged: StagedFile, plan: Plan) -> None:
        """Type the fields and name each bad row's first fault (``_fault`` = "column<US>reason")."""

    def redacted_columns(self, plan: Plan) -> set[str]:
        """Source columns shown as [redacted] in the quarantine file."""

    def split_new(self, load: FileLoad) -> FileCounts:
        """Fingerprint the valid rows and keep those not yet in the warehouse; a row that conflicts with a stored
        one gets its ``_fault`` here (it is quarantined after this step)."""

    def load(self, load: FileLoad, summary: ImportSummary) -> None:
        """Write the new rows (personal data through :func:`write_personal_data`) and count them in ``summary``."""


def plan_for(
    path: Path, profile: SourceProfile, mapping: Mapping[str, object] | None, header: Sequence[str]
) -> FilePlan:
    """The profile's plan for a file with this header; fails naming the columns when it is not this export."""
    missing = profile.missing_columns(header)
    if missing:
        raise MissingColumnsError(str(path), profile.name, missing)
    try:
        return profile.build(header, mapping)
    except MissingColumnsError as exc:
        raise MissingColumnsError(str(path), profile.name, exc.missing) from None


@dataclass(frozen=True)
class TableFile:
    """The plan of a file already shaped like one canonical table: its own columns."""

    table: str
    columns: tuple[str, ...]


Plan = FilePlan | TableFile


class Source(Protocol):
    """Where the plan of each file comes from: a registered profile, or the shape of a canonical table."""

    name: str
    dialect: CsvDialect

    def plan(self, path: Path, header: Sequence[str]) -> Plan:
        """The plan for a file with this header; raises :class:`MissingColumnsError` when it cannot be read."""


class ProfileSource:
    """Files read by a source profile, with its optional mapping file."""

    def __init__(self, profile: SourceProfile, mapping: Mapping[str, object] | None) -> None:
        if profile.needs_mapping and mapping is None:
            raise FieldError(f"the {profile.name} profile needs {{mapping}} FILE (see shoplens import {{help}})")
        self.profile = profile
        self.mapping = mapping
        self.name = profile.name
        self.dialect = profile.dialect_for(mapping)

    def plan(self, path: Path, header: Sequence[str]) -> Plan:
        return plan_for(path, self.profile, self.mapping, header)


class Pipeline:
    """The import of some files into one warehouse through one target."""

    def __init__(
        self,
        warehouse: Warehouse,
        target: ImportTarget,
        source: Source,
        *,
        secret: bytes,
        progress: Progress | None = None,
        limits: ReadLimits | None = None,
        on_commit: Callable[[ImportSummary], None] | None = None,
    ) -> None:
        self.limits = limits or ReadLimits()
        self.on_commit = on_commit
        self.warehouse = warehouse
        self.target = target
        self.source = source
        self.secret = secret
        self.progress = progress

    def check_header(self, path: Path) -> None:
        """Fail before loading anything when a file is plainly not this profile's export."""
        header = read_header(path, self.source.dialect)
        if header is not None:
            self.source.plan(path, header)

    def run(self, paths: Sequence[Path], summary: ImportSummary, quarantine_dir: Path) -> ImportSummary:
        """Check every file's header first, then load the files one by one, each in its own transaction."""
        started = time.perf_counter()
        quarantine = QuarantineWriter(quarantine_dir / f"{summary.import_id}.csv")
        mirror = scratch_for(self.warehouse)
        committed = 0
        try:
            for path in paths:
                self.check_header(path)
            with bounded_memory(self.warehouse.con if mirror is None else mirror.con, self.limits.memory_limit_bytes):
                for path in paths:
                    self.import_file(path, summary, quarantine, mirror)
                    committed += 1
                    if self.on_commit is not None:  # the caller's record of what is loaded so far
                        summary.quarantine_path = str(quarantine.path) if quarantine.rows else None
                        self.on_commit(summary)
        except BaseException:
            # Files loaded before the failure stay loaded, and so do their quarantined rows.
            if committed:
                quarantine.close()
            else:
                quarantine.discard()
            raise
        finally:
            if mirror is not None:
                mirror.close()
        summary.quarantine_path = quarantine.close()
        summary.seconds = round(time.perf_counter() - started, 3)
        return summary

    def import_file(
        self,
        path: Path,
        summary: ImportSummary,
        quarantine: QuarantineWriter,
        mirror: ScratchMirror | None,
        *,
        strict: bool = False,
    ) -> None:
        """Import one file. ``strict``: any bad record fails the whole file (for files shaped like a table)."""
        con = self.warehouse.con if mirror is None else mirror.con
        load = FileLoad(con, mirror, summary.import_id, self.source.name, self.secret, self.warehouse.vault_keys)
        report_step(self.progress, f"reading {path.name}", 0, STEPS)
        # Staged outside the load transaction: committed temp tables number their rows 0..n-1 in file order.
        staged = stage_file(con, path, STAGED_TABLE, self.source.dialect, self.limits)
        try:
            plan = self.source.plan(path, staged.columns)
            con.execute("BEGIN TRANSACTION")
            try:
                counts, quarantined = self._load_file(load, staged, plan, quarantine, strict=strict, summary=summary)
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                quarantine.drop_pending()
                raise
        finally:
            for table in (STAGED_TABLE, *self.target.work_tables):
                con.execute(f"DROP TABLE IF EXISTS {table}")
            if mirror is not None:
                mirror.reset()
        quarantine.flush()
        report_step(self.progress, f"loaded {path.name}", STEPS, STEPS)
        summary.rows_read += staged.rows_read
        if staged.empty_records:
            summary.rows_empty += staged.empty_records
            summary.warnings.append(f"{path.name}: {staged.empty_records:,} empty lines skipped")
        summary.rows_quarantined += quarantined
        summary.rows_duplicate += counts.valid - counts.new
        summary.rows_loaded += counts.new

    def _load_file(
        self,
        load: FileLoad,
        staged: StagedFile,
        plan: Plan,
        quarantine: QuarantineWriter,
        *,
        strict: bool,
        summary: ImportSummary,
    ) -> tuple[FileCounts, int]:
        name, target = staged.path.name, self.target
        report_step(self.progress, f"validating {name}", 1, STEPS)
        target.parse(load, staged, plan)
        if VAULT_TABLE in target.tables:
            load.vault_keys()  # a missing or wrong vault key fails the import before anything is written
        # A record holding several items (packed line items) is that many rows of the target.
        summary.rows_read += load.count(f"SELECT count(*) FROM {target.parsed_table}") - staged.rows_staged
        report_step(self.progress, f"de-duplicating {name}", 2, STEPS)
        # Before the quarantine: telling some faults needs the warehouse's rows (an order id stored from another
        # file), and de-duplicating finds them.
        counts = target.split_new(load)
        report_step(self.progress, f"quarantining bad rows of {name}", 3, STEPS)
        if strict:
            _refuse_faults(load, staged, target.parsed_table)
        quarantined = quarantine_faults(
            load.con, staged, target.parsed_table, target.redacted_columns(plan), quarantine
        )
        report_step(self.progress, f"loading {name}", 4, STEPS)
        target.load(load, summary)
        if counts.new:
            if load.mirror is None:
                bump_data_version(load.con)
            else:
                self.warehouse.apply_changes(load.mirror.changes(target.tables))
        return counts, quarantined


@contextmanager
def bounded_memory(con: duckdb.DuckDBPyConnection, limit_bytes: int | None) -> Iterator[None]:
    """Hold DuckDB to ``limit_bytes`` of memory while the import runs (the ``import_memory_limit_bytes`` setting):
    past it, the staged and parsed rows spill to a temporary directory instead of growing with the file. The
    warehouse's own limit is put back afterwards. None leaves DuckDB's default (most of the machine's memory)."""
    if limit_bytes is None:
        yield
        return
    shown = "SELECT current_setting('memory_limit')"
    before = str(con.execute(shown).fetchall()[0][0])
    con.execute(f"SET memory_limit = '{int(limit_bytes)}B'")
    try:
        yield
    finally:
        # The setting is shown rounded ("18.8 GiB"): DuckDB's default is put back as it was, any other as shown.
        con.execute("RESET memory_limit")
        if str(con.execute(shown).fetchall()[0][0]) != before:
            con.execute(f"SET memory_limit = {text_literal(before)}")


def scratch_for(warehouse: Warehouse) -> ScratchMirror | None:
    """The scratch DuckDB an import into this warehouse works in; None when it works in the warehouse itself."""
    store = warehouse.store
    return None if isinstance(store, DuckDBFile) else ScratchMirror(store)


def _refuse_faults(load: FileLoad, staged: StagedFile, parsed_table: str) -> None:
    """Fail the file when any record is bad (the message names the first)."""
    if staged.rejects:
        raise InputError(
            f"{staged.path}: {len(staged.rejects)} record(s) cannot be parsed, first at {staged.rejects[0].record}"
        )
    bad = load.con.execute(
        f"SELECT count(*), min(pos), arg_min(_fault, pos) FROM {parsed_table} WHERE _fault IS NOT NULL"
    ).fetchall()
    if bad and bad[0][0]:
        count, first, fault = bad[0]
        record = int(staged.record_numbers(np.array([first], dtype=np.int64))[0])
        column, reason = str(fault).split(FAULT_SEPARATOR, 1)
        raise InputError(f"{staged.path}: {count} record(s) cannot be loaded, first at {record} ({column}: {reason})")
