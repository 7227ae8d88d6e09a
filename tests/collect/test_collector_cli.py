"""``shoplens collect load --json`` (on DuckDB and on PostgreSQL) and ``collect serve``'s arguments: one JSON
document, exit 2 with one line."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tests.collect.conftest import NOW, event

from shoplens.config import Settings
from shoplens.warehouse import EventSpool
from shoplens.web._collector import check_event


def test_collect_load_prints_what_it_loaded(cli: Callable[..., Any], tmp_path: Path, warehouse_engine: str) -> None:
    spool = EventSpool(Settings(home=tmp_path / "home").spool_dir)
    spool.append([check_event(event(name), NOW)[0] for name in ("a", "b", "a")])  # type: ignore[misc]
    spool.close()
    first = cli("collect", "load", "--json")
    assert first.exit_code == 0, first.stderr
    document = first.json()
    assert (document["events_loaded"], document["duplicates"], document["quarantined"]) == (2, 1, 0)
    again = cli("collect", "load", "--json").json()
    assert (again["events_loaded"], again["duplicates"]) == (0, 0)
    status = cli("status", "--json").json()
    assert status["tables"]["events"] == 2


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (
            ["collect", "serve", "--origin", "ftp://shop.example"],
            "error: collect_origins: an allowed origin must look like https://shop.example or http://localhost:3000, "
            "not 'ftp://shop.example'",
        ),
        (["collect", "serve", "--port", "0"], "error: Invalid value for '--port': "),
        (["collect", "unload"], "error: No such command 'unload'. Did you mean 'load'?"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(cli: Callable[..., Any], args: list[str], reason: str) -> None:
    result = cli(*args)
    assert result.exit_code == 2
    assert result.stderr.startswith(reason)
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("command", ["serve", "load"])
def test_collect_commands_teach_with_an_example(cli: Callable[..., Any], command: str) -> None:
    result = cli("collect", command, "--help")
    assert result.exit_code == 0
    assert "--json" in result.stdout
    assert f"Example: shoplens collect {command}" in result.stdout
