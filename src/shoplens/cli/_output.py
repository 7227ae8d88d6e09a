"""How commands talk: one JSON document on stdout with --json, rich text otherwise; progress and logs on stderr."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from shoplens.appdb import AppDatabase, JobLog
from shoplens.cli._format import unbroken
from shoplens.config import Settings
from shoplens.errors import ShoplensError


class TerminalConsole(Console):
    """The command line's console: every table printed through it keeps its values whole (see ``unbroken``)."""

    def print(self, *objects: Any, **options: Any) -> None:
        for item in objects:
            if isinstance(item, Table) and not unbroken(item, self):
                options.setdefault("crop", False)
        super().print(*objects, **options)


stdout = TerminalConsole(highlight=False)
stderr = Console(stderr=True, highlight=False)


def _default(value: object) -> object:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def emit_json(document: Any) -> None:
    sys.stdout.write(json.dumps(document, default=_default, allow_nan=False) + "\n")
    sys.stdout.flush()


@contextmanager
def progress_reporter(title: str) -> Iterator[Callable[[str, int, int], None]]:
    """A progress callback ``(step, done, total)``: a live bar on a terminal, one line per step otherwise."""
    if not stderr.is_terminal:
        last: list[str] = []

        def log(step: str, done: int, total: int) -> None:
            if not last or last[-1] != step:
                last.append(step)
                stderr.print(f"{title}: {step}")

        yield log
        return
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=stderr,
        transient=True,
    ) as bar:
        task = bar.add_task(title, total=1)

        def update(step: str, done: int, total: int) -> None:
            bar.update(task, description=f"{title}: {step}", completed=done, total=max(total, 1))

        yield update


@contextmanager
def tracked_job(
    config: Settings, kind: str, description: str, *, echo: bool = True
) -> Iterator[Callable[[str, int, int], None]]:
    """A progress callback that records the job and its progress in the app database, where the dashboard's
    Jobs page shows it while it runs (the job ends as done, or failed with its one-line reason); with ``echo``
    it also reports on stderr as :func:`progress_reporter` does."""
    config.ensure_home()
    database = AppDatabase.for_store(config)
    job = JobLog(database, kind, description)
    try:
        with progress_reporter(kind) if echo else nullcontext(None) as progress:

            def report(step: str, done: int, total: int) -> None:
                if progress is not None:
                    progress(step, done, total)
                job.update(step, done, total)

            yield report
    except ShoplensError as exc:
        job.finish(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        raise
    except BaseException as exc:
        job.finish(f"stopped ({type(exc).__name__})")
        raise
    else:
        job.finish()
    finally:
        database.close()
