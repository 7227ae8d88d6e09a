"""``import_files``: store exports into the warehouse through the one pipeline, with the target a profile names."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from shoplens.errors import InputError
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
) -> ImportSummary:
    """Import ``paths`` with one profile; all headers are checked first, then each file is loaded in one
    transaction (on every engine that has them)."""
    profile = get_profile(profile_name)
    target = import_target(profile.target)
    source = ProfileSource(profile, mapping)
    summary = ImportSummary(import_id or new_import_id(), profile.name, [str(p) for p in paths])
    return Pipeline(warehouse, target, source, secret=secret, progress=progress).run(paths, summary, quarantine_dir)


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
