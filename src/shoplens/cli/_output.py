"""How commands talk: one JSON document on stdout with --json, rich text otherwise; progress and logs on stderr."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

stdout = Console(highlight=False)
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
