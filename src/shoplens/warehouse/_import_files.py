"""``import_files``: store exports into the warehouse through the one pipeline, with the target a profile names."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from shoplens.errors import InputError
from shoplens.ingest import CsvDialect, SourceProfile, registered_profiles
from shoplens.warehouse._connection import Warehouse
from shoplens.warehouse._feedback import FeedbackTarget
from shoplens.warehouse._mapped_tables import MappedTableTarget
from shoplens.warehouse._pipeline import (
    ImportSummary,
    ImportTarget,
    Pipeline,
    ProfileSource,
    Progress,
    get_profile,
    new_import_id,
)
from shoplens.warehouse._readers import peek_columns
from shoplens.warehouse._records import ReadLimits
from shoplens.warehouse._sales import SalesTarget

_TARGETS: dict[str, ImportTarget] = {
    "sales": SalesTarget(),
    "feedback": FeedbackTarget(),
    "table": MappedTableTarget(),
}


def register_import_target(name: str, target: ImportTarget) -> ImportTarget:
    """Make a target available to profiles whose ``target`` is ``name``. Later registrations win."""
    _TARGETS[name] = target
    return target


def import_target(name: str) -> ImportTarget:
    if name not in _TARGETS:
        raise InputError(f"no import target {name!r}; known: {', '.join(sorted(_TARGETS))}")
    return _TARGETS[name]


def detect_profile(paths: Sequence[Path]) -> SourceProfile:
    """The profile whose export every file is, told from the files' columns; fails naming what it saw.

    Each profile recognises an export by the columns it must have; the most specific match wins (the
    Shopify orders export also has an "Email" column, as a customers export does, but more of its own).
    """
    profiles = sorted(registered_profiles().values(), key=lambda p: p.name)
    chosen: dict[str, SourceProfile] = {}
    for path in paths:
        # Read with each profile's dialect: some find their header below a report's title lines.
        headers: dict[CsvDialect, list[str]] = {}
        for dialect in dict.fromkeys([CsvDialect(), *(profile.dialect for profile in profiles)]):
            headers[dialect] = peek_columns(path, dialect)
        header = headers[CsvDialect()]
        scores = [(profile.recognises(headers[profile.dialect]), profile) for profile in profiles]
        best = max((score for score, _ in scores), default=0)
        if best == 0:
            shown = ", ".join(header[:8]) + (", ..." if len(header) > 8 else "")
            raise InputError(
                f"{path}: cannot tell which export this is (columns: {shown or 'none'}); "
                "name it with --profile (see shoplens profiles)"
            )
        tied = [profile.name for score, profile in scores if score == best]
        if len(tied) > 1:
            raise InputError(f"{path}: looks like more than one export ({', '.join(tied)}); choose with --profile")
        chosen[str(path)] = next(profile for score, profile in scores if score == best)
    kinds = {profile.name for profile in chosen.values()}
    if len(kinds) > 1:
        seen = "; ".join(f"{Path(path).name}: {profile.name}" for path, profile in chosen.items())
        raise InputError(f"the files are different kinds of export ({seen}); import each kind on its own")
    return next(iter(chosen.values()))


def import_files(
    warehouse: Warehouse,
    paths: Sequence[Path],
    *,
    profile_name: str,
    secret: bytes,
    quarantine_dir: Path,
    mapping: Mapping[str, object] | None = None,
    import_id: str | None = None,
    progress: Progress | None = None,
    limits: ReadLimits | None = None,
    on_commit: Callable[[ImportSummary], None] | None = None,
) -> ImportSummary:
    """Import ``paths`` with one profile; all headers are checked first, then each file is loaded in one
    transaction (on every engine that has them), after which ``on_commit`` is given the summary so far."""
    profile = get_profile(profile_name)
    target = import_target(profile.target)
    source = ProfileSource(profile, mapping)
    summary = ImportSummary(import_id or new_import_id(), profile.name, [str(p) for p in paths])
    pipeline = Pipeline(warehouse, target, source, secret=secret, progress=progress, limits=limits, on_commit=on_commit)
    return pipeline.run(paths, summary, quarantine_dir)


def import_feedback(
    warehouse: Warehouse,
    paths: Sequence[Path],
    *,
    secret: bytes,
    quarantine_dir: Path,
    mapping: Mapping[str, object] | None = None,
    import_id: str | None = None,
    progress: Progress | None = None,
) -> ImportSummary:
    """:func:`import_files` with the feedback profile."""
    return import_files(
        warehouse,
        paths,
        profile_name="feedback",
        secret=secret,
        quarantine_dir=quarantine_dir,
        mapping=mapping,
        import_id=import_id,
        progress=progress,
    )
