"""Fixtures for the event collector: a store home, its spool, a collector app with a fixed clock."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from shoplens.config import Settings
from shoplens.warehouse import EventSpool
from shoplens.web import CollectorSettings, create_collector_app

NOW = datetime(2025, 6, 10, 12, 0, tzinfo=UTC)
SHOP = "https://shop.example"


def event(event_id: str, **fields: Any) -> dict[str, Any]:
    """A valid page_view event; ``fields`` replace or add fields."""
    return {"event_id": event_id, "type": "page_view", "at": "2025-06-01T12:00:00Z", "session_id": "S1", **fields}


def spooled(directory: Path) -> list[dict[str, Any]]:
    """Every complete line of the spool's segments, parsed, in file order (read here, not by the spool)."""
    lines = []
    for path in sorted(directory.glob("events-*.jsonl")):
        lines += [json.loads(line) for line in path.read_bytes().split(b"\n") if line]
    return lines


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "home")


@pytest.fixture
def spool(settings: Settings) -> EventSpool:
    return EventSpool(settings.spool_dir)


class FakeClock:
    def __init__(self) -> None:
        self.seconds = 1000.0

    def __call__(self) -> float:
        return self.seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def collector(spool: EventSpool, clock: FakeClock) -> Callable[..., TestClient]:
    """A client of a collector on ``spool``; keyword arguments are collector settings."""

    def make(**overrides: Any) -> TestClient:
        config = CollectorSettings(**{"collect_origins": [SHOP], **overrides})
        return TestClient(create_collector_app(spool, config, clock=clock, now=lambda: NOW))

    return make
