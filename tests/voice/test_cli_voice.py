"""The voice and survey sub-commands follow the CLI conventions; ``serve`` starts the web app."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI

from shoplens.cli import _survey, _voice
from shoplens.cli import _web as _registered_web  # noqa: F401  (registers serve)

SUBCOMMANDS = [("voice", c.name or "") for c in _voice.voice_app.registered_commands] + [
    ("survey", c.name or "") for c in _survey.survey_app.registered_commands
]


def test_the_voice_and_survey_commands() -> None:
    assert sorted(SUBCOMMANDS) == [
        ("survey", "close"),
        ("survey", "create"),
        ("survey", "export"),
        ("survey", "lint"),
        ("survey", "list"),
        ("survey", "remind"),
        ("survey", "results"),
        ("survey", "sample"),
        ("voice", "evaluate"),
        ("voice", "needs"),
        ("voice", "sentiment"),
        ("voice", "themes"),
    ]


@pytest.mark.parametrize(("group", "command"), SUBCOMMANDS)
def test_every_subcommand_has_help_and_json(cli: Callable[..., Any], group: str, command: str) -> None:
    result = cli(group, command, "--help")
    assert result.exit_code == 0
    assert "--json" in result.stdout
    summary_line = result.stdout.split("\n\n")[1].strip()
    assert len(summary_line) > 20, f"{group} {command} --help should say what the command is for"


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["voice", "themes", "--json"], 2, "error: no store in"),
        (["survey", "results", "sv-none", "--json"], 2, "error: no survey 'sv-none'; see shoplens survey list"),
        (
            ["survey", "create", "missing.yaml", "--json"],
            2,
            "error: missing.yaml: cannot read (No such file or directory)",
        ),
        (["voice", "themes", "--method", "magic", "--json"], 2, "error: --method must be auto, embeddings or keywords"),
    ],
)
def test_bad_input_exits_with_one_line(cli: Callable[..., Any], args: list[str], code: int, message: str) -> None:
    result = cli(*args)
    assert result.exit_code == code
    assert result.stderr.strip().startswith(message)
    assert len(result.stderr.strip().splitlines()) == 1


def test_serve_prints_its_address_and_runs_the_app(cli: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> None:
    started: dict[str, Any] = {}

    def fake_run(app: Any, host: str, port: int, log_level: str, proxy_headers: bool) -> None:
        started.update(app=app, host=host, port=port, proxy_headers=proxy_headers)

    monkeypatch.setattr("uvicorn.run", fake_run)
    result = cli("serve", "--port", "8123", "--json")
    assert result.exit_code == 0, result.stderr
    assert result.json() == {"url": "http://127.0.0.1:8123", "openapi": "http://127.0.0.1:8123/openapi.json"}
    assert isinstance(started["app"], FastAPI)
    assert started["proxy_headers"] is False, "X-Forwarded-For is believed only from trusted proxies, by the app"
    assert (started["host"], started["port"]) == ("127.0.0.1", 8123)
